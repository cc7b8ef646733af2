//! First start: the server secret, the demo catalog and the first administrator.

use std::path::Path;

use chrono::{DateTime, Utc};
use keel_shared::auth::Role;
use rand::RngCore;

use crate::accounts::users as accounts;
use crate::admin::settings;
use crate::catalog::seed;
use crate::config::Config;
use crate::db::DbConn;
use crate::error::ApiError;

/// The server secret: `KEEL_SECRET_KEY` when set, else `<data_dir>/secret.key`, created once with
/// 256 random bits and readable only by its owner.
pub fn secret_key(config: &Config) -> Result<Vec<u8>, String> {
    if let Some(k) = &config.secret_key {
        return Ok(k.as_bytes().to_vec());
    }
    let path = config.data_dir.join("secret.key");
    if !path.exists() {
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|e| format!("KEEL_DATA_DIR: cannot create {}: {e}", config.data_dir.display()))?;
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        // Written whole under a temporary name, then linked into place: several processes
        // starting at once agree on one key (the first link wins; the others read it).
        let tmp = config.data_dir.join(format!(".secret.key.{}.tmp", std::process::id()));
        write_private(&tmp, &hex::encode(bytes)).map_err(|e| format!("KEEL_DATA_DIR: cannot write {}: {e}", tmp.display()))?;
        let linked = std::fs::hard_link(&tmp, &path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(format!("KEEL_DATA_DIR: cannot write {}: {e}", path.display())),
        }
    }
    let text = std::fs::read_to_string(&path).map_err(|e| format!("KEEL_SECRET_KEY: cannot read {}: {e}", path.display()))?;
    let text = text.trim();
    if text.len() < 32 {
        return Err(format!("KEEL_SECRET_KEY: {} is shorter than 32 characters", path.display()));
    }
    Ok(text.as_bytes().to_vec())
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)?.write_all(text.as_bytes())
}

/// What first start did, for the start-up banner.
#[derive(Debug, Default)]
pub struct FirstStart {
    pub products_created: usize,
    /// Set only when an admin was created just now.
    pub admin: Option<(String, Option<String>)>,
}

/// Loads the demo catalog (when enabled and the catalog is empty) and creates the first admin
/// (when there is none). The generated password is returned once and never stored in clear.
/// `tasks`: the scheduled tasks this build ships (installed when missing).
pub fn first_start(
    conn: &mut DbConn,
    config: &Config,
    tasks: &[crate::automation::registry::TaskSpec],
    now: DateTime<Utc>,
) -> Result<FirstStart, ApiError> {
    let mut out = FirstStart::default();
    crate::automation::scheduler::install(conn, now, tasks)?;
    if config.demo_data && settings::get::<bool>(conn, "demo_catalog_loaded")?.is_none() {
        out.products_created = seed::load_demo_catalog(conn, now)?;
        settings::set(conn, now, "demo_catalog_loaded", &true)?;
    }
    // The built-in sandbox server, so a fresh install provisions what it sells (once: an
    // administrator who removes it does not see it come back).
    if settings::get::<bool>(conn, "sandbox_server_created")?.is_none() {
        crate::provisioning::service::ensure_sandbox_server(conn, now)?;
        settings::set(conn, now, "sandbox_server_created", &true)?;
    }
    if !accounts::admin_exists(conn)? {
        let email = config.admin_email.clone().unwrap_or_else(|| "admin@keel.local".into());
        let (password, generated) = match &config.admin_password {
            Some(p) => (p.clone(), false),
            None => (generate_password(), true),
        };
        accounts::create_user(conn, now, &email, &crate::identity::password::hash(&password)?, "Keel", "Admin", Role::Admin)?;
        out.admin = Some((email, generated.then_some(password)));
    }
    Ok(out)
}

/// 20 characters from an alphabet without look-alikes (~114 bits).
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..20).map(|_| ALPHABET[(rng.next_u32() as usize) % ALPHABET.len()] as char).collect()
}
