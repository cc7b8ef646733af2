//! The WHM sandbox: an in-process stand-in for a cPanel & WHM server that speaks WHM's JSON API 1
//! (../shared/PROTOCOLS.md §4) — `GET|POST /json-api/{function}?api.version=1`, parameters in the
//! query string or a form body, `Authorization: whm root:{token}`, answers in WHM's envelope with
//! HTTP 200 even when `metadata.result` is 0 — over accounts kept in memory, and the page its
//! single-sign-on URLs open: a "sandbox control panel" showing the account.
//!
//! Keel mounts it at `/sandbox/whm` for the built-in sandbox server, so a fresh install provisions
//! hosting end to end with no server anywhere; the tests run the same stand-in on a loopback port
//! with the real [`super::whm::Whm`] adapter pointed at it. Test hooks make the next call of a
//! function fail ([`WhmSandbox::fail_next`]), do its work but lose the reply
//! ([`WhmSandbox::lose_next_reply`]), or take the whole server down ([`WhmSandbox::set_down`]).
//! Passwords are kept only as SHA-256 digests; neither they nor the token are logged.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Datelike, Duration, Utc};
use rand::Rng;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::whm::valid_username;
use crate::clock::SharedClock;

/// The packages a new sandbox knows.
pub const DEFAULT_PACKAGES: [&str; 5] = ["shared_starter", "shared_business", "wordpress_starter", "wordpress_pro", "default"];

/// What the sandbox reports as its version.
pub const VERSION: &str = "11.126.0.9999";

/// The shared IP address every sandbox account is on (TEST-NET-1, never routed).
pub const SHARED_IP: &str = "192.0.2.10";

/// The sandbox's nameservers.
pub const NAMESERVERS: [&str; 2] = ["ns1.sandbox.keel.test", "ns2.sandbox.keel.test"];

/// How long a control-panel session lives without being used.
const SESSION_IDLE: i64 = 15;

/// The functions the sandbox implements (its `applist`).
const FUNCTIONS: &[&str] = &[
    "accountsummary",
    "applist",
    "changepackage",
    "create_user_session",
    "createacct",
    "listaccts",
    "listpkgs",
    "passwd",
    "removeacct",
    "showbw",
    "suspendacct",
    "unsuspendacct",
    "version",
];

/// An account as a test sees it (never its password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxAccount {
    pub username: String,
    pub domain: String,
    pub package: String,
    pub suspended: bool,
    /// The reason given when it was suspended.
    pub suspend_reason: Option<String>,
    pub contact_email: Option<String>,
    pub password_set: bool,
}

/// A package: its name and its disk and monthly bandwidth quotas in MB (`None`: unlimited).
#[derive(Debug, Clone)]
struct Package {
    name: String,
    disk_mb: Option<i64>,
    bandwidth_mb: Option<i64>,
}

impl Package {
    fn named(name: &str) -> Package {
        let (disk_mb, bandwidth_mb) = match name {
            "shared_starter" => (Some(10_240), Some(102_400)),
            "shared_business" => (Some(51_200), Some(512_000)),
            "wordpress_starter" => (Some(20_480), Some(204_800)),
            "wordpress_pro" => (Some(102_400), None),
            "default" => (None, None),
            _ => (Some(5_120), Some(51_200)),
        };
        Package { name: name.to_string(), disk_mb, bandwidth_mb }
    }
}

#[derive(Debug, Clone)]
struct Acct {
    username: String,
    domain: String,
    package: String,
    suspended: Option<String>,
    contact_email: Option<String>,
    /// SHA-256 of the password, hex.
    password: Option<String>,
    created: DateTime<Utc>,
}

#[derive(Debug, Clone)]
struct Session {
    user: String,
    /// `cpsess…`, the URL's first segment.
    security_token: String,
    expires: DateTime<Utc>,
}

#[derive(Debug, Default)]
struct State {
    accounts: HashMap<String, Acct>,
    /// By session string.
    sessions: HashMap<String, Session>,
    fail_next: HashMap<String, String>,
    lose_next: HashSet<String>,
    calls: HashMap<String, usize>,
}

/// One stand-in WHM server.
pub struct WhmSandbox {
    /// The API user clients must send: `root`.
    pub user: String,
    /// The API token clients must send, random per process.
    pub token: String,
    /// Where the sandbox is mounted (`…/sandbox/whm`), without a trailing slash.
    pub base_url: String,
    clock: SharedClock,
    packages: Vec<Package>,
    down: AtomicBool,
    state: Mutex<State>,
}

impl std::fmt::Debug for WhmSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhmSandbox").field("user", &self.user).field("base_url", &self.base_url).finish_non_exhaustive()
    }
}

fn random(chars: &[u8], len: usize) -> String {
    let mut rng = rand::rng();
    (0..len).map(|_| chars[rng.random_range(0..chars.len())] as char).collect()
}

fn digest(password: &str) -> String {
    hex::encode(Sha256::digest(password.as_bytes()))
}

/// A number from 0 to `below - 1` fixed by the username.
fn seeded(username: &str, below: u64) -> i64 {
    let d = Sha256::digest(username.as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    (u64::from_le_bytes(b) % below.max(1)) as i64
}

/// What a function answers: its `data` (if any), the reason and the raw output; or a refusal.
struct Done {
    data: Option<Value>,
    reason: String,
    raw: Option<String>,
}

type Answer = Result<Done, String>;

fn done(data: Value) -> Answer {
    Ok(Done { data: Some(data), reason: "OK".into(), raw: None })
}

fn done_bare(reason: impl Into<String>, raw: Option<String>) -> Answer {
    Ok(Done { data: None, reason: reason.into(), raw })
}

fn no_such_account(user: &str) -> String {
    format!("Account \u{201c}{user}\u{201d} does not exist.")
}

impl WhmSandbox {
    /// A sandbox mounted at `base_url` (e.g. `http://127.0.0.1:8080/sandbox/whm`), reading the time
    /// from `clock` (account ages, session expiry).
    pub fn new(base_url: &str, clock: SharedClock) -> WhmSandbox {
        WhmSandbox {
            user: "root".into(),
            token: random(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 32),
            base_url: base_url.trim_end_matches('/').to_string(),
            clock,
            packages: DEFAULT_PACKAGES.iter().map(|p| Package::named(p)).collect(),
            down: AtomicBool::new(false),
            state: Mutex::new(State::default()),
        }
    }

    /// Knows these packages instead (the defaults' quotas for their names, 5 GB disk and 50 GB
    /// bandwidth for other names).
    pub fn with_packages(mut self, packages: &[&str]) -> Self {
        self.packages = packages.iter().map(|p| Package::named(p)).collect();
        self
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn package(&self, name: &str) -> Option<&Package> {
        self.packages.iter().find(|p| p.name == name)
    }

    /// The accounts, by username.
    pub fn accounts(&self) -> Vec<SandboxAccount> {
        let mut all: Vec<SandboxAccount> = self
            .state()
            .accounts
            .values()
            .map(|a| SandboxAccount {
                username: a.username.clone(),
                domain: a.domain.clone(),
                package: a.package.clone(),
                suspended: a.suspended.is_some(),
                suspend_reason: a.suspended.clone(),
                contact_email: a.contact_email.clone(),
                password_set: a.password.is_some(),
            })
            .collect();
        all.sort_by(|a, b| a.username.cmp(&b.username));
        all
    }

    /// Whether `user`'s password is `password` (the password itself is not kept).
    pub fn password_matches(&self, user: &str, password: &str) -> bool {
        self.state().accounts.get(user).and_then(|a| a.password.clone()).is_some_and(|p| p == digest(password))
    }

    /// The next call of `function` answers `result` 0 with `reason`, doing nothing.
    pub fn fail_next(&self, function: &str, reason: &str) {
        self.state().fail_next.insert(function.to_string(), reason.to_string());
    }

    /// The next call of `function` does its work, then answers HTTP 502 (a reply lost on the way).
    pub fn lose_next_reply(&self, function: &str) {
        self.state().lose_next.insert(function.to_string());
    }

    /// How many calls of `function` arrived (whether they succeeded or not).
    pub fn calls(&self, function: &str) -> usize {
        self.state().calls.get(function).copied().unwrap_or(0)
    }

    /// While down, every call answers HTTP 503.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::Relaxed);
    }

    fn disk_used_mb(&self, a: &Acct, now: DateTime<Utc>) -> i64 {
        let days = (now - a.created).num_days().max(0);
        let used = 24 + seeded(&a.username, 176) + days * (1 + seeded(&a.username, 7));
        match self.package(&a.package).and_then(|p| p.disk_mb) {
            Some(limit) => used.min(limit * 95 / 100),
            None => used,
        }
    }

    /// This month's bandwidth, in MB.
    fn bandwidth_used_mb(&self, a: &Acct, now: DateTime<Utc>) -> i64 {
        let age = (now - a.created).num_days().max(0);
        let days = age.min(i64::from(now.day0())) + 1;
        let used = days * (16 + seeded(&format!("bw:{}", a.username), 96));
        match self.package(&a.package).and_then(|p| p.bandwidth_mb) {
            Some(limit) => used.min(limit),
            None => used,
        }
    }

    /// An account as `accountsummary` and `listaccts` show it.
    fn summary(&self, a: &Acct, now: DateTime<Utc>) -> Value {
        let package = self.package(&a.package);
        let disk_limit = package.and_then(|p| p.disk_mb).map_or_else(|| "unlimited".to_string(), |mb| format!("{mb}M"));
        json!({
            "user": a.username, "domain": a.domain, "plan": a.package, "suspended": i32::from(a.suspended.is_some()),
            "suspendreason": a.suspended.clone().unwrap_or_else(|| "not suspended".into()),
            "suspendtime": null, "diskused": format!("{}M", self.disk_used_mb(a, now)), "disklimit": disk_limit,
            "email": a.contact_email.clone().unwrap_or_else(|| "*unknown*".into()), "ip": SHARED_IP, "ipv6": [],
            "startdate": a.created.format("%y %b %d %H:%M").to_string(), "unix_startdate": a.created.timestamp(),
            "owner": self.user, "partition": "home", "shell": "/usr/local/cpanel/bin/noshell", "theme": "jupiter",
            "maxaddons": "unlimited", "maxparked": "unlimited", "maxsub": "unlimited", "maxpop": "unlimited",
            "maxsql": "unlimited", "maxftp": "unlimited", "maxlst": "unlimited", "is_locked": 0, "outgoing_mail_hold": 0,
            "outgoing_mail_suspended": 0, "temporary": 0, "mailbox_format": "maildir", "uid": 1000 + seeded(&a.username, 60_000),
        })
    }

    fn run(&self, function: &str, p: &HashMap<String, String>) -> Answer {
        let get = |k: &str| p.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let now = self.clock.now();
        match function {
            "version" => done(json!({"version": VERSION})),
            "applist" => done(json!({"app": FUNCTIONS})),
            "createacct" => self.createacct(p, now),
            "suspendacct" => {
                let user = get("user").ok_or("No user specified.")?;
                let mut st = self.state();
                let a = st.accounts.get_mut(user).ok_or_else(|| no_such_account(user))?;
                let reason = get("reason").unwrap_or("Unknown").to_string();
                a.suspended = Some(reason.clone());
                let raw = format!("Changing Shell to /bin/false...Done\nLocking Password...Done\nSuspending mysql users\n{user}'s account has been suspended ({reason})\n");
                done_bare(format!("Account \u{201c}{user}\u{201d} suspended."), Some(raw))
            }
            "unsuspendacct" => {
                let user = get("user").ok_or("No user specified.")?;
                let mut st = self.state();
                let a = st.accounts.get_mut(user).ok_or_else(|| no_such_account(user))?;
                a.suspended = None;
                done_bare(format!("Account \u{201c}{user}\u{201d} unsuspended."), Some(format!("{user}'s account is now active\n")))
            }
            "removeacct" => {
                let user = get("username").or_else(|| get("user")).ok_or("No user specified.")?.to_string();
                let mut st = self.state();
                if st.accounts.remove(&user).is_none() {
                    return Err(no_such_account(&user));
                }
                st.sessions.retain(|_, s| s.user != user);
                done_bare(
                    format!("{user} account removed"),
                    Some(format!("Removing User...\nAccount Removal Complete!!!\n{user} account removed\n")),
                )
            }
            "changepackage" => {
                let (user, pkg) = (get("user").ok_or("No user specified.")?, get("pkg").ok_or("No package specified.")?);
                if self.package(pkg).is_none() {
                    return Err(format!("Specified package \u{201c}{pkg}\u{201d} does not exist."));
                }
                let mut st = self.state();
                let a = st.accounts.get_mut(user).ok_or_else(|| no_such_account(user))?;
                let from = std::mem::replace(&mut a.package, pkg.to_string());
                done_bare(
                    format!("Account Upgrade/Downgrade Complete for {user}"),
                    Some(format!("Changing package of {user} from {from} to {pkg}\nAccount Upgrade/Downgrade Complete for {user}\n")),
                )
            }
            "passwd" => {
                let user = get("user").ok_or("No user specified.")?;
                let password = p.get("password").filter(|v| !v.is_empty()).ok_or("No password specified.")?;
                if password.chars().count() < 8 {
                    return Err("The password is too short: use at least 8 characters.".into());
                }
                let mut st = self.state();
                let a = st.accounts.get_mut(user).ok_or_else(|| no_such_account(user))?;
                a.password = Some(digest(password));
                Ok(Done {
                    data: Some(json!({"app": ["ftp", "mail", "MySQL", "system"]})),
                    reason: format!("Password changed for user \u{201c}{user}\u{201d}."),
                    raw: None,
                })
            }
            "accountsummary" => {
                let st = self.state();
                let found = match (get("user"), get("domain")) {
                    (Some(user), _) => st.accounts.get(user).ok_or_else(|| no_such_account(user))?,
                    (None, Some(domain)) => st
                        .accounts
                        .values()
                        .find(|a| a.domain.eq_ignore_ascii_case(domain))
                        .ok_or_else(|| format!("The domain \u{201c}{domain}\u{201d} does not exist."))?,
                    (None, None) => return Err("You must specify a user or a domain.".into()),
                };
                done(json!({"acct": [self.summary(found, now)]}))
            }
            "listaccts" => {
                let st = self.state();
                let matching = |a: &&Acct| match (get("searchtype").unwrap_or("user"), get("search")) {
                    (_, None) => true,
                    ("domain", Some(s)) => a.domain.contains(&s.to_ascii_lowercase()),
                    (_, Some(s)) => a.username.contains(&s.to_ascii_lowercase()),
                };
                let mut accounts: Vec<&Acct> = st.accounts.values().filter(matching).collect();
                accounts.sort_by(|a, b| a.username.cmp(&b.username));
                done(json!({"acct": accounts.iter().map(|a| self.summary(a, now)).collect::<Vec<_>>()}))
            }
            "showbw" => {
                let st = self.state();
                let matching = |a: &&Acct| match (get("searchtype").unwrap_or("user"), get("search")) {
                    (_, None) => true,
                    ("domain", Some(s)) => a.domain.contains(&s.to_ascii_lowercase()),
                    ("owner", Some(s)) => self.user.contains(s),
                    ("package", Some(s)) => a.package.contains(s),
                    (_, Some(s)) => a.username.contains(&s.to_ascii_lowercase()),
                };
                let mut accounts: Vec<&Acct> = st.accounts.values().filter(matching).collect();
                accounts.sort_by(|a, b| a.username.cmp(&b.username));
                let mut total = 0i64;
                let lines: Vec<Value> = accounts
                    .iter()
                    .map(|a| {
                        let bytes = self.bandwidth_used_mb(a, now) * 1024 * 1024;
                        total += bytes;
                        let limit =
                            self.package(&a.package).and_then(|p| p.bandwidth_mb).map_or(json!("unlimited"), |mb| json!(mb * 1024 * 1024));
                        json!({"user": a.username, "maindomain": a.domain, "owner": self.user, "deleted": 0, "totalbytes": bytes,
                               "limit": limit, "bwusage": [{"domain": a.domain, "usage": bytes}]})
                    })
                    .collect();
                done(json!({"acct": lines, "month": now.month(), "year": now.year(), "reseller": self.user, "totalused": total}))
            }
            "listpkgs" => done(json!({"pkg": self.packages.iter().map(|pk| {
                let limit = |v: Option<i64>| v.map_or(json!("unlimited"), |mb| json!(mb));
                json!({"name": pk.name, "QUOTA": limit(pk.disk_mb), "BWLIMIT": limit(pk.bandwidth_mb), "MAXPOP": "unlimited",
                       "MAXSQL": "unlimited", "MAXFTP": "unlimited", "MAXSUB": "unlimited", "MAXPARK": "unlimited", "MAXADDON": "unlimited",
                       "CGI": 1, "HASSHELL": 0, "CPMOD": "jupiter", "FEATURELIST": "default", "IP": "n", "LANG": "en"})
            }).collect::<Vec<_>>()})),
            "create_user_session" => {
                let user = get("user").ok_or("No user specified.")?;
                let service = get("service").ok_or("No service specified.")?;
                if !matches!(service, "cpaneld" | "webmaild") {
                    return Err(format!("The service \u{201c}{service}\u{201d} is not valid for the user \u{201c}{user}\u{201d}."));
                }
                let mut st = self.state();
                if !st.accounts.contains_key(user) {
                    return Err(no_such_account(user));
                }
                st.sessions.retain(|_, s| s.expires > now);
                let security_token = format!("cpsess{}", random(b"0123456789", 10));
                let session = format!(
                    "{user}:{}:CREATE_USER_SESSION,{}",
                    random(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_", 16),
                    random(b"0123456789abcdef", 32)
                );
                let expires = now + Duration::minutes(SESSION_IDLE);
                let encoded: String = url::form_urlencoded::byte_serialize(session.as_bytes()).collect();
                let url = format!("{}/{security_token}/login/?session={encoded}", self.base_url);
                st.sessions.insert(session.clone(), Session { user: user.to_string(), security_token: security_token.clone(), expires });
                done(json!({"url": url, "session": session, "cp_security_token": format!("/{security_token}"),
                            "expires": expires.timestamp(), "service": service}))
            }
            other => Err(format!("Unknown app (\u{201c}{other}\u{201d}) requested for this version (1) of the API.")),
        }
    }

    fn createacct(&self, p: &HashMap<String, String>, now: DateTime<Utc>) -> Answer {
        let get = |k: &str| p.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let username = get("username").ok_or("Sorry, you must supply a username.")?.to_ascii_lowercase();
        if !valid_username(&username) {
            return Err(format!(
                "Sorry, \u{201c}{username}\u{201d} is not a valid username: use up to 16 lower-case letters and digits, not starting with a digit or \u{201c}test\u{201d}, not ending with \u{201c}assword\u{201d}, and not a reserved name. at /usr/local/cpanel/Cpanel/Validate/Username.pm line 212.\n"
            ));
        }
        let domain = get("domain").ok_or("Sorry, you must supply a domain name.")?.trim_end_matches('.').to_ascii_lowercase();
        let domain_ok = domain.len() <= 253
            && domain.contains('.')
            && domain.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if !domain_ok {
            return Err(format!("Sorry, \u{201c}{domain}\u{201d} is not a valid domain name."));
        }
        let plan = get("plan").unwrap_or("default");
        if self.package(plan).is_none() {
            return Err(format!(
                "Sorry, \"{plan}\" is not a valid pacakge name. at /usr/local/cpanel/Whostmgr/Accounts/Create.pm line 1298.\n"
            ));
        }
        let password = p.get("password").or_else(|| p.get("pass")).filter(|v| !v.is_empty()).ok_or("Sorry, you must supply a password.")?;
        let mut st = self.state();
        if st.accounts.contains_key(&username) {
            return Err("Sorry, a group for that username already exists.".into());
        }
        let prefix: String = username.chars().take(8).collect();
        if let Some(other) = st.accounts.keys().find(|u| u.chars().take(8).collect::<String>() == prefix) {
            return Err(format!(
                "Sorry, the first eight characters of \u{201c}{username}\u{201d} are those of the account \u{201c}{other}\u{201d}: with database prefixing on they must be unique."
            ));
        }
        if st.accounts.values().any(|a| a.domain == domain) {
            return Err(format!("Sorry, the domain {domain} already exists."));
        }
        let contact_email = get("contactemail").map(str::to_string);
        st.accounts.insert(
            username.clone(),
            Acct {
                username: username.clone(),
                domain: domain.clone(),
                package: plan.to_string(),
                suspended: None,
                contact_email,
                password: Some(digest(password)),
                created: now,
            },
        );
        let raw = format!(
            "Validating IP...{SHARED_IP}\nValidating Username...Done\nValidating Domain...Done\nValidating Package...{plan}\n\
             Creating User...Done\nSetting up Domain...Done\nWWWAcct 12.5.0 (c) cPanel, L.L.C. (Keel sandbox)\n\
             +===================================+\n| New Account Info                  |\n+===================================+\n\
             | Domain: {domain}\n| UserName: {username}\n| PassWord: **********\n+===================================+\n\
             Account Creation Complete!!!\n"
        );
        Ok(Done {
            data: Some(json!({
                "ip": SHARED_IP, "nameserver": NAMESERVERS[0], "nameserver2": NAMESERVERS[1], "nameserver3": null, "nameserver4": null,
                "nameservera": null, "nameservera2": null, "nameservera3": null, "nameservera4": null,
                "nameserverentry": null, "nameserverentry2": null, "nameserverentry3": null, "nameserverentry4": null, "package": plan,
            })),
            reason: "Account Creation Ok".into(),
            raw: Some(raw),
        })
    }
}

/// The sandbox's routes, relative to where it is mounted.
pub fn configure(cfg: &mut web::ServiceConfig, sandbox: Arc<WhmSandbox>) {
    cfg.app_data(web::Data::from(sandbox))
        .route("/json-api/{function}", web::get().to(json_api))
        .route("/json-api/{function}", web::post().to(json_api))
        .route("/{security_token:cpsess[0-9]+}/login/", web::get().to(login))
        .route("/{security_token:cpsess[0-9]+}/login", web::get().to(login));
}

fn plain(status: StatusCode, body: &'static str) -> HttpResponse {
    HttpResponse::build(status).content_type("text/plain; charset=utf-8").body(body)
}

async fn json_api(req: HttpRequest, function: web::Path<String>, body: web::Bytes, sandbox: web::Data<WhmSandbox>) -> HttpResponse {
    let function = function.into_inner();
    *sandbox.state().calls.entry(function.clone()).or_default() += 1;
    if sandbox.down.load(Ordering::Relaxed) {
        return plain(StatusCode::SERVICE_UNAVAILABLE, "cpsrvd is not available (the WHM sandbox is down)\n");
    }
    let expected = format!("whm {}:{}", sandbox.user, sandbox.token);
    if req.headers().get("Authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return plain(StatusCode::UNAUTHORIZED, "Access denied\n");
    }
    let mut params: HashMap<String, String> = url::form_urlencoded::parse(req.query_string().as_bytes()).into_owned().collect();
    let form = req
        .headers()
        .get("Content-Type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
    if form {
        params.extend(url::form_urlencoded::parse(&body).into_owned());
    }
    let failing = sandbox.state().fail_next.remove(&function);
    let answer = if params.get("api.version").map(String::as_str) != Some("1") {
        Err("This WHM sandbox answers API 1 only: add api.version=1.".to_string())
    } else if let Some(reason) = failing {
        Err(reason)
    } else {
        sandbox.run(&function, &params)
    };
    if sandbox.state().lose_next.remove(&function) {
        tracing::info!(function, "WHM sandbox: the reply is lost on purpose");
        return plain(StatusCode::BAD_GATEWAY, "Bad Gateway\n");
    }
    let envelope = match answer {
        Ok(Done { data, reason, raw }) => {
            let mut e = json!({"metadata": {"command": function, "result": 1, "reason": reason, "version": 1}});
            if let Some(raw) = raw {
                e["metadata"]["output"] = json!({"raw": raw});
            }
            if let Some(data) = data {
                e["data"] = data;
            }
            e
        }
        Err(reason) => json!({"metadata": {"command": function, "result": 0, "reason": reason, "version": 1}}),
    };
    HttpResponse::Ok().json(envelope)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .insert_header(("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"))
        .body(body)
}

const BAND: &str = "Sandbox control panel — no real hosting account exists";

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;color:#1f2430}\
.band{background:#fde68a;color:#713f12;text-align:center;padding:.6rem;font-weight:600}\
main{max-width:34rem;margin:3rem auto;background:#fff;border-radius:12px;padding:2rem;box-shadow:0 2px 12px #0001}\
h1{font-size:1.3rem;margin:0 0 1rem}dl{display:grid;grid-template-columns:10rem 1fr;gap:.5rem 1rem;margin:0}\
dt{color:#5b6170}dd{margin:0;font-weight:600}.bar{height:.5rem;background:#eef0f3;border-radius:4px;margin-top:.3rem}\
.bar span{display:block;height:100%;background:#2563eb;border-radius:4px}.suspended{color:#991b1b}.active{color:#166534}\
.muted{color:#5b6170;font-size:.9rem;margin-top:1.5rem}";

fn page(status: StatusCode, title: &str, main: &str) -> HttpResponse {
    html(
        status,
        format!(
            "<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport content=\"width=device-width,initial-scale=1\">\
             <title>{title}</title><style>{STYLE}</style></head><body><div class=band>{BAND}</div><main>{main}</main></body></html>",
            title = escape(title),
        ),
    )
}

fn meter(used: i64, limit: Option<i64>) -> String {
    match limit {
        Some(limit) if limit > 0 => {
            let percent = (used.saturating_mul(100) / limit).clamp(0, 100);
            format!("{used} MB of {limit} MB<div class=bar><span style=\"width:{percent}%\"></span></div>")
        }
        _ => format!("{used} MB (unlimited)"),
    }
}

/// The page a `create_user_session` URL opens: the account, while the session lives (15 minutes
/// after its last use).
async fn login(req: HttpRequest, sandbox: web::Data<WhmSandbox>) -> HttpResponse {
    let refused = || {
        page(
            StatusCode::FORBIDDEN,
            "Session expired",
            "<h1>This control-panel session is not valid or has expired.</h1>\
             <p class=muted>Open the control panel again from the client portal to start a new session.</p>",
        )
    };
    let token = req.match_info().get("security_token").unwrap_or_default().to_string();
    let Some(session) =
        url::form_urlencoded::parse(req.query_string().as_bytes()).find(|(k, _)| k == "session").map(|(_, v)| v.into_owned())
    else {
        return refused();
    };
    let now = sandbox.clock.now();
    let mut st = sandbox.state();
    let Some(s) = st.sessions.get_mut(&session).filter(|s| s.security_token == token && s.expires > now) else {
        return refused();
    };
    s.expires = now + Duration::minutes(SESSION_IDLE);
    let user = s.user.clone();
    let Some(a) = st.accounts.get(&user).cloned() else {
        return refused();
    };
    drop(st);
    let package = sandbox.package(&a.package);
    let status = match &a.suspended {
        Some(reason) => format!("<span class=suspended>Suspended</span> — {}", escape(reason)),
        None => "<span class=active>Active</span>".to_string(),
    };
    let main = format!(
        "<h1>{domain}</h1><dl><dt>Username</dt><dd>{user}</dd><dt>Domain</dt><dd>{domain}</dd><dt>Package</dt><dd>{package}</dd>\
         <dt>Status</dt><dd>{status}</dd><dt>Disk</dt><dd>{disk}</dd><dt>Bandwidth this month</dt><dd>{bandwidth}</dd>\
         <dt>IP address</dt><dd>{ip}</dd><dt>Nameservers</dt><dd>{ns}</dd></dl>\
         <p class=muted>This page stands in for cPanel. Keel's built-in WHM sandbox keeps this account in memory only: \
         nothing is hosted, no e-mail or website works, and the account is forgotten when Keel restarts.</p>",
        domain = escape(&a.domain),
        user = escape(&a.username),
        package = escape(&a.package),
        disk = meter(sandbox.disk_used_mb(&a, now), package.and_then(|p| p.disk_mb)),
        bandwidth = meter(sandbox.bandwidth_used_mb(&a, now), package.and_then(|p| p.bandwidth_mb)),
        ip = SHARED_IP,
        ns = NAMESERVERS.join(", "),
    );
    page(StatusCode::OK, &format!("{} — sandbox control panel", a.domain), &main)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FixedClock;
    use crate::provisioning::module::{Module, ModuleError, NewAccount, Usage};
    use crate::provisioning::whm::{parse_size_mb, strip_perl_suffix, strong_password, username_for, Whm};

    /// A sandbox served on a loopback port, its clock and an adapter pointed at it.
    struct Running {
        sandbox: Arc<WhmSandbox>,
        clock: FixedClock,
        whm: Whm,
        handle: actix_web::dev::ServerHandle,
    }

    impl Running {
        async fn stop(self) {
            self.handle.stop(false).await;
        }
    }

    fn start() -> Running {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("local_addr: {e}"));
        let clock = FixedClock::new(DateTime::parse_from_rfc3339("2025-03-10T09:00:00Z").unwrap_or_else(|e| panic!("{e}")).to_utc());
        let sandbox = Arc::new(WhmSandbox::new(&format!("http://{addr}/sandbox/whm/"), Arc::new(clock.clone())));
        let served = sandbox.clone();
        let handle = crate::provisioning::serve_stand_in(listener, move |c: &mut web::ServiceConfig| {
            let s = served.clone();
            c.service(web::scope("/sandbox/whm").configure(move |c| configure(c, s)));
        })
        .unwrap_or_else(|e| panic!("serve: {e}"));
        let whm = Whm::new(&sandbox.base_url, &sandbox.user, &sandbox.token).unwrap_or_else(|e| panic!("Whm::new: {e}"));
        Running { sandbox, clock, whm, handle }
    }

    fn new_account(username: &str, domain: &str, package: &str) -> NewAccount {
        NewAccount {
            username: username.into(),
            domain: domain.into(),
            password: "Corr3ct-Horse.Battery".into(),
            package: package.into(),
            contact_email: "owner@example.com".into(),
            settings: Default::default(),
        }
    }

    fn permanent(e: ModuleError) -> String {
        match e {
            ModuleError::Permanent(m) => m,
            ModuleError::Retryable(m) => panic!("expected a permanent error, got a retryable one: {m}"),
        }
    }

    fn retryable(e: ModuleError) -> String {
        match e {
            ModuleError::Retryable(m) => m,
            ModuleError::Permanent(m) => panic!("expected a retryable error, got a permanent one: {m}"),
        }
    }

    #[actix_web::test]
    async fn every_module_method_round_trips() {
        let r = start();
        let version = r.whm.test_connection().await.unwrap_or_else(|e| panic!("version: {e}"));
        assert_eq!(version, format!("cPanel & WHM {VERSION}"));

        let created = r.whm.create(new_account("example", "example.com", "shared_starter")).await.unwrap_or_else(|e| panic!("create: {e}"));
        assert_eq!(created.ip.as_deref(), Some(SHARED_IP));
        assert_eq!(created.nameservers, NAMESERVERS.to_vec());
        let all = r.sandbox.accounts();
        assert_eq!(all.len(), 1);
        assert_eq!(
            (all[0].username.as_str(), all[0].domain.as_str(), all[0].package.as_str()),
            ("example", "example.com", "shared_starter")
        );
        assert!(all[0].password_set && !all[0].suspended);
        assert_eq!(all[0].contact_email.as_deref(), Some("owner@example.com"));
        assert!(r.sandbox.password_matches("example", "Corr3ct-Horse.Battery"));

        let found = r.whm.find("example".into()).await.unwrap_or_else(|e| panic!("find: {e}")).unwrap_or_else(|| panic!("not found"));
        assert_eq!(
            (found.username.as_str(), found.domain.as_str(), found.package.as_str(), found.suspended),
            ("example", "example.com", "shared_starter", false)
        );
        assert_eq!(r.whm.find("nobodyhere".into()).await.unwrap_or_else(|e| panic!("find: {e}")), None);

        r.whm.suspend("example".into(), "Invoice INV-2025-0001 overdue".into()).await.unwrap_or_else(|e| panic!("suspend: {e}"));
        assert!(r.whm.find("example".into()).await.ok().flatten().is_some_and(|a| a.suspended));
        assert_eq!(r.sandbox.accounts()[0].suspend_reason.as_deref(), Some("Invoice INV-2025-0001 overdue"));
        r.whm.unsuspend("example".into()).await.unwrap_or_else(|e| panic!("unsuspend: {e}"));
        assert!(r.whm.find("example".into()).await.ok().flatten().is_some_and(|a| !a.suspended));

        r.whm.change_package("example".into(), "wordpress_pro".into()).await.unwrap_or_else(|e| panic!("change_package: {e}"));
        assert_eq!(r.sandbox.accounts()[0].package, "wordpress_pro");
        r.whm.change_password("example".into(), "N3w-Passw0rd.Here".into()).await.unwrap_or_else(|e| panic!("passwd: {e}"));
        assert!(r.sandbox.password_matches("example", "N3w-Passw0rd.Here"));
        assert!(!r.sandbox.password_matches("example", "Corr3ct-Horse.Battery"));

        let usage = r.whm.usage("example".into()).await.unwrap_or_else(|e| panic!("usage: {e}"));
        assert!(usage.disk_used_mb > 0, "{usage:?}");
        assert!(usage.bandwidth_used_mb > 0, "{usage:?}");
        assert_eq!((usage.disk_limit_mb, usage.bandwidth_limit_mb), (Some(102_400), None), "wordpress_pro's quotas");
        r.whm.change_package("example".into(), "shared_starter".into()).await.unwrap_or_else(|e| panic!("change_package: {e}"));
        let starter = r.whm.usage("example".into()).await.unwrap_or_else(|e| panic!("usage: {e}"));
        assert_eq!((starter.disk_limit_mb, starter.bandwidth_limit_mb), (Some(10_240), Some(102_400)));
        // Usage is fixed by the username and grows with the account's age.
        assert_eq!(r.whm.usage("example".into()).await.ok(), Some(starter.clone()));
        r.clock.advance(Duration::days(10));
        let later = r.whm.usage("example".into()).await.unwrap_or_else(|e| panic!("usage: {e}"));
        assert!(later.disk_used_mb > starter.disk_used_mb && later.bandwidth_used_mb > starter.bandwidth_used_mb, "{starter:?} {later:?}");

        let sso = r.whm.sso_url("example".into()).await.unwrap_or_else(|e| panic!("sso_url: {e}"));
        assert!(sso.starts_with(&format!("{}/cpsess", r.sandbox.base_url)), "{sso}");
        let http = reqwest::Client::new();
        let page = http.get(&sso).send().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(page.status(), 200);
        let text = page.text().await.unwrap_or_else(|e| panic!("{e}"));
        assert!(
            text.contains(BAND) && text.contains("example.com") && text.contains("shared_starter") && text.contains("Active"),
            "{text}"
        );
        assert!(!text.contains("<script") && !text.contains("http"), "self-contained: {text}");

        r.whm.terminate("example".into()).await.unwrap_or_else(|e| panic!("terminate: {e}"));
        assert!(r.sandbox.accounts().is_empty());
        assert_eq!(r.whm.find("example".into()).await.ok(), Some(None));
        // Removing it again is done already (a retried termination).
        r.whm.terminate("example".into()).await.unwrap_or_else(|e| panic!("terminate again: {e}"));
        // Its control-panel sessions went with it.
        assert_eq!(http.get(&sso).send().await.map(|r| r.status().as_u16()).ok(), Some(403));
        assert!(
            permanent(r.whm.usage("example".into()).await.err().unwrap_or_else(|| panic!("usage of nobody"))).contains("does not exist")
        );
        assert!(permanent(r.whm.suspend("example".into(), String::new()).await.err().unwrap_or_else(|| panic!("suspended nobody")))
            .contains("does not exist"));
        r.stop().await;
    }

    #[actix_web::test]
    async fn errors_are_classified() {
        let r = start();
        // A wrong token: permanent, and the message carries no token.
        let wrong = Whm::new(&r.sandbox.base_url, "root", "WRONGTOKEN0000").unwrap_or_else(|e| panic!("{e}"));
        let m = permanent(wrong.test_connection().await.err().unwrap_or_else(|| panic!("a wrong token was taken")));
        assert!(m.contains("WHM refused the credentials"), "{m}");
        assert!(!m.contains("WRONGTOKEN0000") && !m.contains(&r.sandbox.token), "{m}");

        // Down: retryable.
        r.sandbox.set_down(true);
        let m = retryable(r.whm.test_connection().await.err().unwrap_or_else(|| panic!("answered while down")));
        assert!(m.contains("503"), "{m}");
        r.sandbox.set_down(false);
        assert!(r.whm.test_connection().await.is_ok());

        // Not reached at all: retryable.
        let port =
            std::net::TcpListener::bind(("127.0.0.1", 0)).and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or_else(|e| panic!("{e}"));
        let nowhere = Whm::new(&format!("http://127.0.0.1:{port}"), "root", "TOKEN").unwrap_or_else(|e| panic!("{e}"));
        retryable(nowhere.test_connection().await.err().unwrap_or_else(|| panic!("reached a closed port")));

        // An unknown package: permanent, WHM's reason without its Perl suffix.
        let password = "S3cret-Pass.word!";
        let mut account = new_account("shop", "shop.example", "nope");
        account.password = password.into();
        let m = permanent(r.whm.create(account.clone()).await.err().unwrap_or_else(|| panic!("an unknown package was taken")));
        assert_eq!(m, "WHM createacct: Sorry, \"nope\" is not a valid pacakge name.");
        assert!(r.sandbox.accounts().is_empty());

        // Taken username, taken domain, a WHM refusal given by the test: permanent; nothing done.
        account.package = "shared_business".into();
        r.whm.create(account.clone()).await.unwrap_or_else(|e| panic!("create: {e}"));
        let m = permanent(r.whm.create(account.clone()).await.err().unwrap_or_else(|| panic!("created twice")));
        assert_eq!(m, "WHM createacct: Sorry, a group for that username already exists.");
        let m =
            permanent(r.whm.create(new_account("shop2", "shop.example", "default")).await.err().unwrap_or_else(|| panic!("domain twice")));
        assert_eq!(m, "WHM createacct: Sorry, the domain shop.example already exists.");
        r.sandbox.fail_next(
            "createacct",
            &format!("The password \u{201c}{password}\u{201d} is too weak. at /usr/local/cpanel/Cpanel/PasswdStrength/Check.pm line 88."),
        );
        let mut other = new_account("other", "other.example", "default");
        other.password = password.into();
        let m = permanent(r.whm.create(other.clone()).await.err().unwrap_or_else(|| panic!("fail_next ignored")));
        assert!(!m.contains(password) && m.ends_with("is too weak."), "the password is scrubbed, the suffix cut: {m}");
        assert_eq!(r.sandbox.accounts().len(), 1, "a failed call does nothing");
        r.whm.create(other).await.unwrap_or_else(|e| panic!("fail_next is for one call only: {e}"));
        assert_eq!(r.sandbox.calls("createacct"), 6);

        // A bad username, a bad package change: permanent.
        for bad in ["root", "test1", "1abc", "mypassword", "has-hyphen", "waytoolongusername17"] {
            let e = r.whm.create(new_account(bad, &format!("{}.example", bad.replace('-', "")), "default")).await.err();
            assert!(permanent(e.unwrap_or_else(|| panic!("{bad} was taken"))).contains("not a valid username"), "{bad}");
        }
        let m = permanent(r.whm.change_package("shop".into(), "platinum".into()).await.err().unwrap_or_else(|| panic!("unknown pkg")));
        assert!(m.contains("platinum"), "{m}");
        let m = permanent(r.whm.change_password("shop".into(), "short".into()).await.err().unwrap_or_else(|| panic!("short password")));
        assert!(!m.contains("short\u{201d}"), "{m}");
        r.stop().await;
    }

    #[actix_web::test]
    async fn a_lost_reply_still_creates_the_account() {
        let r = start();
        r.sandbox.lose_next_reply("createacct");
        let m = retryable(
            r.whm.create(new_account("lost", "lost.example", "wordpress_starter")).await.err().unwrap_or_else(|| panic!("reply kept")),
        );
        assert!(m.contains("502"), "{m}");
        assert_eq!(r.sandbox.calls("createacct"), 1);
        let found = r.whm.find("lost".into()).await.unwrap_or_else(|e| panic!("find: {e}"));
        assert_eq!(found.map(|a| (a.domain, a.package)), Some(("lost.example".to_string(), "wordpress_starter".to_string())));
        // A retry is refused for good: the worker must look before creating again.
        assert!(r.whm.create(new_account("lost", "lost.example", "wordpress_starter")).await.is_err_and(|e| e.is_permanent()));
        r.sandbox.lose_next_reply("removeacct");
        retryable(r.whm.terminate("lost".into()).await.err().unwrap_or_else(|| panic!("reply kept")));
        r.whm.terminate("lost".into()).await.unwrap_or_else(|e| panic!("a retried termination: {e}"));
        r.stop().await;
    }

    #[actix_web::test]
    async fn control_panel_sessions_expire() {
        let r = start();
        r.whm.create(new_account("panel", "panel.example", "default")).await.unwrap_or_else(|e| panic!("create: {e}"));
        r.whm.suspend("panel".into(), "Abuse <report>".into()).await.unwrap_or_else(|e| panic!("suspend: {e}"));
        let sso = r.whm.sso_url("panel".into()).await.unwrap_or_else(|e| panic!("sso_url: {e}"));
        let http = reqwest::Client::new();
        let open = |url: String| {
            let http = http.clone();
            async move {
                let res = http.get(url).send().await.unwrap_or_else(|e| panic!("{e}"));
                let status = res.status().as_u16();
                (status, res.text().await.unwrap_or_default())
            }
        };
        let (status, text) = open(sso.clone()).await;
        assert_eq!(status, 200);
        assert!(text.contains("Suspended") && text.contains("Abuse &lt;report&gt;") && text.contains("unlimited"), "{text}");
        // Used within 15 minutes, it lives on; 15 idle minutes end it.
        r.clock.advance(Duration::minutes(14));
        assert_eq!(open(sso.clone()).await.0, 200);
        r.clock.advance(Duration::minutes(14));
        assert_eq!(open(sso.clone()).await.0, 200);
        r.clock.advance(Duration::minutes(16));
        let (status, text) = open(sso.clone()).await;
        assert_eq!(status, 403);
        assert!(text.contains(BAND) && text.contains("expired"), "{text}");
        // Unknown sessions, a session under another security token, no session.
        assert_eq!(open(format!("{}/cpsess0000000000/login/?session=panel%3Anothing", r.sandbox.base_url)).await.0, 403);
        let fresh = r.whm.sso_url("panel".into()).await.unwrap_or_else(|e| panic!("sso_url: {e}"));
        let (_, query) = fresh.split_once("/login/").unwrap_or_else(|| panic!("{fresh}"));
        assert_eq!(open(format!("{}/cpsess1111111111/login/{query}", r.sandbox.base_url)).await.0, 403);
        assert_eq!(open(format!("{}/cpsess1111111111/login/", r.sandbox.base_url)).await.0, 403);
        assert_eq!(open(fresh).await.0, 200);
        let m = permanent(r.whm.sso_url("nobodyhere".into()).await.err().unwrap_or_else(|| panic!("a session for nobody")));
        assert!(m.contains("does not exist"), "{m}");
        r.stop().await;
    }

    #[actix_web::test]
    async fn speaks_whms_envelope() {
        let r = start();
        let http = reqwest::Client::new();
        let auth = format!("whm root:{}", r.sandbox.token);
        let call = |function: &str, query: &str, auth: Option<&str>| {
            let mut req = http.get(format!("{}/json-api/{function}?{query}", r.sandbox.base_url));
            if let Some(a) = auth {
                req = req.header("Authorization", a.to_string());
            }
            async move {
                let res = req.send().await.unwrap_or_else(|e| panic!("{e}"));
                let status = res.status().as_u16();
                let ctype = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
                (status, ctype, res.text().await.unwrap_or_default())
            }
        };
        let json = |text: &str| serde_json::from_str::<Value>(text).unwrap_or_else(|e| panic!("{e}: {text}"));

        let (status, ctype, text) = call("version", "api.version=1", None).await;
        assert_eq!((status, ctype.starts_with("text/plain")), (401, true), "{text}");
        let (status, _, text) = call("version", "api.version=1", Some("whm root:nottheone")).await;
        assert_eq!(status, 401, "{text}");

        let (status, _, text) = call("nosuchfunction", "api.version=1", Some(&auth)).await;
        assert_eq!(status, 200);
        let v = json(&text);
        assert_eq!(v["metadata"]["result"], 0);
        assert_eq!(v["metadata"]["command"], "nosuchfunction");
        assert_eq!(v["metadata"]["version"], 1);
        assert!(v["metadata"]["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("Unknown app (") && r.ends_with("requested for this version (1) of the API.")));
        assert_eq!(r.sandbox.calls("nosuchfunction"), 1);

        // GET with the query string works as POST does.
        let (_, _, text) =
            call("createacct", "api.version=1&username=viaget&domain=viaget.example&plan=default&password=Xx9-abcdefgh", Some(&auth)).await;
        let v = json(&text);
        assert_eq!((v["metadata"]["result"].as_i64(), v["metadata"]["reason"].as_str()), (Some(1), Some("Account Creation Ok")), "{text}");
        assert_eq!(v["data"]["nameserver2"], NAMESERVERS[1]);
        assert!(!text.contains("Xx9-abcdefgh"), "the password is not echoed");
        let (_, _, text) = call("accountsummary", "api.version=1&domain=viaget.example", Some(&auth)).await;
        let v = json(&text);
        assert_eq!(v["data"]["acct"][0]["user"], "viaget");
        assert_eq!(v["data"]["acct"][0]["suspended"], 0);
        assert_eq!(v["data"]["acct"][0]["disklimit"], "unlimited");
        let (_, _, text) = call("listpkgs", "api.version=1", Some(&auth)).await;
        let names: Vec<String> = json(&text)["data"]["pkg"]
            .as_array()
            .map(|p| p.iter().filter_map(|p| p["name"].as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        assert_eq!(names, DEFAULT_PACKAGES.to_vec());
        let (_, _, text) = call("listaccts", "api.version=1", Some(&auth)).await;
        assert_eq!(json(&text)["data"]["acct"].as_array().map(Vec::len), Some(1));
        let (_, _, text) = call("applist", "api.version=1", Some(&auth)).await;
        assert!(json(&text)["data"]["app"].as_array().is_some_and(|a| a.iter().any(|f| f == "createacct")));
        let (_, _, text) = call("version", "", Some(&auth)).await;
        assert_eq!(json(&text)["metadata"]["result"], 0, "no api.version=1: {text}");
        r.stop().await;
    }

    #[actix_web::test]
    async fn with_packages_limits_what_can_be_sold() {
        let clock = FixedClock::new(Utc::now());
        let sandbox = WhmSandbox::new("http://x/sandbox/whm", Arc::new(clock)).with_packages(&["gold"]);
        let p = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<HashMap<_, _>>();
        let made =
            sandbox.run("createacct", &p(&[("username", "gold"), ("domain", "gold.example"), ("plan", "gold"), ("pass", "Abcdefgh1!")]));
        assert!(made.is_ok());
        let refused = sandbox
            .run("createacct", &p(&[("username", "silver"), ("domain", "silver.example"), ("plan", "shared_starter"), ("password", "x")]));
        assert!(refused.is_err_and(|r| r.contains("not a valid pacakge name")));
        // First eight characters must differ.
        let prefix =
            sandbox.run("createacct", &p(&[("username", "goldfish"), ("domain", "fish.example"), ("plan", "gold"), ("password", "x")]));
        assert!(prefix.is_ok());
        let clash =
            sandbox.run("createacct", &p(&[("username", "goldfish2"), ("domain", "fish2.example"), ("plan", "gold"), ("password", "x")]));
        assert!(clash.is_err_and(|r| r.contains("first eight characters")));
        assert_eq!(sandbox.accounts().iter().map(|a| a.username.as_str()).collect::<Vec<_>>(), ["gold", "goldfish"]);
        assert!(format!("{sandbox:?}").find(&sandbox.token).is_none(), "Debug shows no token");
    }

    #[test]
    fn username_for_follows_cpanels_rules() {
        let free = |_: &str| false;
        for (domain, expected) in [
            ("example.com", "example"),
            ("EXAMPLE.COM", "example"),
            ("www.example.org", "example"),
            ("123abc.com", "abc"),
            ("test-site.org", "site"),
            ("testtest.io", "utesttes"),
            ("1234.net", "u1234"),
            ("password.com", "passwor"),
            ("mypassword.net", "mypasswo"),
            ("averyveryverylongdomainlabelindeed.com", "averyver"),
            ("my-site.co.uk", "mysite"),
            ("xn--bcher-kva.de", "bcherkva"),
            ("bücher.de", "bcher"),
            ("日本.jp", "site"),
            ("root.com", "root1"),
            ("mail.example", "mail1"),
        ] {
            let u = username_for(domain, &free);
            assert_eq!(u, expected, "{domain}");
            assert!(valid_username(&u) && u.len() <= 16, "{domain} → {u}");
            assert!(!u.starts_with(|c: char| c.is_ascii_digit()) && !u.starts_with("test") && !u.ends_with("assword"), "{domain} → {u}");
        }
        // Collisions get digits, within 8 characters so the first 8 stay unique.
        let taken: Vec<String> = vec!["example".into(), "example1".into(), "example2".into()];
        assert_eq!(username_for("example.com", &|u| taken.iter().any(|t| t == u)), "example3");
        let taken: Vec<String> = (1..=9).map(|n| format!("example{n}")).chain(["example".to_string()]).collect();
        assert_eq!(username_for("example.com", &|u| taken.iter().any(|t| t == u)), "exampl10");
        assert_eq!(username_for("examples.com", &|u| u == "examples"), "example1");
        assert_eq!(username_for("password.com", &|u| u == "passwor"), "passwor1");
        // Everything short taken: still a valid name.
        let u = username_for("example.com", &|u| u.len() <= 8 && u.starts_with('e'));
        assert!(valid_username(&u) && !u.starts_with('e'), "{u}");
    }

    #[test]
    fn valid_username_rules() {
        for good in ["example", "a", "abc123", "sixteencharsxxxx", "passwor", "atest"] {
            assert!(valid_username(good), "{good}");
        }
        for bad in [
            "",
            "Example",
            "1abc",
            "testing",
            "test",
            "password",
            "mypassword",
            "root",
            "nobody",
            "admin",
            "www",
            "cpanel",
            "virtfs",
            "my-site",
            "my_site",
            "seventeencharsxxx",
            "bücher",
        ] {
            assert!(!valid_username(bad), "{bad}");
        }
    }

    #[test]
    fn strong_passwords() {
        let mut seen = HashSet::new();
        for _ in 0..200 {
            let p = strong_password();
            assert!(p.len() >= 16, "{p}");
            assert!(p.chars().any(|c| c.is_ascii_uppercase()) && p.chars().any(|c| c.is_ascii_lowercase()), "{p}");
            assert!(p.chars().any(|c| c.is_ascii_digit()) && p.chars().any(|c| !c.is_ascii_alphanumeric()), "{p}");
            assert!(p.chars().all(|c| c.is_ascii_graphic() && !"&=+%#'\"\\<>`$ ;?/".contains(c)), "safe in a form body: {p}");
            assert!(seen.insert(p));
        }
    }

    #[test]
    fn sizes_parse_to_mb() {
        for (text, mb) in [
            ("120M", Some(120)),
            ("120", Some(120)),
            ("120MB", Some(120)),
            ("0M", Some(0)),
            ("1.5G", Some(1536)),
            ("2g", Some(2048)),
            ("1T", Some(1_048_576)),
            ("512K", Some(1)),
            ("100K", Some(0)),
            ("unlimited", None),
            (" Unlimited ", None),
            ("none", None),
        ] {
            assert_eq!(parse_size_mb(text), Ok(mb), "{text}");
        }
        for bad in ["", "M", "lots", "-5M", "1.2.3G"] {
            assert!(parse_size_mb(bad).is_err(), "{bad}");
        }
        let _ = Usage::default();
    }

    #[test]
    fn perl_suffixes_are_cut() {
        for (reason, clean) in [
            (
                "Sorry, \"pkg\" is not a valid pacakge name. at /usr/local/cpanel/Whostmgr/Accounts/Create.pm line 1298.",
                "Sorry, \"pkg\" is not a valid pacakge name.",
            ),
            (
                "Sorry, \"pkg\" is not a valid pacakge name. at /usr/local/cpanel/Whostmgr/Accounts/Create.pm line 1298.\n",
                "Sorry, \"pkg\" is not a valid pacakge name.",
            ),
            ("Oops at (eval 12) line 3.", "Oops"),
            ("Sorry, a group for that username already exists.", "Sorry, a group for that username already exists."),
            ("Look at the line 12 here", "Look at the line 12 here"),
            ("Meet at noon", "Meet at noon"),
        ] {
            assert_eq!(strip_perl_suffix(reason), clean, "{reason:?}");
        }
    }
}
