//! Provisioning: servers, the modules that drive their control panels, and the life of the
//! services clients bought — placed on a server and created when their order is paid,
//! suspended, unsuspended, changed and terminated through the module, with every step written to
//! the service's history. The built-in sandbox server (a WHM stand-in in this process) lets a
//! fresh install provision end to end.

pub mod bench;
pub mod hetzner;
pub mod hetzner_sandbox;
pub mod jobs;
pub mod module;
pub mod routes;
pub mod service;
pub mod store;
pub mod whm;
pub mod whm_sandbox;
