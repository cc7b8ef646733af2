//! What every handler can reach.

use std::sync::Arc;

use crate::accounts::tokens::JwtKeys;
use crate::clock::SharedClock;
use crate::config::Config;
use crate::db::Pool;

#[derive(Debug, Clone)]
pub struct AppState {
    pub pool: Pool,
    pub clock: SharedClock,
    pub jwt: JwtKeys,
    pub config: Arc<Config>,
}
