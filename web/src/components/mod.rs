pub mod feedback;
pub mod icons;
pub mod layout;

/// A UTC time as shown in tables: `2026-11-24 01:15`.
pub fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// The same with seconds, for job queues.
pub fn when_exact(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}
