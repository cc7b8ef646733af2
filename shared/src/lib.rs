//! Keel's shared vocabulary: the request/response models of the REST API, enums, [`Money`] and the
//! validation rules. Both the API server and the SPA compile this crate, so a rule written here runs
//! identically in the browser and on the server. No I/O, no database types.
//!
//! The `openapi` feature adds `utoipa::ToSchema` derives and the `diesel` feature text-column
//! mappings for states and ids; the SPA leaves both off.

pub mod access;
pub mod auth;
pub mod automation;
pub mod billing;
pub mod cart;
pub mod catalog;
pub mod commerce;
pub mod ids;
pub mod money;
pub mod orders;
pub mod page;
pub mod pricing;
pub mod problem;
pub mod proration;
pub mod provisioning;
pub mod states;
pub mod validation;

pub use money::{Currency, CurrencyInfo, Money};
pub use page::{Page, PageQuery};
pub use problem::Problem;
