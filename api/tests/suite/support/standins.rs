//! Stand-ins for outside services, speaking their documented protocols over real HTTP on one
//! local port (../shared/PROTOCOLS.md; the ECB's published rates file), started once per test
//! binary.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use actix_web::{get, post, web, App, HttpResponse, HttpServer};
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

/// The stand-ins' server of this test binary: VIES and the ECB's rates file.
fn server() -> &'static (String, Arc<Mutex<HashMap<String, usize>>>) {
    static SERVER: OnceLock<(String, Arc<Mutex<HashMap<String, usize>>>)> = OnceLock::new();
    SERVER.get_or_init(|| {
        let calls: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let shared = calls.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || App::new().app_data(web::Data::new(shared.clone())).service(check).service(ecb_daily))
                    .workers(1)
                    .bind(("127.0.0.1", 0))
                    .unwrap();
                tx.send(server.addrs()[0]).unwrap();
                server.run().await.unwrap();
            })
        });
        (format!("http://{}", rx.recv().unwrap()), calls)
    })
}

/// The VIES stand-in of this test binary.
pub fn vies() -> Vies {
    let (url, calls) = server();
    Vies { url: url.clone(), calls: calls.clone() }
}

/// Where the stand-in publishes [`ECB_DAILY`].
pub fn ecb_url() -> String {
    format!("{}/stats/eurofxref/eurofxref-daily.xml", server().0)
}
