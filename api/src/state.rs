//! What every handler can reach: the pool, the dependencies value shared with the job workers,
//! the job registry (for the scheduled tasks' descriptions), and the signing keys.

use std::sync::Arc;

use crate::automation::registry::Registry;
use crate::clock::SharedClock;
use crate::config::Config;
use crate::db::Pool;
use crate::deps::Deps;
use crate::identity::tokens::JwtKeys;

#[derive(Debug, Clone)]
pub struct AppState {
    pub pool: Pool,
    pub deps: Arc<Deps>,
    pub jobs: Arc<Registry<Deps>>,
    pub jwt: JwtKeys,
    /// The server secret (signing keys and HMACs derive from it).
    pub secret: Arc<Vec<u8>>,
}

/// `state.clock`, `state.config`, `state.mailer`: the dependencies are reached through the state.
impl std::ops::Deref for AppState {
    type Target = Deps;
    fn deref(&self) -> &Deps {
        &self.deps
    }
}

impl AppState {
    /// The state with the adapters the configuration asks for.
    pub fn new(pool: Pool, config: Config, clock: SharedClock, secret: Vec<u8>) -> Result<AppState, String> {
        let deps = Deps::from_config(Arc::new(config), clock)?;
        Ok(Self::with_deps(pool, deps, secret))
    }

    /// The state over a given dependencies value (tests swap adapters this way).
    pub fn with_deps(pool: Pool, mut deps: Deps, secret: Vec<u8>) -> AppState {
        let secret = Arc::new(secret);
        deps.secret = secret.clone();
        AppState { pool, deps: Arc::new(deps), jobs: Arc::new(crate::compose::registry()), jwt: JwtKeys::from_secret(&secret), secret }
    }
}
