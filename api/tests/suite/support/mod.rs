//! Test harness: a [`TestApp`] per test, each with its own fresh database: a temporary SQLite file,
//! or a new PostgreSQL database dropped when the test ends. PostgreSQL tests run whenever the
//! server is reachable and are required when `CI=true`.

use std::sync::{Arc, OnceLock};

use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::{header, Method, StatusCode};
use actix_web::test::{self, TestRequest};
use chrono::{TimeZone, Utc};
use diesel::connection::SimpleConnection;
use diesel::Connection;
use keel_api::clock::{Clock, FixedClock};
use keel_api::config::Config;
use keel_api::db::{self, Backend, DbUrl};
use keel_api::state::AppState;
use serde_json::Value;

pub const ADMIN_EMAIL: &str = "admin@keel.test";
pub const ADMIN_PASSWORD: &str = "admin password 123";
/// The password of every client and staff member the builders make.
pub const PASSWORD: &str = "correct horse battery";

mod builders;
pub mod standins;
pub use builders::{a_client, a_staff_member, an_api_key, enable_2fa, the_admin, User};

fn postgres_base() -> String {
    std::env::var("KEEL_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// A database that exists for one test.
pub enum TestDb {
    Sqlite(tempfile::TempDir),
    Postgres { dir: tempfile::TempDir, name: String },
}

impl TestDb {
    pub fn dir(&self) -> &std::path::Path {
        match self {
            TestDb::Sqlite(d) | TestDb::Postgres { dir: d, .. } => d.path(),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { name, .. } = self {
            if let Ok(mut c) = diesel::PgConnection::establish(&format!("{}/postgres", postgres_base())) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

/// Everything the test binary logs (debug and up), for tests that check what never reaches a
/// log: installed as the global subscriber when the first app starts.
pub fn logs() -> String {
    String::from_utf8_lossy(&log_buffer().lock().unwrap()).into_owned()
}

fn log_buffer() -> &'static Arc<std::sync::Mutex<Vec<u8>>> {
    static BUFFER: OnceLock<Arc<std::sync::Mutex<Vec<u8>>>> = OnceLock::new();
    BUFFER.get_or_init(|| {
        let buffer: Arc<std::sync::Mutex<Vec<u8>>> = Arc::default();
        let sink = buffer.clone();
        let writer = move || LogWriter(sink.clone());
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
            .with_ansi(false)
            .with_writer(writer)
            .try_init();
        buffer
    })
}

struct LogWriter(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Whether the PostgreSQL server answers, asked once per test binary. When it does not, outside CI,
/// every PostgreSQL test is skipped and the binary says so once, on stderr past libtest's output
/// capture (an `eprintln!` inside a test is only shown when the test fails), so a run that tested
/// only SQLite never looks like a full pass. With `CI=true` every PostgreSQL test fails instead.
fn postgres_unreachable() -> Option<String> {
    static UNREACHABLE: OnceLock<Option<String>> = OnceLock::new();
    UNREACHABLE
        .get_or_init(|| {
            let admin = format!("{}/postgres", postgres_base());
            let error = diesel::PgConnection::establish(&admin).err()?.to_string();
            // libpq's message spans lines; the skip notice is one.
            let why = format!("cannot connect to {admin}: {}", error.split_whitespace().collect::<Vec<_>>().join(" "));
            if !in_ci() {
                let line = format!("SKIPPING PostgreSQL tests: {why} (set KEEL_TEST_POSTGRES_URL; with CI=true they fail)\n");
                let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
            }
            Some(why)
        })
        .clone()
}

fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// Creates a fresh database for `backend`; `None` when PostgreSQL is not reachable outside CI.
pub fn fresh_db(backend: Backend) -> Option<(TestDb, DbUrl)> {
    // Tests run side by side in this one process and share its password-hashing gate: a patient
    // one (a hash per core, any number waiting), so one test's parallel sign-ins do not answer
    // another's 503 `busy`. The real gate is measured by `keel bench login-flood` (cli.rs).
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    keel_api::identity::password::Gate::set_global(keel_api::identity::password::Gate::new(
        cores,
        usize::MAX,
        std::time::Duration::from_secs(300),
    ));
    let dir = tempfile::tempdir().unwrap();
    match backend {
        Backend::Sqlite => {
            let url = DbUrl::parse(dir.path().join("keel.db").to_str().unwrap()).unwrap();
            Some((TestDb::Sqlite(dir), url))
        }
        Backend::Postgres => {
            if let Some(why) = postgres_unreachable() {
                assert!(!in_ci(), "PostgreSQL is required in CI, but {why}");
                return None;
            }
            let mut conn = diesel::PgConnection::establish(&format!("{}/postgres", postgres_base())).unwrap();
            let name = format!("keel_test_{}", uuid_simple());
            conn.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
            let url = DbUrl::parse(&format!("{}/{name}", postgres_base())).unwrap();
            Some((TestDb::Postgres { dir, name }, url))
        }
    }
}

fn uuid_simple() -> String {
    keel_api::ids::new_id().replace('-', "")
}

pub struct TestApp {
    pub state: AppState,
    pub clock: FixedClock,
    /// The WHM stand-in behind this app's cPanel sandbox server.
    pub whm: standins::Whm,
    /// The Hetzner Cloud stand-in behind its cloud sandbox server.
    pub hetzner: standins::Hetzner,
    /// Held for its `Drop`: the database goes when the app does.
    _db: TestDb,
}

pub struct Res {
    pub status: StatusCode,
    pub headers: header::HeaderMap,
    pub body: Value,
    pub text: String,
    /// The body as received (for answers that are not text: PDFs).
    pub bytes: Vec<u8>,
}

impl Res {
    pub fn content_type(&self) -> &str {
        self.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
    /// The `keel_refresh` cookie value set by this response, if any.
    pub fn refresh_cookie(&self) -> Option<String> {
        self.headers.get_all(header::SET_COOKIE).filter_map(|v| v.to_str().ok()).find_map(|c| {
            let v = c.strip_prefix("keel_refresh=")?;
            Some(v.split(';').next().unwrap_or("").to_string())
        })
    }
    pub fn set_cookie_header(&self) -> String {
        self.headers.get_all(header::SET_COOKIE).filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join("\n")
    }
    /// Asserts an RFC 9457 problem with this status and returns it.
    pub fn problem(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "status; body: {}", self.text);
        assert_eq!(self.content_type(), "application/problem+json", "content type; body: {}", self.text);
        assert_eq!(self.body["status"], status);
        assert!(self.body["code"].is_string() && self.body["title"].is_string(), "problem body: {}", self.text);
        // Every problem names its request, as the X-Request-Id header does.
        let id = self.headers.get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("no x-request-id header");
        assert_eq!(self.body["request_id"], id, "problem body: {}", self.text);
        &self.body
    }
}

impl TestApp {
    pub async fn new(backend: Backend) -> Option<TestApp> {
        Self::new_with(backend, |_| {}).await
    }

    /// A test app whose configuration `f` adjusts first.
    pub async fn new_with(backend: Backend, f: impl FnOnce(&mut Config)) -> Option<TestApp> {
        let (db, url) = fresh_db(backend)?;
        let mut config = Config::for_dir(db.dir(), url.clone());
        config.admin_email = Some(ADMIN_EMAIL.into());
        config.admin_password = Some(ADMIN_PASSWORD.into());
        // The payment gateways are the stand-ins on this binary's loopback port (an app under
        // test has no port for its own sandboxes to call back).
        let (stripe, _) = standins::stripe();
        config.stripe = Some(keel_api::config::StripeKeys {
            secret_key: standins::STRIPE_KEY.into(),
            webhook_secret: standins::STRIPE_WEBHOOK_SECRET.into(),
            api_url: stripe,
        });
        let (razorpay, _) = standins::razorpay();
        let (key_id, key_secret, webhook_secret) = standins::RAZORPAY_KEYS;
        config.razorpay = Some(keel_api::config::RazorpayKeys {
            key_id: key_id.into(),
            key_secret: key_secret.into(),
            webhook_secret: webhook_secret.into(),
            api_url: razorpay,
        });
        log_buffer();
        let whm = standins::whm();
        config.sandbox_whm = Some(whm.target.clone());
        let hetzner = standins::hetzner();
        config.sandbox_hetzner = Some(hetzner.target.clone());
        f(&mut config);
        let clock = FixedClock::new(Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap());
        let pool = db::connect(&url, 4).unwrap();
        let secret = config.secret_key.clone().unwrap().into_bytes();
        let state = AppState::new(pool, config, Arc::new(clock.clone()), secret).unwrap();
        let mut conn = state.pool.get().unwrap();
        keel_api::bootstrap::first_start(&mut conn, &state.config, state.jobs.tasks(), clock.now()).unwrap();
        drop(conn);
        Some(TestApp { state, clock, whm, hetzner, _db: db })
    }

    pub async fn request(&self, req: TestRequest) -> Res {
        let app = test::init_service(keel_api::http::app::build(self.state.clone())).await;
        let res = test::call_service(&app, req.to_request()).await;
        read(res).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Res {
        let mut req = TestRequest::get().uri(path);
        if let Some(t) = token {
            req = req.insert_header((header::AUTHORIZATION, format!("Bearer {t}")));
        }
        self.request(req).await
    }

    pub async fn post_json(&self, path: &str, body: Value) -> Res {
        self.request(TestRequest::post().uri(path).set_json(body)).await
    }

    pub async fn send_raw(&self, method: Method, path: &str, content_type: Option<&str>, body: &[u8]) -> Res {
        let mut req = TestRequest::default().method(method).uri(path).set_payload(body.to_vec());
        if let Some(ct) = content_type {
            req = req.insert_header((header::CONTENT_TYPE, ct));
        }
        self.request(req).await
    }

    pub async fn post_with_cookie(&self, path: &str, refresh: &str) -> Res {
        self.request(TestRequest::post().uri(path).insert_header((header::COOKIE, format!("keel_refresh={refresh}")))).await
    }

    /// Registers a client and returns (access token, refresh token, user id).
    pub async fn register(&self, email: &str) -> (String, String, String) {
        let res = self
            .post_json(
                "/api/v1/auth/register",
                serde_json::json!({"email": email, "password": PASSWORD, "first_name": "Ann", "last_name": "Lee"}),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
        (
            res.body["access_token"].as_str().unwrap().to_string(),
            res.refresh_cookie().unwrap(),
            res.body["user"]["id"].as_str().unwrap().to_string(),
        )
    }

    pub async fn login(&self, email: &str, password: &str) -> Res {
        self.post_json("/api/v1/auth/login", serde_json::json!({"email": email, "password": password})).await
    }

    /// Runs every runnable job now, as a worker would.
    pub fn drain(&self) -> usize {
        keel_api::server::drain(&self.state).unwrap()
    }

    pub fn conn(&self) -> keel_api::db::PooledConn {
        self.state.pool.get().unwrap()
    }

    pub fn database_url(&self) -> String {
        self.state.config.database_url.target.clone()
    }

    pub async fn put_json(&self, path: &str, token: &str, body: Value) -> Res {
        self.request(TestRequest::put().uri(path).insert_header((header::AUTHORIZATION, format!("Bearer {token}"))).set_json(body)).await
    }

    pub async fn post_json_authed(&self, path: &str, token: &str, body: Value) -> Res {
        self.request(TestRequest::post().uri(path).insert_header((header::AUTHORIZATION, format!("Bearer {token}"))).set_json(body)).await
    }

    pub async fn post_authed(&self, path: &str, token: &str) -> Res {
        self.request(TestRequest::post().uri(path).insert_header((header::AUTHORIZATION, format!("Bearer {token}")))).await
    }

    pub async fn delete_authed(&self, path: &str, token: &str) -> Res {
        self.request(TestRequest::delete().uri(path).insert_header((header::AUTHORIZATION, format!("Bearer {token}")))).await
    }

    pub async fn admin_token(&self) -> String {
        let res = self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        res.body["access_token"].as_str().unwrap().to_string()
    }
}

/// The `token=` value in the newest e-mail of `template` to `to`.
pub fn token_from_mail(app: &TestApp, to: &str, template: &str) -> Option<String> {
    use diesel::prelude::*;
    use keel_api::schema::emails;
    let body: Option<String> = emails::table
        .filter(emails::to_addr.eq(to))
        .filter(emails::template.eq(template))
        .order(emails::created_at.desc())
        .select(emails::body_text)
        .first(&mut app.conn())
        .optional()
        .unwrap();
    let body = body?;
    let at = body.find("token=")? + 6;
    Some(body[at..].chars().take_while(|c| c.is_ascii_hexdigit()).collect())
}

pub fn mail_count(app: &TestApp, to: &str, template: &str) -> i64 {
    use diesel::prelude::*;
    use keel_api::schema::emails;
    emails::table.filter(emails::to_addr.eq(to)).filter(emails::template.eq(template)).count().get_result(&mut app.conn()).unwrap()
}

async fn read<B: MessageBody>(res: ServiceResponse<B>) -> Res {
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = test::read_body(res).await;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Res { status, headers, body, text, bytes: bytes.to_vec() }
}

/// Runs an async test body once per backend: `sqlite` always, `postgres` when reachable
/// (required in CI).
#[macro_export]
macro_rules! both_backends {
    ($name:ident, config = $config:expr, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[actix_web::test]
            async fn sqlite() {
                let app = $crate::support::TestApp::new_with(keel_api::db::Backend::Sqlite, $config).await.expect("sqlite");
                ($body)(app).await;
            }
            #[actix_web::test]
            async fn postgres() {
                if let Some(app) = $crate::support::TestApp::new_with(keel_api::db::Backend::Postgres, $config).await {
                    ($body)(app).await;
                }
            }
        }
    };
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[actix_web::test]
            async fn sqlite() {
                let app = $crate::support::TestApp::new(keel_api::db::Backend::Sqlite).await.expect("sqlite");
                ($body)(app).await;
            }
            #[actix_web::test]
            async fn postgres() {
                if let Some(app) = $crate::support::TestApp::new(keel_api::db::Backend::Postgres).await {
                    ($body)(app).await;
                }
            }
        }
    };
}
