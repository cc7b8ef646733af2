//! The client area (`/dashboard`), and the page an invitation link opens (`/team/accept`).

mod activity;
mod cards;
mod checkout;
mod emails;
mod invitation;
mod invoices;
mod orders;
mod overview;
mod profile;
mod security;
mod service_change;
mod services;
mod team;

pub use activity::ActivityPage;
pub use checkout::CheckoutPage;
pub use emails::MyEmailsPage;
pub use invitation::AcceptInvitationPage;
pub use invoices::{InvoicePage, InvoicesPage};
pub use orders::{OrderPage, OrdersPage};
pub use overview::DashboardPage;
pub use profile::ProfilePage;
pub use security::SecurityPage;
pub use services::{ServicePage, ServicesPage};
pub use team::TeamPage;
