//! Back-office: settings (and, later, reports and the audit log).

pub mod audit;
pub mod settings;
