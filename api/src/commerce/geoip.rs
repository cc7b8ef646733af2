//! The country of an IP address, for fraud screening: ranges read once from a CSV file of
//! `first address,last address,country code` lines (the format of DB-IP's free "IP to Country
//! Lite" download and of MaxMind's converted country CSVs; IPv4 and IPv6, either order), set
//! with `KEEL_GEOIP_CSV`. Without a file no country is known and the rule is off.

use std::net::{IpAddr, Ipv6Addr};
use std::path::Path;

/// Sorted, non-overlapping ranges of addresses (IPv4 mapped into IPv6) with their country.
#[derive(Debug, Default)]
pub struct IpCountries {
    ranges: Vec<(u128, u128, [u8; 2])>,
}

fn key(ip: IpAddr) -> u128 {
    let v6: Ipv6Addr = match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    };
    u128::from(v6)
}

impl IpCountries {
    /// Reads the CSV at `path`. A line that does not parse stops with its number.
    pub fn load(path: &Path) -> Result<IpCountries, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        IpCountries::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<IpCountries, String> {
        let mut ranges = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = || format!("line {}: expected 'first,last,CC', got '{line}'", n + 1);
            let mut parts = line.split(',').map(|p| p.trim().trim_matches('"'));
            let (Some(first), Some(last), Some(cc)) = (parts.next(), parts.next(), parts.next()) else {
                return Err(bad());
            };
            let (first, last) = match (first.parse::<IpAddr>(), last.parse::<IpAddr>()) {
                (Ok(f), Ok(l)) if f.is_ipv4() == l.is_ipv4() && key(f) <= key(l) => (key(f), key(l)),
                _ => return Err(bad()),
            };
            let cc = cc.as_bytes();
            if cc.len() != 2 || !cc.iter().all(u8::is_ascii_alphabetic) {
                return Err(bad());
            }
            ranges.push((first, last, [cc[0].to_ascii_uppercase(), cc[1].to_ascii_uppercase()]));
        }
        ranges.sort_unstable_by_key(|r| r.0);
        Ok(IpCountries { ranges })
    }

    /// The ISO 3166-1 alpha-2 code of the country `ip` is in, when a range holds it (`ZZ`, which
    /// some lists use for "unknown", counts as none).
    pub fn country(&self, ip: &str) -> Option<String> {
        let k = key(ip.parse::<IpAddr>().ok()?);
        let i = self.ranges.partition_point(|r| r.0 <= k).checked_sub(1)?;
        let (_, last, cc) = self.ranges[i];
        (k <= last && &cc != b"ZZ").then(|| String::from_utf8_lossy(&cc).into_owned())
    }

    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_up_ipv4_and_ipv6_ranges() {
        let c = IpCountries::parse(
            "# a comment\n1.0.0.0,1.0.0.255,AU\n\"2.16.0.0\",\"2.16.255.255\",\"de\"\n2001:db8::,2001:db8::ffff,FR\n9.9.9.0,9.9.9.255,ZZ\n",
        )
        .unwrap();
        assert_eq!(c.len(), 4);
        assert_eq!(c.country("1.0.0.7").as_deref(), Some("AU"));
        assert_eq!(c.country("2.16.3.4").as_deref(), Some("DE"));
        assert_eq!(c.country("2001:db8::1").as_deref(), Some("FR"));
        assert_eq!(c.country("1.0.1.0"), None);
        assert_eq!(c.country("0.0.0.1"), None);
        assert_eq!(c.country("9.9.9.9"), None);
        assert_eq!(c.country("not an ip"), None);
        assert!(IpCountries::parse("1.0.0.0,AU\n").unwrap_err().starts_with("line 1"));
        assert!(IpCountries::parse("1.0.0.9,1.0.0.0,AU\n").is_err());
        assert!(IpCountries::parse("1.0.0.0,::1,AU\n").is_err());
    }
}
