//! Commerce, part three: server carts merged on sign-in, stackable promo codes, VAT ids
//! confirmed with VIES (a local stand-in speaking its protocol), orders placed from a country
//! other than the billing address held for review, and exchange rates from the ECB.

use std::io::Write;

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use keel_shared::catalog::Catalog;
use serde_json::{json, Value};

use keel_api::clock::Clock;

use crate::support::{a_client, standins, TestApp};

async fn catalog(app: &TestApp) -> Catalog {
    serde_json::from_value(app.get("/api/v1/catalog", None).await.body).unwrap()
}

fn line(c: &Catalog, slug: &str, cycle: &str) -> Value {
    json!({"product_id": c.products.iter().find(|p| p.slug == slug).unwrap().id, "cycle": cycle})
}

async fn place(app: &TestApp, token: &str, key: &str, ip: &str, body: Value) -> crate::support::Res {
    app.request(
        TestRequest::post()
            .uri("/api/v1/checkout")
            .peer_addr(format!("{ip}:40000").parse().unwrap())
            .insert_header(("authorization", format!("Bearer {token}")))
            .insert_header(("idempotency-key", key))
            .set_json(body),
    )
    .await
}

async fn profile(app: &TestApp, token: &str, country: &str, tax_id: Option<&str>) {
    let address = json!({"line1": "1 Main Street", "city": "Town", "postcode": "12345", "country": country});
    let res = app
        .put_json(
            "/api/v1/me/profile",
            token,
            json!({"first_name": "Ann", "last_name": "Lee", "address": address, "currency": "EUR", "language": "en", "tax_id": tax_id}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
}

both_backends!(a_signed_in_clients_cart_is_kept_merged_and_emptied_by_checkout, |app: TestApp| async move {
    let c = catalog(&app).await;
    let ann = a_client().verified().create(&app).await;
    let bob = a_client().create(&app).await;
    assert_eq!(app.get("/api/v1/cart", None).await.status, StatusCode::UNAUTHORIZED);
    let empty = app.get("/api/v1/cart", Some(&ann.token)).await;
    assert_eq!((empty.status, &empty.body["lines"]), (StatusCode::OK, &json!([])));

    let vps = line(&c, "vps-2", "monthly");
    let res = app.put_json("/api/v1/cart", &ann.token, json!({"lines": [vps], "promo_codes": ["SAVE5"], "currency": "USD"})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let res = app.put_json("/api/v1/cart", &ann.token, json!({"lines": [], "promo_codes": ["a b"]})).await;
    assert_eq!(res.problem(422)["errors"]["promo_codes"][0], "must be letters, digits, '-' or '_'");
    let res = app.put_json("/api/v1/cart", &ann.token, json!({"lines": [vps], "promo_codes": ["SAVE5", "save5"]})).await;
    assert!(res.problem(422)["errors"]["promo_codes"].is_array(), "the same code twice: {}", res.text);

    // Two tabs sign in at once, each with its own guest cart: both land, the VPS once.
    let shared = line(&c, "vps-8", "annually");
    let cloud = line(&c, "cloud-startup", "monthly");
    let (a, b) = futures_util::future::join(
        app.post_json_authed(
            "/api/v1/cart/merge",
            &ann.token,
            json!({"lines": [vps, shared], "promo_codes": ["WELCOME10"], "country": "DE"}),
        ),
        app.post_json_authed("/api/v1/cart/merge", &ann.token, json!({"lines": [vps, cloud]})),
    )
    .await;
    assert_eq!((a.status, b.status), (StatusCode::OK, StatusCode::OK), "{} {}", a.text, b.text);
    let cart = app.get("/api/v1/cart", Some(&ann.token)).await.body;
    let lines = cart["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 3, "{cart}");
    for l in [&vps, &shared, &cloud] {
        assert_eq!(lines.iter().filter(|x| x["product_id"] == l["product_id"]).count(), 1, "{cart}");
    }
    assert_eq!((&cart["promo_codes"], &cart["currency"], &cart["country"]), (&json!(["SAVE5", "WELCOME10"]), &json!("USD"), &json!("DE")));
    assert_eq!(app.get("/api/v1/cart", Some(&bob.token)).await.body["lines"], json!([]), "one client's cart is not another's");

    let export = app.get("/api/v1/me/export", Some(&ann.token)).await.body;
    assert_eq!(export["cart"]["lines"].as_array().map(Vec::len), Some(3), "the GDPR export holds the cart");

    // Checking out what the cart holds empties it, in the same transaction as the order.
    let body = json!({"lines": cart["lines"], "promo_codes": cart["promo_codes"], "currency": "USD"});
    let res = place(&app, &ann.token, "cart-1", "192.0.2.1", body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(app.get("/api/v1/cart", Some(&ann.token)).await.body["lines"], json!([]));
    let export = app.get("/api/v1/me/export", Some(&ann.token)).await.body;
    assert_eq!(export["orders"][0]["number"], res.body["number"], "and the orders");
});

both_backends!(stackable_promo_codes_combine_and_others_stand_alone, |app: TestApp| async move {
    let c = catalog(&app).await;
    let admin = app.admin_token().await;
    // Two VPS 2 (SAVE5 needs an order of 20.00).
    let vps = json!({"product_id": c.products.iter().find(|p| p.slug == "vps-2").unwrap().id, "cycle": "monthly", "quantity": 2});
    let q = |codes: Value| app.post_json("/api/v1/cart/quote", json!({"lines": [vps], "promo_codes": codes}));
    let plain = q(json!([])).await.body["total_minor"].as_i64().unwrap() / 2;
    let res = q(json!(["welcome10", "SAVE5"])).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    // Per unit: 10 % of the VPS first, then 5.00 off what is left.
    let ten = (plain + 5) / 10;
    assert_eq!((res.body["discount_minor"].as_i64(), &res.body["promo_codes"]), (Some(2 * (ten + 500)), &json!(["WELCOME10", "SAVE5"])));

    let promo = json!({"code": "ALONE", "kind": "percent", "value": 2000, "duration": "once"});
    assert_eq!(app.post_json_authed("/api/v1/admin/commerce/promo-codes", &admin, promo).await.status, StatusCode::CREATED);
    assert_eq!(q(json!(["ALONE"])).await.body["discount_minor"], 2 * ((plain * 2 + 5) / 10));
    let res = q(json!(["WELCOME10", "ALONE"])).await;
    assert_eq!(res.problem(422)["errors"]["promo_codes"], json!(["ALONE cannot be combined with other codes"]));
    assert_eq!(q(json!(["A", "B", "C", "D", "E", "F"])).await.problem(422)["errors"]["promo_codes"].as_array().map(Vec::len), Some(1));

    // An order with both counts a use of each, and cancelling it gives both back.
    let ann = a_client().verified().create(&app).await;
    let res = place(&app, &ann.token, "stack-1", "192.0.2.2", json!({"lines": [vps], "promo_codes": ["WELCOME10", "SAVE5"]})).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(res.body["promo_codes"], json!(["WELCOME10", "SAVE5"]));
    assert_eq!(uses(&app, &admin).await, (1, 1));
    let id = res.body["id"].as_str().unwrap();
    let res = app.post_json_authed(&format!("/api/v1/admin/orders/{id}/cancel"), &admin, json!({"reason": "Test"})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(uses(&app, &admin).await, (0, 0));
});

/// Uses of (WELCOME10, SAVE5).
async fn uses(app: &TestApp, admin: &str) -> (i64, i64) {
    let list = app.get("/api/v1/admin/commerce/promo-codes", Some(admin)).await.body;
    let n = |code: &str| list.as_array().unwrap().iter().find(|p| p["code"] == code).unwrap()["uses"].as_i64().unwrap();
    (n("WELCOME10"), n("SAVE5"))
}

/// The shop in Germany, confirming VAT ids online.
async fn vies_on(app: &TestApp, admin: &str, on: bool) {
    let res = app
        .put_json(
            "/api/v1/admin/commerce/settings",
            admin,
            json!({"tax_inclusive": false, "convert_missing_prices": true, "home_country": "DE", "check_vat_online": on}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
}

both_backends!(
    vat_ids_are_confirmed_with_vies,
    config = |c: &mut keel_api::config::Config| c.vies_url = standins::vies().url.clone(),
    |app: TestApp| async move {
        let vies = standins::vies();
        let c = catalog(&app).await;
        let admin = app.admin_token().await;
        let vps = line(&c, "vps-2", "monthly");
        // Each backend's test asks about its own numbers (the stand-in is shared).
        let pg = app.state.config.database_url.backend == keel_api::db::Backend::Postgres;
        let (registered, unknown) = if pg { ("NL853254621B01", "NL111111111B01") } else { ("FR12345678901", "FR98765432109") };
        let (cc, country) = if pg { ("NL", "NL") } else { ("FR", "FR") };
        let q = |vat: &str| app.post_json("/api/v1/cart/quote", json!({"lines": [vps], "country": country, "vat_id": vat}));

        // Off: the format decides, VIES is not asked.
        let res = q(unknown).await;
        assert_eq!((res.status, res.body["reverse_charge"].as_bool()), (StatusCode::OK, Some(true)), "{}", res.text);
        assert_eq!(vies.calls(cc, &unknown[2..]), 0);

        vies_on(&app, &admin, true).await;
        let res = q(registered).await;
        assert_eq!((res.body["reverse_charge"].as_bool(), res.body["tax_minor"].as_i64()), (Some(true), Some(0)), "{}", res.text);
        assert_eq!(q(registered).await.body["reverse_charge"], true);
        assert_eq!(vies.calls(cc, &registered[2..]), 1, "the day's answer is kept");
        let res = q(unknown).await;
        assert_eq!(res.problem(422)["errors"]["vat_id"], json!(["VIES does not know this VAT number"]));

        // VIES down for a signed-in client's id: no VAT on the id's format, the order held for review.
        let ann = a_client().verified().create(&app).await;
        let down = format!("{cc}{}", if pg { "999999999B01" } else { "99999999901" });
        profile(&app, &ann.token, country, Some(&down)).await;
        let res = place(&app, &ann.token, "vies-1", "192.0.2.3", json!({"lines": [vps], "currency": "EUR"})).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
        assert_eq!((res.body["reverse_charge"].as_bool(), res.body["status"].as_str()), (Some(true), Some("in_review")), "{}", res.text);
        let reasons = res.body["fraud_reasons"].to_string();
        assert!(reasons.contains("could not be confirmed with VIES (MS_UNAVAILABLE)"), "{reasons}");
        assert_eq!(vies.calls(cc, &down[2..]), 1, "an unavailable answer is not kept… ");
        let res = app.post_json_authed("/api/v1/cart/quote", &ann.token, json!({"lines": [vps]})).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert_eq!(vies.calls(cc, &down[2..]), 2, "…so the next quote asks again");
    }
);

/// A country list for the fraud rule: two documentation ranges.
fn countries_csv() -> std::path::PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("keel-geoip-{}-{n}.csv", std::process::id()));
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(f, "198.51.100.0,198.51.100.255,FR\n203.0.113.0,203.0.113.255,US\n2001:db8::,2001:db8::ffff,FR").unwrap();
    path
}

both_backends!(
    orders_from_another_country_than_the_billing_address_are_held,
    config = |c: &mut keel_api::config::Config| c.geoip_csv = Some(countries_csv()),
    |app: TestApp| async move {
        let c = catalog(&app).await;
        let ann = a_client().verified().create(&app).await;
        profile(&app, &ann.token, "FR", None).await;
        let body = json!({"lines": [line(&c, "vps-2", "monthly")], "currency": "EUR"});
        let res = place(&app, &ann.token, "geo-1", "198.51.100.7", body.clone()).await;
        assert_eq!((res.status, res.body["status"].as_str()), (StatusCode::CREATED, Some("pending")), "{}", res.text);
        let res = place(&app, &ann.token, "geo-2", "203.0.113.9", body.clone()).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
        assert_eq!(
            (res.body["status"].as_str(), &res.body["fraud_reasons"]),
            (Some("in_review"), &json!(["placed from US (203.0.113.9); the billing address is in FR"]))
        );
        let res = place(&app, &ann.token, "geo-3", "192.0.2.77", body).await;
        assert_eq!(res.body["status"], "pending", "an address in no range: the rule says nothing");
    }
);

both_backends!(
    exchange_rates_follow_the_ecb_when_asked,
    config = |c: &mut keel_api::config::Config| c.ecb_url = standins::ecb_url(),
    |app: TestApp| async move {
        use keel_api::automation::queue::{self, NewJob};
        let admin = app.admin_token().await;
        let rate = |c: &Catalog, code: &str| c.currencies.iter().find(|x| x.code.code() == code).unwrap().rate_micros;
        let run = || {
            let mut conn = app.conn();
            queue::enqueue(&mut conn, app.clock.now(), &NewJob::new("commerce.refresh_rates", json!({"period": app.clock.now()}))).unwrap();
            app.drain()
        };
        let before = catalog(&app).await;
        assert_eq!(run(), 1);
        assert_eq!(rate(&catalog(&app).await, "EUR"), rate(&before, "EUR"), "off: the rates an admin set stay");

        let res = app
            .put_json(
                "/api/v1/admin/commerce/settings",
                &admin,
                json!({"tax_inclusive": false, "convert_missing_prices": true, "home_country": "DE", "refresh_rates": true}),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert_eq!(run(), 1);
        let after = catalog(&app).await;
        // USD is the default: 1 / 1.0876 and 0.85355 / 1.0876 and 91.0225 / 1.0876, in millionths.
        assert_eq!(
            (rate(&after, "USD"), rate(&after, "EUR"), rate(&after, "GBP"), rate(&after, "INR")),
            (1_000_000, 919_456, 784_801, 83_691_155)
        );
        let audit = app.get("/api/v1/admin/audit?action=catalog.rates_refreshed", Some(&admin)).await;
        assert_eq!(audit.body["items"][0]["details"]["source"], "ecb", "{}", audit.text);
        // The next working day's run (its own short runtime, like every run) reaches the ECB again.
        assert_eq!(run(), 1);
        let audit = app.get("/api/v1/admin/audit?action=catalog.rates_refreshed", Some(&admin)).await;
        assert_eq!(audit.body["items"].as_array().map(Vec::len), Some(2), "{}", audit.text);
    }
);

both_backends!(orders_are_accepted_on_placing_when_manual_acceptance_is_off, |app: TestApp| async move {
    let c = catalog(&app).await;
    let admin = app.admin_token().await;
    let res = app
        .put_json(
            "/api/v1/admin/commerce/settings",
            &admin,
            json!({"tax_inclusive": false, "convert_missing_prices": true, "home_country": "DE", "manual_order_acceptance": false}),
        )
        .await;
    assert_eq!((res.status, &res.body["manual_order_acceptance"]), (StatusCode::OK, &json!(false)), "{}", res.text);
    let body = json!({"lines": [line(&c, "vps-2", "monthly")]});
    let ann = a_client().verified().create(&app).await;
    assert_eq!(place(&app, &ann.token, "auto-1", "192.0.2.10", body.clone()).await.body["status"], "accepted");
    // Fraud screening still holds what it doubts.
    let tom = a_client().email("tom@yopmail.com").verified().create(&app).await;
    assert_eq!(place(&app, &tom.token, "auto-2", "192.0.2.11", body).await.body["status"], "in_review");
});
