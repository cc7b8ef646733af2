//! The back office: staff and their permissions, platform settings, the client list, deletion
//! approvals, "log in as client" and the audit log's reading side (the log itself is the kernel's
//! `crate::audit`, written by every service).

pub mod bench;
pub mod routes;
pub mod service;
pub mod settings;
pub mod staff;
