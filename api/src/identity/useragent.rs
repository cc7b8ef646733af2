//! A small User-Agent reader for the sessions list: device type, browser and OS.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub device_type: &'static str,
    pub browser: &'static str,
    pub os: &'static str,
}

pub fn parse(ua: &str) -> Device {
    let has = |s: &str| ua.contains(s);
    let os = if has("Windows") {
        "Windows"
    } else if has("iPhone") || has("iPad") || has("iOS") {
        "iOS"
    } else if has("Android") {
        "Android"
    } else if has("Mac OS X") || has("Macintosh") {
        "macOS"
    } else if has("CrOS") {
        "ChromeOS"
    } else if has("Linux") {
        "Linux"
    } else {
        "Unknown"
    };
    let browser = if has("Edg/") {
        "Edge"
    } else if has("OPR/") || has("Opera") {
        "Opera"
    } else if has("Firefox/") {
        "Firefox"
    } else if has("Chrome/") || has("Chromium/") {
        "Chrome"
    } else if has("Safari/") {
        "Safari"
    } else if has("curl/") {
        "curl"
    } else {
        "Unknown"
    };
    let lower = ua.to_ascii_lowercase();
    let device_type = if lower.contains("bot") || lower.contains("spider") || lower.contains("crawl") {
        "bot"
    } else if has("iPad") || has("Tablet") {
        "tablet"
    } else if has("Mobi") || has("iPhone") || (has("Android") && !has("Tablet")) {
        "mobile"
    } else if os != "Unknown" {
        "desktop"
    } else {
        "unknown"
    };
    Device { device_type, browser, os }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_agents() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";
        assert_eq!(parse(chrome), Device { device_type: "desktop", browser: "Chrome", os: "Linux" });
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1";
        assert_eq!(parse(iphone), Device { device_type: "mobile", browser: "Safari", os: "iOS" });
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120 Safari/537.36 Edg/120";
        assert_eq!(parse(edge).browser, "Edge");
        assert_eq!(parse("Googlebot/2.1").device_type, "bot");
        assert_eq!(parse("").device_type, "unknown");
    }
}
