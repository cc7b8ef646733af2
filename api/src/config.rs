//! Configuration: built-in defaults, then an optional TOML file (`keel.toml` in the working folder,
//! or the file `KEEL_CONFIG` names), then environment variables. A bad value stops start-up with a
//! one-line message naming the variable.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::db::DbUrl;

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: DbUrl,
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    pub web_dir: PathBuf,
    pub admin_email: Option<String>,
    pub admin_password: Option<String>,
    /// Key for signing tokens (and, later, encrypting secrets at rest). When unset, one is
    /// generated once into `<data_dir>/secret.key`.
    pub secret_key: Option<String>,
    pub db_pool_size: u32,
    /// Load the demo catalog into an empty database on first start.
    pub demo_data: bool,
    /// Mark the refresh cookie `Secure` even when the request did not arrive over TLS
    /// (set it behind a TLS-terminating proxy).
    pub secure_cookies: bool,
    pub log_json: bool,
    /// SMTP server (`smtp://user:pass@host:587?tls=required`, `smtps://…`); unset writes `.eml`
    /// files into `<data_dir>/mail/`.
    pub smtp_url: Option<String>,
    pub mail_from: String,
    pub mail_rate_per_minute: u32,
    /// The address customers reach Keel at (links in e-mails).
    pub public_url: String,
    pub company_name: String,
    /// Worker threads in this process (0: none; run `keel worker` elsewhere).
    pub workers: usize,
    pub job_lease_secs: i64,
    /// How often the scheduler looks for due tasks.
    pub scheduler_interval_secs: u64,
    /// A CSV of IP ranges and their countries (`first,last,CC`, e.g. DB-IP's "IP to Country
    /// Lite"), for the fraud rule that compares an order's country with its billing address.
    pub geoip_csv: Option<PathBuf>,
    /// The VIES VAT number check service (`…/check-vat-number` is posted to it), used when the
    /// commerce setting `check_vat_online` is on.
    pub vies_url: String,
    /// The ECB's daily reference rates, read when the commerce setting `refresh_rates` is on.
    pub ecb_url: String,
    /// Stripe: the secret API key (`sk_live_…`/`sk_test_…`) and the webhook endpoint's signing
    /// secret (`whsec_…`). Both unset: payments by card go to the built-in Stripe sandbox.
    pub stripe: Option<StripeKeys>,
    /// Razorpay: the key id and secret and the webhook secret. Unset: the Razorpay sandbox.
    pub razorpay: Option<RazorpayKeys>,
    /// Where the built-in sandbox server's WHM calls go. Unset: the in-process WHM stand-in this
    /// process serves at `/sandbox/whm` (tests point it at a stand-in on a loopback port).
    pub sandbox_whm: Option<ModuleTarget>,
    /// Where the built-in Hetzner Cloud sandbox server's calls go. Unset: the in-process stand-in
    /// at `/sandbox/hetzner`.
    pub sandbox_hetzner: Option<ModuleTarget>,
}

/// A module API's address and its credentials (a sandbox server's stand-in).
#[derive(Clone, PartialEq, Eq)]
pub struct ModuleTarget {
    pub api_url: String,
    pub username: String,
    pub token: String,
}

impl std::fmt::Debug for ModuleTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModuleTarget").field("api_url", &self.api_url).field("username", &self.username).finish_non_exhaustive()
    }
}

/// A Razorpay account's keys.
#[derive(Clone, PartialEq, Eq)]
pub struct RazorpayKeys {
    pub key_id: String,
    pub key_secret: String,
    pub webhook_secret: String,
    /// Razorpay's API (`https://api.razorpay.com`; a stand-in's address in tests).
    pub api_url: String,
}

impl std::fmt::Debug for RazorpayKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RazorpayKeys").field("key_id", &self.key_id).field("api_url", &self.api_url).finish_non_exhaustive()
    }
}

/// A live (or test-mode) Stripe account's keys.
#[derive(Clone, PartialEq, Eq)]
pub struct StripeKeys {
    pub secret_key: String,
    pub webhook_secret: String,
    /// Stripe's API (`https://api.stripe.com`; a stand-in's address in tests).
    pub api_url: String,
}

impl std::fmt::Debug for StripeKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeKeys").field("api_url", &self.api_url).finish_non_exhaustive()
    }
}

/// The European Commission's VIES REST API.
pub const VIES_URL: &str = "https://ec.europa.eu/taxation_customs/vies/rest-api";

/// The keys of `keel.toml`: the same settings as the environment variables, lower-cased.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    bind: Option<String>,
    data_dir: Option<String>,
    web_dir: Option<String>,
    admin_email: Option<String>,
    admin_password: Option<String>,
    secret_key: Option<String>,
    db_pool_size: Option<u32>,
    demo_data: Option<bool>,
    secure_cookies: Option<bool>,
    log_json: Option<bool>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    mail_rate_per_minute: Option<u32>,
    public_url: Option<String>,
    company_name: Option<String>,
    workers: Option<usize>,
    job_lease_secs: Option<i64>,
    scheduler_interval_secs: Option<u64>,
    geoip_csv: Option<String>,
    vies_url: Option<String>,
    ecb_url: Option<String>,
    stripe_secret_key: Option<String>,
    stripe_webhook_secret: Option<String>,
    stripe_url: Option<String>,
    razorpay_key_id: Option<String>,
    razorpay_key_secret: Option<String>,
    razorpay_webhook_secret: Option<String>,
    razorpay_url: Option<String>,
}

impl Config {
    /// Reads the process environment and the optional config file.
    pub fn from_env() -> Result<Config, String> {
        let lookup = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let file = match lookup("KEEL_CONFIG") {
            Some(path) => Some(PathBuf::from(path)),
            None => Some(PathBuf::from("keel.toml")).filter(|p| p.exists()),
        };
        let file = match file {
            Some(path) => {
                let text = std::fs::read_to_string(&path).map_err(|e| format!("KEEL_CONFIG: cannot read {}: {e}", path.display()))?;
                toml::from_str::<FileConfig>(&text).map_err(|e| format!("KEEL_CONFIG: {}: {}", path.display(), e.message()))?
            }
            None => FileConfig::default(),
        };
        Config::resolve(file, lookup)
    }

    fn resolve(file: FileConfig, env: impl Fn(&str) -> Option<String>) -> Result<Config, String> {
        let data_dir = PathBuf::from(env("KEEL_DATA_DIR").or(file.data_dir).unwrap_or_else(|| "./data".into()));
        let database_url =
            env("DATABASE_URL").or(file.database_url).unwrap_or_else(|| data_dir.join("keel.db").to_string_lossy().into_owned());
        let database_url = DbUrl::parse(&database_url).map_err(|e| format!("DATABASE_URL: {e}"))?;
        let bind = env("KEEL_BIND").or(file.bind).unwrap_or_else(|| "127.0.0.1:8080".into());
        let bind: SocketAddr = bind.parse().map_err(|_| format!("KEEL_BIND: '{bind}' is not an address like 127.0.0.1:8080"))?;
        let web_dir = env("KEEL_WEB_DIR").or(file.web_dir).map(PathBuf::from).unwrap_or_else(default_web_dir);
        let admin_email = env("KEEL_ADMIN_EMAIL").or(file.admin_email);
        if let Some(email) = &admin_email {
            keel_shared::validation::email(email).map_err(|_| format!("KEEL_ADMIN_EMAIL: '{email}' is not an e-mail address"))?;
        }
        let admin_password = env("KEEL_ADMIN_PASSWORD").or(file.admin_password);
        if let Some(pw) = &admin_password {
            keel_shared::validation::password(pw).map_err(|_| "KEEL_ADMIN_PASSWORD: must be 10 to 128 characters".to_string())?;
        }
        let secret_key = env("KEEL_SECRET_KEY").or(file.secret_key);
        if secret_key.as_ref().is_some_and(|k| k.len() < 32) {
            return Err("KEEL_SECRET_KEY: must be at least 32 characters".into());
        }
        let db_pool_size = match env("KEEL_DB_POOL_SIZE") {
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=512).contains(n))
                .ok_or_else(|| format!("KEEL_DB_POOL_SIZE: '{v}' is not a number from 1 to 512"))?,
            None => file.db_pool_size.unwrap_or(10),
        };
        let smtp_url = env("KEEL_SMTP_URL").or(file.smtp_url);
        if let Some(u) = &smtp_url {
            if !(u.starts_with("smtp://") || u.starts_with("smtps://")) {
                return Err(format!("KEEL_SMTP_URL: '{u}' must start with smtp:// or smtps://"));
            }
        }
        let mail_from = env("KEEL_MAIL_FROM").or(file.mail_from).unwrap_or_else(|| "Keel <no-reply@keel.local>".into());
        let mail_rate_per_minute = number(&env, "KEEL_MAIL_RATE_PER_MINUTE", 1, 100_000)?.or(file.mail_rate_per_minute).unwrap_or(100);
        let public_url = env("KEEL_PUBLIC_URL").or(file.public_url).unwrap_or_else(|| format!("http://{bind}"));
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(format!("KEEL_PUBLIC_URL: '{public_url}' must start with http:// or https://"));
        }
        let workers = number(&env, "KEEL_WORKERS", 0, 256)?.map(|n| n as usize).or(file.workers).unwrap_or(2);
        let job_lease_secs = number(&env, "KEEL_JOB_LEASE_SECS", 1, 86_400)?.map(i64::from).or(file.job_lease_secs).unwrap_or(300);
        let scheduler_interval_secs =
            number(&env, "KEEL_SCHEDULER_INTERVAL_SECS", 1, 3600)?.map(u64::from).or(file.scheduler_interval_secs).unwrap_or(30);
        let geoip_csv = env("KEEL_GEOIP_CSV").or(file.geoip_csv).map(PathBuf::from);
        if let Some(p) = &geoip_csv {
            if !p.is_file() {
                return Err(format!("KEEL_GEOIP_CSV: {} is not a file", p.display()));
            }
        }
        let vies_url = env("KEEL_VIES_URL").or(file.vies_url).unwrap_or_else(|| VIES_URL.into());
        if !(vies_url.starts_with("http://") || vies_url.starts_with("https://")) {
            return Err(format!("KEEL_VIES_URL: '{vies_url}' must start with http:// or https://"));
        }
        let ecb_url = env("KEEL_ECB_URL").or(file.ecb_url).unwrap_or_else(|| crate::commerce::rates::ECB_URL.into());
        if !(ecb_url.starts_with("http://") || ecb_url.starts_with("https://")) {
            return Err(format!("KEEL_ECB_URL: '{ecb_url}' must start with http:// or https://"));
        }
        let stripe = match (
            env("KEEL_STRIPE_SECRET_KEY").or(file.stripe_secret_key),
            env("KEEL_STRIPE_WEBHOOK_SECRET").or(file.stripe_webhook_secret),
        ) {
            (None, None) => None,
            (Some(secret_key), Some(webhook_secret)) => {
                let api_url = env("KEEL_STRIPE_URL").or(file.stripe_url).unwrap_or_else(|| crate::payments::stripe::STRIPE_URL.into());
                if !(api_url.starts_with("http://") || api_url.starts_with("https://")) {
                    return Err(format!("KEEL_STRIPE_URL: '{api_url}' must start with http:// or https://"));
                }
                Some(StripeKeys { secret_key, webhook_secret, api_url })
            }
            _ => {
                return Err(
                    "KEEL_STRIPE_SECRET_KEY and KEEL_STRIPE_WEBHOOK_SECRET go together: set both, or neither for the Stripe sandbox".into(),
                )
            }
        };
        let razorpay = match (
            env("KEEL_RAZORPAY_KEY_ID").or(file.razorpay_key_id),
            env("KEEL_RAZORPAY_KEY_SECRET").or(file.razorpay_key_secret),
            env("KEEL_RAZORPAY_WEBHOOK_SECRET").or(file.razorpay_webhook_secret),
        ) {
            (None, None, None) => None,
            (Some(key_id), Some(key_secret), Some(webhook_secret)) => {
                let api_url = env("KEEL_RAZORPAY_URL").or(file.razorpay_url).unwrap_or_else(|| crate::payments::razorpay::RAZORPAY_URL.into());
                if !(api_url.starts_with("http://") || api_url.starts_with("https://")) {
                    return Err(format!("KEEL_RAZORPAY_URL: '{api_url}' must start with http:// or https://"));
                }
                Some(RazorpayKeys { key_id, key_secret, webhook_secret, api_url })
            }
            _ => return Err("KEEL_RAZORPAY_KEY_ID, KEEL_RAZORPAY_KEY_SECRET and KEEL_RAZORPAY_WEBHOOK_SECRET go together: set all three, or none for the Razorpay sandbox".into()),
        };
        Ok(Config {
            razorpay,
            sandbox_whm: None,
            sandbox_hetzner: None,
            stripe,
            ecb_url,
            geoip_csv,
            vies_url: vies_url.trim_end_matches('/').to_string(),
            smtp_url,
            mail_from,
            mail_rate_per_minute,
            public_url: public_url.trim_end_matches('/').to_string(),
            company_name: env("KEEL_COMPANY_NAME").or(file.company_name).unwrap_or_else(|| "Keel Hosting".into()),
            workers,
            job_lease_secs,
            scheduler_interval_secs,
            database_url,
            bind,
            data_dir,
            web_dir,
            admin_email,
            admin_password,
            secret_key,
            db_pool_size,
            demo_data: bool_var(&env, "KEEL_DEMO_DATA")?.or(file.demo_data).unwrap_or(true),
            secure_cookies: bool_var(&env, "KEEL_SECURE_COOKIES")?.or(file.secure_cookies).unwrap_or(false),
            log_json: bool_var(&env, "KEEL_LOG_JSON")?.or(file.log_json).unwrap_or(false),
        })
    }

    /// A configuration for tests and tools: everything under `dir`, nothing from the environment.
    pub fn for_dir(dir: &Path, database_url: DbUrl) -> Config {
        Config {
            database_url,
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: dir.to_path_buf(),
            web_dir: dir.join("dist"),
            admin_email: None,
            admin_password: None,
            secret_key: Some("test-secret-key-test-secret-key-0123456789".into()),
            db_pool_size: 4,
            demo_data: true,
            secure_cookies: false,
            log_json: false,
            smtp_url: None,
            mail_from: "Keel <no-reply@keel.test>".into(),
            mail_rate_per_minute: 100,
            public_url: "http://127.0.0.1:8080".into(),
            company_name: "Keel Hosting".into(),
            workers: 0,
            job_lease_secs: 300,
            scheduler_interval_secs: 30,
            geoip_csv: None,
            vies_url: VIES_URL.into(),
            ecb_url: crate::commerce::rates::ECB_URL.into(),
            stripe: None,
            razorpay: None,
            sandbox_whm: None,
            sandbox_hetzner: None,
        }
    }
}

fn number(env: &impl Fn(&str) -> Option<String>, name: &str, min: u32, max: u32) -> Result<Option<u32>, String> {
    match env(name) {
        None => Ok(None),
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .map(Some)
            .ok_or_else(|| format!("{name}: '{v}' is not a number from {min} to {max}")),
    }
}

fn bool_var(env: &impl Fn(&str) -> Option<String>, name: &str) -> Result<Option<bool>, String> {
    match env(name).map(|v| v.to_ascii_lowercase()) {
        None => Ok(None),
        Some(v) if ["1", "true", "yes", "on"].contains(&v.as_str()) => Ok(Some(true)),
        Some(v) if ["0", "false", "no", "off"].contains(&v.as_str()) => Ok(Some(false)),
        Some(v) => Err(format!("{name}: '{v}' is not true or false")),
    }
}

/// `./dist` when run from the workspace root; else the `dist/` beside the workspace this binary
/// was built from.
fn default_web_dir() -> PathBuf {
    let local = PathBuf::from("dist");
    if local.join("index.html").exists() {
        return local;
    }
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist");
    if built.join("index.html").exists() {
        built
    } else {
        local
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn resolve(vars: &[(&str, &str)]) -> Result<Config, String> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::resolve(FileConfig::default(), |k| map.get(k).cloned())
    }

    #[test]
    fn defaults() {
        let c = resolve(&[]).expect("defaults are valid");
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database_url.target, "./data/keel.db");
        assert!(c.demo_data);
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (var, value) in [
            ("KEEL_BIND", "nowhere"),
            ("DATABASE_URL", "mysql://x"),
            ("KEEL_ADMIN_EMAIL", "not-an-email"),
            ("KEEL_ADMIN_PASSWORD", "short"),
            ("KEEL_SECRET_KEY", "short"),
            ("KEEL_DB_POOL_SIZE", "0"),
            ("KEEL_DEMO_DATA", "maybe"),
            ("KEEL_SMTP_URL", "http://mail"),
            ("KEEL_WORKERS", "many"),
            ("KEEL_PUBLIC_URL", "example.com"),
        ] {
            let err = resolve(&[(var, value)]).expect_err(var);
            assert!(err.starts_with(var), "{err}");
            assert!(!err.contains('\n'));
        }
    }

    #[test]
    fn file_keys_are_checked() {
        assert!(toml::from_str::<FileConfig>("bind = \"0.0.0.0:80\"").is_ok());
        assert!(toml::from_str::<FileConfig>("bnid = \"x\"").is_err());
    }
}
