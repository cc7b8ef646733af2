//! The HTTP layer: app assembly, extractors, auth, the SPA host and the OpenAPI document.

pub mod app;
pub mod auth;
pub mod extract;
pub mod health;
pub mod openapi;
pub mod request_id;
pub mod spa;
