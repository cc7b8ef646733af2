//! Hetzner Cloud over its REST API (../shared/PROTOCOLS.md §6): JSON in and out at
//! `{api_url}/…` (`https://api.hetzner.cloud/v1`), `Authorization: Bearer {project token}`.
//!
//! One Keel account is one cloud server (a VPS): Keel's username is the server's `name` (a valid
//! RFC 1123 hostname Keel chooses, unique in the project), the package is its server type
//! (`cx22`), and the product's configurable options give its location and image
//! ([`NewAccount::settings`]: `location`, `image`). Suspending powers the server off, unsuspending
//! powers it on; a server that is `off` reads as suspended. Every change Hetzner makes is an
//! *action* that runs on after the call answers: the adapter polls `GET /actions/{id}` (once a
//! second, for at most two minutes) until it says `success` or `error`.
//!
//! Errors are Hetzner's `{"error":{"code","message","details"}}`. They are classified by their
//! code first — the HTTP status alone misleads (`maintenance` comes as 403, `resource_unavailable`
//! as 412, `service_error` as 422): a refusal that another try cannot change (a bad or read-only
//! token, invalid input, a taken name, an unknown server, a project limit) is
//! [`ModuleError::Permanent`]; a busy or unavailable API (`locked`, `conflict`, `maintenance`,
//! `rate_limit_exceeded`, `resource_unavailable`, `placement_error`, 5xx), a timeout or a
//! connection that fails is [`ModuleError::Retryable`]. A 429 is retried here twice after a short
//! pause (as hcloud-python does) before it is answered as retryable. No error message or log line
//! carries the token: the header is marked sensitive, [`Hetzner`]'s `Debug` leaves it out and
//! messages are scrubbed of it.
//!
//! Hetzner sets a new server's root password itself (answered once, as `root_password`, when no
//! SSH key is given) and cannot be told a chosen one: `create` answers it as
//! [`Created::password`], the account's login in place of the one Keel generated (never logged,
//! never put in an error), and `change_password` is refused (see [`Module::change_password`]
//! below). Should the create's reply be lost, that password is lost with it.

use std::time::{Duration, Instant};

use reqwest::header::{HeaderValue, AUTHORIZATION};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::module::{Account, Calling, Created, Module, ModuleError, NewAccount, Usage};

/// How long one request may take.
const QUICK: Duration = Duration::from_secs(30);
/// How often a running action is polled (hcloud-python: once a second).
const POLL_EVERY: Duration = Duration::from_secs(1);
/// How long an action may run before the call gives up (hcloud-python: 120 polls).
const WAIT_AT_MOST: Duration = Duration::from_secs(120);
/// How many times a 429 is tried again, after 0.5 s × attempt, before it is answered.
const RATE_LIMIT_RETRIES: u32 = 2;

/// The image a server gets when the product gives none.
pub const DEFAULT_IMAGE: &str = "ubuntu-24.04";

/// Hetzner Cloud's locations: code and city.
pub const LOCATIONS: [(&str, &str); 6] =
    [("fsn1", "Falkenstein"), ("nbg1", "Nuremberg"), ("hel1", "Helsinki"), ("ash", "Ashburn"), ("hil", "Hillsboro"), ("sin", "Singapore")];

/// Error codes a later try can get past: the API is busy, limited or briefly unavailable.
const RETRYABLE_CODES: &[&str] = &[
    "rate_limit_exceeded",
    "locked",
    "conflict",
    "maintenance",
    "resource_unavailable",
    "placement_error",
    "service_error",
    "server_error",
    "unavailable",
    "timeout",
    // change_type on a server that is running: something powered it on after Keel powered it
    // off; a retry powers it off again.
    "server_not_stopped",
];

/// Error codes another try cannot change.
const PERMANENT_CODES: &[&str] = &[
    "unauthorized",
    "token_readonly",
    "forbidden",
    "invalid_input",
    "json_error",
    "not_found",
    "method_not_allowed",
    "deprecated_api_endpoint",
    "resource_limit_exceeded",
    "uniqueness_error",
    "protected",
    "unsupported_error",
    "invalid_server_type",
];

/// Whether a failed call can succeed later: by Hetzner's error code when it is a known one, by the
/// HTTP status otherwise (5xx, 408 and 429 can).
pub(crate) fn retryable(status: u16, code: &str) -> bool {
    if RETRYABLE_CODES.contains(&code) {
        true
    } else if PERMANENT_CODES.contains(&code) {
        false
    } else {
        status >= 500 || status == 408 || status == 429
    }
}

/// The location code for a product's choice: a code (`hel1`) or a city (`Helsinki`), in any case;
/// only the first word counts, so `Helsinki, Finland` and `Ashburn, VA` work too.
pub fn location_code(choice: &str) -> Option<&'static str> {
    let matches = |word: &str| {
        let word = word.trim();
        if word.eq_ignore_ascii_case("nürnberg") || word.eq_ignore_ascii_case("nurnberg") {
            return Some("nbg1");
        }
        LOCATIONS.iter().find(|(code, city)| code.eq_ignore_ascii_case(word) || city.eq_ignore_ascii_case(word)).map(|(code, _)| *code)
    };
    let choice = choice.trim();
    matches(choice).or_else(|| choice.split(|c: char| !c.is_alphanumeric()).find(|w| !w.is_empty()).and_then(matches))
}

/// The image name for a product's choice: Hetzner's name (`ubuntu-24.04`) as it is, a display name
/// (`Ubuntu 24.04`) in lower case with dashes.
fn image_name(choice: &str) -> String {
    choice.split_whitespace().collect::<Vec<_>>().join("-").to_ascii_lowercase()
}

fn locations_list() -> String {
    LOCATIONS.iter().map(|(code, city)| format!("{code} ({city})")).collect::<Vec<_>>().join(", ")
}

/// One Hetzner Cloud project, reached with its API token.
#[derive(Clone)]
pub struct Hetzner {
    http: reqwest::Client,
    /// Without a trailing slash.
    api_url: String,
    /// `Bearer {token}`, marked sensitive.
    authorization: HeaderValue,
    /// Kept only to be scrubbed from error messages.
    token: String,
    poll_every: Duration,
    wait_at_most: Duration,
}

impl std::fmt::Debug for Hetzner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hetzner").field("api_url", &self.api_url).finish_non_exhaustive()
    }
}

/// A failed call: Hetzner's error code (empty when the answer had none) and the error.
#[derive(Debug)]
struct Failed {
    code: String,
    error: ModuleError,
}

impl From<Failed> for ModuleError {
    fn from(f: Failed) -> ModuleError {
        f.error
    }
}

fn retry_later(message: String) -> Failed {
    Failed { code: String::new(), error: ModuleError::Retryable(message) }
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

/// Bytes (a JSON number, possibly null) in MB, rounded.
fn bytes_mb(v: &Value) -> Option<i64> {
    v.as_f64().filter(|b| b.is_finite() && *b >= 0.0).map(|b| (b / MB).round() as i64)
}

fn malformed(what: &str, missing: &str) -> ModuleError {
    ModuleError::Retryable(format!("Hetzner Cloud's answer to {what} has no {missing}"))
}

impl Hetzner {
    /// `api_url` is the API's base address (`https://api.hetzner.cloud/v1`), `token` a project's
    /// API token with read and write permission.
    pub fn new(api_url: &str, token: &str) -> Result<Hetzner, ModuleError> {
        let api_url = api_url.trim().trim_end_matches('/');
        let parsed = url::Url::parse(api_url)
            .map_err(|e| ModuleError::Permanent(format!("Hetzner Cloud's API address {api_url:?} is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(ModuleError::Permanent(format!("Hetzner Cloud's API address {api_url:?} is not an http(s) URL")));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(ModuleError::Permanent("Hetzner Cloud's API address must not carry a user or password: give the API token".into()));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(ModuleError::Permanent(format!("Hetzner Cloud's API address {api_url:?} must not have a query or fragment")));
        }
        let token = token.trim();
        if token.is_empty() {
            return Err(ModuleError::Permanent("Hetzner Cloud needs a project API token".into()));
        }
        let mut authorization = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| ModuleError::Permanent("Hetzner Cloud's API token holds characters an HTTP header cannot carry".into()))?;
        authorization.set_sensitive(true);
        Ok(Hetzner {
            http: crate::outbound::client(QUICK).map_err(ModuleError::Permanent)?,
            api_url: api_url.to_string(),
            authorization,
            token: token.to_string(),
            poll_every: POLL_EVERY,
            wait_at_most: WAIT_AT_MOST,
        })
    }

    /// Polls running actions every `every` (1 s unless told) for at most `at_most` (120 s).
    pub fn with_polling(mut self, every: Duration, at_most: Duration) -> Self {
        self.poll_every = every;
        self.wait_at_most = at_most;
        self
    }

    fn scrub(&self, message: String) -> String {
        if self.token.len() >= 3 {
            message.replace(&self.token, "[redacted]")
        } else {
            message
        }
    }

    /// Calls `method path` and answers the JSON body (`Value::Null` when there is none). `what`
    /// names the call in error messages.
    async fn call(&self, method: Method, path: &str, query: &[(&str, &str)], body: Option<&Value>, what: &str) -> Result<Value, Failed> {
        let url = format!("{}{path}", self.api_url);
        let mut attempt = 0;
        loop {
            let mut req = self.http.request(method.clone(), &url).header(AUTHORIZATION, self.authorization.clone()).timeout(QUICK);
            if !query.is_empty() {
                req = req.query(query);
            }
            if let Some(body) = body {
                req = req.json(body);
            }
            let res = match req.send().await {
                Ok(res) => res,
                Err(e) if e.is_timeout() => {
                    return Err(retry_later(format!("Hetzner Cloud at {} did not answer {what} within {}s", self.api_url, QUICK.as_secs())))
                }
                Err(e) => {
                    return Err(retry_later(self.scrub(format!(
                        "Hetzner Cloud at {} not reached ({what}): {}",
                        self.api_url,
                        crate::error::cause_chain(&e)
                    ))))
                }
            };
            let status = res.status();
            let reset = res.headers().get("RateLimit-Reset").and_then(|v| v.to_str().ok()).map(str::to_string);
            let bytes = match res.bytes().await {
                Ok(bytes) => bytes,
                Err(e) if e.is_timeout() => {
                    return Err(retry_later(format!("Hetzner Cloud did not finish answering {what} within {}s", QUICK.as_secs())))
                }
                Err(e) => {
                    return Err(retry_later(
                        self.scrub(format!("Hetzner Cloud's answer to {what} could not be read: {}", crate::error::cause_chain(&e))),
                    ))
                }
            };
            let body =
                if bytes.iter().all(u8::is_ascii_whitespace) { Some(Value::Null) } else { serde_json::from_slice::<Value>(&bytes).ok() };
            if status.is_success() {
                return body.ok_or_else(|| retry_later(format!("Hetzner Cloud's answer to {what} is not JSON (HTTP {status})")));
            }
            if status == StatusCode::TOO_MANY_REQUESTS && attempt < RATE_LIMIT_RETRIES {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(500) * attempt).await;
                continue;
            }
            return Err(self.refusal(status, body.unwrap_or(Value::Null), reset, what));
        }
    }

    /// The error for a non-2xx answer.
    fn refusal(&self, status: StatusCode, body: Value, reset: Option<String>, what: &str) -> Failed {
        let error = &body["error"];
        let code = error["code"].as_str().unwrap_or_default().trim().to_string();
        let mut message = error["message"].as_str().unwrap_or_default().trim().to_string();
        // invalid_input names the fields and what is wrong with them in `details.fields`.
        for field in error["details"]["fields"].as_array().into_iter().flatten() {
            let name = field["name"].as_str().unwrap_or_default();
            let said: Vec<&str> = field["messages"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            if message.contains(name) && said.iter().all(|m| message.contains(m)) {
                continue;
            }
            let detail = if said.is_empty() { name.to_string() } else { format!("{name}: {}", said.join(", ")) };
            if !detail.is_empty() {
                message = if message.is_empty() { detail } else { format!("{message} ({detail})") };
            }
        }
        let permanent = !retryable(status.as_u16(), &code);
        let text = match (status.as_u16(), code.as_str()) {
            (_, "token_readonly") => {
                "Hetzner Cloud refused the API token as read-only (token_readonly): Keel needs a token with read and write permission"
                    .to_string()
            }
            (401, _) | (_, "unauthorized") => {
                format!("Hetzner Cloud refused the API token (HTTP {}): check the project's API token", status.as_u16())
            }
            (_, "rate_limit_exceeded") | (429, _) => match reset {
                Some(reset) => {
                    format!("Hetzner Cloud's rate limit is reached ({what}): the project's requests refill by RateLimit-Reset {reset}")
                }
                None => format!("Hetzner Cloud's rate limit is reached ({what})"),
            },
            (_, "") if message.is_empty() => format!("Hetzner Cloud answered HTTP {status} to {what}"),
            (_, "") => format!("Hetzner Cloud {what}: {message} (HTTP {})", status.as_u16()),
            (_, code) if message.is_empty() => format!("Hetzner Cloud {what}: {code} (HTTP {})", status.as_u16()),
            (_, code) => format!("Hetzner Cloud {what}: {message} ({code})"),
        };
        let text = self.scrub(text);
        Failed { code, error: if permanent { ModuleError::Permanent(text) } else { ModuleError::Retryable(text) } }
    }

    /// Waits for an action (`{"id","status",…}` as an answer gave it) to finish: `Ok` on
    /// `success`, [`ModuleError::Permanent`] with Hetzner's message on `error`, retryable when it
    /// is still running after `wait_at_most`. A passing failure while polling is polled past.
    async fn wait(&self, action: &Value, what: &str) -> Result<(), ModuleError> {
        let id = action["id"].as_i64().ok_or_else(|| malformed(what, "action id"))?;
        let started = Instant::now();
        let mut current = action.clone();
        let mut last_failure = None;
        loop {
            match current["status"].as_str() {
                Some("success") => return Ok(()),
                Some("error") => {
                    let code = current["error"]["code"].as_str().unwrap_or("error");
                    let message = current["error"]["message"].as_str().filter(|m| !m.trim().is_empty()).unwrap_or("no reason given");
                    return Err(ModuleError::Permanent(self.scrub(format!("Hetzner Cloud {what} failed: {} ({code})", message.trim()))));
                }
                _ => {}
            }
            if started.elapsed() >= self.wait_at_most {
                let mut m = format!("Hetzner Cloud's {what} (action {id}) had not finished after {}s", self.wait_at_most.as_secs_f32());
                if let Some(failure) = last_failure {
                    m.push_str(&format!("; last poll: {failure}"));
                }
                return Err(ModuleError::Retryable(m));
            }
            tokio::time::sleep(self.poll_every).await;
            match self.call(Method::GET, &format!("/actions/{id}"), &[], None, "action status").await {
                Ok(answer) => current = answer["action"].clone(),
                Err(Failed { error: ModuleError::Retryable(m), .. }) => last_failure = Some(m),
                Err(f) => return Err(f.error),
            }
        }
    }

    /// The server named `name`, `None` when the project has none.
    async fn server(&self, name: &str) -> Result<Option<Value>, ModuleError> {
        let answer = self.call(Method::GET, "/servers", &[("name", name)], None, "list servers").await?;
        let servers = answer["servers"].as_array().ok_or_else(|| malformed("list servers", "servers"))?;
        Ok(servers.iter().find(|s| s["name"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name))).cloned())
    }

    /// The server named `name`, refused for good when there is none.
    async fn existing(&self, name: &str) -> Result<(i64, Value), ModuleError> {
        let server =
            self.server(name).await?.ok_or_else(|| ModuleError::Permanent(format!("Hetzner Cloud has no server named {name:?}")))?;
        let id = server["id"].as_i64().ok_or_else(|| malformed("list servers", "server id"))?;
        Ok((id, server))
    }

    /// Starts `action` on server `id` and waits for it.
    async fn act(&self, id: i64, action: &str, body: Option<&Value>, what: &str) -> Result<(), ModuleError> {
        let answer = self.call(Method::POST, &format!("/servers/{id}/actions/{action}"), &[], body, what).await?;
        self.wait(&answer["action"], what).await
    }
}

impl Module for Hetzner {
    /// Lists the locations: cheap, and refused without a valid token.
    fn test_connection(&self) -> Calling<'_, String> {
        Box::pin(async move {
            let answer = self.call(Method::GET, "/locations", &[], None, "list locations").await?;
            let listed = answer["locations"].as_array().ok_or_else(|| malformed("list locations", "locations"))?.len();
            let total = answer["meta"]["pagination"]["total_entries"].as_u64().map_or(listed, |n| n as usize);
            Ok(format!("Hetzner Cloud ({total} locations)"))
        })
    }

    /// Creates the server (started at once, labelled `keel=1`) and waits until it runs. Its
    /// location (a code or a city) and image come from `settings`; without a location Hetzner
    /// picks one, without an image it is [`DEFAULT_IMAGE`]. An unknown location is refused before
    /// anything is sent. The root password Hetzner chose is answered as [`Created::password`];
    /// the account's domain and Keel's generated password are not sent.
    fn create(&self, account: NewAccount) -> Calling<'_, Created> {
        Box::pin(async move {
            let setting = |key: &str| account.settings.get(key).map(|v| v.trim()).filter(|v| !v.is_empty());
            let location = match setting("location") {
                Some(choice) => Some(location_code(choice).ok_or_else(|| {
                    ModuleError::Permanent(format!("Hetzner Cloud has no location {choice:?}: use one of {}", locations_list()))
                })?),
                None => None,
            };
            let image = setting("image").map_or_else(|| DEFAULT_IMAGE.to_string(), image_name);
            let mut body = json!({
                "name": account.username.trim(),
                "server_type": account.package.trim(),
                "image": image,
                "start_after_create": true,
                "labels": {"keel": "1"},
            });
            if let Some(location) = location {
                body["location"] = json!(location);
            }
            let answer = self.call(Method::POST, "/servers", &[], Some(&body), "create server").await?;
            let ip = text(&answer["server"]["public_net"]["ipv4"]["ip"]);
            let password = answer["root_password"].as_str().filter(|p| !p.is_empty()).map(str::to_string);
            self.wait(&answer["action"], "create server").await?;
            for next in answer["next_actions"].as_array().into_iter().flatten() {
                let what = format!("create server ({})", next["command"].as_str().unwrap_or("next action"));
                self.wait(next, &what).await?;
            }
            Ok(Created { ip, nameservers: vec![], password })
        })
    }

    /// The server of that name: its domain is its public IPv4 address (its name when it has
    /// none), its package its server type, and it is suspended while it is `off`, whoever
    /// powered it off.
    fn find(&self, username: String) -> Calling<'_, Option<Account>> {
        Box::pin(async move {
            let Some(server) = self.server(&username).await? else { return Ok(None) };
            let name = text(&server["name"]).unwrap_or_else(|| username.clone());
            Ok(Some(Account {
                domain: text(&server["public_net"]["ipv4"]["ip"]).unwrap_or_else(|| name.clone()),
                username: name,
                package: text(&server["server_type"]["name"]).unwrap_or_default(),
                suspended: server["status"].as_str() == Some("off"),
            }))
        })
    }

    /// Powers the server off (a hard power-off, as pulling the plug: the client's VPS stops
    /// at once). Hetzner keeps no reason: it is not sent. A server already off is left alone.
    fn suspend(&self, username: String, _reason: String) -> Calling<'_, ()> {
        Box::pin(async move {
            let (id, server) = self.existing(&username).await?;
            if server["status"].as_str() == Some("off") {
                return Ok(());
            }
            self.act(id, "poweroff", None, "power off").await
        })
    }

    /// Powers the server on; one already running is left alone.
    fn unsuspend(&self, username: String) -> Calling<'_, ()> {
        Box::pin(async move {
            let (id, server) = self.existing(&username).await?;
            if server["status"].as_str() == Some("running") {
                return Ok(());
            }
            self.act(id, "poweron", None, "power on").await
        })
    }

    /// Deletes the server and waits until it is gone. A server Hetzner does not have (or is
    /// deleting already) is done: a retried termination whose first reply was lost succeeds.
    fn terminate(&self, username: String) -> Calling<'_, ()> {
        Box::pin(async move {
            let Some(server) = self.server(&username).await? else { return Ok(()) };
            if server["status"].as_str() == Some("deleting") {
                return Ok(());
            }
            let id = server["id"].as_i64().ok_or_else(|| malformed("list servers", "server id"))?;
            match self.call(Method::DELETE, &format!("/servers/{id}"), &[], None, "delete server").await {
                Ok(answer) => self.wait(&answer["action"], "delete server").await,
                Err(f) if f.code == "not_found" => Ok(()),
                Err(f) => Err(f.error),
            }
        })
    }

    /// Changes the server type, keeping the disk (`upgrade_disk: false`) so that a later downgrade
    /// stays possible: Hetzner needs the server off for this, so a running server is powered off,
    /// changed and powered on again (also when the change is refused); a suspended one stays off.
    /// A server already of that type is left alone. Should powering on fail after the change, the
    /// retry finds the type changed and the server off, and leaves it so: an administrator
    /// unsuspends it.
    fn change_package(&self, username: String, package: String) -> Calling<'_, ()> {
        Box::pin(async move {
            let package = package.trim().to_string();
            let (id, server) = self.existing(&username).await?;
            if server["server_type"]["name"].as_str() == Some(package.as_str()) {
                return Ok(());
            }
            let was_on = server["status"].as_str() != Some("off");
            if was_on {
                self.act(id, "poweroff", None, "power off").await?;
            }
            let body = json!({"server_type": package, "upgrade_disk": false});
            let changed = self.act(id, "change_type", Some(&body), "change server type").await;
            if was_on {
                let restarted = self.act(id, "poweron", None, "power on").await;
                changed?;
                restarted
            } else {
                changed
            }
        })
    }

    /// Refused: Hetzner Cloud's `reset_password` makes a new random root password and answers
    /// it; it cannot set one chosen by Keel or the client.
    fn change_password(&self, _username: String, _password: String) -> Calling<'_, ()> {
        Box::pin(async move {
            Err(ModuleError::Permanent(
                "Hetzner Cloud sets root passwords itself (reset_password generates a new one): a chosen password cannot be set on a Hetzner Cloud server".into(),
            ))
        })
    }

    /// This billing period's traffic (`outgoing_traffic` + `ingoing_traffic`, 0 while Hetzner
    /// reports null) against `included_traffic`, and the disk size (`primary_disk_size`, which
    /// stays after a type change without `upgrade_disk`; else the server type's `disk`) as the
    /// disk limit. Disk use is always 0: the API does not report how full a server's disk is.
    fn usage(&self, username: String) -> Calling<'_, Usage> {
        Box::pin(async move {
            let (_, server) = self.existing(&username).await?;
            let disk_gb = server["primary_disk_size"].as_i64().or_else(|| server["server_type"]["disk"].as_i64()).filter(|gb| *gb > 0);
            Ok(Usage {
                disk_used_mb: 0,
                disk_limit_mb: disk_gb.map(|gb| gb * 1024),
                bandwidth_used_mb: bytes_mb(&server["outgoing_traffic"]).unwrap_or(0) + bytes_mb(&server["ingoing_traffic"]).unwrap_or(0),
                bandwidth_limit_mb: bytes_mb(&server["included_traffic"]).filter(|mb| *mb > 0),
            })
        })
    }

    /// Refused: a Hetzner Cloud server has no control panel to log into.
    fn sso_url(&self, _username: String) -> Calling<'_, String> {
        Box::pin(async move { Err(ModuleError::Permanent("no control panel for Hetzner Cloud servers".into())) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_by_code_or_city() {
        for (choice, code) in [
            ("fsn1", "fsn1"),
            ("FSN1", "fsn1"),
            ("Falkenstein", "fsn1"),
            ("nuremberg", "nbg1"),
            ("Nürnberg", "nbg1"),
            ("HELSINKI", "hel1"),
            ("Helsinki, Finland", "hel1"),
            (" ash ", "ash"),
            ("Ashburn, VA", "ash"),
            ("hillsboro", "hil"),
            ("Singapore", "sin"),
        ] {
            assert_eq!(location_code(choice), Some(code), "{choice}");
        }
        for bad in ["", "Atlantis", "fsn", "us-east", "Berlin, Falkenstein"] {
            assert_eq!(location_code(bad), None, "{bad}");
        }
        assert_eq!(image_name("Ubuntu 24.04"), "ubuntu-24.04");
        assert_eq!(image_name("debian-12"), "debian-12");
    }

    #[test]
    fn codes_decide_before_statuses() {
        for (status, code) in [
            (429, "rate_limit_exceeded"),
            (423, "locked"),
            (409, "conflict"),
            (403, "maintenance"),
            (412, "resource_unavailable"),
            (422, "service_error"),
            (500, "server_error"),
            (503, "unavailable"),
            (504, "timeout"),
            (502, ""),
            (503, ""),
            (408, ""),
            (500, "something_new"),
        ] {
            assert!(retryable(status, code), "{status} {code}");
        }
        for (status, code) in [
            (401, "unauthorized"),
            (401, "token_readonly"),
            (403, "forbidden"),
            (422, "invalid_input"),
            (400, "json_error"),
            (404, "not_found"),
            (403, "resource_limit_exceeded"),
            (409, "uniqueness_error"),
            (423, "protected"),
            (422, "unsupported_error"),
            (401, ""),
            (404, ""),
            (422, "something_new"),
        ] {
            assert!(!retryable(status, code), "{status} {code}");
        }
    }

    #[test]
    fn debug_hides_the_token() {
        let h = Hetzner::new("https://api.hetzner.cloud/v1/", "SECRETTOKEN1234").unwrap_or_else(|e| panic!("{e}"));
        let shown = format!("{h:?}");
        assert!(!shown.contains("SECRETTOKEN1234") && shown.contains("https://api.hetzner.cloud/v1\""), "{shown}");
        assert!(h.authorization.is_sensitive());
        for bad in ["", "ftp://api.hetzner.cloud/v1", "https://user:pw@api.hetzner.cloud/v1", "https://api.hetzner.cloud/v1?x=1", "nothing"]
        {
            assert!(Hetzner::new(bad, "TOKEN").is_err_and(|e| e.is_permanent()), "{bad}");
        }
        assert!(Hetzner::new("https://api.hetzner.cloud/v1", "  ").is_err_and(|e| e.is_permanent()));
        assert!(Hetzner::new("https://api.hetzner.cloud/v1", "bad\ntoken").is_err_and(|e| e.is_permanent()));
    }
}
