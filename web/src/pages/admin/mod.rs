//! The back office (`/admin`), built as its own bundle.

mod addons;
mod audit;
mod automation;
mod billing;
mod catalog;
mod clients;
mod commerce;
mod deletion;
mod drafts;
mod emails;
mod groups;
mod invoices;
mod options;
mod orders;
mod prices;
mod servers;
mod services;
mod staff;

pub use addons::AddonsPage;
pub use audit::AdminAuditPage;
pub use automation::{JobsPage, TasksPage};
pub use billing::{BillingSettingsPage, ClientBillingPage, PaymentEventsPage};
pub use catalog::{ProductEditPage, ProductsPage, TaxesPage};
pub use clients::{AdminHome, ClientsPage};
pub use commerce::{CurrenciesPage, PromosPage};
pub use emails::{AdminEmailsPage, TemplatesPage};
pub use groups::GroupsPage;
pub use invoices::{AdminInvoicePage, AdminInvoicesPage};
pub use orders::{AdminOrderPage, AdminOrdersPage};
pub use servers::{ServerPage, ServersPage};
pub use services::{AdminServicePage, AdminServicesPage};
pub use staff::StaffPage;
