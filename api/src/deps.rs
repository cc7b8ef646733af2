//! The dependencies value: everything outside Keel's own code that a use case reaches — the clock,
//! the configuration, the mail transport, and (as they arrive) payment gateways, registrars,
//! control panels and DNS — held as trait objects. One value is shared by the HTTP state and the
//! job workers, so a route and a job reach the same adapters, and a test or the sandbox swaps an
//! adapter for its stand-in in one place.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::automation::registry::JobEnv;
use crate::clock::SharedClock;
use crate::commerce::fraud::Rules;
use crate::commerce::geoip::IpCountries;
use crate::config::Config;
use crate::notifications::mailer::{MailTransport, Mailer};

#[derive(Debug, Clone)]
pub struct Deps {
    pub clock: SharedClock,
    pub config: Arc<Config>,
    pub mailer: Arc<dyn MailTransport>,
    /// Fraud screening run by every checkout.
    pub fraud: Arc<dyn crate::commerce::fraud::FraudCheck>,
    /// EU VAT id confirmation (VIES), when the commerce settings ask for it.
    pub vat: Arc<dyn crate::commerce::vies::VatCheck>,
    /// Reference exchange rates (the ECB's), when the commerce settings ask for them.
    pub rates: Arc<dyn crate::commerce::rates::RateSource>,
    /// Card payments (Stripe, or its sandbox stand-in).
    pub stripe: Arc<dyn crate::payments::gateway::CardGateway>,
    /// Saved cards (Stripe's customers and payment methods).
    pub vault: Arc<dyn crate::payments::gateway::CardVault>,
    /// The Stripe sandbox this process serves at `/sandbox/stripe`, when no Stripe keys are set.
    pub stripe_sandbox: Option<Arc<crate::payments::sandbox::StripeSandbox>>,
    /// Razorpay (or its sandbox stand-in).
    pub razorpay: Arc<crate::payments::razorpay::Razorpay>,
    /// The Razorpay sandbox this process serves at `/sandbox/razorpay`, when no Razorpay keys are set.
    pub razorpay_sandbox: Option<Arc<crate::payments::razorpay_sandbox::RazorpaySandbox>>,
    /// The WHM stand-in this process serves at `/sandbox/whm`, behind the built-in sandbox server
    /// (unless the configuration points that server elsewhere).
    pub whm_sandbox: Option<Arc<crate::provisioning::whm_sandbox::WhmSandbox>>,
    /// Where the WHM sandbox server's module calls go.
    pub sandbox_whm: crate::config::ModuleTarget,
    /// The Hetzner Cloud stand-in this process serves at `/sandbox/hetzner`, behind the built-in
    /// cloud sandbox server (unless the configuration points that server elsewhere).
    pub hetzner_sandbox: Option<Arc<crate::provisioning::hetzner_sandbox::HetznerSandbox>>,
    pub sandbox_hetzner: crate::config::ModuleTarget,
    /// The server secret: sealing keys for credentials at rest and the e-mail unsubscribe key
    /// derive from it (set by `AppState`).
    pub secret: Arc<Vec<u8>>,
}

impl Deps {
    /// The adapters the configuration asks for.
    pub fn from_config(config: Arc<Config>, clock: SharedClock) -> Result<Deps, String> {
        let mailer = Mailer::from_config(config.smtp_url.as_deref(), &config.data_dir)?;
        let countries = match &config.geoip_csv {
            Some(path) => {
                let countries = IpCountries::load(path).map_err(|e| format!("KEEL_GEOIP_CSV: {e}"))?;
                tracing::info!(ranges = countries.len(), "IP country list loaded");
                Some(Arc::new(countries))
            }
            None => None,
        };
        let fraud = Arc::new(Rules { countries, ..Rules::default() });
        let vat = Arc::new(crate::commerce::vies::Vies::new(&config.vies_url)?);
        let rates = Arc::new(crate::commerce::rates::Ecb::new(&config.ecb_url)?);
        let (stripe, stripe_sandbox) = match &config.stripe {
            Some(k) => (crate::payments::stripe::Stripe::new(&k.api_url, &k.secret_key, &k.webhook_secret, false)?, None),
            None => {
                let base = format!("{}/sandbox/stripe", config.public_url);
                let hook = format!("{}/api/v1/webhooks/stripe", config.public_url);
                let sandbox = crate::payments::sandbox::StripeSandbox::new(&base, Some(hook), clock.clone());
                let adapter = crate::payments::stripe::Stripe::new(&base, &sandbox.secret_key, &sandbox.webhook_secret, true)?;
                (adapter, Some(Arc::new(sandbox)))
            }
        };
        let stripe = Arc::new(stripe);
        let callback = format!("{}/api/v1/payments/razorpay/callback", config.public_url);
        let (razorpay, razorpay_sandbox) = match &config.razorpay {
            Some(k) => {
                let page = format!("{}/api/v1/payments/razorpay", config.public_url);
                (crate::payments::razorpay::Razorpay::new(&k.api_url, &k.key_id, &k.key_secret, &k.webhook_secret, &page, false)?, None)
            }
            None => {
                let base = format!("{}/sandbox/razorpay", config.public_url);
                let hook = format!("{}/api/v1/webhooks/razorpay", config.public_url);
                let sandbox = crate::payments::razorpay_sandbox::RazorpaySandbox::new(&base, Some(hook), &callback, clock.clone());
                let adapter = crate::payments::razorpay::Razorpay::new(
                    &base,
                    &sandbox.key_id,
                    &sandbox.key_secret,
                    &sandbox.webhook_secret,
                    &format!("{base}/pay"),
                    true,
                )?;
                (adapter, Some(Arc::new(sandbox)))
            }
        };
        let (whm_sandbox, sandbox_whm) = match &config.sandbox_whm {
            Some(target) => (None, target.clone()),
            None => {
                let sandbox =
                    crate::provisioning::whm_sandbox::WhmSandbox::new(&format!("{}/sandbox/whm", config.public_url), clock.clone());
                let target = crate::config::ModuleTarget {
                    api_url: sandbox.base_url.clone(),
                    username: sandbox.user.clone(),
                    token: sandbox.token.clone(),
                };
                (Some(Arc::new(sandbox)), target)
            }
        };
        let (hetzner_sandbox, sandbox_hetzner) = match &config.sandbox_hetzner {
            Some(target) => (None, target.clone()),
            None => {
                let sandbox = crate::provisioning::hetzner_sandbox::HetznerSandbox::new(
                    &format!("{}/sandbox/hetzner", config.public_url),
                    clock.clone(),
                );
                let target = crate::config::ModuleTarget {
                    api_url: format!("{}/v1", sandbox.base_url),
                    username: String::new(),
                    token: sandbox.token.clone(),
                };
                (Some(Arc::new(sandbox)), target)
            }
        };
        Ok(Deps {
            clock,
            config,
            mailer: Arc::new(mailer),
            fraud,
            vat,
            rates,
            stripe: stripe.clone(),
            vault: stripe,
            stripe_sandbox,
            razorpay: Arc::new(razorpay),
            razorpay_sandbox,
            whm_sandbox,
            sandbox_whm,
            hetzner_sandbox,
            sandbox_hetzner,
            secret: Arc::new(Vec::new()),
        })
    }
}

impl JobEnv for Deps {
    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

impl Deps {
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
