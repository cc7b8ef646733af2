//! Stand-ins for outside services, speaking their documented protocols over real HTTP on one
//! local port (../shared/PROTOCOLS.md; the ECB's published rates file), started once per test
//! binary.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use actix_web::{get, post, web, App, HttpResponse, HttpServer};
use keel_api::payments::razorpay_sandbox::RazorpaySandbox;
use keel_api::payments::sandbox::StripeSandbox;
use serde_json::{json, Value};

/// VIES (`POST /check-vat-number`): registered ids answer `valid: true` with a trader name,
/// `…99999999…` numbers answer the `MS_UNAVAILABLE` error, every other number `valid: false`.
pub struct Vies {
    pub url: String,
    calls: Arc<Mutex<HashMap<String, usize>>>,
}

/// VAT ids the stand-in knows as registered.
pub const REGISTERED: &[(&str, &str, &str)] = &[("FR", "12345678901", "ACME SARL"), ("NL", "853254621B01", "Voorbeeld BV")];

impl Vies {
    /// How many times `country` + `number` was asked about.
    pub fn calls(&self, country: &str, number: &str) -> usize {
        self.calls.lock().unwrap().get(&format!("{country}{number}")).copied().unwrap_or(0)
    }
}

#[post("/check-vat-number")]
async fn check(body: web::Json<Value>, calls: web::Data<Arc<Mutex<HashMap<String, usize>>>>) -> HttpResponse {
    let (Some(cc), Some(number)) = (body["countryCode"].as_str(), body["vatNumber"].as_str()) else {
        return HttpResponse::BadRequest()
            .json(json!({"actionSucceed": false, "errorWrappers": [{"error": "INVALID_INPUT", "message": "countryCode and vatNumber"}]}));
    };
    *calls.lock().unwrap().entry(format!("{cc}{number}")).or_default() += 1;
    if number.contains("99999999") {
        return HttpResponse::InternalServerError()
            .json(json!({"actionSucceed": false, "errorWrappers": [{"error": "MS_UNAVAILABLE", "message": "member state unavailable"}]}));
    }
    let registered = REGISTERED.iter().find(|(c, n, _)| *c == cc && *n == number);
    HttpResponse::Ok().json(json!({
        "countryCode": cc,
        "vatNumber": number,
        "requestDate": "2026-11-23T12:00:00.000Z",
        "valid": registered.is_some(),
        "requestIdentifier": "",
        "name": registered.map_or("---", |r| r.2),
        "address": "---",
    }))
}

/// The ECB's daily reference rates file, as published (units per euro).
pub const ECB_DAILY: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
	<gesmes:subject>Reference rates</gesmes:subject>
	<gesmes:Sender><gesmes:name>European Central Bank</gesmes:name></gesmes:Sender>
	<Cube>
		<Cube time='2026-11-23'>
			<Cube currency='USD' rate='1.0876'/>
			<Cube currency='JPY' rate='162.47'/>
			<Cube currency='GBP' rate='0.85355'/>
			<Cube currency='INR' rate='91.0225'/>
		</Cube>
	</Cube>
</gesmes:Envelope>"#;

#[get("/stats/eurofxref/eurofxref-daily.xml")]
async fn ecb_daily() -> HttpResponse {
    HttpResponse::Ok().content_type("text/xml").body(ECB_DAILY)
}

/// The stand-ins' server of this test binary: VIES, the ECB's rates file and Stripe (Keel's own
/// sandbox stand-in, at `/stripe`, with test keys).
struct Server {
    url: String,
    calls: Arc<Mutex<HashMap<String, usize>>>,
    stripe: Arc<StripeSandbox>,
    razorpay: Arc<RazorpaySandbox>,
}

/// The Razorpay stand-in's key id, key secret and webhook secret.
pub const RAZORPAY_KEYS: (&str, &str, &str) = ("rzp_test_standin", "standin_key_secret", "standin_webhook_secret");
/// Where the Razorpay stand-in sends the browser back (the test follows it into its app).
pub const RAZORPAY_CALLBACK: &str = "http://keel.test/api/v1/payments/razorpay/callback";

/// The Stripe stand-in's API key and webhook signing secret.
pub const STRIPE_KEY: &str = "sk_test_standin";
pub const STRIPE_WEBHOOK_SECRET: &str = "whsec_standin_secret";

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let calls: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stripe = Arc::new(
            StripeSandbox::new(&format!("{url}/stripe"), None, Arc::new(keel_api::clock::SystemClock))
                .with_keys(STRIPE_KEY, STRIPE_WEBHOOK_SECRET),
        );
        let razorpay =
            Arc::new(
                RazorpaySandbox::new(&format!("{url}/razorpay"), None, RAZORPAY_CALLBACK, Arc::new(keel_api::clock::SystemClock))
                    .with_keys(RAZORPAY_KEYS.0, RAZORPAY_KEYS.1, RAZORPAY_KEYS.2),
            );
        let (shared, sandbox, rzp) = (calls.clone(), stripe.clone(), razorpay.clone());
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                HttpServer::new(move || {
                    let (sandbox, rzp) = (sandbox.clone(), rzp.clone());
                    App::new()
                        .app_data(web::Data::new(shared.clone()))
                        .service(check)
                        .service(ecb_daily)
                        .service(web::scope("/stripe").configure(move |c| keel_api::payments::sandbox::configure(c, sandbox)))
                        .service(web::scope("/razorpay").configure(move |c| keel_api::payments::razorpay_sandbox::configure(c, rzp)))
                })
                .workers(1)
                .listen(listener)
                .unwrap()
                .run()
                .await
                .unwrap();
            })
        });
        Server { url, calls, stripe, razorpay }
    })
}

/// The VIES stand-in of this test binary.
pub fn vies() -> Vies {
    let s = server();
    Vies { url: s.url.clone(), calls: s.calls.clone() }
}

/// Where the stand-in publishes [`ECB_DAILY`].
pub fn ecb_url() -> String {
    format!("{}/stats/eurofxref/eurofxref-daily.xml", server().url)
}

/// The Stripe stand-in: its API address (for `KEEL_STRIPE_URL`) and the sandbox itself (its
/// sessions, pay page and the signed events it sent).
pub fn stripe() -> (String, Arc<StripeSandbox>) {
    let s = server();
    (format!("{}/stripe", s.url), s.stripe.clone())
}

/// The Razorpay stand-in: its API address (for `KEEL_RAZORPAY_URL`) and the sandbox itself.
pub fn razorpay() -> (String, Arc<RazorpaySandbox>) {
    let s = server();
    (format!("{}/razorpay", s.url), s.razorpay.clone())
}

/// A stand-in of a test's own (its accounts are the test's alone), on a loopback port and a
/// thread of its own; it stops when dropped.
pub struct Own<S> {
    pub sandbox: Arc<S>,
    pub target: keel_api::config::ModuleTarget,
    handle: actix_web::dev::ServerHandle,
}

impl<S> Drop for Own<S> {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

pub type Whm = Own<keel_api::provisioning::whm_sandbox::WhmSandbox>;
pub type Hetzner = Own<keel_api::provisioning::hetzner_sandbox::HetznerSandbox>;

pub fn whm() -> Whm {
    use keel_api::provisioning::whm_sandbox::{configure, WhmSandbox};
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let sandbox = Arc::new(WhmSandbox::new(&url, Arc::new(keel_api::clock::SystemClock)));
    let target = keel_api::config::ModuleTarget { api_url: url, username: sandbox.user.clone(), token: sandbox.token.clone() };
    let served = sandbox.clone();
    let handle = keel_api::provisioning::serve_stand_in(listener, move |c| configure(c, served.clone())).unwrap();
    Own { sandbox, target, handle }
}

pub fn hetzner() -> Hetzner {
    use keel_api::provisioning::hetzner_sandbox::{configure, HetznerSandbox};
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let sandbox = Arc::new(HetznerSandbox::new(&url, Arc::new(keel_api::clock::SystemClock)));
    let target = keel_api::config::ModuleTarget { api_url: format!("{url}/v1"), username: String::new(), token: sandbox.token.clone() };
    let served = sandbox.clone();
    let handle = keel_api::provisioning::serve_stand_in(listener, move |c| configure(c, served.clone())).unwrap();
    Own { sandbox, target, handle }
}
