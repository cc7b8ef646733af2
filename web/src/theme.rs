//! Light and dark themes: the stylesheet follows the system unless the user picked one, which is
//! remembered in localStorage and set as `data-theme` on <html>.

const KEY: &str = "keel-theme";

fn root() -> Option<web_sys::Element> {
    web_sys::window()?.document()?.document_element()
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

pub fn init() {
    if let (Some(root), Some(theme)) = (root(), storage().and_then(|s| s.get_item(KEY).ok()?)) {
        let _ = root.set_attribute("data-theme", &theme);
    }
}

/// The theme in effect: the stored choice, else the system's.
pub fn current() -> &'static str {
    let stored = storage().and_then(|s| s.get_item(KEY).ok()?);
    match stored.as_deref() {
        Some("dark") => "dark",
        Some("light") => "light",
        _ => {
            let dark = web_sys::window().and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok()?).is_some_and(|m| m.matches());
            if dark {
                "dark"
            } else {
                "light"
            }
        }
    }
}

pub fn toggle() -> &'static str {
    let next = if current() == "dark" { "light" } else { "dark" };
    if let Some(s) = storage() {
        let _ = s.set_item(KEY, next);
    }
    if let Some(root) = root() {
        let _ = root.set_attribute("data-theme", next);
    }
    next
}
