//! Renewal invoices: services are invoiced for their next period ahead of the due date, a
//! client's services falling due on the same day on one invoice (a setting); paying it moves
//! their due dates on one period. A period is invoiced once however often or concurrently the
//! task runs; a cancellation request cancels the renewal invoice that bills only that service.

use crate::provisioning::{order_hosting, order_paid, pay, product_id};
use crate::support::{a_client, TestApp};
use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use chrono::Duration;
use diesel::prelude::*;
use keel_api::schema::{invoices, services};
use serde_json::json;

/// Runs the renewal task as the scheduler would, now: answers how many invoices it issued.
fn renew(app: &TestApp) -> usize {
    let now = keel_api::clock::Clock::now(&app.clock);
    keel_api::provisioning::renewals::invoice_due(&mut app.conn(), now, &app.state.deps.mail()).unwrap()
}

/// An active client's services ordered on one order, paid and set up: their ids.
async fn services_of(app: &TestApp, admin: &str, token: &str, domains: &[&str]) -> Vec<String> {
    let (order, invoice) = order_hosting(app, token, domains).await;
    pay(app, admin, &invoice).await;
    app.drain();
    order["items"][0]["service_ids"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect()
}

fn renewal_invoices(app: &TestApp, account: &str) -> Vec<(String, String, i64)> {
    invoices::table
        .filter(invoices::account_id.eq(account))
        .filter(invoices::kind.eq("renewal"))
        .order(invoices::created_at)
        .select((invoices::id, invoices::status, invoices::total_minor))
        .load::<(String, keel_shared::billing::InvoiceStatus, i64)>(&mut app.conn())
        .unwrap()
        .into_iter()
        .map(|(id, status, total)| (id, status.as_str().to_string(), total))
        .collect()
}

fn next_dates(app: &TestApp, id: &str) -> (Option<chrono::NaiveDate>, Option<chrono::NaiveDate>) {
    services::table.find(id).select((services::next_due_on, services::next_invoice_on)).first(&mut app.conn()).unwrap()
}

fn day(s: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

async fn signed_in(app: &TestApp, email: &str) -> String {
    let res = app.login(email, crate::support::PASSWORD).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    res.body["access_token"].as_str().unwrap().to_string()
}

both_backends!(renewals_are_invoiced_ahead_one_invoice_per_client_and_due_date_and_paying_moves_the_due_dates, |app: TestApp| async move {
    let admin = crate::support::the_admin(&app).await;
    let ann = a_client().verified().create(&app).await;
    let bob = a_client().verified().create(&app).await;
    // Ordered on 2026-11-23: both of Ann's and Bob's fall due on 12-23.
    let anns = services_of(&app, &admin.token, &ann.token, &["one.example.com", "two.example.com"]).await;
    let bobs = services_of(&app, &admin.token, &bob.token, &["bob.example.com"]).await;
    assert_eq!(next_dates(&app, &anns[0]), (day("2026-12-23"), day("2026-12-23")));
    assert_eq!(renew(&app), 0, "nothing falls due within a week");

    // Two days later Ann orders a third: due on 12-25.
    app.clock.advance(Duration::days(2));
    let ann_token = signed_in(&app, &ann.email).await;
    let admin_token = app.admin_token().await;
    let third = services_of(&app, &admin_token, &ann_token, &["three.example.com"]).await;
    assert_eq!(next_dates(&app, &third[0]).0, day("2026-12-25"));

    // A week before 12-23 (the default `renewal_days`): Ann's two on one invoice, Bob's on his.
    app.clock.advance(Duration::days(21));
    assert_eq!(renew(&app), 2);
    assert_eq!(renew(&app), 0, "a period is invoiced once");
    let anns_invoices = renewal_invoices(&app, &ann.id);
    assert_eq!(anns_invoices.len(), 1, "{anns_invoices:?}");
    assert_eq!(renewal_invoices(&app, &bob.id).len(), 1);
    let ann_token = signed_in(&app, &ann.email).await;
    let inv = app.get(&format!("/api/v1/invoices/{}", anns_invoices[0].0), Some(&ann_token)).await;
    assert_eq!(inv.status, StatusCode::OK, "{}", inv.text);
    assert_eq!((inv.body["kind"].as_str(), inv.body["status"].as_str()), (Some("renewal"), Some("unpaid")));
    assert_eq!((inv.body["due_on"].as_str(), inv.body["total_minor"].as_i64()), (Some("2026-12-23"), Some(998)), "{}", inv.text);
    assert!(inv.body["number"].as_str().unwrap().starts_with("INV-2026-"), "numbered when issued");
    let lines = inv.body["lines"].as_array().unwrap();
    let described: Vec<&str> = lines.iter().map(|l| l["description"].as_str().unwrap()).collect();
    assert_eq!(described, ["Starter (Monthly) — one.example.com", "Starter (Monthly) — two.example.com"]);
    for l in lines {
        assert_eq!((l["period_from"].as_str(), l["period_to"].as_str()), (Some("2026-12-23"), Some("2027-01-22")), "{l}");
        assert_eq!(l["unit_minor"], 499);
    }
    assert_eq!(next_dates(&app, &anns[0]), (day("2026-12-23"), day("2027-01-23")), "invoiced, not yet paid");
    assert!(crate::support::mail_count(&app, &ann.email, "invoice_created") >= 1);

    // Two days on, the third falls within the week: an invoice of its own (another due date).
    app.clock.advance(Duration::days(2));
    assert_eq!(renew(&app), 1);
    let anns_invoices = renewal_invoices(&app, &ann.id);
    assert_eq!(anns_invoices.len(), 2, "{anns_invoices:?}");
    assert_eq!(anns_invoices[1].2, 499);

    // Paying the first renews both of its services to the end of the period; the third waits.
    let admin_token = app.admin_token().await;
    pay(&app, &admin_token, &anns_invoices[0].0).await;
    for id in &anns {
        assert_eq!(next_dates(&app, id), (day("2027-01-23"), day("2027-01-23")));
    }
    assert_eq!(next_dates(&app, &third[0]), (day("2026-12-25"), day("2027-01-25")));
    let ann_token = signed_in(&app, &ann.email).await;
    let svc = app.get(&format!("/api/v1/services/{}", anns[0]), Some(&ann_token)).await;
    assert_eq!((svc.body["status"].as_str(), svc.body["next_due_on"].as_str()), (Some("active"), Some("2027-01-23")), "{}", svc.text);
    let history = app.get(&format!("/api/v1/admin/services/{}", anns[0]), Some(&admin_token)).await;
    let renewals: Vec<&str> = history.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "renewal")
        .filter_map(|e| e["detail"].as_str())
        .collect();
    assert_eq!(renewals.len(), 2, "invoiced and paid: {renewals:?}");
    // Bob's is still open; the client sees theirs in the list, filtered by kind.
    let list = app.get("/api/v1/invoices", Some(&ann_token)).await;
    let kinds: Vec<&str> = list.body["items"].as_array().unwrap().iter().filter_map(|i| i["kind"].as_str()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "renewal").count(), 2, "{}", list.text);
    assert_eq!(renewal_invoices(&app, &bob.id)[0].1, "unpaid");
    let _ = bobs;

    // A month on, the next period of the paid ones is invoiced, again together.
    app.clock.advance(Duration::days(29));
    assert_eq!(renew(&app), 2, "Ann's pair for 2027-01-23, and Bob's next period");
    let anns_invoices = renewal_invoices(&app, &ann.id);
    assert_eq!(anns_invoices.len(), 3);
    assert_eq!(anns_invoices[2].2, 998);
});

both_backends!(separate_renewals_taxed_invoiced_once_under_concurrent_runs_and_cancelled_with_the_service, |app: TestApp| async move {
    let admin = crate::support::the_admin(&app).await;
    let mut settings = app.get("/api/v1/admin/billing/settings", Some(&admin.token)).await.body;
    assert_eq!((settings["renewal_days"].as_i64(), settings["consolidate_renewals"].as_bool()), (Some(7), Some(true)));
    settings["consolidate_renewals"] = json!(false);
    settings["renewal_days"] = json!(3);
    let res = app.put_json("/api/v1/admin/billing/settings", &admin.token, settings.clone()).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    settings["renewal_days"] = json!(91);
    assert!(app.put_json("/api/v1/admin/billing/settings", &admin.token, settings.clone()).await.problem(422)["errors"]["renewal_days"]
        .is_array());
    settings["renewal_days"] = json!(-1);
    let res = app.put_json("/api/v1/admin/billing/settings", &admin.token, settings).await;
    assert!(res.status.is_client_error(), "{}", res.text);

    let ann = a_client().verified().create(&app).await;
    let anns = services_of(&app, &admin.token, &ann.token, &["a.example.com", "b.example.com", "c.example.com"]).await;
    // In the UK: 20 % VAT on each renewal line.
    let profile = json!({"first_name": "Ann", "last_name": "Lee", "currency": "USD", "language": "en",
                         "address": {"line1": "1 High Street", "city": "Leeds", "postcode": "LS1 1AA", "country": "GB"}});
    assert_eq!(app.put_json("/api/v1/me/profile", &ann.token, profile).await.status, StatusCode::OK);

    // Three days before 12-23, four runs at once: each service's period is invoiced once.
    app.clock.advance(Duration::days(27));
    let now = keel_api::clock::Clock::now(&app.clock);
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let pool = app.state.pool.clone();
            let mail = app.state.deps.mail();
            std::thread::spawn(move || {
                let mut conn = pool.get().unwrap();
                keel_api::provisioning::renewals::invoice_due(&mut conn, now, &mail).unwrap()
            })
        })
        .collect();
    let issued: usize = runs.into_iter().map(|r| r.join().unwrap()).sum();
    assert_eq!(issued, 3, "one invoice per service when renewals are not consolidated");
    let invoices = renewal_invoices(&app, &ann.id);
    assert_eq!(invoices.len(), 3, "{invoices:?}");
    // $4.99 + 20 % VAT (99.8 → 100).
    assert!(invoices.iter().all(|(_, status, total)| status == "unpaid" && *total == 599), "{invoices:?}");
    let token = signed_in(&app, &ann.email).await;
    let inv = app.get(&format!("/api/v1/invoices/{}", invoices[0].0), Some(&token)).await;
    assert_eq!((inv.body["tax_minor"].as_i64(), inv.body["tax_lines"][0]["rate_bp"].as_i64()), (Some(100), Some(2000)), "{}", inv.text);

    // A cancellation at the end of the period cancels that service's renewal invoice.
    let (a_invoice, b_invoice) = (invoices[0].0.clone(), invoices[1].0.clone());
    let billed = |id: &str| -> String {
        keel_api::schema::invoice_lines::table
            .filter(keel_api::schema::invoice_lines::invoice_id.eq(id))
            .select(keel_api::schema::invoice_lines::service_id.assume_not_null())
            .first(&mut app.conn())
            .unwrap()
    };
    let cancelled_service = billed(&a_invoice);
    let res = app
        .post_json_authed(
            &format!("/api/v1/services/{cancelled_service}/cancellation"),
            &token,
            json!({"when": "end_of_period", "reason": "moving on"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let invoices = renewal_invoices(&app, &ann.id);
    assert_eq!(invoices.iter().find(|i| i.0 == a_invoice).unwrap().1, "cancelled", "{invoices:?}");
    assert_eq!(invoices.iter().find(|i| i.0 == b_invoice).unwrap().1, "unpaid");

    // Staff cancel another's renewal: that period is not invoiced again.
    let admin_token = app.admin_token().await;
    let res = app.post_json_authed(&format!("/api/v1/admin/invoices/{b_invoice}/cancel"), &admin_token, json!({"reason": "waived"})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(renew(&app), 0);
    assert_eq!(renewal_invoices(&app, &ann.id).len(), 3);

    // The service being cancelled is not invoiced for the period after; the others are.
    app.clock.advance(Duration::days(31));
    assert_eq!(renew(&app), 2);
    let later: Vec<String> = renewal_invoices(&app, &ann.id).into_iter().skip(3).map(|i| billed(&i.0)).collect();
    assert!(!later.contains(&cancelled_service), "{later:?}");
    assert_eq!(later.len(), 2);
    let _ = anns;
});

both_backends!(
    a_renewal_is_invoiced_at_the_price_of_a_downgrade_that_waits_for_it_and_staff_moving_the_due_date_skip_paid_periods,
    |app: TestApp| async move {
        let admin = crate::support::the_admin(&app).await;
        let mut settings = app.get("/api/v1/admin/billing/settings", Some(&admin.token)).await.body;
        settings["downgrades_at_renewal"] = json!(true);
        app.put_json("/api/v1/admin/billing/settings", &admin.token, settings).await;
        let ann = a_client().verified().create(&app).await;
        // A Business plan, then a downgrade to Starter that waits for 12-23.
        let business = product_id(&app, "shared-business").await;
        let lines = json!([{"product_id": business, "cycle": "monthly", "domain": {"action": "existing", "name": "big.example.com"}}]);
        let id = order_paid(&app, &ann.token, &admin.token, "business-1", lines).await;
        app.drain();
        let starter = product_id(&app, "shared-starter").await;
        let res = app.post_json_authed(&format!("/api/v1/services/{id}/change"), &ann.token, json!({"product_id": starter})).await;
        assert_eq!((res.status, res.body["status"].as_str()), (StatusCode::CREATED, Some("scheduled")), "{}", res.text);

        app.clock.advance(Duration::days(23));
        assert_eq!(renew(&app), 1);
        let invoices = renewal_invoices(&app, &ann.id);
        assert_eq!(invoices[0].2, 499, "the renewal is at the downgrade's price: {invoices:?}");
        let token = signed_in(&app, &ann.email).await;
        let inv = app.get(&format!("/api/v1/invoices/{}", invoices[0].0), Some(&token)).await;
        assert_eq!(inv.body["lines"][0]["description"], "Starter (Monthly) — big.example.com", "{}", inv.text);

        // Staff move the due date a year on (paid elsewhere): no period before it is invoiced.
        let admin_token = app.admin_token().await;
        let res = app
            .request(
                TestRequest::patch()
                    .uri(&format!("/api/v1/admin/services/{id}"))
                    .insert_header(("authorization", format!("Bearer {admin_token}")))
                    .set_json(json!({"next_due_on": "2027-12-23"})),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert_eq!(next_dates(&app, &id), (day("2027-12-23"), day("2027-12-23")));
        app.clock.advance(Duration::days(60));
        assert_eq!(renew(&app), 0);
    }
);

fn charge_due(app: &TestApp) -> keel_api::payments::methods::Charged {
    keel_api::payments::methods::charge_due_renewals(&app.state.deps, &mut app.conn()).unwrap()
}

both_backends!(due_renewals_are_charged_to_the_default_saved_card_once_and_a_decline_is_told, |app: TestApp| async move {
    use keel_api::payments::methods::Charged;
    let admin = crate::support::the_admin(&app).await;
    let ann = a_client().verified().create(&app).await;
    let bob = a_client().verified().create(&app).await;
    let anns = services_of(&app, &admin.token, &ann.token, &["ann-card.example.com"]).await;
    services_of(&app, &admin.token, &bob.token, &["bob-card.example.com"]).await;
    crate::billing::save_card(&app, &ann.token, "save").await;
    crate::billing::save_card(&app, &bob.token, "save_declining").await;

    // Invoiced a week ahead; not charged before the due date.
    app.clock.advance(Duration::days(23));
    assert_eq!(renew(&app), 2);
    assert_eq!(charge_due(&app), Charged::default());
    // On 12-23 each is charged to its owner's default card.
    app.clock.advance(Duration::days(7));
    let done = charge_due(&app);
    assert_eq!((done.paid, done.declined, done.deferred), (1, 1, 0), "{done:?}");
    let ann_invoice = renewal_invoices(&app, &ann.id).remove(0);
    assert_eq!((ann_invoice.1.as_str(), ann_invoice.2), ("paid", 499));
    assert_eq!(next_dates(&app, &anns[0]), (day("2027-01-23"), day("2027-01-23")), "paid by card: renewed");
    // Bob's card declined: his invoice stays open (overdue from tomorrow) and he is told.
    assert_eq!(renewal_invoices(&app, &bob.id)[0].1, "unpaid");
    assert_eq!(crate::support::mail_count(&app, &bob.email, "payment_failed"), 1);
    // Once per invoice: the next run charges nobody again.
    app.clock.advance(Duration::days(1));
    assert_eq!(charge_due(&app), Charged::default());
    assert_eq!(crate::support::mail_count(&app, &bob.email, "payment_failed"), 1);
    let payments: i64 = keel_api::schema::payments::table
        .filter(keel_api::schema::payments::invoice_id.eq(&ann_invoice.0))
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(payments, 1);
});

both_backends!(account_credit_pays_renewals_as_far_as_it_goes_unless_the_shop_says_otherwise, |app: TestApp| async move {
    let admin = crate::support::the_admin(&app).await;
    let credit = |id: &str, amount: i64| {
        let (app, admin, path) = (&app, admin.token.clone(), format!("/api/v1/admin/clients/{id}/credit"));
        async move {
            let res = app.post_json_authed(&path, &admin, json!({"amount_minor": amount, "currency": "USD", "reason": "Goodwill"})).await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        }
    };
    let balance = |token: String| {
        let app = &app;
        async move { app.get("/api/v1/credit", Some(&token)).await.body["balances"][0]["balance_minor"].as_i64() }
    };
    // Ann has two services and $6.00 of credit; Bob one and $10.00; Carl one and $10.00.
    let ann = a_client().verified().create(&app).await;
    let bob = a_client().verified().create(&app).await;
    let carl = a_client().verified().create(&app).await;
    services_of(&app, &admin.token, &ann.token, &["ann-credit.example.com", "ann-credit2.example.com"]).await;
    let bobs = services_of(&app, &admin.token, &bob.token, &["bob-credit.example.com"]).await;
    credit(&ann.id, 600).await;
    credit(&bob.id, 1000).await;

    app.clock.advance(Duration::days(23));
    assert_eq!(renew(&app), 2);
    // Ann's $9.98 invoice takes her $6.00; Bob's $4.99 is paid and his service renewed at once.
    let anns = renewal_invoices(&app, &ann.id);
    let inv = app.get(&format!("/api/v1/admin/invoices/{}", anns[0].0), Some(&app.admin_token().await)).await;
    assert_eq!((inv.body["status"].as_str(), inv.body["paid_minor"].as_i64()), (Some("partially_paid"), Some(600)), "{}", inv.text);
    assert_eq!(inv.body["balance_minor"], 398);
    assert_eq!(balance(signed_in(&app, &ann.email).await).await, Some(0));
    assert_eq!(renewal_invoices(&app, &bob.id)[0].1, "paid");
    assert_eq!(balance(signed_in(&app, &bob.email).await).await, Some(501));
    assert_eq!(next_dates(&app, &bobs[0]), (day("2027-01-23"), day("2027-01-23")));

    // With the setting off, Carl's credit waits for him to use it.
    let admin_token = app.admin_token().await;
    let mut settings = app.get("/api/v1/admin/billing/settings", Some(&admin_token)).await.body;
    settings["renewals_use_credit"] = json!(false);
    app.put_json("/api/v1/admin/billing/settings", &admin_token, settings).await;
    let carl_token = signed_in(&app, &carl.email).await;
    services_of(&app, &admin_token, &carl_token, &["carl-credit.example.com"]).await;
    let path = format!("/api/v1/admin/clients/{}/credit", carl.id);
    app.post_json_authed(&path, &admin_token, json!({"amount_minor": 1000, "currency": "USD", "reason": "Goodwill"})).await;
    app.clock.advance(Duration::days(30));
    assert!(renew(&app) >= 1);
    assert_eq!(renewal_invoices(&app, &carl.id)[0].1, "unpaid");
    assert_eq!(balance(signed_in(&app, &carl.email).await).await, Some(1000));
});

both_backends!(an_upgrade_after_the_renewal_was_invoiced_has_it_invoiced_again_at_the_new_price, |app: TestApp| async move {
    let admin = crate::support::the_admin(&app).await;
    let ann = a_client().verified().create(&app).await;
    let id = services_of(&app, &admin.token, &ann.token, &["grows.example.com"]).await.remove(0);
    app.clock.advance(Duration::days(23));
    assert_eq!(renew(&app), 1);
    let old = renewal_invoices(&app, &ann.id).remove(0);
    assert_eq!((old.1.as_str(), old.2), ("unpaid", 499));
    // Seven days before the renewal Ann moves to Business and pays the prorated difference.
    let token = signed_in(&app, &ann.email).await;
    let business = product_id(&app, "shared-business").await;
    let res = app.post_json_authed(&format!("/api/v1/services/{id}/change"), &token, json!({"product_id": business})).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    pay(&app, &app.admin_token().await, res.body["invoice_id"].as_str().unwrap()).await;
    // The renewal at Starter's price is withdrawn; the next run bills the period at Business's.
    let invoices = renewal_invoices(&app, &ann.id);
    assert_eq!(invoices[0].1, "cancelled", "{invoices:?}");
    assert_eq!(next_dates(&app, &id), (day("2026-12-23"), day("2026-12-23")));
    assert_eq!(renew(&app), 1);
    let invoices = renewal_invoices(&app, &ann.id);
    assert_eq!((invoices[1].1.as_str(), invoices[1].2), ("unpaid", 999), "{invoices:?}");
    let inv = app.get(&format!("/api/v1/invoices/{}", invoices[1].0), Some(&token)).await;
    assert_eq!(inv.body["lines"][0]["description"], "Business (Monthly) — grows.example.com", "{}", inv.text);
    assert_eq!(inv.body["lines"][0]["period_from"], "2026-12-23");
});
