//! The Hetzner Cloud sandbox: an in-process stand-in for the Hetzner Cloud API
//! (../shared/PROTOCOLS.md §6) over servers kept in memory — `GET|POST /v1/servers`,
//! `GET|DELETE /v1/servers/{id}`, `POST /v1/servers/{id}/actions/{poweroff|poweron|change_type|reset_password}`,
//! `GET /v1/actions/{id}` and `GET /v1/locations`, relative to where it is mounted, with
//! `Authorization: Bearer {token}`, Hetzner's JSON shapes and its error bodies
//! `{"error":{"code","message","details"}}` with the HTTP status Hetzner's documentation gives
//! each code (401 `unauthorized`, 409 `uniqueness_error`, 422 `invalid_input` naming the field in
//! `details.fields`, 423 `locked` while an action runs on the server, …).
//!
//! It knows the server types cx22, cx32, cx42 and cx52, the images ubuntu-24.04 and debian-12 and
//! the locations fsn1, nbg1, hel1, ash, hil and sin (every type in every location), and gives
//! servers IPv4 addresses from 203.0.113.0/24 (TEST-NET-3, never routed). Every change is an
//! action that is `running` when answered and ends — its effect on the server applied then — on
//! the first `GET /v1/actions/{id}`, or by itself 300 ms (of wall time or of the sandbox's clock)
//! after it started. `change_type` wants the server off: else it answers `server_not_stopped`, the
//! call-specific code Hetzner documents (with HTTP 422 here; the status is not documented).
//!
//! The tests run it on a loopback port with the real [`super::hetzner::Hetzner`] adapter pointed
//! at it. Test hooks make the next call of a kind fail with an error code
//! ([`HetznerSandbox::fail_next`]), do its work but lose the reply
//! ([`HetznerSandbox::lose_next_reply`]), make the next action of a command end in `error`
//! ([`HetznerSandbox::fail_next_action`]), keep actions running
//! ([`HetznerSandbox::set_actions_stuck`]) or take the whole API down
//! ([`HetznerSandbox::set_down`]). The token is random per process and never logged; root
//! passwords are kept only as SHA-256 digests ([`HetznerSandbox::root_password_matches`]).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Datelike, SecondsFormat, TimeZone, Utc};
use rand::Rng;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::clock::SharedClock;

/// A server type the sandbox sells.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServerType {
    pub id: i64,
    pub name: &'static str,
    pub cores: i64,
    pub memory_gb: f64,
    pub disk_gb: i64,
}

/// The server types the sandbox knows (Hetzner's shared-vCPU Intel line).
pub const SERVER_TYPES: [ServerType; 4] = [
    ServerType { id: 104, name: "cx22", cores: 2, memory_gb: 4.0, disk_gb: 40 },
    ServerType { id: 105, name: "cx32", cores: 4, memory_gb: 8.0, disk_gb: 80 },
    ServerType { id: 106, name: "cx42", cores: 8, memory_gb: 16.0, disk_gb: 160 },
    ServerType { id: 107, name: "cx52", cores: 16, memory_gb: 32.0, disk_gb: 320 },
];

/// The images the sandbox knows.
pub const IMAGES: [&str; 2] = ["ubuntu-24.04", "debian-12"];

#[derive(Debug)]
struct Location {
    id: i64,
    name: &'static str,
    description: &'static str,
    country: &'static str,
    city: &'static str,
    latitude: f64,
    longitude: f64,
    network_zone: &'static str,
    datacenter_id: i64,
    datacenter: &'static str,
    /// Traffic included per billing period, in TiB.
    included_tib: i64,
}

const LOCATIONS: [Location; 6] = [
    Location {
        id: 1,
        name: "fsn1",
        description: "Falkenstein DC Park 1",
        country: "DE",
        city: "Falkenstein",
        latitude: 50.47612,
        longitude: 12.370071,
        network_zone: "eu-central",
        datacenter_id: 4,
        datacenter: "fsn1-dc14",
        included_tib: 20,
    },
    Location {
        id: 2,
        name: "nbg1",
        description: "Nuremberg DC Park 1",
        country: "DE",
        city: "Nuremberg",
        latitude: 49.452102,
        longitude: 11.076665,
        network_zone: "eu-central",
        datacenter_id: 2,
        datacenter: "nbg1-dc3",
        included_tib: 20,
    },
    Location {
        id: 3,
        name: "hel1",
        description: "Helsinki DC Park 1",
        country: "FI",
        city: "Helsinki",
        latitude: 60.169855,
        longitude: 24.938379,
        network_zone: "eu-central",
        datacenter_id: 3,
        datacenter: "hel1-dc2",
        included_tib: 20,
    },
    Location {
        id: 4,
        name: "ash",
        description: "Ashburn, VA",
        country: "US",
        city: "Ashburn, VA",
        latitude: 39.045821,
        longitude: -77.487073,
        network_zone: "us-east",
        datacenter_id: 5,
        datacenter: "ash-dc1",
        included_tib: 1,
    },
    Location {
        id: 5,
        name: "hil",
        description: "Hillsboro, OR",
        country: "US",
        city: "Hillsboro, OR",
        latitude: 45.54222,
        longitude: -122.951924,
        network_zone: "us-west",
        datacenter_id: 6,
        datacenter: "hil-dc1",
        included_tib: 1,
    },
    Location {
        id: 6,
        name: "sin",
        description: "Singapore",
        country: "SG",
        city: "Singapore",
        latitude: 1.283333,
        longitude: 103.833333,
        network_zone: "ap-southeast",
        datacenter_id: 7,
        datacenter: "sin-dc1",
        included_tib: 1,
    },
];

#[derive(Debug)]
struct Image {
    id: i64,
    name: &'static str,
    description: &'static str,
    os_flavor: &'static str,
    os_version: &'static str,
}

const IMAGE_DETAILS: [Image; 2] = [
    Image { id: 161_547_269, name: IMAGES[0], description: "Ubuntu 24.04", os_flavor: "ubuntu", os_version: "24.04" },
    Image { id: 114_690_387, name: IMAGES[1], description: "Debian 12", os_flavor: "debian", os_version: "12" },
];

/// Where a location's servers get their addresses: 203.0.113.2 to .254.
const NETWORK: [u8; 3] = [203, 0, 113];

/// How long an action runs when nobody asks after it, in milliseconds.
const ACTION_RUNS_MS: i64 = 300;

const TIB: i64 = 1024 * 1024 * 1024 * 1024;
const MIB: i64 = 1024 * 1024;

/// The kinds of call the test hooks and [`HetznerSandbox::calls`] name: `list` (GET /servers),
/// `create` (POST /servers), `get` (GET /servers/{id}), `delete`, the server actions by name,
/// `action` (GET /actions/{id}) and `locations`.
pub const KINDS: [&str; 10] =
    ["list", "create", "get", "delete", "poweroff", "poweron", "change_type", "reset_password", "action", "locations"];

/// A server as a test sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxServer {
    pub id: i64,
    pub name: String,
    pub server_type: String,
    pub location: String,
    pub image: String,
    /// `initializing`, `starting`, `running`, `off` or `deleting`.
    pub status: String,
    pub ipv4: String,
    pub disk_gb: i64,
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug)]
struct Server {
    id: i64,
    name: String,
    server_type: &'static ServerType,
    location: &'static Location,
    image: &'static Image,
    status: &'static str,
    ipv4: Ipv4Addr,
    created: DateTime<Utc>,
    labels: Map<String, Value>,
    disk_gb: i64,
    /// SHA-256 of the root password, hex; `None` when made with SSH keys.
    root_password: Option<String>,
}

/// What an action does to its server when it ends well.
#[derive(Debug, Clone, Copy)]
enum Effect {
    Status(&'static str),
    ChangeType { to: &'static ServerType, upgrade_disk: bool },
    Delete,
    Nothing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Progress {
    Running,
    Success,
    Error,
}

#[derive(Debug)]
struct Action {
    id: i64,
    command: &'static str,
    server: i64,
    started: DateTime<Utc>,
    began: Instant,
    finished: Option<DateTime<Utc>>,
    progress: Progress,
    /// Code and message, when it ended in `error`.
    error: Option<(String, String)>,
    effect: Effect,
    /// Ends in `error` with this message (a test asked so).
    fails: Option<String>,
}

#[derive(Debug, Default)]
struct State {
    servers: BTreeMap<i64, Server>,
    actions: BTreeMap<i64, Action>,
    last_server: i64,
    last_action: i64,
    fail_next: HashMap<String, String>,
    fail_action: HashMap<String, String>,
    lose_next: HashSet<String>,
    calls: HashMap<String, usize>,
}

/// One stand-in Hetzner Cloud project.
pub struct HetznerSandbox {
    /// The API token clients must send, random per process.
    pub token: String,
    /// Where the sandbox is mounted (`…/sandbox/hetzner`), without a trailing slash; the API is
    /// at `{base_url}/v1`.
    pub base_url: String,
    clock: SharedClock,
    down: AtomicBool,
    stuck: AtomicBool,
    state: Mutex<State>,
}

impl std::fmt::Debug for HetznerSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HetznerSandbox").field("base_url", &self.base_url).finish_non_exhaustive()
    }
}

/// An error as Hetzner answers it.
#[derive(Debug)]
struct ApiError {
    code: String,
    message: String,
    details: Value,
}

impl ApiError {
    fn new(code: &str, message: impl Into<String>) -> ApiError {
        ApiError { code: code.to_string(), message: message.into(), details: json!({}) }
    }

    fn status(&self) -> StatusCode {
        StatusCode::from_u16(status_for(&self.code)).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY)
    }
}

/// `invalid_input` naming the field, as Hetzner words it.
fn invalid(field: &str, problem: &str) -> ApiError {
    ApiError {
        code: "invalid_input".into(),
        message: format!("invalid input in field '{field}': {problem}"),
        details: json!({"fields": [{"name": field, "messages": [problem]}]}),
    }
}

fn not_found(what: &str, id: &str) -> ApiError {
    ApiError::new("not_found", format!("{what} with ID '{id}' not found"))
}

/// The HTTP status Hetzner's documentation gives an error code.
fn status_for(code: &str) -> u16 {
    match code {
        "json_error" => 400,
        "unauthorized" | "token_readonly" => 401,
        "forbidden" | "maintenance" | "resource_limit_exceeded" => 403,
        "not_found" => 404,
        "method_not_allowed" => 405,
        "uniqueness_error" | "conflict" => 409,
        "deprecated_api_endpoint" => 410,
        "resource_unavailable" => 412,
        "locked" | "protected" => 423,
        "rate_limit_exceeded" => 429,
        "server_error" => 500,
        "unavailable" => 503,
        "timeout" => 504,
        // invalid_input, service_error, unsupported_error and call-specific codes.
        _ => 422,
    }
}

/// What Hetzner's documentation says a code means (the message of a failure a test asks for).
fn describe(code: &str) -> String {
    match code {
        "forbidden" => "insufficient permissions for this request",
        "unauthorized" => "unable to authenticate",
        "token_readonly" => "the token is only allowed to perform GET requests",
        "invalid_input" => "error while parsing or processing the input",
        "json_error" => "invalid JSON input in your request",
        "locked" => "the item you are trying to access is locked (there is already an action running)",
        "not_found" => "entity not found",
        "rate_limit_exceeded" => "limit of 3600 requests per hour reached",
        "resource_limit_exceeded" => "project limit exceeded",
        "resource_unavailable" => "the requested resource is currently unavailable",
        "server_error" => "error within the API backend",
        "service_error" => "error within a service",
        "uniqueness_error" => "one or more of the object's fields must be unique",
        "protected" => "the action you are trying to start is protected for this resource",
        "maintenance" => "cannot perform operation due to maintenance",
        "conflict" => "the resource has changed during the request, please retry",
        "unsupported_error" => "the corresponding resource does not support the action",
        "unavailable" => "a service or product is currently not available",
        "timeout" => "the request could not be answered in time, please retry",
        "placement_error" => "an error during the placement occurred",
        other => return format!("failed ({other})"),
    }
    .to_string()
}

type Reply = Result<(StatusCode, Value), ApiError>;

fn random(chars: &[u8], len: usize) -> String {
    let mut rng = rand::rng();
    (0..len).map(|_| chars[rng.random_range(0..chars.len())] as char).collect()
}

/// A number from 0 to `below - 1` fixed by the text.
fn seeded(text: &str, below: u64) -> i64 {
    let d = Sha256::digest(text.as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    (u64::from_le_bytes(b) % below.max(1)) as i64
}

fn digest(password: &str) -> String {
    hex::encode(Sha256::digest(password.as_bytes()))
}

fn root_password() -> String {
    random(b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789", 20)
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// Whether Hetzner takes `name` for a server: a valid RFC 1123 hostname.
fn valid_hostname(name: &str) -> bool {
    name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// A reference by name or by ID, as Hetzner takes `server_type`, `image` and `location`.
fn reference(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn server_type(reference: &str) -> Option<&'static ServerType> {
    SERVER_TYPES.iter().find(|t| t.name == reference || t.id.to_string() == reference)
}

fn location(reference: &str) -> Option<&'static Location> {
    LOCATIONS.iter().find(|l| l.name == reference || l.id.to_string() == reference)
}

fn image(reference: &str) -> Option<&'static Image> {
    IMAGE_DETAILS.iter().find(|i| i.name == reference || i.id.to_string() == reference)
}

fn type_json(t: &ServerType) -> Value {
    json!({
        "id": t.id, "name": t.name, "description": t.name.to_ascii_uppercase(), "cores": t.cores, "memory": t.memory_gb,
        "disk": t.disk_gb, "deprecated": false, "deprecation": null, "prices": [], "storage_type": "local", "cpu_type": "shared",
        "architecture": "x86",
    })
}

fn location_json(l: &Location) -> Value {
    json!({
        "id": l.id, "name": l.name, "description": l.description, "country": l.country, "city": l.city,
        "latitude": l.latitude, "longitude": l.longitude, "network_zone": l.network_zone,
    })
}

fn datacenter_json(l: &Location) -> Value {
    let ids: Vec<i64> = SERVER_TYPES.iter().map(|t| t.id).collect();
    json!({
        "id": l.datacenter_id, "name": l.datacenter, "description": format!("{} virtual DC", l.description),
        "location": location_json(l),
        "server_types": {"supported": ids, "available": ids, "available_for_migration": ids},
    })
}

fn image_json(i: &Image) -> Value {
    json!({
        "id": i.id, "type": "system", "status": "available", "name": i.name, "description": i.description, "image_size": null,
        "disk_size": 5, "created": "2024-04-25T12:00:00+00:00", "created_from": null, "bound_to": null, "os_flavor": i.os_flavor,
        "os_version": i.os_version, "rapid_deploy": true, "protection": {"delete": false}, "deprecated": null, "deleted": null,
        "labels": {}, "architecture": "x86",
    })
}

fn action_json(a: &Action) -> Value {
    let (status, progress) = match a.progress {
        Progress::Running => ("running", 0),
        Progress::Success => ("success", 100),
        Progress::Error => ("error", 100),
    };
    json!({
        "id": a.id, "command": a.command, "status": status, "progress": progress, "started": time(a.started),
        "finished": a.finished.map(time), "resources": [{"id": a.server, "type": "server"}],
        "error": a.error.as_ref().map(|(code, message)| json!({"code": code, "message": message})),
    })
}

fn pagination(total: usize) -> Value {
    json!({"pagination": {"page": 1, "per_page": total.max(25), "previous_page": null, "next_page": null, "last_page": 1, "total_entries": total}})
}

/// Whether an action runs on the server (which locks it).
fn busy(st: &State, server: i64) -> bool {
    st.actions.values().any(|a| a.server == server && a.progress == Progress::Running)
}

/// Ends action `id` (and first every earlier one still running on its server).
fn finish(st: &mut State, id: i64, now: DateTime<Utc>) {
    let Some(server) = st.actions.get(&id).map(|a| a.server) else { return };
    let earlier: Vec<i64> =
        st.actions.range(..id).filter(|(_, a)| a.server == server && a.progress == Progress::Running).map(|(id, _)| *id).collect();
    for e in earlier {
        finish_one(st, e, now);
    }
    finish_one(st, id, now);
}

fn finish_one(st: &mut State, id: i64, now: DateTime<Utc>) {
    let State { actions, servers, .. } = st;
    let Some(a) = actions.get_mut(&id).filter(|a| a.progress == Progress::Running) else { return };
    a.finished = Some(now);
    if let Some(message) = a.fails.take() {
        a.progress = Progress::Error;
        a.error = Some(("action_failed".into(), message));
        if a.command == "create_server" {
            servers.remove(&a.server);
        }
        return;
    }
    let Some(server) = servers.get_mut(&a.server) else {
        a.progress = Progress::Error;
        a.error = Some(("not_found".into(), format!("server with ID '{}' not found", a.server)));
        return;
    };
    a.progress = Progress::Success;
    match a.effect {
        Effect::Status(status) => server.status = status,
        Effect::ChangeType { to, upgrade_disk } => {
            server.server_type = to;
            if upgrade_disk {
                server.disk_gb = to.disk_gb;
            }
        }
        Effect::Delete => {
            servers.remove(&a.server);
        }
        Effect::Nothing => {}
    }
}

impl HetznerSandbox {
    /// A sandbox mounted at `base_url` (e.g. `http://127.0.0.1:8080/sandbox/hetzner`; the API is
    /// under `/v1` there), reading the time from `clock` (creation times, traffic, actions).
    pub fn new(base_url: &str, clock: SharedClock) -> Self {
        HetznerSandbox {
            token: random(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 64),
            base_url: base_url.trim_end_matches('/').to_string(),
            clock,
            down: AtomicBool::new(false),
            stuck: AtomicBool::new(false),
            state: Mutex::new(State { last_server: 50_000_000, last_action: 900_000_000, ..State::default() }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The servers, by ID (actions that ran their time ended first).
    pub fn servers(&self) -> Vec<SandboxServer> {
        let mut st = self.state();
        self.settle(&mut st, self.clock.now());
        st.servers
            .values()
            .map(|s| SandboxServer {
                id: s.id,
                name: s.name.clone(),
                server_type: s.server_type.name.to_string(),
                location: s.location.name.to_string(),
                image: s.image.name.to_string(),
                status: s.status.to_string(),
                ipv4: s.ipv4.to_string(),
                disk_gb: s.disk_gb,
                labels: s.labels.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect(),
            })
            .collect()
    }

    /// Whether the server `name`'s root password is `password` (the password itself is not kept).
    pub fn root_password_matches(&self, name: &str, password: &str) -> bool {
        self.state().servers.values().any(|s| s.name == name && s.root_password.as_deref() == Some(digest(password).as_str()))
    }

    /// The next call of `kind` (see [`KINDS`]) answers Hetzner's error `code` (with the HTTP
    /// status Hetzner gives it), doing nothing.
    pub fn fail_next(&self, kind: &str, code: &str) {
        self.state().fail_next.insert(kind.to_string(), code.to_string());
    }

    /// The next action of `command` (`create_server`, `start_server`, `stop_server`,
    /// `change_server_type`, `delete_server`, `reset_password`) is started but ends in `error`
    /// with `message`, changing nothing (a failed `create_server` takes its server away).
    pub fn fail_next_action(&self, command: &str, message: &str) {
        self.state().fail_action.insert(command.to_string(), message.to_string());
    }

    /// The next call of `kind` does its work, then answers HTTP 502 (a reply lost on the way).
    pub fn lose_next_reply(&self, kind: &str) {
        self.state().lose_next.insert(kind.to_string());
    }

    /// How many calls of `kind` arrived (whether they succeeded or not).
    pub fn calls(&self, kind: &str) -> usize {
        self.state().calls.get(kind).copied().unwrap_or(0)
    }

    /// While down, every call answers HTTP 503 `unavailable`.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::Relaxed);
    }

    /// While stuck, actions keep running however often they are polled.
    pub fn set_actions_stuck(&self, stuck: bool) {
        self.stuck.store(stuck, Ordering::Relaxed);
    }

    /// Ends the actions that have run their time.
    fn settle(&self, st: &mut State, now: DateTime<Utc>) {
        if self.stuck.load(Ordering::Relaxed) {
            return;
        }
        let due: Vec<i64> = st
            .actions
            .values()
            .filter(|a| {
                a.progress == Progress::Running
                    && ((now - a.started).num_milliseconds() >= ACTION_RUNS_MS || a.began.elapsed().as_millis() >= ACTION_RUNS_MS as u128)
            })
            .map(|a| a.id)
            .collect();
        for id in due {
            finish(st, id, now);
        }
    }

    fn start_action(&self, st: &mut State, command: &'static str, server: i64, effect: Effect, now: DateTime<Utc>) -> Value {
        st.last_action += 1;
        let id = st.last_action;
        let fails = st.fail_action.remove(command);
        let a = Action {
            id,
            command,
            server,
            started: now,
            began: Instant::now(),
            finished: None,
            progress: Progress::Running,
            error: None,
            effect,
            fails,
        };
        let shown = action_json(&a);
        st.actions.insert(id, a);
        shown
    }

    /// This billing period's traffic, outgoing and incoming, in bytes: `None` (null) within the
    /// first hour; then growing by the hour at a rate fixed by the server's name.
    fn traffic(&self, s: &Server, now: DateTime<Utc>) -> (Option<i64>, Option<i64>) {
        let month = Utc.with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0).single().unwrap_or(s.created);
        let hours = (now - s.created.max(month)).num_hours();
        if hours <= 0 {
            return (None, None);
        }
        let outgoing = hours * (8 + seeded(&s.name, 120)) * MIB;
        (Some(outgoing), Some(outgoing / 4 + hours * MIB))
    }

    fn server_json(&self, st: &State, s: &Server, now: DateTime<Utc>) -> Value {
        let (outgoing, ingoing) = self.traffic(s, now);
        let [a, b, c, d] = s.ipv4.octets();
        json!({
            "id": s.id, "name": s.name, "status": s.status, "created": time(s.created),
            "public_net": {
                "ipv4": {"id": s.id * 10 + 1, "ip": s.ipv4.to_string(), "blocked": false,
                         "dns_ptr": format!("static.{d}.{c}.{b}.{a}.clients.your-server.de")},
                "ipv6": {"id": s.id * 10 + 2, "ip": format!("2001:db8:{:x}::/64", s.id % 0x1_0000), "blocked": false, "dns_ptr": []},
                "floating_ips": [], "firewalls": [],
            },
            "private_net": [], "server_type": type_json(s.server_type), "datacenter": datacenter_json(s.location),
            "image": image_json(s.image), "iso": null, "rescue_enabled": false, "locked": busy(st, s.id), "backup_window": null,
            "outgoing_traffic": outgoing, "ingoing_traffic": ingoing, "included_traffic": s.location.included_tib * TIB,
            "protection": {"delete": false, "rebuild": false}, "labels": s.labels, "volumes": [], "load_balancers": [],
            "primary_disk_size": s.disk_gb, "placement_group": null,
        })
    }

    /// Counts the call, then answers as Hetzner would: 503 while down, 401 without the token, a
    /// failure a test asked for, or what `run` answers (lost on the way if a test asked so).
    fn serve(&self, req: &HttpRequest, kind: &str, run: impl FnOnce(&Self, DateTime<Utc>) -> Reply) -> HttpResponse {
        *self.state().calls.entry(kind.to_string()).or_default() += 1;
        let now = self.clock.now();
        if self.down.load(Ordering::Relaxed) {
            return error_response(&ApiError::new("unavailable", "the Hetzner Cloud sandbox is down"), now);
        }
        let expected = format!("Bearer {}", self.token);
        if req.headers().get("Authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
            return error_response(&ApiError::new("unauthorized", "unable to authenticate"), now);
        }
        let failing = {
            let mut st = self.state();
            self.settle(&mut st, now);
            st.fail_next.remove(kind)
        };
        let answer = match failing {
            Some(code) => Err(ApiError::new(&code, describe(&code))),
            None => run(self, now),
        };
        if self.state().lose_next.remove(kind) {
            tracing::info!(kind, "Hetzner Cloud sandbox: the reply is lost on purpose");
            return HttpResponse::BadGateway()
                .content_type("text/html; charset=utf-8")
                .body("<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>\n");
        }
        match answer {
            Ok((status, body)) => HttpResponse::build(status).json(body),
            Err(e) => error_response(&e, now),
        }
    }

    fn id(raw: &str) -> Result<i64, ApiError> {
        raw.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| not_found("server", raw))
    }

    fn list(&self, query: &str, now: DateTime<Utc>) -> Reply {
        let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        let name = params.iter().find(|(k, _)| k == "name").map(|(_, v)| v.as_str());
        let statuses: Vec<&str> = params.iter().filter(|(k, _)| k == "status").map(|(_, v)| v.as_str()).collect();
        let st = self.state();
        let servers: Vec<Value> = st
            .servers
            .values()
            .filter(|s| name.is_none_or(|n| s.name == n))
            .filter(|s| statuses.is_empty() || statuses.contains(&s.status))
            .map(|s| self.server_json(&st, s, now))
            .collect();
        let meta = pagination(servers.len());
        Ok((StatusCode::OK, json!({"servers": servers, "meta": meta})))
    }

    fn create(&self, body: &[u8], now: DateTime<Utc>) -> Reply {
        let Ok(Value::Object(o)) = serde_json::from_slice::<Value>(body) else {
            return Err(ApiError::new("json_error", "invalid JSON input in your request"));
        };
        let missing = "Missing data for required field.";
        let name = match o.get("name") {
            None | Some(Value::Null) => return Err(invalid("name", missing)),
            Some(Value::String(s)) => s.trim().to_string(),
            Some(_) => return Err(invalid("name", "Not a valid string.")),
        };
        if !valid_hostname(&name) {
            return Err(invalid("name", "must be a valid hostname as per RFC 1123"));
        }
        let t = match o.get("server_type").and_then(reference) {
            None => return Err(invalid("server_type", missing)),
            Some(r) => server_type(&r).ok_or_else(|| invalid("server_type", &format!("server type '{r}' not found")))?,
        };
        let i = match o.get("image").and_then(reference) {
            None => return Err(invalid("image", missing)),
            Some(r) => image(&r).ok_or_else(|| invalid("image", &format!("image '{r}' not found")))?,
        };
        let l = match (o.get("location").filter(|v| !v.is_null()), o.get("datacenter").filter(|v| !v.is_null())) {
            (Some(_), Some(_)) => return Err(invalid("location", "location and datacenter are mutually exclusive")),
            (Some(v), None) => {
                let r = reference(v).unwrap_or_default();
                location(&r).ok_or_else(|| invalid("location", &format!("location '{r}' not found")))?
            }
            (None, Some(v)) => {
                let r = reference(v).unwrap_or_default();
                LOCATIONS
                    .iter()
                    .find(|l| l.datacenter == r || l.datacenter_id.to_string() == r)
                    .ok_or_else(|| invalid("datacenter", &format!("datacenter '{r}' not found")))?
            }
            (None, None) => &LOCATIONS[0],
        };
        let labels = match o.get("labels") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) if m.values().all(Value::is_string) => m.clone(),
            Some(_) => return Err(invalid("labels", "must be an object of strings")),
        };
        let start = match o.get("start_after_create") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(invalid("start_after_create", "Not a valid boolean.")),
        };
        let with_keys = o.get("ssh_keys").and_then(Value::as_array).is_some_and(|k| !k.is_empty());

        let mut st = self.state();
        if st.servers.values().any(|s| s.name.eq_ignore_ascii_case(&name)) {
            return Err(ApiError {
                code: "uniqueness_error".into(),
                message: "server name is already used".into(),
                details: json!({"fields": [{"name": "name"}]}),
            });
        }
        let taken: HashSet<Ipv4Addr> = st.servers.values().map(|s| s.ipv4).collect();
        let ipv4 = (2..=254u8)
            .map(|host| Ipv4Addr::new(NETWORK[0], NETWORK[1], NETWORK[2], host))
            .find(|ip| !taken.contains(ip))
            .ok_or_else(|| ApiError::new("resource_unavailable", "no free IPv4 address left in 203.0.113.0/24"))?;
        let password = (!with_keys).then(root_password);
        st.last_server += 1;
        let id = st.last_server;
        st.servers.insert(
            id,
            Server {
                id,
                name,
                server_type: t,
                location: l,
                image: i,
                status: "initializing",
                ipv4,
                created: now,
                labels,
                disk_gb: t.disk_gb,
                root_password: password.as_deref().map(digest),
            },
        );
        let action = self.start_action(&mut st, "create_server", id, Effect::Status(if start { "starting" } else { "off" }), now);
        let next_actions: Vec<Value> =
            if start { vec![self.start_action(&mut st, "start_server", id, Effect::Status("running"), now)] } else { vec![] };
        let server = st.servers.get(&id).map(|s| self.server_json(&st, s, now)).unwrap_or(Value::Null);
        Ok((StatusCode::CREATED, json!({"server": server, "action": action, "next_actions": next_actions, "root_password": password})))
    }

    fn get(&self, raw: &str, now: DateTime<Utc>) -> Reply {
        let id = Self::id(raw)?;
        let st = self.state();
        let s = st.servers.get(&id).ok_or_else(|| not_found("server", raw))?;
        Ok((StatusCode::OK, json!({"server": self.server_json(&st, s, now)})))
    }

    fn delete(&self, raw: &str, now: DateTime<Utc>) -> Reply {
        let id = Self::id(raw)?;
        let mut st = self.state();
        if !st.servers.contains_key(&id) {
            return Err(not_found("server", raw));
        }
        if busy(&st, id) {
            return Err(ApiError::new("locked", describe("locked")));
        }
        if let Some(s) = st.servers.get_mut(&id) {
            s.status = "deleting";
        }
        let action = self.start_action(&mut st, "delete_server", id, Effect::Delete, now);
        Ok((StatusCode::OK, json!({"action": action})))
    }

    fn server_action(&self, raw: &str, name: &str, body: &[u8], now: DateTime<Utc>) -> Reply {
        let id = Self::id(raw)?;
        if !matches!(name, "poweroff" | "poweron" | "change_type" | "reset_password") {
            return Err(ApiError::new("not_found", format!("action '{name}' not found")));
        }
        let mut st = self.state();
        let Some(server) = st.servers.get(&id) else { return Err(not_found("server", raw)) };
        let (status, disk_gb) = (server.status, server.disk_gb);
        if busy(&st, id) {
            return Err(ApiError::new("locked", describe("locked")));
        }
        let (command, effect) = match name {
            "poweroff" => ("stop_server", Effect::Status("off")),
            "poweron" => ("start_server", Effect::Status("running")),
            "reset_password" => ("reset_password", Effect::Nothing),
            _ => {
                let Ok(Value::Object(o)) = serde_json::from_slice::<Value>(body) else {
                    return Err(ApiError::new("json_error", "invalid JSON input in your request"));
                };
                let to = match o.get("server_type").and_then(reference) {
                    None => return Err(invalid("server_type", "Missing data for required field.")),
                    Some(r) => server_type(&r).ok_or_else(|| invalid("server_type", &format!("server type '{r}' not found")))?,
                };
                let upgrade_disk = match o.get("upgrade_disk") {
                    Some(Value::Bool(b)) => *b,
                    None | Some(Value::Null) => return Err(invalid("upgrade_disk", "Missing data for required field.")),
                    Some(_) => return Err(invalid("upgrade_disk", "Not a valid boolean.")),
                };
                if status != "off" {
                    return Err(ApiError::new("server_not_stopped", "the action requires a stopped server"));
                }
                if to.disk_gb < disk_gb {
                    return Err(ApiError::new(
                        "invalid_server_type",
                        format!("server type {} has a smaller disk ({} GB) than the server ({disk_gb} GB)", to.name, to.disk_gb),
                    ));
                }
                ("change_server_type", Effect::ChangeType { to, upgrade_disk })
            }
        };
        let action = self.start_action(&mut st, command, id, effect, now);
        let mut answer = json!({"action": action});
        if name == "reset_password" {
            let password = root_password();
            if let Some(s) = st.servers.get_mut(&id) {
                s.root_password = Some(digest(&password));
            }
            answer["root_password"] = json!(password);
        }
        Ok((StatusCode::CREATED, answer))
    }

    /// An action; polling one that still runs ends it.
    fn action(&self, raw: &str, now: DateTime<Utc>) -> Reply {
        let id = raw.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| not_found("action", raw))?;
        let mut st = self.state();
        if !st.actions.contains_key(&id) {
            return Err(not_found("action", raw));
        }
        if !self.stuck.load(Ordering::Relaxed) {
            finish(&mut st, id, now);
        }
        let a = st.actions.get(&id).ok_or_else(|| not_found("action", raw))?;
        Ok((StatusCode::OK, json!({"action": action_json(a)})))
    }

    fn locations(&self, query: &str) -> Reply {
        let name = url::form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "name").map(|(_, v)| v.into_owned());
        let all: Vec<Value> = LOCATIONS.iter().filter(|l| name.as_deref().is_none_or(|n| l.name == n)).map(location_json).collect();
        let meta = pagination(all.len());
        Ok((StatusCode::OK, json!({"locations": all, "meta": meta})))
    }
}

/// Hetzner's error body, with the rate-limit headers on a 429.
fn error_response(e: &ApiError, now: DateTime<Utc>) -> HttpResponse {
    let mut res = HttpResponse::build(e.status());
    if e.code == "rate_limit_exceeded" {
        let reset = now.timestamp() + 1;
        res.insert_header(("RateLimit-Limit", "3600"))
            .insert_header(("RateLimit-Remaining", "0"))
            .insert_header(("RateLimit-Reset", reset.to_string()));
    }
    res.json(json!({"error": {"code": e.code, "message": e.message, "details": e.details}}))
}

/// The sandbox's routes, relative to where it is mounted.
pub fn configure(cfg: &mut web::ServiceConfig, sandbox: Arc<HetznerSandbox>) {
    cfg.app_data(web::Data::from(sandbox))
        .route("/v1/servers", web::get().to(list_servers))
        .route("/v1/servers", web::post().to(create_server))
        .route("/v1/servers/{id}", web::get().to(get_server))
        .route("/v1/servers/{id}", web::delete().to(delete_server))
        .route("/v1/servers/{id}/actions/{action}", web::post().to(server_action))
        .route("/v1/actions/{id}", web::get().to(get_action))
        .route("/v1/locations", web::get().to(list_locations));
}

async fn list_servers(req: HttpRequest, sandbox: web::Data<HetznerSandbox>) -> HttpResponse {
    sandbox.serve(&req, "list", |s, now| s.list(req.query_string(), now))
}

async fn create_server(req: HttpRequest, body: web::Bytes, sandbox: web::Data<HetznerSandbox>) -> HttpResponse {
    sandbox.serve(&req, "create", |s, now| s.create(&body, now))
}

async fn get_server(req: HttpRequest, id: web::Path<String>, sandbox: web::Data<HetznerSandbox>) -> HttpResponse {
    sandbox.serve(&req, "get", |s, now| s.get(&id, now))
}

async fn delete_server(req: HttpRequest, id: web::Path<String>, sandbox: web::Data<HetznerSandbox>) -> HttpResponse {
    sandbox.serve(&req, "delete", |s, now| s.delete(&id, now))
}

async fn server_action(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
    sandbox: web::Data<HetznerSandbox>,
) -> HttpResponse {
    let (id, action) = path.into_inner();
    sandbox.serve(&req, &action, |s, now| s.server_action(&id, &action, &body, now))
}

async fn get_action(req: HttpRequest, id: web::Path<String>, sandbox: web::Data<HetznerSandbox>) -> HttpResponse {
    sandbox.serve(&req, "action", |s, now| s.action(&id, now))
}

async fn list_locations(req: HttpRequest, sandbox: web::Data<HetznerSandbox>) -> HttpResponse {
    sandbox.serve(&req, "locations", |s, _| s.locations(req.query_string()))
}

#[cfg(test)]
mod tests {
    use std::time::Duration as StdDuration;

    use chrono::Duration;

    use super::*;
    use crate::clock::FixedClock;
    use crate::provisioning::hetzner::Hetzner;
    use crate::provisioning::module::{Account, Created, Module, ModuleError, NewAccount, Usage};

    /// A sandbox served on a loopback port, its clock and an adapter pointed at it.
    struct Running {
        sandbox: Arc<HetznerSandbox>,
        clock: FixedClock,
        hetzner: Hetzner,
        /// `{base_url}/v1`.
        api: String,
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
        let sandbox = Arc::new(HetznerSandbox::new(&format!("http://{addr}/sandbox/hetzner/"), Arc::new(clock.clone())));
        let served = sandbox.clone();
        let handle = crate::provisioning::serve_stand_in(listener, move |c: &mut web::ServiceConfig| {
            let s = served.clone();
            c.service(web::scope("/sandbox/hetzner").configure(move |c| configure(c, s)));
        })
        .unwrap_or_else(|e| panic!("serve: {e}"));
        let api = format!("{}/v1", sandbox.base_url);
        let hetzner = adapter(&api, &sandbox.token);
        Running { sandbox, clock, hetzner, api, handle }
    }

    fn adapter(api: &str, token: &str) -> Hetzner {
        Hetzner::new(api, token)
            .unwrap_or_else(|e| panic!("Hetzner::new: {e}"))
            .with_polling(StdDuration::from_millis(5), StdDuration::from_secs(5))
    }

    fn new_server(name: &str, package: &str, location: Option<&str>, image: Option<&str>) -> NewAccount {
        let mut settings = BTreeMap::new();
        if let Some(l) = location {
            settings.insert("location".to_string(), l.to_string());
        }
        if let Some(i) = image {
            settings.insert("image".to_string(), i.to_string());
        }
        NewAccount {
            username: name.into(),
            domain: format!("{name}.example"),
            password: "Corr3ct-Horse.Battery".into(),
            package: package.into(),
            contact_email: "owner@example.com".into(),
            settings,
        }
    }

    fn permanent(e: Option<ModuleError>) -> String {
        match e {
            Some(ModuleError::Permanent(m)) => m,
            Some(ModuleError::Retryable(m)) => panic!("expected a permanent error, got a retryable one: {m}"),
            None => panic!("expected a permanent error, got success"),
        }
    }

    fn retryable(e: Option<ModuleError>) -> String {
        match e {
            Some(ModuleError::Retryable(m)) => m,
            Some(ModuleError::Permanent(m)) => panic!("expected a retryable error, got a permanent one: {m}"),
            None => panic!("expected a retryable error, got success"),
        }
    }

    fn one(r: &Running, name: &str) -> SandboxServer {
        r.sandbox.servers().into_iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no server {name}"))
    }

    #[actix_web::test]
    async fn every_module_method_round_trips() {
        let r = start();
        let h = &r.hetzner;
        assert_eq!(h.test_connection().await.unwrap_or_else(|e| panic!("test_connection: {e}")), "Hetzner Cloud (6 locations)");

        // A city name, the default image.
        let created = h.create(new_server("web1", "cx22", Some("Falkenstein"), None)).await.unwrap_or_else(|e| panic!("create: {e}"));
        let password = created.password.clone().unwrap_or_else(|| panic!("no root password: {created:?}"));
        assert_eq!(created, Created { ip: Some("203.0.113.2".into()), nameservers: vec![], password: Some(password.clone()) });
        assert!(password.len() >= 16 && r.sandbox.root_password_matches("web1", &password));
        assert!(!r.sandbox.root_password_matches("web1", "Corr3ct-Horse.Battery"), "Keel's password is not sent");
        let web1 = one(&r, "web1");
        assert_eq!(
            (web1.server_type.as_str(), web1.location.as_str(), web1.image.as_str(), web1.status.as_str(), web1.ipv4.as_str()),
            ("cx22", "fsn1", "ubuntu-24.04", "running", "203.0.113.2")
        );
        assert_eq!(web1.labels.get("keel").map(String::as_str), Some("1"));
        // A code in capitals, an image by its display name; a city with its state.
        let second = h
            .create(new_server("web2.example.net", "cx32", Some("HEL1"), Some("Debian 12")))
            .await
            .unwrap_or_else(|e| panic!("create: {e}"));
        assert_eq!(second.ip.as_deref(), Some("203.0.113.3"));
        let web2 = one(&r, "web2.example.net");
        assert_eq!((web2.location.as_str(), web2.image.as_str(), web2.status.as_str()), ("hel1", "debian-12", "running"));
        h.create(new_server("web3", "cx22", Some("Ashburn, VA"), None)).await.unwrap_or_else(|e| panic!("create: {e}"));
        assert_eq!(one(&r, "web3").location, "ash");
        assert_eq!((r.sandbox.calls("create"), r.sandbox.calls("poweron")), (3, 0), "started by start_after_create");

        let found = h.find("web1".into()).await.unwrap_or_else(|e| panic!("find: {e}"));
        assert_eq!(
            found,
            Some(Account { username: "web1".into(), domain: "203.0.113.2".into(), package: "cx22".into(), suspended: false })
        );
        assert_eq!(h.find("nobodyhere".into()).await.unwrap_or_else(|e| panic!("find: {e}")), None);

        // Suspend: powered off; again: nothing to do.
        h.suspend("web1".into(), "Invoice INV-2025-0001 overdue".into()).await.unwrap_or_else(|e| panic!("suspend: {e}"));
        assert_eq!(one(&r, "web1").status, "off");
        assert!(h.find("web1".into()).await.ok().flatten().is_some_and(|a| a.suspended));
        h.suspend("web1".into(), String::new()).await.unwrap_or_else(|e| panic!("suspend again: {e}"));
        assert_eq!(r.sandbox.calls("poweroff"), 1);
        h.unsuspend("web1".into()).await.unwrap_or_else(|e| panic!("unsuspend: {e}"));
        assert_eq!(one(&r, "web1").status, "running");
        assert!(h.find("web1".into()).await.ok().flatten().is_some_and(|a| !a.suspended));
        h.unsuspend("web1".into()).await.unwrap_or_else(|e| panic!("unsuspend again: {e}"));
        assert_eq!(r.sandbox.calls("poweron"), 1);

        // Change the type: off, change, on; the disk is kept, so going back down works.
        h.change_package("web1".into(), "cx42".into()).await.unwrap_or_else(|e| panic!("change_package: {e}"));
        let web1 = one(&r, "web1");
        assert_eq!((web1.server_type.as_str(), web1.status.as_str(), web1.disk_gb), ("cx42", "running", 40));
        assert_eq!((r.sandbox.calls("poweroff"), r.sandbox.calls("change_type"), r.sandbox.calls("poweron")), (2, 1, 2));
        assert_eq!(h.find("web1".into()).await.ok().flatten().map(|a| a.package), Some("cx42".to_string()));
        h.change_package("web1".into(), "cx22".into()).await.unwrap_or_else(|e| panic!("change_package down: {e}"));
        assert_eq!(one(&r, "web1").server_type, "cx22");
        h.change_package("web1".into(), "cx22".into()).await.unwrap_or_else(|e| panic!("change_package to the same: {e}"));
        assert_eq!(r.sandbox.calls("change_type"), 2, "already of that type");
        // A suspended server stays off.
        h.suspend("web1".into(), String::new()).await.unwrap_or_else(|e| panic!("suspend: {e}"));
        h.change_package("web1".into(), "cx32".into()).await.unwrap_or_else(|e| panic!("change_package while off: {e}"));
        let web1 = one(&r, "web1");
        assert_eq!((web1.server_type.as_str(), web1.status.as_str()), ("cx32", "off"));
        h.unsuspend("web1".into()).await.unwrap_or_else(|e| panic!("unsuspend: {e}"));
        let m = permanent(h.change_package("web1".into(), "cx99".into()).await.err());
        assert!(m.contains("server_type") && m.contains("cx99"), "{m}");
        assert_eq!(one(&r, "web1").status, "running", "powered on again after a refused change");

        // Usage: no traffic yet (null), the location's included traffic, the disk kept.
        let usage = h.usage("web1".into()).await.unwrap_or_else(|e| panic!("usage: {e}"));
        assert_eq!(
            usage,
            Usage { disk_used_mb: 0, disk_limit_mb: Some(40 * 1024), bandwidth_used_mb: 0, bandwidth_limit_mb: Some(20 * 1024 * 1024) }
        );
        r.clock.advance(Duration::hours(30));
        let later = h.usage("web1".into()).await.unwrap_or_else(|e| panic!("usage: {e}"));
        assert!(later.bandwidth_used_mb >= 30 * 8, "{later:?}");
        assert_eq!(h.usage("web3".into()).await.ok().and_then(|u| u.bandwidth_limit_mb), Some(1024 * 1024), "1 TiB in Ashburn");
        assert_eq!(h.usage("web2.example.net".into()).await.ok().and_then(|u| u.disk_limit_mb), Some(80 * 1024));

        // Terminate; again: done already. The address is free again.
        h.terminate("web1".into()).await.unwrap_or_else(|e| panic!("terminate: {e}"));
        assert!(r.sandbox.servers().iter().all(|s| s.name != "web1"));
        assert_eq!(h.find("web1".into()).await.ok(), Some(None));
        h.terminate("web1".into()).await.unwrap_or_else(|e| panic!("terminate again: {e}"));
        assert_eq!(r.sandbox.calls("delete"), 1);
        let again = h.create(new_server("web4", "cx22", Some("nbg1"), None)).await.unwrap_or_else(|e| panic!("create: {e}"));
        assert_eq!(again.ip.as_deref(), Some("203.0.113.2"));

        for m in [
            permanent(h.suspend("web1".into(), String::new()).await.err()),
            permanent(h.unsuspend("web1".into()).await.err()),
            permanent(h.usage("web1".into()).await.err()),
            permanent(h.change_package("web1".into(), "cx32".into()).await.err()),
        ] {
            assert!(m.contains("no server named \"web1\""), "{m}");
        }
        r.stop().await;
    }

    #[actix_web::test]
    async fn errors_are_classified() {
        let r = start();
        let h = &r.hetzner;
        // A wrong token: permanent, and no token in the message.
        let wrong = adapter(&r.api, "WRONGTOKEN0000");
        let m = permanent(wrong.test_connection().await.err());
        assert!(m.contains("refused the API token"), "{m}");
        assert!(!m.contains("WRONGTOKEN0000") && !m.contains(&r.sandbox.token), "{m}");
        permanent(wrong.create(new_server("web", "cx22", None, None)).await.err());
        assert!(r.sandbox.servers().is_empty());

        // Down: retryable.
        r.sandbox.set_down(true);
        let m = retryable(h.test_connection().await.err());
        assert!(m.contains("unavailable"), "{m}");
        retryable(h.create(new_server("web", "cx22", None, None)).await.err());
        r.sandbox.set_down(false);
        assert!(h.test_connection().await.is_ok());
        assert!(r.sandbox.servers().is_empty());

        // Not reached at all: retryable.
        let port =
            std::net::TcpListener::bind(("127.0.0.1", 0)).and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or_else(|e| panic!("{e}"));
        retryable(adapter(&format!("http://127.0.0.1:{port}/v1"), "TOKEN").test_connection().await.err());

        // Failures by code: retryable or not, and nothing done.
        r.sandbox.fail_next("create", "resource_unavailable");
        let m = retryable(h.create(new_server("web", "cx22", Some("fsn1"), None)).await.err());
        assert!(m.contains("resource_unavailable"), "{m}");
        r.sandbox.fail_next("create", "uniqueness_error");
        permanent(h.create(new_server("web", "cx22", Some("fsn1"), None)).await.err());
        r.sandbox.fail_next("create", "token_readonly");
        assert!(permanent(h.create(new_server("web", "cx22", None, None)).await.err()).contains("read-only"));
        r.sandbox.fail_next("create", "maintenance");
        retryable(h.create(new_server("web", "cx22", None, None)).await.err());
        assert!(r.sandbox.servers().is_empty());

        // A name taken for real.
        h.create(new_server("web", "cx22", None, None)).await.unwrap_or_else(|e| panic!("create: {e}"));
        let m = permanent(h.create(new_server("web", "cx32", None, None)).await.err());
        assert!(m.contains("uniqueness_error") && m.contains("already used"), "{m}");

        // Unknown location (refused before any call), image, server type; a name that is no hostname.
        let calls = r.sandbox.calls("create");
        let m = permanent(h.create(new_server("other", "cx22", Some("Atlantis"), None)).await.err());
        assert!(m.contains("\"Atlantis\"") && m.contains("fsn1 (Falkenstein)"), "{m}");
        assert_eq!(r.sandbox.calls("create"), calls);
        let m = permanent(h.create(new_server("other", "cx22", None, Some("windows-95"))).await.err());
        assert!(m.contains("image") && m.contains("windows-95") && m.contains("invalid_input"), "{m}");
        let m = permanent(h.create(new_server("other", "cx99", None, None)).await.err());
        assert!(m.contains("server_type") && m.contains("cx99"), "{m}");
        let m = permanent(h.create(new_server("not_a_hostname!", "cx22", None, None)).await.err());
        assert!(m.contains("'name'"), "{m}");
        assert_eq!(r.sandbox.servers().len(), 1);

        // What Hetzner cannot do.
        let m = permanent(h.change_password("web".into(), "N3w-Passw0rd.Here".into()).await.err());
        assert!(m.contains("Hetzner Cloud sets root passwords itself"), "{m}");
        assert!(!m.contains("N3w-Passw0rd.Here"));
        assert_eq!(permanent(h.sso_url("web".into()).await.err()), "no control panel for Hetzner Cloud servers");

        // One 429 is waited out; a locked server is retryable; a protected one is not.
        let lists = r.sandbox.calls("list");
        r.sandbox.fail_next("list", "rate_limit_exceeded");
        assert!(h.find("web".into()).await.is_ok_and(|a| a.is_some()));
        assert_eq!(r.sandbox.calls("list"), lists + 2);
        r.sandbox.fail_next("poweroff", "locked");
        assert!(retryable(h.suspend("web".into(), String::new()).await.err()).contains("locked"));
        h.suspend("web".into(), String::new()).await.unwrap_or_else(|e| panic!("suspend: {e}"));
        r.sandbox.fail_next("delete", "protected");
        permanent(h.terminate("web".into()).await.err());
        assert_eq!(r.sandbox.servers().len(), 1);
        // A passing failure while polling an action is polled past.
        r.sandbox.fail_next("action", "server_error");
        h.unsuspend("web".into()).await.unwrap_or_else(|e| panic!("unsuspend: {e}"));
        assert_eq!(one(&r, "web").status, "running");
        r.stop().await;
    }

    #[actix_web::test]
    async fn a_lost_reply_still_creates_the_server() {
        let r = start();
        let h = &r.hetzner;
        r.sandbox.lose_next_reply("create");
        let m = retryable(h.create(new_server("lost", "cx32", Some("Nuremberg"), None)).await.err());
        assert!(m.contains("502"), "{m}");
        assert_eq!(r.sandbox.calls("create"), 1);
        let found = h.find("lost".into()).await.unwrap_or_else(|e| panic!("find: {e}"));
        assert_eq!(found.map(|a| (a.domain, a.package)), Some(("203.0.113.2".to_string(), "cx32".to_string())));
        // Nobody polls its actions: they end by themselves.
        actix_web::rt::time::sleep(StdDuration::from_millis(350)).await;
        assert_eq!(one(&r, "lost").status, "running");
        // Creating again is refused for good: the worker must look before creating.
        assert!(permanent(h.create(new_server("lost", "cx32", Some("nbg1"), None)).await.err()).contains("uniqueness_error"));

        r.sandbox.lose_next_reply("delete");
        retryable(h.terminate("lost".into()).await.err());
        h.terminate("lost".into()).await.unwrap_or_else(|e| panic!("a retried termination: {e}"));
        actix_web::rt::time::sleep(StdDuration::from_millis(350)).await;
        assert_eq!(h.find("lost".into()).await.ok(), Some(None));
        h.terminate("lost".into()).await.unwrap_or_else(|e| panic!("terminate once more: {e}"));
        r.stop().await;
    }

    #[actix_web::test]
    async fn failed_and_slow_actions() {
        let r = start();
        let h = &r.hetzner;
        // A create action that fails: permanent with Hetzner's message; no server is left.
        r.sandbox.fail_next_action("create_server", "image download failed");
        let m = permanent(h.create(new_server("broken", "cx22", None, None)).await.err());
        assert!(m.contains("image download failed"), "{m}");
        assert!(r.sandbox.servers().is_empty());

        // A failed type change: permanent, the type kept, the server running again.
        h.create(new_server("web", "cx22", None, None)).await.unwrap_or_else(|e| panic!("create: {e}"));
        r.sandbox.fail_next_action("change_server_type", "no capacity for cx52 on this host");
        let m = permanent(h.change_package("web".into(), "cx52".into()).await.err());
        assert!(m.contains("no capacity for cx52 on this host"), "{m}");
        let web = one(&r, "web");
        assert_eq!((web.server_type.as_str(), web.status.as_str()), ("cx22", "running"));

        // An action that does not end in time: retryable.
        let impatient = Hetzner::new(&r.api, &r.sandbox.token)
            .unwrap_or_else(|e| panic!("{e}"))
            .with_polling(StdDuration::from_millis(5), StdDuration::from_millis(60));
        r.sandbox.set_actions_stuck(true);
        let m = retryable(impatient.suspend("web".into(), String::new()).await.err());
        assert!(m.contains("had not finished"), "{m}");
        r.sandbox.set_actions_stuck(false);
        r.clock.advance(Duration::seconds(1));
        h.suspend("web".into(), String::new()).await.unwrap_or_else(|e| panic!("suspend: {e}"));
        assert_eq!(one(&r, "web").status, "off");
        r.stop().await;
    }

    #[actix_web::test]
    async fn speaks_hetzners_wire_format() {
        let r = start();
        let http = reqwest::Client::new();
        let bearer = format!("Bearer {}", r.sandbox.token);
        let call = |method: reqwest::Method, path: &str, body: Option<Value>, auth: Option<&str>| {
            let mut req = http.request(method, format!("{}{path}", r.api));
            if let Some(a) = auth {
                req = req.header("Authorization", a.to_string());
            }
            if let Some(b) = body {
                req = req.json(&b);
            }
            async move {
                let res = req.send().await.unwrap_or_else(|e| panic!("{e}"));
                let status = res.status().as_u16();
                let text = res.text().await.unwrap_or_default();
                (status, serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text)))
            }
        };
        use reqwest::Method;
        let auth = Some(bearer.as_str());

        let (status, v) = call(Method::GET, "/locations", None, None).await;
        assert_eq!((status, v["error"]["code"].as_str()), (401, Some("unauthorized")), "{v}");
        let (status, _) = call(Method::GET, "/locations", None, Some("Bearer nottheone")).await;
        assert_eq!(status, 401);
        let (status, v) = call(Method::GET, "/locations", None, auth).await;
        assert_eq!(status, 200);
        let names: Vec<&str> = v["locations"].as_array().map(|l| l.iter().filter_map(|l| l["name"].as_str()).collect()).unwrap_or_default();
        assert_eq!(names, ["fsn1", "nbg1", "hel1", "ash", "hil", "sin"]);
        assert_eq!(v["meta"]["pagination"]["total_entries"], 6);

        // Invalid input names the field; broken JSON is json_error.
        let (status, v) = call(Method::POST, "/servers", Some(json!({"server_type": "cx22", "image": "debian-12"})), auth).await;
        assert_eq!((status, v["error"]["code"].as_str()), (422, Some("invalid_input")), "{v}");
        assert_eq!(v["error"]["details"]["fields"][0]["name"], "name");
        let (status, v) = call(
            Method::POST,
            "/servers",
            Some(json!({"name": "x", "server_type": "cx22", "image": "debian-12", "location": "xyz"})),
            auth,
        )
        .await;
        assert_eq!((status, v["error"]["details"]["fields"][0]["name"].as_str()), (422, Some("location")), "{v}");
        let (status, v) = call(Method::POST, "/servers", Some(json!("not an object")), auth).await;
        assert_eq!((status, v["error"]["code"].as_str()), (400, Some("json_error")), "{v}");

        // Created off: running actions, a root password, an address from 203.0.113.0/24.
        let spec = json!({"name": "raw1", "server_type": "cx22", "image": "debian-12", "location": "nbg1", "start_after_create": false});
        let (status, v) = call(Method::POST, "/servers", Some(spec), auth).await;
        assert_eq!(status, 201, "{v}");
        assert_eq!(
            (v["server"]["status"].as_str(), v["server"]["public_net"]["ipv4"]["ip"].as_str()),
            (Some("initializing"), Some("203.0.113.2"))
        );
        assert_eq!((v["action"]["command"].as_str(), v["action"]["status"].as_str()), (Some("create_server"), Some("running")));
        assert_eq!(v["next_actions"].as_array().map(Vec::len), Some(0));
        assert!(v["root_password"].as_str().is_some_and(|p| p.len() >= 16));
        assert_eq!(v["server"]["datacenter"]["location"]["name"], "nbg1");
        assert_eq!(v["server"]["server_type"]["disk"], 40);
        let id = v["server"]["id"].as_i64().unwrap_or_else(|| panic!("{v}"));
        let action = v["action"]["id"].as_i64().unwrap_or_else(|| panic!("{v}"));
        let (_, v) = call(Method::GET, &format!("/servers/{id}"), None, auth).await;
        assert_eq!(v["server"]["locked"], true);
        let (status, v) = call(Method::GET, &format!("/actions/{action}"), None, auth).await;
        assert_eq!((status, v["action"]["status"].as_str(), v["action"]["progress"].as_i64()), (200, Some("success"), Some(100)), "{v}");
        assert!(v["action"]["finished"].is_string());
        let (_, v) = call(Method::GET, &format!("/servers/{id}"), None, auth).await;
        assert_eq!((v["server"]["status"].as_str(), v["server"]["locked"].as_bool()), (Some("off"), Some(false)));

        // change_type wants upgrade_disk, and a stopped server; a running action locks the server.
        let change = |t: &str, upgrade: Option<bool>| {
            let mut b = json!({"server_type": t});
            if let Some(u) = upgrade {
                b["upgrade_disk"] = json!(u);
            }
            b
        };
        let (status, v) = call(Method::POST, &format!("/servers/{id}/actions/change_type"), Some(change("cx32", None)), auth).await;
        assert_eq!((status, v["error"]["details"]["fields"][0]["name"].as_str()), (422, Some("upgrade_disk")), "{v}");
        let (status, v) = call(Method::POST, &format!("/servers/{id}/actions/poweron"), None, auth).await;
        assert_eq!((status, v["action"]["command"].as_str()), (201, Some("start_server")), "{v}");
        let (status, v) = call(Method::POST, &format!("/servers/{id}/actions/poweroff"), None, auth).await;
        assert_eq!((status, v["error"]["code"].as_str()), (423, Some("locked")), "{v}");
        r.clock.advance(Duration::seconds(1));
        let (_, v) = call(Method::GET, &format!("/servers/{id}"), None, auth).await;
        assert_eq!(v["server"]["status"], "running", "an action ends by itself after 300 ms of the sandbox's clock");
        let (status, v) = call(Method::POST, &format!("/servers/{id}/actions/change_type"), Some(change("cx32", Some(true))), auth).await;
        assert_eq!((status, v["error"]["code"].as_str()), (422, Some("server_not_stopped")), "{v}");
        let (_, v) = call(Method::POST, &format!("/servers/{id}/actions/poweroff"), None, auth).await;
        let stop = v["action"]["id"].as_i64().unwrap_or_else(|| panic!("{v}"));
        call(Method::GET, &format!("/actions/{stop}"), None, auth).await;
        // Upgrading the disk makes going back down impossible.
        let (status, v) = call(Method::POST, &format!("/servers/{id}/actions/change_type"), Some(change("cx32", Some(true))), auth).await;
        assert_eq!(status, 201, "{v}");
        let changed = v["action"]["id"].as_i64().unwrap_or_else(|| panic!("{v}"));
        call(Method::GET, &format!("/actions/{changed}"), None, auth).await;
        let (status, v) = call(Method::POST, &format!("/servers/{id}/actions/change_type"), Some(change("cx22", Some(false))), auth).await;
        assert_eq!((status, v["error"]["code"].as_str()), (422, Some("invalid_server_type")), "{v}");
        let (_, v) = call(Method::GET, &format!("/servers/{id}"), None, auth).await;
        assert_eq!((v["server"]["server_type"]["name"].as_str(), v["server"]["primary_disk_size"].as_i64()), (Some("cx32"), Some(80)));
        let (status, v) = call(Method::POST, &format!("/servers/{id}/actions/reset_password"), None, auth).await;
        assert_eq!((status, v["root_password"].is_string()), (201, true), "{v}");
        assert!(v["root_password"].as_str().is_some_and(|p| r.sandbox.root_password_matches("raw1", p)));
        let (status, v) = call(Method::POST, &format!("/servers/{id}/actions/rebuild"), None, auth).await;
        assert_eq!((status, v["error"]["code"].as_str()), (404, Some("not_found")), "{v}");

        // Lists by name; unknown servers and actions are not_found.
        let (_, v) = call(Method::GET, "/servers?name=raw1", None, auth).await;
        assert_eq!(v["servers"].as_array().map(Vec::len), Some(1));
        let (_, v) = call(Method::GET, "/servers?name=raw2", None, auth).await;
        assert_eq!((v["servers"].as_array().map(Vec::len), v["meta"]["pagination"]["total_entries"].as_i64()), (Some(0), Some(0)));
        for path in ["/servers/1", "/servers/abc", "/actions/1"] {
            let (status, v) = call(Method::GET, path, None, auth).await;
            assert_eq!((status, v["error"]["code"].as_str()), (404, Some("not_found")), "{path}: {v}");
        }

        // Delete: `deleting` until its action ends, then gone.
        r.clock.advance(Duration::seconds(1));
        let (status, v) = call(Method::DELETE, &format!("/servers/{id}"), None, auth).await;
        assert_eq!((status, v["action"]["command"].as_str()), (200, Some("delete_server")), "{v}");
        let deleting = v["action"]["id"].as_i64().unwrap_or_else(|| panic!("{v}"));
        let (_, v) = call(Method::GET, &format!("/servers/{id}"), None, auth).await;
        assert_eq!(v["server"]["status"], "deleting");
        call(Method::GET, &format!("/actions/{deleting}"), None, auth).await;
        let (status, _) = call(Method::GET, &format!("/servers/{id}"), None, auth).await;
        assert_eq!(status, 404);

        // Hooks: a failure by code with Hetzner's status, a lost reply, the count of calls.
        r.sandbox.fail_next("locations", "maintenance");
        let (status, v) = call(Method::GET, "/locations", None, auth).await;
        assert_eq!((status, v["error"]["code"].as_str()), (403, Some("maintenance")), "{v}");
        r.sandbox.fail_next("locations", "rate_limit_exceeded");
        let (status, _) = call(Method::GET, "/locations", None, auth).await;
        assert_eq!(status, 429);
        r.sandbox.lose_next_reply("locations");
        let (status, _) = call(Method::GET, "/locations", None, auth).await;
        assert_eq!(status, 502);
        r.sandbox.set_down(true);
        let (status, v) = call(Method::GET, "/locations", None, auth).await;
        assert_eq!((status, v["error"]["code"].as_str()), (503, Some("unavailable")));
        r.sandbox.set_down(false);
        assert_eq!(r.sandbox.calls("locations"), 7);
        assert!(!format!("{:?}", r.sandbox).contains(&r.sandbox.token), "Debug shows no token");
        assert!(!format!("{:?}", r.hetzner).contains(&r.sandbox.token), "Debug shows no token");
        r.stop().await;
    }
}
