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
    /// The server secret (signing keys and HMACs derive from it).
    pub secret: Arc<Vec<u8>>,
}

impl AppState {
    /// Branding and keys the e-mail outbox needs.
    pub fn mail(&self) -> crate::notifications::outbox::MailContext {
        crate::notifications::outbox::MailContext {
            company: self.config.company_name.clone(),
            public_url: self.config.public_url.clone(),
            unsubscribe_key: self.unsubscribe_key(),
        }
    }

    pub fn unsubscribe_key(&self) -> Vec<u8> {
        use sha2::Digest;
        sha2::Sha256::new().chain_update(b"keel/unsubscribe/v1").chain_update(self.secret.as_slice()).finalize().to_vec()
    }
}
