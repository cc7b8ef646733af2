//! Opaque, unguessable, time-ordered ids (UUIDv7: 48 bits of time, 74 random bits).

pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Whether `s` looks like an id we issued (lets handlers answer 404 for junk without a query).
pub fn is_valid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok()
}
