//! Opaque, unguessable, time-ordered ids (UUIDv7: 48 bits of time, 74 random bits).

pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
