//! cPanel & WHM over WHM's JSON API 1 (../shared/PROTOCOLS.md §4): `POST {api_url}/json-api/{function}?api.version=1`
//! with form-encoded parameters and `Authorization: whm {user}:{token}`.
//!
//! WHM answers HTTP 200 even when a function fails: the outcome is `metadata.result` (1 or 0) and
//! `metadata.reason`, which may end in a Perl ` at /path/File.pm line N.` that is cut off here.
//! A refusal (`result` 0) is definitive and so [`ModuleError::Permanent`]; an unreachable server,
//! a timeout, HTTP 5xx/408/429 or an answer that is not WHM's envelope is [`ModuleError::Retryable`];
//! HTTP 401/403 means the API user or token is wrong ([`ModuleError::Permanent`]). No error
//! message carries the API token or an account's password.
//!
//! Also here: cPanel's username rules ([`valid_username`], [`username_for`]) and
//! [`strong_password`].

use std::time::Duration;

use rand::seq::SliceRandom;
use rand::Rng;
use reqwest::header::{HeaderValue, AUTHORIZATION};
use serde_json::Value;

use super::module::{Account, Calling, Created, Module, ModuleError, NewAccount, Usage};

/// How long a slow function (`createacct`, `removeacct`: they set up or tear down a whole
/// account, and take tens of seconds on a loaded server) may take.
const SLOW: Duration = Duration::from_secs(180);
/// How long any other function may take.
const QUICK: Duration = Duration::from_secs(30);

/// One WHM server, reached with an API token.
#[derive(Clone)]
pub struct Whm {
    http: reqwest::Client,
    /// Without a trailing slash.
    api_url: String,
    user: String,
    /// `whm {user}:{token}`, marked sensitive.
    authorization: HeaderValue,
    /// Kept only to be scrubbed from error messages.
    token: String,
}

impl std::fmt::Debug for Whm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Whm").field("api_url", &self.api_url).field("user", &self.user).finish_non_exhaustive()
    }
}

impl Whm {
    /// `api_url` is the API's base address (`https://host.example.com:2087`), `user` the API user
    /// (`root` or a reseller) and `token` its API token.
    pub fn new(api_url: &str, user: &str, token: &str) -> Result<Whm, ModuleError> {
        let api_url = api_url.trim().trim_end_matches('/');
        let parsed =
            url::Url::parse(api_url).map_err(|e| ModuleError::Permanent(format!("WHM's API address {api_url:?} is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(ModuleError::Permanent(format!("WHM's API address {api_url:?} is not an http(s) URL")));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(ModuleError::Permanent(
                "WHM's API address must not carry a user or password: give them as the API user and token".into(),
            ));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(ModuleError::Permanent(format!("WHM's API address {api_url:?} must not have a query or fragment")));
        }
        let user = user.trim();
        let token = token.trim();
        if user.is_empty() || token.is_empty() {
            return Err(ModuleError::Permanent("WHM needs an API user and an API token".into()));
        }
        let mut authorization = HeaderValue::from_str(&format!("whm {user}:{token}"))
            .map_err(|_| ModuleError::Permanent("WHM's API user or token holds characters an HTTP header cannot carry".into()))?;
        authorization.set_sensitive(true);
        Ok(Whm {
            http: crate::outbound::client(SLOW).map_err(ModuleError::Permanent)?,
            api_url: api_url.to_string(),
            user: user.to_string(),
            authorization,
            token: token.to_string(),
        })
    }

    /// Calls `function` and answers its `data` (`Value::Null` when it has none). `secrets` (a
    /// password sent) are scrubbed from any error message, as the token always is.
    async fn call(&self, function: &str, params: &[(&str, &str)], secrets: &[&str], timeout: Duration) -> Result<Value, ModuleError> {
        let scrub = |message: String| -> String {
            let mut message = message;
            for secret in secrets.iter().copied().chain([self.token.as_str()]) {
                if secret.len() >= 3 {
                    message = message.replace(secret, "[redacted]");
                }
            }
            message
        };
        let url = format!("{}/json-api/{function}?api.version=1", self.api_url);
        let res = match self.http.post(&url).header(AUTHORIZATION, self.authorization.clone()).timeout(timeout).form(params).send().await {
            Ok(res) => res,
            Err(e) if e.is_timeout() => {
                return Err(ModuleError::Retryable(format!(
                    "WHM at {} did not answer {function} within {}s",
                    self.api_url,
                    timeout.as_secs()
                )))
            }
            Err(e) => {
                return Err(ModuleError::Retryable(scrub(format!(
                    "WHM at {} not reached ({function}): {}",
                    self.api_url,
                    crate::error::cause_chain(&e)
                ))))
            }
        };
        let status = res.status();
        let code = status.as_u16();
        if code == 401 || code == 403 {
            return Err(ModuleError::Permanent(format!(
                "WHM refused the credentials of API user {:?} (HTTP {code}): check the user, its API token and its privileges",
                self.user
            )));
        }
        if status.is_server_error() || code == 408 || code == 429 {
            return Err(ModuleError::Retryable(format!("WHM answered HTTP {status} to {function}")));
        }
        let body = match res.bytes().await {
            Ok(body) => body,
            Err(e) if e.is_timeout() => {
                return Err(ModuleError::Retryable(format!(
                    "WHM at {} did not finish answering {function} within {}s",
                    self.api_url,
                    timeout.as_secs()
                )))
            }
            Err(e) => {
                return Err(ModuleError::Retryable(scrub(format!(
                    "WHM's answer to {function} could not be read: {}",
                    crate::error::cause_chain(&e)
                ))))
            }
        };
        let Ok(body) = serde_json::from_slice::<Value>(&body) else {
            return Err(ModuleError::Retryable(format!("WHM's answer to {function} is not JSON (HTTP {status})")));
        };
        let reason = body["metadata"]["reason"].as_str().map(strip_perl_suffix).unwrap_or_default();
        match int(&body["metadata"]["result"]) {
            Some(1) => Ok(body.get("data").cloned().unwrap_or(Value::Null)),
            Some(0) if reason.is_empty() => Err(ModuleError::Permanent(format!("WHM {function} failed without giving a reason"))),
            Some(0) => Err(ModuleError::Permanent(scrub(format!("WHM {function}: {reason}")))),
            _ => Err(ModuleError::Retryable(format!(
                "WHM's answer to {function} is not an API 1 answer (HTTP {status}, no metadata.result)"
            ))),
        }
    }

    /// The account's `accountsummary` entry, `None` when WHM says there is no such account.
    async fn summary(&self, username: &str) -> Result<Option<Value>, ModuleError> {
        match self.call("accountsummary", &[("user", username)], &[], QUICK).await {
            Ok(data) => Ok(data["acct"].as_array().and_then(|all| all.first()).cloned()),
            Err(ModuleError::Permanent(m)) if says_missing(&m) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Whether a refusal says the account does not exist (wordings vary between WHM versions).
fn says_missing(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    ["does not exist", "doesn't exist", "no such", "not found", "unable to find", "could not find", "failed to find"]
        .iter()
        .any(|p| m.contains(p))
}

/// A reason without Perl's ` at /path/File.pm line N.` ending.
pub(crate) fn strip_perl_suffix(reason: &str) -> String {
    let mut text = reason.trim();
    while let Some((head, tail)) = text.rsplit_once(" at ") {
        let tail = tail.trim_end_matches('.');
        let is_location = tail
            .rsplit_once(" line ")
            .is_some_and(|(file, line)| !file.trim().is_empty() && !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit()));
        if !is_location {
            break;
        }
        text = head.trim_end();
    }
    text.to_string()
}

/// An integer given as a JSON number or a numeric string.
fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(i64::from(*b)),
        _ => None,
    }
}

/// A number given as a JSON number or a numeric string.
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A text given as a string or a number; `None` when empty.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

const MB: f64 = 1024.0 * 1024.0;

/// A WHM size (`"120M"`, `"1.5G"`, `"500K"`, `"2T"`, `"120MB"`, a bare number of MB) in MB,
/// rounded; `Ok(None)` for `"unlimited"` (or `"none"`).
pub(crate) fn parse_size_mb(size: &str) -> Result<Option<i64>, String> {
    let s = size.trim().to_ascii_lowercase();
    if s == "unlimited" || s == "none" {
        return Ok(None);
    }
    let s = s.strip_suffix('b').unwrap_or(&s).trim_end();
    let (digits, factor) = match s.chars().last() {
        Some('k') => (&s[..s.len() - 1], 1.0 / 1024.0),
        Some('m') => (&s[..s.len() - 1], 1.0),
        Some('g') => (&s[..s.len() - 1], 1024.0),
        Some('t') => (&s[..s.len() - 1], 1024.0 * 1024.0),
        _ => (s, 1.0),
    };
    match digits.trim().parse::<f64>() {
        Ok(n) if n.is_finite() && n >= 0.0 => Ok(Some((n * factor).round() as i64)),
        _ => Err(format!("{size:?} is not a size")),
    }
}

/// A limit in MB: `None` when unlimited (WHM's 0 means unlimited too).
fn limit_mb(size: &Value) -> Result<Option<i64>, String> {
    let limit = match size {
        Value::Null => None,
        Value::Number(n) => n.as_f64().map(|f| f.round() as i64),
        Value::String(s) => parse_size_mb(s)?,
        other => return Err(format!("{other} is not a size")),
    };
    Ok(limit.filter(|mb| *mb > 0))
}

/// A limit in bytes (or `"unlimited"`) in MB: `None` when unlimited or 0.
fn bytes_limit_mb(limit: &Value) -> Option<i64> {
    number(limit).map(|bytes| (bytes / MB).round() as i64).filter(|mb| *mb > 0)
}

fn malformed(function: &str, what: &str) -> ModuleError {
    ModuleError::Retryable(format!("WHM's answer to {function} has no {what}"))
}

impl Module for Whm {
    fn test_connection(&self) -> Calling<'_, String> {
        Box::pin(async move {
            let data = self.call("version", &[], &[], QUICK).await?;
            let version = text(&data["version"]).ok_or_else(|| malformed("version", "version"))?;
            Ok(format!("cPanel & WHM {version}"))
        })
    }

    fn create(&self, account: NewAccount) -> Calling<'_, Created> {
        Box::pin(async move {
            let mut params = vec![
                ("username", account.username.as_str()),
                ("domain", account.domain.as_str()),
                ("plan", account.package.as_str()),
                ("password", account.password.as_str()),
            ];
            if !account.contact_email.trim().is_empty() {
                params.push(("contactemail", account.contact_email.trim()));
            }
            let data = self.call("createacct", &params, &[&account.password], SLOW).await?;
            let nameservers = ["nameserver", "nameserver2", "nameserver3", "nameserver4"].iter().filter_map(|k| text(&data[*k])).collect();
            Ok(Created { ip: text(&data["ip"]), nameservers, password: None })
        })
    }

    fn find(&self, username: String) -> Calling<'_, Option<Account>> {
        Box::pin(async move {
            let Some(acct) = self.summary(&username).await? else { return Ok(None) };
            let user = text(&acct["user"]).ok_or_else(|| malformed("accountsummary", "acct[0].user"))?;
            if !user.eq_ignore_ascii_case(&username) {
                return Ok(None);
            }
            Ok(Some(Account {
                username: user,
                domain: text(&acct["domain"]).unwrap_or_default(),
                package: text(&acct["plan"]).unwrap_or_default(),
                suspended: int(&acct["suspended"]).is_some_and(|s| s != 0),
            }))
        })
    }

    fn suspend(&self, username: String, reason: String) -> Calling<'_, ()> {
        Box::pin(async move {
            let reason = if reason.trim().is_empty() { "Suspended by Keel" } else { reason.trim() };
            self.call("suspendacct", &[("user", &username), ("reason", reason)], &[], QUICK).await.map(drop)
        })
    }

    fn unsuspend(&self, username: String) -> Calling<'_, ()> {
        Box::pin(async move { self.call("unsuspendacct", &[("user", &username)], &[], QUICK).await.map(drop) })
    }

    /// Removing an account WHM does not have succeeds: a retried termination whose first attempt
    /// removed the account (and lost the reply) is done.
    fn terminate(&self, username: String) -> Calling<'_, ()> {
        Box::pin(async move {
            match self.call("removeacct", &[("username", &username)], &[], SLOW).await {
                Ok(_) => Ok(()),
                Err(ModuleError::Permanent(m)) if says_missing(&m) => match self.summary(&username).await? {
                    None => Ok(()),
                    Some(_) => Err(ModuleError::Permanent(m)),
                },
                Err(e) => Err(e),
            }
        })
    }

    fn change_package(&self, username: String, package: String) -> Calling<'_, ()> {
        Box::pin(async move { self.call("changepackage", &[("user", &username), ("pkg", &package)], &[], QUICK).await.map(drop) })
    }

    fn change_password(&self, username: String, password: String) -> Calling<'_, ()> {
        Box::pin(async move { self.call("passwd", &[("user", &username), ("password", &password)], &[&password], QUICK).await.map(drop) })
    }

    fn usage(&self, username: String) -> Calling<'_, Usage> {
        Box::pin(async move {
            let acct = self
                .summary(&username)
                .await?
                .ok_or_else(|| ModuleError::Permanent(format!("WHM accountsummary: the account {username:?} does not exist")))?;
            let disk_used_mb = match &acct["diskused"] {
                Value::Null => 0,
                Value::Number(n) => n.as_f64().map_or(0, |f| f.round() as i64),
                Value::String(s) => {
                    parse_size_mb(s).map_err(|e| malformed("accountsummary", &format!("readable diskused ({e})")))?.unwrap_or(0)
                }
                _ => return Err(malformed("accountsummary", "readable diskused")),
            };
            let disk_limit_mb =
                limit_mb(&acct["disklimit"]).map_err(|e| malformed("accountsummary", &format!("readable disklimit ({e})")))?;
            let bw = self.call("showbw", &[("searchtype", "user"), ("search", &username)], &[], QUICK).await?;
            // `search` is a regular expression to WHM: pick this account's own line.
            let line = bw["acct"]
                .as_array()
                .and_then(|all| all.iter().find(|a| text(&a["user"]).is_some_and(|u| u.eq_ignore_ascii_case(&username))))
                .cloned()
                .unwrap_or(Value::Null);
            Ok(Usage {
                disk_used_mb,
                disk_limit_mb,
                bandwidth_used_mb: number(&line["totalbytes"]).map_or(0, |b| (b / MB).round() as i64),
                bandwidth_limit_mb: bytes_limit_mb(&line["limit"]),
            })
        })
    }

    fn sso_url(&self, username: String) -> Calling<'_, String> {
        Box::pin(async move {
            let data = self.call("create_user_session", &[("user", &username), ("service", "cpaneld")], &[], QUICK).await?;
            text(&data["url"]).ok_or_else(|| malformed("create_user_session", "url"))
        })
    }
}

/// Names cPanel keeps for itself or the system (`Cpanel/Validate/Username/Core.pm`'s list, and
/// the usual `/etc/aliases` entries).
const RESERVED: &[&str] = &[
    "abuse",
    "adm",
    "admin",
    "all",
    "alias",
    "apache",
    "bin",
    "clamav",
    "cpanel",
    "cpanelanalytics",
    "cpanelcabcache",
    "cpanelconnecttrack",
    "cpaneleximfilter",
    "cpaneleximscanner",
    "cpanelhorde",
    "cpanellogaholic",
    "cpanellogin",
    "cpanelphpmyadmin",
    "cpanelphppgadmin",
    "cpanelroundcube",
    "cpanelsolr",
    "cpses",
    "daemon",
    "dbus",
    "dovecot",
    "dovenull",
    "ftp",
    "games",
    "gdm",
    "gopher",
    "haldaemon",
    "halt",
    "horde",
    "hostmaster",
    "junk",
    "lp",
    "mail",
    "mailer",
    "mailman",
    "mailnull",
    "majordomo",
    "mysql",
    "named",
    "news",
    "nfsnobody",
    "noc",
    "nobody",
    "nscd",
    "ntp",
    "operator",
    "postgres",
    "postmaster",
    "root",
    "rpc",
    "rpcuser",
    "security",
    "shutdown",
    "smmsp",
    "sshd",
    "sync",
    "system",
    "usenet",
    "uucp",
    "vcsa",
    "virtfs",
    "webmaster",
    "wheel",
    "www",
    "xfs",
];

/// Whether cPanel takes `u` as a new account's username: `a–z0–9` only, 1 to 16 characters,
/// not starting with a digit or `test`, not ending with `assword`, not a reserved name.
pub fn valid_username(u: &str) -> bool {
    !u.is_empty()
        && u.len() <= 16
        && u.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && !u.as_bytes()[0].is_ascii_digit()
        && !u.starts_with("test")
        && !u.ends_with("assword")
        && !RESERVED.contains(&u)
}

/// The username's stem for a domain: its first label (after `www.`) in `a–z0–9`, without leading
/// digits or `test`, at most 8 characters, not ending with `assword`.
fn username_stem(domain: &str) -> String {
    let d = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let d = d.strip_prefix("www.").filter(|rest| !rest.is_empty()).unwrap_or(&d);
    let label = d.split('.').next().unwrap_or_default();
    let label = label.strip_prefix("xn--").unwrap_or(label);
    let clean: String = label.chars().filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit()).collect();
    let mut stem = clean.as_str();
    loop {
        if stem.starts_with(|c: char| c.is_ascii_digit()) {
            stem = &stem[1..];
        } else if let Some(rest) = stem.strip_prefix("test") {
            stem = rest;
        } else {
            break;
        }
    }
    let mut stem = match (clean.is_empty(), stem.is_empty()) {
        (true, _) => "site".to_string(),
        (false, true) => format!("u{clean}"),
        (false, false) => stem.to_string(),
    };
    stem.truncate(8);
    while stem.ends_with("assword") {
        stem.pop();
    }
    stem
}

/// A cPanel username for an account on `domain` that [`valid_username`] takes and `taken` does not
/// claim: the domain's first label cut to 8 characters (`example.com` → `example`), and on a
/// collision a shorter stem with digits so that the name stays within 8 characters
/// (`example1`, `exampl12`): with database prefixing on, WHM needs the first 8 characters of every
/// username to be unique, so `taken` should also say yes for a name whose first 8 characters are
/// some existing username's. Should every such name be taken, a random one is answered.
pub fn username_for(domain: &str, taken: &dyn Fn(&str) -> bool) -> String {
    let stem = username_stem(domain);
    if valid_username(&stem) && !taken(&stem) {
        return stem;
    }
    for n in 1..100_000u32 {
        let digits = n.to_string();
        let keep = stem.len().min(8 - digits.len().min(7));
        let candidate = format!("{}{digits}", &stem[..keep]);
        if valid_username(&candidate) && !taken(&candidate) {
            return candidate;
        }
    }
    let mut candidate = String::new();
    for _ in 0..1000 {
        candidate = random_username();
        if valid_username(&candidate) && !taken(&candidate) {
            break;
        }
    }
    candidate
}

fn random_username() -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let mut u = String::with_capacity(8);
    u.push(LETTERS[rng.random_range(0..LETTERS.len())] as char);
    u.extend((0..7).map(|_| CHARS[rng.random_range(0..CHARS.len())] as char));
    u
}

/// A random 20-character password with upper- and lower-case letters, digits and symbols that
/// need no quoting in a form body or a shell (`! @ ^ * ( ) - _ . : , ~`); no look-alike letters.
pub fn strong_password() -> String {
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
    const DIGITS: &[u8] = b"23456789";
    const SYMBOLS: &[u8] = b"!@^*()-_.:,~";
    const LENGTH: usize = 20;
    let mut rng = rand::rng();
    let mut pick = |set: &[u8]| set[rng.random_range(0..set.len())];
    let mut chars = vec![pick(UPPER), pick(LOWER), pick(DIGITS), pick(SYMBOLS), pick(SYMBOLS)];
    let all: Vec<u8> = [UPPER, LOWER, DIGITS, SYMBOLS].concat();
    while chars.len() < LENGTH {
        chars.push(pick(&all));
    }
    chars.shuffle(&mut rand::rng());
    chars.into_iter().map(char::from).collect()
}
