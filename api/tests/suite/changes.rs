//! Upgrades and downgrades: a service moves to another plan, other options or add-ons in the
//! middle of its period, prorated by calendar days per item. An upgrade is invoiced and happens
//! when paid (the control panel gets the new package by a job queued in the paying
//! transaction); a downgrade happens at once with the unused difference as account credit, or
//! waits for the renewal. Races leave one open change; nobody changes another's service.

use crate::provisioning::{order_hosting, order_paid, pay, product_id};
use crate::support::{a_client, TestApp};
use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use chrono::Duration;
use diesel::prelude::*;
use keel_api::schema::{invoices, service_changes};
use serde_json::{json, Value};

/// Moves the clock on by `days` and signs in again (access tokens last minutes): answers the new
/// tokens of the client `email` and of the administrator.
async fn days_later(app: &TestApp, days: i64, email: &str) -> (String, String) {
    app.clock.advance(Duration::days(days));
    let res = app.login(email, crate::support::PASSWORD).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    (res.body["access_token"].as_str().unwrap().to_string(), app.admin_token().await)
}

/// An active Shared Starter service of a new client: (client's e-mail, service id).
async fn active_starter(app: &TestApp, admin: &str, domain: &str) -> (String, String) {
    let ann = a_client().verified().create(app).await;
    let (order, invoice) = order_hosting(app, &ann.token, &[domain]).await;
    let id = order["items"][0]["service_ids"][0].as_str().unwrap().to_string();
    pay(app, admin, &invoice).await;
    app.drain();
    let svc = app.get(&format!("/api/v1/services/{id}"), Some(&ann.token)).await;
    assert_eq!(svc.body["status"], "active", "{}", svc.text);
    (ann.email, id)
}

fn amounts(quote: &Value) -> Vec<i64> {
    quote["proration"]["lines"].as_array().unwrap().iter().map(|l| l["amount_minor"].as_i64().unwrap()).collect()
}

both_backends!(an_upgrade_is_prorated_invoiced_and_made_when_paid_and_a_downgrade_credits, |app: TestApp| async move {
    let admin = crate::support::the_admin(&app).await;
    // A seller VAT id, so its invoices are e-invoices too.
    let mut settings = app.get("/api/v1/admin/billing/settings", Some(&admin.token)).await.body;
    settings["seller_tax_id"] = json!("DE123456789");
    app.put_json("/api/v1/admin/billing/settings", &admin.token, settings).await;
    let (email, id) = active_starter(&app, &admin.token, "grow.example.com").await;
    let business = product_id(&app, "shared-business").await;
    // Ten days into the 30-day period (2026-11-23 → 12-23): 20 days remain, the change day counts.
    let (token, admin_token) = days_later(&app, 10, &email).await;
    // In the UK since: 20 % VAT on each prorated line.
    let profile = json!({"first_name": "Ann", "last_name": "Lee", "currency": "USD", "language": "en",
                         "address": {"line1": "1 High Street", "city": "Leeds", "postcode": "LS1 1AA", "country": "GB"}});
    assert_eq!(app.put_json("/api/v1/me/profile", &token, profile).await.status, StatusCode::OK);

    let quote = app.post_json_authed(&format!("/api/v1/services/{id}/change/quote"), &token, json!({"product_id": business})).await;
    assert_eq!(quote.status, StatusCode::OK, "{}", quote.text);
    let q = &quote.body;
    assert_eq!((q["from_product_name"].as_str(), q["product_name"].as_str()), (Some("Starter"), Some("Business")));
    assert_eq!((q["proration"]["days_remaining"].as_i64(), q["proration"]["days_in_period"].as_i64()), (Some(20), Some(30)));
    assert_eq!((q["proration"]["period_from"].as_str(), q["proration"]["period_to"].as_str()), (Some("2026-11-23"), Some("2026-12-23")));
    // $4.99 × 20/30 = 3.3267 → 3.33 back; $9.99 × 20/30 = 6.66 on.
    assert_eq!(amounts(q), vec![-333, 666]);
    assert_eq!((q["proration"]["net_minor"].as_i64(), q["settlement"].as_str()), (Some(333), Some("invoice")));
    let total = q["total_minor"].as_i64().unwrap();
    // Tax per line, rounded half away from zero: −66.6 → −67 and 133.2 → 133.
    assert_eq!((q["tax_minor"].as_i64(), total), (Some(66), 399));
    assert_eq!(q["old_recurring_minor"], 499);
    assert_eq!(q["new_recurring_minor"], 999);

    // Confirming at another price than the one shown is refused; at the one shown, invoiced.
    let res = app
        .post_json_authed(
            &format!("/api/v1/services/{id}/change"),
            &token,
            json!({"product_id": business, "expected_total_minor": total + 1}),
        )
        .await;
    assert_eq!(res.problem(409)["code"], "price_changed");
    let res = app
        .post_json_authed(&format!("/api/v1/services/{id}/change"), &token, json!({"product_id": business, "expected_total_minor": total}))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!((res.body["status"].as_str(), res.body["quote"]["total_minor"].as_i64()), (Some("pending"), Some(total)));
    let invoice_id = res.body["invoice_id"].as_str().unwrap().to_string();
    let inv = app.get(&format!("/api/v1/invoices/{invoice_id}"), Some(&token)).await;
    assert_eq!((inv.body["kind"].as_str(), inv.body["status"].as_str()), (Some("upgrade"), Some("unpaid")), "{}", inv.text);
    assert_eq!((inv.body["total_minor"].as_i64(), inv.body["tax_minor"].as_i64()), (Some(total), Some(66)));
    let lines = inv.body["lines"].as_array().unwrap();
    assert_eq!(lines.iter().map(|l| l["unit_minor"].as_i64().unwrap()).collect::<Vec<_>>(), vec![-333, 666]);
    assert!(lines[0]["description"].as_str().unwrap().starts_with("Credit: Starter"), "{}", inv.text);
    assert_eq!((lines[1]["period_from"].as_str(), lines[1]["period_to"].as_str()), (Some("2026-12-03"), Some("2026-12-22")));
    // The UBL e-invoice of it adds up (credit lines as negative quantities).
    let ubl = app.get(&format!("/api/v1/invoices/{invoice_id}/ubl"), Some(&token)).await;
    assert_eq!(ubl.status, StatusCode::OK, "{}", ubl.text);
    assert!(ubl.text.contains("<cbc:InvoicedQuantity unitCode=\"C62\">-1</cbc:InvoicedQuantity>"), "{}", ubl.text);

    // Not changed before it is paid.
    let svc = app.get(&format!("/api/v1/services/{id}"), Some(&token)).await;
    assert_eq!((svc.body["product_name"].as_str(), svc.body["recurring_minor"].as_i64()), (Some("Starter"), Some(499)));
    pay(&app, &admin_token, &invoice_id).await;
    // Changed in the paying transaction; the package follows by a job.
    let svc = app.get(&format!("/api/v1/services/{id}"), Some(&token)).await;
    assert_eq!((svc.body["product_name"].as_str(), svc.body["recurring_minor"].as_i64()), (Some("Business"), Some(999)), "{}", svc.text);
    assert_eq!(svc.body["next_due_on"], "2026-12-23", "the next due date does not move");
    assert_eq!(svc.body["product_id"], json!(business));
    app.drain();
    let svc = app.get(&format!("/api/v1/services/{id}"), Some(&token)).await;
    assert_eq!(svc.body["package"], "shared_business", "{}", svc.text);
    assert_eq!(app.whm.sandbox.accounts()[0].package, "shared_business");
    let changes = app.get(&format!("/api/v1/services/{id}/changes"), Some(&token)).await;
    assert_eq!(changes.body[0]["status"], "applied", "{}", changes.text);

    // Back down the same day: the difference is the client's, as account credit, at once.
    let starter = product_id(&app, "shared-starter").await;
    let quote = app.post_json_authed(&format!("/api/v1/services/{id}/change/quote"), &token, json!({"product_id": starter})).await;
    assert_eq!(amounts(&quote.body), vec![-666, 333], "{}", quote.text);
    assert_eq!((quote.body["settlement"].as_str(), quote.body["total_minor"].as_i64()), (Some("credit"), Some(0)));
    let credit = quote.body["credit_minor"].as_i64().unwrap();
    assert_eq!((credit, quote.body["tax_minor"].as_i64()), (399, Some(-66)), "the tax paid comes back with the difference");
    let res = app.post_json_authed(&format!("/api/v1/services/{id}/change"), &token, json!({"product_id": starter})).await;
    assert_eq!((res.status, res.body["status"].as_str()), (StatusCode::CREATED, Some("applied")), "{}", res.text);
    assert!(res.body.get("invoice_id").is_none(), "a downgrade is not invoiced");
    let balance = app.get("/api/v1/credit", Some(&token)).await;
    assert_eq!(balance.body["balances"][0]["balance_minor"].as_i64(), Some(credit), "{}", balance.text);
    let svc = app.get(&format!("/api/v1/services/{id}"), Some(&token)).await;
    assert_eq!((svc.body["product_name"].as_str(), svc.body["recurring_minor"].as_i64()), (Some("Starter"), Some(499)));
    app.drain();
    assert_eq!(app.whm.sandbox.accounts()[0].package, "shared_starter");
    // The history shows both.
    let history = app.get(&format!("/api/v1/admin/services/{id}"), Some(&admin_token)).await;
    let changes: Vec<&str> = history.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "change" && e["ok"] == true)
        .filter_map(|e| e["detail"].as_str())
        .collect();
    assert!(changes.contains(&"Starter → Business") && changes.contains(&"Business → Starter"), "{changes:?}");

    // An upgrade left unpaid past its invoice's due date (seven days) lapses: the invoice is
    // cancelled with it, as its price was for days now gone.
    let res = app.post_json_authed(&format!("/api/v1/services/{id}/change"), &token, json!({"product_id": business})).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let stale = res.body["invoice_id"].as_str().unwrap().to_string();
    let mut conn = app.conn();
    assert_eq!(
        keel_api::provisioning::changes::lapse_unpaid(&mut conn, keel_api::clock::Clock::now(&app.clock)).unwrap(),
        0,
        "not yet due"
    );
    drop(conn);
    let (token, _) = days_later(&app, 8, &email).await;
    let mut conn = app.conn();
    assert_eq!(keel_api::provisioning::changes::lapse_unpaid(&mut conn, keel_api::clock::Clock::now(&app.clock)).unwrap(), 1);
    drop(conn);
    let inv = app.get(&format!("/api/v1/invoices/{stale}"), Some(&token)).await;
    assert_eq!(inv.body["status"], "cancelled", "{}", inv.text);
    let changes = app.get(&format!("/api/v1/services/{id}/changes"), Some(&token)).await;
    assert_eq!(changes.body[0]["status"], "cancelled", "{}", changes.text);
});

both_backends!(a_vps_upgrade_prorates_each_option_and_add_on_and_resizes_the_server, |app: TestApp| async move {
    let admin = crate::support::the_admin(&app).await;
    let ann = a_client().verified().create(&app).await;
    let catalog = app.get("/api/v1/catalog", None).await;
    let product = |slug: &str| catalog.body["products"].as_array().unwrap().iter().find(|p| p["slug"] == slug).unwrap().clone();
    let (small, big) = (product("vps-2"), product("vps-8"));
    let option = |p: &Value, name: &str| p["options"].as_array().unwrap().iter().find(|o| o["name"] == name).unwrap().clone();
    let value = |o: &Value, label: &str| o["values"].as_array().unwrap().iter().find(|v| v["label"] == label).unwrap()["id"].clone();
    let location = option(&small, "Location");
    let lines = json!([{"product_id": small["id"], "cycle": "monthly",
                        "options": [{"option_id": location["id"], "value_id": value(&location, "Helsinki")}]}]);
    let id = order_paid(&app, &ann.token, &admin.token, "vps-change", lines).await;
    app.drain();
    let svc = app.get(&format!("/api/v1/services/{id}"), Some(&ann.token)).await;
    assert_eq!((svc.body["status"].as_str(), svc.body["package"].as_str()), (Some("active"), Some("cx22")), "{}", svc.text);
    assert_eq!(svc.body["options"].as_array().map(Vec::len), Some(1), "the service says what it has: {}", svc.text);
    let (token, admin_token) = days_later(&app, 15, &ann.email).await;

    // The bigger plan, 8 GB of RAM and daily backups; the location stays Helsinki.
    let (big_location, ram) = (option(&big, "Location"), option(&big, "RAM"));
    let backups = catalog.body["addons"].as_array().unwrap().iter().find(|a| a["slug"] == "daily-backups").unwrap()["id"].clone();
    let change = |place: &str| {
        json!({"product_id": big["id"], "addon_ids": [backups],
               "options": [{"option_id": big_location["id"], "value_id": value(&big_location, place)},
                           {"option_id": ram["id"], "value_id": value(&ram, "8 GB")}]})
    };
    let moved = app.post_json_authed(&format!("/api/v1/services/{id}/change/quote"), &token, change("Falkenstein")).await;
    assert!(moved.problem(422)["errors"]["options"].is_array(), "a location cannot change: {}", moved.text);
    let quote = app.post_json_authed(&format!("/api/v1/services/{id}/change/quote"), &token, change("Helsinki")).await;
    assert_eq!(quote.status, StatusCode::OK, "{}", quote.text);
    assert_eq!(
        (quote.body["proration"]["days_remaining"].as_i64(), quote.body["proration"]["days_in_period"].as_i64()),
        (Some(15), Some(30))
    );
    // Per item, each rounded half up: VPS 2 $19.99 → 10.00 back; VPS 8 $99.99 → 50.00,
    // RAM 8 GB $10 → 5.00, backups $2.99 → 1.50 on. Free items (4 GB, the location) make no line.
    assert_eq!(amounts(&quote.body), vec![-1000, 5000, 500, 150], "{}", quote.text);
    assert_eq!(quote.body["new_recurring_minor"], 9999 + 1000 + 299);
    let res = app.post_json_authed(&format!("/api/v1/services/{id}/change"), &token, change("Helsinki")).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    pay(&app, &admin_token, res.body["invoice_id"].as_str().unwrap()).await;
    app.drain();
    let svc = app.get(&format!("/api/v1/services/{id}"), Some(&token)).await;
    assert_eq!((svc.body["package"].as_str(), svc.body["recurring_minor"].as_i64()), (Some("cx42"), Some(11298)), "{}", svc.text);
    assert_eq!(svc.body["addon_ids"], json!([backups]));
    let servers = app.hetzner.sandbox.servers();
    assert_eq!((servers[0].server_type.as_str(), servers[0].location.as_str(), servers[0].status.as_str()), ("cx42", "hel1", "running"));
});

both_backends!(plan_changes_are_the_owners_one_at_a_time_and_wait_for_renewal_when_the_shop_says, |app: TestApp| async move {
    let admin = crate::support::the_admin(&app).await;
    let (email, id) = active_starter(&app, &admin.token, "one.example.org").await;
    let business = product_id(&app, "shared-business").await;
    let starter = product_id(&app, "shared-starter").await;
    let vps = product_id(&app, "vps-2").await;
    let (token, admin_token) = days_later(&app, 3, &email).await;
    let quote_path = format!("/api/v1/services/{id}/change/quote");
    let quote = |body: Value| app.post_json_authed(&quote_path, &token, body);

    // Another client's service is not found; not a plan of the same kind, the same plan, an
    // unknown product, control characters and huge numbers are 422 naming the field.
    let bob = a_client().verified().create(&app).await;
    for path in ["change/quote", "change"] {
        let res = app.post_json_authed(&format!("/api/v1/services/{id}/{path}"), &bob.token, json!({"product_id": business})).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}: {}", res.text);
    }
    app.get(&format!("/api/v1/services/{id}/changes"), Some(&bob.token)).await.problem(404);
    assert!(quote(json!({"product_id": vps})).await.problem(422)["errors"]["product_id"].is_array());
    assert!(quote(json!({"product_id": starter})).await.problem(422)["errors"]["product_id"].is_array());
    assert!(quote(json!({"product_id": "0192f0c4-8e3b-7cc1-9a52-3f1e2d4c5b6a"})).await.problem(422)["errors"]["product_id"].is_array());
    let res = quote(json!({"product_id": "abc\u{0}"})).await;
    assert!(matches!(res.status.as_u16(), 400 | 422), "{}", res.text);
    let res = quote(json!({"product_id": business, "expected_total_minor": 99_999_999_999_999_i64})).await;
    assert!(res.problem(422)["errors"]["expected_total_minor"].is_array(), "{}", res.text);
    let res = quote(json!({"product_id": business, "addon_ids": ["0192f0c4-8e3b-7cc1-9a52-3f1e2d4c5b6a"]})).await;
    assert!(res.problem(422)["errors"]["addon_ids[0]"].is_array(), "{}", res.text);
    let res = app
        .request(
            TestRequest::post()
                .uri(&format!("/api/v1/services/{id}/change"))
                .insert_header(("authorization", format!("Bearer {token}")))
                .insert_header(("content-type", "application/json"))
                .set_payload(format!("{{\"product_id\":\"{business}\"}} trailing")),
        )
        .await;
    res.problem(400);

    // Paid two periods ahead (staff moved the due date on): no proration fits, a 409 says so.
    let due = |day: &'static str| {
        TestRequest::patch()
            .uri(&format!("/api/v1/admin/services/{id}"))
            .insert_header(("authorization", format!("Bearer {admin_token}")))
            .set_json(json!({"next_due_on": day}))
    };
    assert_eq!(app.request(due("2027-01-23")).await.status, StatusCode::OK);
    assert_eq!(quote(json!({"product_id": business})).await.problem(409)["code"], "paid_ahead");
    assert_eq!(app.request(due("2026-12-23")).await.status, StatusCode::OK);

    // Fifty confirmations at once: one change is left waiting, with one open invoice.
    let path = format!("/api/v1/services/{id}/change");
    let answers =
        futures_util::future::join_all((0..50).map(|_| app.post_json_authed(&path, &token, json!({"product_id": business})))).await;
    assert!(
        answers.iter().all(|r| r.status == StatusCode::CREATED || r.status == StatusCode::CONFLICT),
        "{:?}",
        answers.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    let open: i64 = service_changes::table
        .filter(service_changes::service_id.eq(&id))
        .filter(service_changes::status.eq("pending"))
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(open, 1);
    let open_invoices: i64 = invoices::table
        .filter(invoices::kind.eq("upgrade"))
        .filter(invoices::status.eq("unpaid"))
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(open_invoices, 1, "replaced changes' invoices are cancelled");

    // Staff cancel its invoice: the change will not happen.
    let waiting = app.get(&format!("/api/v1/services/{id}/changes"), Some(&token)).await;
    let invoice_id = waiting.body[0]["invoice_id"].as_str().unwrap().to_string();
    let res = app.post_json_authed(&format!("/api/v1/admin/invoices/{invoice_id}/cancel"), &admin_token, json!({"reason": "asked"})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let changes = app.get(&format!("/api/v1/admin/services/{id}"), Some(&admin_token)).await;
    assert_eq!(changes.body["changes"][0]["status"], "cancelled", "{}", changes.text);

    // Upgrade and pay, then the shop makes downgrades wait for the renewal.
    let res = app.post_json_authed(&path, &token, json!({"product_id": business})).await;
    pay(&app, &admin_token, res.body["invoice_id"].as_str().unwrap()).await;
    let mut settings = app.get("/api/v1/admin/billing/settings", Some(&admin_token)).await.body;
    settings["downgrades_at_renewal"] = json!(true);
    let res = app.put_json("/api/v1/admin/billing/settings", &admin_token, settings).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let res = app.post_json_authed(&path, &token, json!({"product_id": starter})).await;
    assert_eq!((res.status, res.body["status"].as_str()), (StatusCode::CREATED, Some("scheduled")), "{}", res.text);
    assert_eq!((res.body["effective_on"].as_str(), res.body["quote"]["credit_minor"].as_i64()), (Some("2026-12-23"), Some(0)));
    let svc = app.get(&format!("/api/v1/services/{id}"), Some(&token)).await;
    assert_eq!(svc.body["product_name"], "Business", "not before the renewal");
    // The daily task on the renewal day makes it; no credit was given.
    let mut conn = app.conn();
    assert_eq!(keel_api::provisioning::changes::apply_scheduled(&mut conn, keel_api::clock::Clock::now(&app.clock)).unwrap(), 0, "not yet");
    drop(conn);
    let (token, _) = days_later(&app, 27, &email).await;
    let mut conn = app.conn();
    assert_eq!(keel_api::provisioning::changes::apply_scheduled(&mut conn, keel_api::clock::Clock::now(&app.clock)).unwrap(), 1);
    drop(conn);
    let svc = app.get(&format!("/api/v1/services/{id}"), Some(&token)).await;
    assert_eq!((svc.body["product_name"].as_str(), svc.body["recurring_minor"].as_i64()), (Some("Starter"), Some(499)));
    let balance = app.get("/api/v1/credit", Some(&token)).await;
    assert!(balance.body["balances"].as_array().unwrap().iter().all(|b| b["balance_minor"] == 0), "{}", balance.text);
    // On or after its due date a service cannot change until renewed.
    let res = app.post_json_authed(&quote_path, &token, json!({"product_id": business})).await;
    assert_eq!(res.problem(409)["code"], "renewal_due");
});
