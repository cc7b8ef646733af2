//! The provisioning module contract: what Keel asks of a control panel or cloud provider to make,
//! suspend, change and remove a client's account. Each module (cPanel/WHM, a cloud VPS provider)
//! implements [`Module`] over the provider's real HTTP protocol; a server's row says which module
//! and where (`connect`). Errors say whether trying again can help, so the job queue retries only
//! what can succeed.

use std::future::Future;
use std::pin::Pin;

use keel_shared::provisioning::ModuleKind;

/// Why a module call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModuleError {
    /// The server could not be reached, timed out, or answered 5xx: try again later.
    #[error("{0}")]
    Retryable(String),
    /// The server refused the request for good (bad credentials, an unknown package, a name it
    /// will not take): trying again cannot help.
    #[error("{0}")]
    Permanent(String),
}

impl ModuleError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, ModuleError::Permanent(_))
    }
}

pub type Calling<'a, T> = Pin<Box<dyn Future<Output = Result<T, ModuleError>> + Send + 'a>>;

/// An account to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    /// Valid for the panel (see `whm::username_for`) and not taken on the server.
    pub username: String,
    pub domain: String,
    pub password: String,
    /// The panel's package (plan) name; a cloud provider's server type.
    pub package: String,
    pub contact_email: String,
    /// What the client chose among the product's configurable options, by option name in lower
    /// case (`location` → `Helsinki`): a cloud module reads its region and image here.
    pub settings: std::collections::BTreeMap<String, String>,
}

/// What the panel says about an account it created.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Created {
    /// The account's IP address, when the panel gives one.
    pub ip: Option<String>,
    pub nameservers: Vec<String>,
    /// A password the provider chose itself (a cloud server's root password), which then is the
    /// account's login instead of the one Keel generated.
    pub password: Option<String>,
}

/// An account as the panel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub username: String,
    pub domain: String,
    pub package: String,
    pub suspended: bool,
}

/// Disk and bandwidth use of an account, in MB; limits are `None` when unlimited.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Usage {
    pub disk_used_mb: i64,
    pub disk_limit_mb: Option<i64>,
    pub bandwidth_used_mb: i64,
    pub bandwidth_limit_mb: Option<i64>,
}

/// A control panel or provider, connected to one server with that server's credentials.
pub trait Module: std::fmt::Debug + Send + Sync {
    /// A cheap authenticated call; answers the panel's version (or a like label).
    fn test_connection(&self) -> Calling<'_, String>;
    fn create(&self, account: NewAccount) -> Calling<'_, Created>;
    /// The account with this username, if the server has it (how a retried create learns that
    /// an earlier attempt already made the account).
    fn find(&self, username: String) -> Calling<'_, Option<Account>>;
    fn suspend(&self, username: String, reason: String) -> Calling<'_, ()>;
    fn unsuspend(&self, username: String) -> Calling<'_, ()>;
    /// Removes the account; one the server no longer has counts as removed, so a retry after a
    /// lost reply succeeds.
    fn terminate(&self, username: String) -> Calling<'_, ()>;
    fn change_package(&self, username: String, package: String) -> Calling<'_, ()>;
    fn change_password(&self, username: String, password: String) -> Calling<'_, ()>;
    fn usage(&self, username: String) -> Calling<'_, Usage>;
    /// A one-time URL that logs the client into the control panel.
    fn sso_url(&self, username: String) -> Calling<'_, String>;
}

/// Where a module reaches its server and with what credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub module: ModuleKind,
    /// The API's base address, e.g. `https://host.example.com:2087` for WHM.
    pub api_url: String,
    pub username: String,
    pub secret: String,
}

/// The module for a server.
pub fn connect(endpoint: &Endpoint) -> Result<Box<dyn Module>, ModuleError> {
    match endpoint.module {
        ModuleKind::Cpanel => Ok(Box::new(super::whm::Whm::new(&endpoint.api_url, &endpoint.username, &endpoint.secret)?)),
        ModuleKind::Hetzner => Ok(Box::new(super::hetzner::Hetzner::new(&endpoint.api_url, &endpoint.secret)?)),
    }
}
