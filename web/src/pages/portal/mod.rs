//! The client area (`/dashboard`), and the page an invitation link opens (`/team/accept`).

mod activity;
mod emails;
mod invitation;
mod overview;
mod profile;
mod security;
mod team;

pub use activity::ActivityPage;
pub use emails::MyEmailsPage;
pub use invitation::AcceptInvitationPage;
pub use overview::DashboardPage;
pub use profile::ProfilePage;
pub use security::SecurityPage;
pub use team::TeamPage;
