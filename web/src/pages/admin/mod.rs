//! The back office (`/admin`), built as its own bundle.

mod audit;
mod automation;
mod clients;
mod deletion;
mod emails;
mod orders;
mod staff;

pub use audit::AdminAuditPage;
pub use automation::{JobsPage, TasksPage};
pub use clients::{AdminHome, ClientsPage};
pub use emails::{AdminEmailsPage, TemplatesPage};
pub use orders::{AdminOrderPage, AdminOrdersPage};
pub use staff::StaffPage;
