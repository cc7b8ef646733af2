//! Billing and payments: invoices issued by checkout, numbered without gaps, frozen once issued;
//! Stripe's signed webhooks acted on once; bank transfers, account credit and the PDF.

use crate::support::standins::{self, STRIPE_KEY, STRIPE_WEBHOOK_SECRET};
use crate::support::{a_client, a_staff_member, TestApp};
use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use diesel::prelude::*;
use keel_api::clock::Clock;
use keel_api::config::{Config, StripeKeys};
use serde_json::{json, Value};

fn with_stripe(c: &mut Config) {
    let (url, _) = standins::stripe();
    c.stripe = Some(StripeKeys { secret_key: STRIPE_KEY.into(), webhook_secret: STRIPE_WEBHOOK_SECRET.into(), api_url: url });
}

async fn product_id(app: &TestApp, slug: &str) -> String {
    let res = app.get("/api/v1/catalog", None).await;
    res.body["products"].as_array().unwrap().iter().find(|p| p["slug"] == slug).unwrap()["id"].as_str().unwrap().to_string()
}

async fn place(app: &TestApp, token: &str, key: &str, body: Value) -> crate::support::Res {
    app.request(
        TestRequest::post()
            .uri("/api/v1/checkout")
            .insert_header(("authorization", format!("Bearer {token}")))
            .insert_header(("idempotency-key", key))
            .set_json(body),
    )
    .await
}

/// Orders one VPS 2 (19.99 USD a month) and answers the order's invoice.
async fn order_vps(app: &TestApp, token: &str, key: &str) -> Value {
    let vps = product_id(app, "vps-2").await;
    let res = place(app, token, key, json!({"lines": [{"product_id": vps, "cycle": "monthly"}]})).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let list = app.get("/api/v1/invoices?q=INV", Some(token)).await;
    let id = list.body["items"].as_array().unwrap().iter().find(|_| true).unwrap()["id"].as_str().unwrap().to_string();
    let inv = app.get(&format!("/api/v1/invoices/{id}"), Some(token)).await;
    assert_eq!(inv.body["order_id"], res.body["id"], "{}", inv.text);
    inv.body
}

/// A Stripe event for `invoice`, signed as Stripe signs (or with `secret`/`t` given).
fn stripe_event(id: &str, kind: &str, object: Value) -> String {
    json!({"id": id, "object": "event", "type": kind, "created": 1, "livemode": false, "data": {"object": object}}).to_string()
}

async fn deliver(app: &TestApp, body: &str, signature: &str) -> crate::support::Res {
    app.request(
        TestRequest::post()
            .uri("/api/v1/webhooks/stripe")
            .insert_header(("content-type", "application/json"))
            .insert_header(("stripe-signature", signature.to_string()))
            .set_payload(body.to_string()),
    )
    .await
}

fn signed(app: &TestApp, body: &str, age_secs: i64) -> String {
    let t = app.clock.now().timestamp() - age_secs;
    format!("t={t},v1={}", keel_api::payments::stripe::sign(STRIPE_WEBHOOK_SECRET, t, body.as_bytes()))
}

fn count(app: &TestApp, sql_table: &str) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = app.conn();
    let q = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {sql_table}"));
    match &mut *conn {
        keel_api::db::DbConn::Sqlite(c) => q.get_result::<N>(c).unwrap().n,
        keel_api::db::DbConn::Postgresql(c) => q.get_result::<N>(c).unwrap().n,
    }
}

both_backends!(checkout_issues_a_numbered_invoice_frozen_at_issue, |app: TestApp| async move {
    let ann = a_client().verified().create(&app).await;
    let res = app
        .put_json(
            "/api/v1/me/profile",
            &ann.token,
            json!({"first_name": "Ann", "last_name": "Lee", "company": "Lee Hosting Ltd", "currency": "USD", "language": "en",
                   "address": {"line1": "1 High Street", "city": "Leeds", "postcode": "LS1 1AA", "country": "GB"}, "tax_id": "GB123456789"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let inv = order_vps(&app, &ann.token, "k1").await;
    assert_eq!(
        (inv["number"].as_str(), inv["status"].as_str(), inv["kind"].as_str()),
        (Some("INV-2026-000001"), Some("unpaid"), Some("order"))
    );
    assert_eq!(
        (inv["total_minor"].as_i64(), inv["balance_minor"].as_i64(), inv["due_on"].as_str()),
        (Some(2399), Some(2399), Some("2026-11-30")),
        "19.99 and the UK's 20 % VAT (the address is in GB); due in the default seven days"
    );
    assert_eq!(inv["tax_lines"][0]["amount_minor"], 400);
    assert_eq!(inv["lines"][0]["description"], "VPS 2 (Monthly)");
    assert_eq!((inv["lines"][0]["period_from"].as_str(), inv["lines"][0]["period_to"].as_str()), (Some("2026-11-23"), Some("2026-12-22")));
    assert_eq!(inv["buyer"]["company"], "Lee Hosting Ltd");
    assert_eq!(inv["buyer"]["address"], json!(["1 High Street", "LS1 1AA Leeds"]));
    assert_eq!(crate::support::mail_count(&app, &ann.email, "invoice_created"), 1);
    // Its e-mail carries the PDF.
    assert_eq!(count(&app, "email_attachments"), 1);
    app.drain();
    let sent: Vec<String> = std::fs::read_dir(app.state.config.data_dir.join("mail"))
        .unwrap()
        .map(|f| std::fs::read_to_string(f.unwrap().path()).unwrap())
        .filter(|m| m.contains("Invoice INV-2026-000001"))
        .collect();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].contains("Content-Type: application/pdf") && sent[0].contains("INV-2026-000001.pdf"), "{}", sent[0]);

    // The client changes their profile: the issued invoice keeps what it said.
    let res = app
        .put_json(
            "/api/v1/me/profile",
            &ann.token,
            json!({"first_name": "Annie", "last_name": "Smith", "company": "Other Co", "currency": "USD", "language": "en"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let id = inv["id"].as_str().unwrap();
    let again = app.get(&format!("/api/v1/invoices/{id}"), Some(&ann.token)).await.body;
    assert_eq!((&again["buyer"], &again["lines"], &again["total_minor"]), (&inv["buyer"], &inv["lines"], &inv["total_minor"]));

    // Nobody else sees it; staff need billing.read.
    let bob = a_client().create(&app).await;
    for path in [format!("/api/v1/invoices/{id}"), format!("/api/v1/invoices/{id}/pdf")] {
        assert_eq!(app.get(&path, Some(&bob.token)).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(app.get("/api/v1/invoices", Some(&bob.token)).await.body["total"], 0);
    let nobody = a_staff_member().create(&app).await;
    assert_eq!(app.get("/api/v1/admin/invoices", Some(&nobody.token)).await.status, StatusCode::FORBIDDEN);
    let reader = a_staff_member().with_permissions(&["billing.read"]).create(&app).await;
    let listed = app.get("/api/v1/admin/invoices?q=inv-2026", Some(&reader.token)).await;
    assert_eq!(
        (listed.body["total"].as_i64(), listed.body["items"][0]["buyer"].as_str()),
        (Some(1), Some("Lee Hosting Ltd")),
        "{}",
        listed.text
    );

    // The PDF: a real text layer with the number, the line and the total.
    let res = app.get(&format!("/api/v1/invoices/{id}/pdf"), Some(&ann.token)).await;
    assert_eq!((res.status, res.content_type()), (StatusCode::OK, "application/pdf"));
    let text = pdf_text(&res.bytes);
    for expected in ["INV-2026-000001", "VPS 2 (Monthly)", "$19.99", "$23.99", "Lee Hosting Ltd", "GB123456789"] {
        assert!(text.contains(expected), "{expected} not in the PDF's text:\n{text}");
    }

    // An e-invoice needs the seller's VAT id: refused until the settings have one.
    assert_eq!(app.get(&format!("/api/v1/invoices/{id}/ubl"), Some(&ann.token)).await.problem(409)["code"], "einvoice_incomplete");
    let admin = app.admin_token().await;
    let settings = json!({"seller_name": "Keel Hosting Ltd", "seller_address": "1 Dock Road\nLondon E1 1AA", "seller_tax_id": "GB987654321",
                          "invoice_prefix": "INV-", "due_days": 14, "payment_instructions": "IBAN GB00 KEEL 0000 0000 00\nReference: the invoice number"});
    let mut bad = settings.clone();
    bad["invoice_prefix"] = json!("IN V");
    assert!(app.put_json("/api/v1/admin/billing/settings", &admin, bad).await.problem(422)["errors"].get("invoice_prefix").is_some());
    assert_eq!(app.put_json("/api/v1/admin/billing/settings", &reader.token, settings.clone()).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.put_json("/api/v1/admin/billing/settings", &admin, settings).await.status, StatusCode::OK);
    let profile = json!({"first_name": "Annie", "last_name": "Smith", "currency": "USD", "language": "en",
                         "address": {"line1": "2 Low Street", "city": "York", "postcode": "YO1 1AA", "country": "GB"}});
    assert_eq!(app.put_json("/api/v1/me/profile", &ann.token, profile).await.status, StatusCode::OK);
    let second = order_vps(&app, &ann.token, "k2").await;
    assert_eq!((second["due_on"].as_str(), second["seller"]["tax_id"].as_str()), (Some("2026-12-07"), Some("GB987654321")));
    assert!(second["payment_instructions"].as_str().unwrap().starts_with("IBAN"));
    let res = app.get(&format!("/api/v1/invoices/{}/ubl", second["id"].as_str().unwrap()), Some(&ann.token)).await;
    assert_eq!((res.status, res.content_type()), (StatusCode::OK, "application/xml"), "{}", res.text);
    for expected in ["<cbc:ID>INV-2026-000002</cbc:ID>", "GB987654321", "<cbc:PayableAmount currencyID=\"USD\">23.99</cbc:PayableAmount>"] {
        assert!(res.text.contains(expected), "{expected} not in\n{}", res.text);
    }
    // The first invoice still shows the seller as it was when it was issued.
    assert_eq!(app.get(&format!("/api/v1/invoices/{id}"), Some(&ann.token)).await.body["seller"]["name"], "Keel Hosting");
});

/// The PDF's text, as `pdftotext` (poppler-utils, installed by scripts/setup --test) reads it.
fn pdf_text(pdf: &[u8]) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("pdftotext")
        .args(["-layout", "-", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("pdftotext (poppler-utils) is installed by scripts/setup --test");
    child.stdin.take().unwrap().write_all(pdf).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "pdftotext failed on the PDF");
    String::from_utf8(out.stdout).unwrap()
}

both_backends!(fifty_concurrent_checkouts_number_fifty_invoices_without_gaps, |app: TestApp| async move {
    let vps = product_id(&app, "vps-2").await;
    let mut clients = Vec::new();
    for _ in 0..5 {
        clients.push(a_client().verified().create(&app).await);
    }
    let body = json!({"lines": [{"product_id": vps, "cycle": "monthly"}]});
    let answers = futures_util::future::join_all(
        (0..50).map(|i| place(&app, &clients[i % 5].token, Box::leak(format!("key-{i}").into_boxed_str()), body.clone())),
    )
    .await;
    assert!(answers.iter().all(|r| r.status == StatusCode::CREATED), "{:?}", answers.iter().map(|r| &r.text).collect::<Vec<_>>());
    let admin = app.admin_token().await;
    let mut numbers = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/admin/invoices?per_page=20&cursor={c}"),
            None => "/api/v1/admin/invoices?per_page=20".into(),
        };
        let page = app.get(&path, Some(&admin)).await;
        numbers.extend(page.body["items"].as_array().unwrap().iter().map(|i| i["number"].as_str().unwrap().to_string()));
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    numbers.sort();
    let expected: Vec<String> = (1..=50).map(|n| format!("INV-2026-{n:06}")).collect();
    assert_eq!(numbers, expected);
});

both_backends!(
    a_stripe_payment_is_recorded_once_and_paid_invoices_start_their_work_in_one_commit,
    config = with_stripe,
    |app: TestApp| async move {
        let ann = a_client().verified().create(&app).await;
        let inv = order_vps(&app, &ann.token, "k1").await;
        let id = inv["id"].as_str().unwrap().to_string();
        // Pay by card: a Checkout Session at the Stripe stand-in, over HTTP.
        let res = app.post_json_authed(&format!("/api/v1/invoices/{id}/pay"), &ann.token, json!({"gateway": "stripe"})).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        let url = res.body["redirect_url"].as_str().unwrap().to_string();
        let (base, sandbox) = standins::stripe();
        assert!(url.starts_with(&format!("{base}/pay/cs_test_")), "{url}");
        let page = reqwest::get(&url).await.unwrap().text().await.unwrap();
        assert!(page.contains("Stripe sandbox") && page.contains("$19.99"), "{page}");
        // The client pays on the page; the stand-in signs its events (kept, not sent: the app under
        // test has no port) and sends the browser back.
        let before = sandbox.delivered().len();
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let res = http.post(&url).header("content-type", "application/x-www-form-urlencoded").body("action=pay").send().await.unwrap();
        assert_eq!(res.status().as_u16(), 303);
        assert!(res.headers()["location"].to_str().unwrap().ends_with(&format!("/dashboard/invoices/{id}?paid=1")));
        let events: Vec<_> = sandbox.delivered()[before..].to_vec();
        assert_eq!(events.len(), 2, "checkout.session.completed and payment_intent.succeeded");

        // Nothing is paid until the signed webhook arrives.
        assert_eq!(app.get(&format!("/api/v1/invoices/{id}"), Some(&ann.token)).await.body["status"], "unpaid");
        let jobs_before = count(&app, "jobs");
        let first = deliver(&app, &events[0].body, &events[0].signature).await;
        assert_eq!((first.status, first.body["outcome"].as_str()), (StatusCode::OK, Some("recorded")), "{}", first.text);
        let paid = app.get(&format!("/api/v1/invoices/{id}"), Some(&ann.token)).await.body;
        assert_eq!(
            (paid["status"].as_str(), paid["balance_minor"].as_i64(), paid["payments"].as_array().map(Vec::len)),
            (Some("paid"), Some(0), Some(1))
        );
        assert_eq!(paid["payments"][0]["gateway"], "stripe");
        // The payment's e-mail job and the VPS's provisioning job were written by the webhook's
        // own transaction: nothing is enqueued after commit.
        assert_eq!(count(&app, "jobs") - jobs_before, 2);
        assert_eq!(count(&app, "jobs WHERE kind = 'provisioning.create'"), 1);
        assert_eq!(crate::support::mail_count(&app, &ann.email, "payment_received"), 1);
        // The twin event names the same PaymentIntent: acknowledged, nothing more.
        let twin = deliver(&app, &events[1].body, &events[1].signature).await;
        assert_eq!((twin.status, twin.body["outcome"].as_str()), (StatusCode::OK, Some("duplicate")), "{}", twin.text);

        // One event replayed 100 times, half of them at once: still one payment, one e-mail.
        let replays = futures_util::future::join_all((0..50).map(|_| deliver(&app, &events[0].body, &events[0].signature))).await;
        assert!(replays.iter().all(|r| r.status == StatusCode::OK && r.body["outcome"] == "duplicate"));
        for _ in 0..50 {
            assert_eq!(deliver(&app, &events[0].body, &events[0].signature).await.body["outcome"], "duplicate");
        }
        assert_eq!((count(&app, "payments"), count(&app, "payment_events")), (1, 2));
        assert_eq!(crate::support::mail_count(&app, &ann.email, "payment_received"), 1);
        assert_eq!(
            app.post_json_authed(&format!("/api/v1/invoices/{id}/pay"), &ann.token, json!({"gateway": "stripe"})).await.problem(409)
                ["code"],
            "invoice_state"
        );
        let admin = app.admin_token().await;
        let audit = app.get(&format!("/api/v1/admin/audit?account_id={}", ann.id), Some(&admin)).await;
        let actions: Vec<&str> = audit.body["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert!(["invoice.issued", "payment.recorded", "invoice.paid", "order.paid"].iter().all(|a| actions.contains(a)), "{actions:?}");

        // Refunds go through Stripe's API (the stand-in keeps count) and each has a credit note.
        let payment = paid["payments"][0]["id"].as_str().unwrap().to_string();
        let refunds = format!("/api/v1/admin/invoices/{id}/refunds");
        let reader = a_staff_member().with_permissions(&["billing.read"]).create(&app).await;
        let part = json!({"payment_id": payment, "amount_minor": 500, "reason": "Goodwill for downtime"});
        assert_eq!(app.post_json_authed(&refunds, &reader.token, part.clone()).await.status, StatusCode::FORBIDDEN);
        let res = app.post_json_authed(&refunds, &admin, part).await;
        assert_eq!(
            (res.status, res.body["status"].as_str(), res.body["paid_minor"].as_i64()),
            (StatusCode::OK, Some("paid"), Some(1499)),
            "{}",
            res.text
        );
        assert_eq!(res.body["credit_notes"][0]["number"], "CN-2026-000001");
        assert!(
            res.body["payments"][1]["amount_minor"] == -500 && res.body["payments"][1]["reference"].as_str().unwrap().starts_with("re_")
        );
        let too_much = json!({"payment_id": payment, "amount_minor": 1500, "reason": "x"});
        assert!(app.post_json_authed(&refunds, &admin, too_much).await.problem(422)["errors"]["amount_minor"][0]
            .as_str()
            .unwrap()
            .contains("$14.99"));
        // The rest, asked twice at once: refunded once.
        let rest = json!({"payment_id": payment, "amount_minor": 1499, "reason": "Cancelled"});
        let both =
            futures_util::future::join(app.post_json_authed(&refunds, &admin, rest.clone()), app.post_json_authed(&refunds, &admin, rest))
                .await;
        assert!([&both.0, &both.1].iter().any(|r| r.status == StatusCode::OK), "{} {}", both.0.text, both.1.text);
        let after = app.get(&format!("/api/v1/invoices/{id}"), Some(&ann.token)).await.body;
        assert_eq!(
            (after["status"].as_str(), after["paid_minor"].as_i64(), after["credit_notes"].as_array().map(Vec::len)),
            (Some("refunded"), Some(0), Some(2)),
            "{after}"
        );
        assert_eq!(count(&app, "payments"), 3);
    }
);

both_backends!(bad_stale_or_mismatched_webhooks_record_nothing, config = with_stripe, |app: TestApp| async move {
    let ann = a_client().verified().create(&app).await;
    let inv = order_vps(&app, &ann.token, "k1").await;
    let id = inv["id"].as_str().unwrap();
    let pi = |pi: &str, amount: i64, currency: &str, asked: i64| {
        json!({"id": pi, "object": "payment_intent", "status": "succeeded", "amount": amount, "amount_received": amount, "currency": currency,
               "metadata": {"invoice_id": id, "amount_minor": asked.to_string()}})
    };
    let good = stripe_event("evt_good", "payment_intent.succeeded", pi("pi_1", 1999, "usd", 1999));
    // A wrong signature, another secret, a stale timestamp, no header: 400, stored as rejected.
    let wrong_secret = {
        let t = app.clock.now().timestamp();
        format!("t={t},v1={}", keel_api::payments::stripe::sign("whsec_other", t, good.as_bytes()))
    };
    for signature in [wrong_secret, signed(&app, &good, 301), "t=1,v1=00".into(), "nonsense".into()] {
        let res = deliver(&app, &good, &signature).await;
        assert_eq!(res.problem(400)["code"], "bad_signature", "{signature}");
    }
    let res = app
        .request(
            TestRequest::post()
                .uri("/api/v1/webhooks/stripe")
                .insert_header(("content-type", "application/json"))
                .set_payload(good.clone()),
        )
        .await;
    assert_eq!(res.problem(400)["code"], "bad_signature");
    assert_eq!(count(&app, "payments"), 0);
    // Signed, but for another amount or currency than Keel asked: flagged, nothing recorded.
    for (evt, object) in [("evt_amount", pi("pi_2", 1000, "usd", 1999)), ("evt_currency", pi("pi_3", 1999, "eur", 1999))] {
        let body = stripe_event(evt, "payment_intent.succeeded", object);
        let res = deliver(&app, &body, &signed(&app, &body, 0)).await;
        assert_eq!((res.status, res.body["outcome"].as_str()), (StatusCode::OK, Some("mismatch")), "{}", res.text);
    }
    // For no invoice Keel knows: kept as unmatched.
    let body = stripe_event(
        "evt_unknown",
        "payment_intent.succeeded",
        json!({"id": "pi_4", "amount_received": 500, "currency": "usd", "metadata": {"invoice_id": "0192f0c4-8e3b-7cc1-9a52-3f1e2d4c5b6a"}}),
    );
    assert_eq!(deliver(&app, &body, &signed(&app, &body, 0)).await.body["outcome"], "unmatched");
    // A failed attempt: the client hears of it; the invoice stays open.
    let body = stripe_event(
        "evt_failed",
        "payment_intent.payment_failed",
        json!({"id": "pi_5", "metadata": {"invoice_id": id}, "last_payment_error": {"message": "Your card was declined."}}),
    );
    assert_eq!(deliver(&app, &body, &signed(&app, &body, 0)).await.body["outcome"], "failed");
    assert_eq!(crate::support::mail_count(&app, &ann.email, "payment_failed"), 1);
    assert_eq!(count(&app, "payments"), 0);
    assert_eq!(app.get(&format!("/api/v1/invoices/{id}"), Some(&ann.token)).await.body["status"], "unpaid");
    // Every one is in the log for staff, with its outcome.
    let admin = app.admin_token().await;
    let log = app.get("/api/v1/admin/payment-events?per_page=100", Some(&admin)).await;
    let outcomes: Vec<&str> = log.body["items"].as_array().unwrap().iter().map(|e| e["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes.iter().filter(|o| **o == "rejected").count(), 5, "{outcomes:?}");
    assert_eq!(outcomes.iter().filter(|o| **o == "mismatch").count(), 2);
    let flagged = app.get("/api/v1/admin/payment-events?outcome=unmatched", Some(&admin)).await;
    assert_eq!(flagged.body["total"], 1);
    // The good event still works afterwards.
    assert_eq!(deliver(&app, &good, &signed(&app, &good, 0)).await.body["outcome"], "recorded");
    assert_eq!(app.get(&format!("/api/v1/invoices/{id}"), Some(&ann.token)).await.body["status"], "paid");
    // A refund made in Stripe's dashboard arrives as charge.refunded (cumulative): recorded once,
    // with a credit note.
    let refunded = |evt: &str, total: i64| {
        stripe_event(
            evt,
            "charge.refunded",
            json!({"id": "ch_1", "object": "charge", "payment_intent": "pi_1", "amount": 1999, "amount_refunded": total, "currency": "usd"}),
        )
    };
    let body = refunded("evt_refund_1", 500);
    assert_eq!(deliver(&app, &body, &signed(&app, &body, 0)).await.body["outcome"], "recorded");
    let body = refunded("evt_refund_1_again", 500);
    assert_eq!(deliver(&app, &body, &signed(&app, &body, 0)).await.body["outcome"], "duplicate");
    let after = app.get(&format!("/api/v1/invoices/{id}"), Some(&ann.token)).await.body;
    assert_eq!(
        (after["paid_minor"].as_i64(), after["credit_notes"][0]["reason"].as_str()),
        (Some(1499), Some("Refunded at Card (Stripe)"))
    );
});

both_backends!(bank_transfers_credit_and_cancelling, |app: TestApp| async move {
    let ann = a_client().verified().create(&app).await;
    let inv = order_vps(&app, &ann.token, "k1").await;
    let id = inv["id"].as_str().unwrap().to_string();
    let admin = app.admin_token().await;
    let reader = a_staff_member().with_permissions(&["billing.read"]).create(&app).await;
    let path = format!("/api/v1/admin/invoices/{id}/payments");
    assert_eq!(
        app.post_json_authed(&path, &reader.token, json!({"amount_minor": 1000, "reference": "X"})).await.status,
        StatusCode::FORBIDDEN
    );
    for bad in [
        json!({"amount_minor": 0, "reference": "X"}),
        json!({"amount_minor": -5, "reference": "X"}),
        json!({"amount_minor": 1000, "reference": ""}),
    ] {
        assert_eq!(app.post_json_authed(&path, &admin, bad).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // A partial transfer, then one that pays more than is left: the rest goes to credit.
    let res = app.post_json_authed(&path, &admin, json!({"amount_minor": 1000, "reference": "BANK-1"})).await;
    assert_eq!((res.body["status"].as_str(), res.body["balance_minor"].as_i64()), (Some("partially_paid"), Some(999)), "{}", res.text);
    let res = app.post_json_authed(&path, &admin, json!({"amount_minor": 1500, "reference": "BANK-2"})).await;
    assert_eq!((res.body["status"].as_str(), res.body["paid_minor"].as_i64()), (Some("paid"), Some(1999)), "{}", res.text);
    let credit = app.get("/api/v1/credit", Some(&ann.token)).await.body;
    assert_eq!(credit["balances"], json!([{"currency": "USD", "balance_minor": 501}]));
    let cancel = format!("/api/v1/admin/invoices/{id}/cancel");
    assert_eq!(app.post_json_authed(&cancel, &admin, json!({"reason": "oops"})).await.problem(409)["code"], "invoice_state");

    // The next order is paid from credit as far as it goes, then by adding credit.
    let second = order_vps(&app, &ann.token, "k2").await;
    let second_id = second["id"].as_str().unwrap().to_string();
    let pay = format!("/api/v1/invoices/{second_id}/pay");
    let res = app.post_json_authed(&pay, &ann.token, json!({"gateway": "credit"})).await;
    assert_eq!(
        (res.body["invoice"]["status"].as_str(), res.body["invoice"]["balance_minor"].as_i64()),
        (Some("partially_paid"), Some(1498)),
        "{}",
        res.text
    );
    assert_eq!(
        app.post_json_authed(&pay, &ann.token, json!({"gateway": "credit"})).await.problem(422)["errors"]["gateway"][0],
        "there is no account credit in USD to pay with"
    );
    let adjust = format!("/api/v1/admin/clients/{}/credit", ann.id);
    let res = app.post_json_authed(&adjust, &admin, json!({"amount_minor": -1, "currency": "USD", "reason": "take"})).await;
    assert!(res.problem(422)["errors"].get("amount_minor").is_some(), "no credit left to take");
    let res = app.post_json_authed(&adjust, &admin, json!({"amount_minor": 2000, "currency": "USD", "reason": "Goodwill"})).await;
    assert_eq!(res.body["balances"][0]["balance_minor"], 2000, "{}", res.text);
    let res = app.post_json_authed(&pay, &ann.token, json!({"gateway": "credit"})).await;
    assert_eq!(res.body["invoice"]["status"], "paid", "{}", res.text);
    let credit = app.get("/api/v1/credit", Some(&ann.token)).await.body;
    assert_eq!(credit["balances"][0]["balance_minor"], 502);
    // A credit payment given back goes back to credit, with a credit note.
    let second = app.get(&format!("/api/v1/invoices/{second_id}"), Some(&ann.token)).await.body;
    let by_credit = second["payments"].as_array().unwrap().iter().find(|p| p["amount_minor"] == 1498).unwrap()["id"].clone();
    let res = app
        .post_json_authed(
            &format!("/api/v1/admin/invoices/{second_id}/refunds"),
            &admin,
            json!({"payment_id": by_credit, "amount_minor": 1000, "reason": "Price match"}),
        )
        .await;
    assert_eq!(res.body["credit_notes"][0]["number"], "CN-2026-000001", "{}", res.text);
    let credit = app.get("/api/v1/credit", Some(&ann.token)).await.body;
    assert_eq!(credit["balances"][0]["balance_minor"], 1502);
    let other = json!({"payment_id": inv["id"], "amount_minor": 1, "reason": "x"});
    assert!(app.post_json_authed(&format!("/api/v1/admin/invoices/{second_id}/refunds"), &admin, other).await.problem(422)["errors"]
        .get("payment_id")
        .is_some());
    // The balance is the sum of the ledger's entries.
    let sum: i64 = credit["entries"].as_array().unwrap().iter().map(|e| e["amount_minor"].as_i64().unwrap()).sum();
    assert_eq!(sum, 1502);
    assert_eq!(
        app.post_json_authed(&adjust, &admin, json!({"amount_minor": 0, "currency": "USD", "reason": "x"})).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let bob = a_client().create(&app).await;
    assert_eq!(app.post_json_authed(&pay, &bob.token, json!({"gateway": "credit"})).await.status, StatusCode::NOT_FOUND);

    // Cancelling an order cancels its unpaid invoice, which keeps its number.
    let third = order_vps(&app, &ann.token, "k3").await;
    let order = third["order_id"].as_str().unwrap();
    let res = app.post_json_authed(&format!("/api/v1/admin/orders/{order}/cancel"), &admin, json!({"reason": "Changed their mind"})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let third = app.get(&format!("/api/v1/invoices/{}", third["id"].as_str().unwrap()), Some(&ann.token)).await.body;
    assert_eq!((third["status"].as_str(), third["number"].as_str()), (Some("cancelled"), Some("INV-2026-000003")));
});

both_backends!(credit_notes_download_as_pdf_and_ubl, |app: TestApp| async move {
    // The seller's VAT id (an e-invoice needs it) and a client taxed at the UK's 20 %.
    let admin = app.admin_token().await;
    let settings = json!({"seller_name": "Keel Hosting Ltd", "seller_address": "1 Dock Road\nLondon E1 1AA", "seller_tax_id": "GB987654321",
                          "invoice_prefix": "INV-", "due_days": 14, "payment_instructions": ""});
    assert_eq!(app.put_json("/api/v1/admin/billing/settings", &admin, settings).await.status, StatusCode::OK);
    let ann = a_client().verified().create(&app).await;
    let profile = json!({"first_name": "Ann", "last_name": "Lee", "company": "Lee Hosting Ltd", "currency": "USD", "language": "en",
                         "address": {"line1": "1 High Street", "city": "Leeds", "postcode": "LS1 1AA", "country": "GB"}, "tax_id": "GB123456789"});
    assert_eq!(app.put_json("/api/v1/me/profile", &ann.token, profile).await.status, StatusCode::OK);
    let inv = order_vps(&app, &ann.token, "k1").await;
    let id = inv["id"].as_str().unwrap().to_string();
    assert_eq!((inv["total_minor"].as_i64(), inv["tax_minor"].as_i64()), (Some(2399), Some(400)));

    // Paid by bank transfer; $5.00 of it given back, with a credit note.
    let res = app
        .post_json_authed(&format!("/api/v1/admin/invoices/{id}/payments"), &admin, json!({"amount_minor": 2399, "reference": "BANK-7"}))
        .await;
    assert_eq!(res.body["status"], "paid", "{}", res.text);
    let payment = res.body["payments"][0]["id"].clone();
    let res = app
        .post_json_authed(
            &format!("/api/v1/admin/invoices/{id}/refunds"),
            &admin,
            json!({"payment_id": payment, "amount_minor": 500, "reason": "Goodwill for downtime"}),
        )
        .await;
    assert_eq!(res.body["credit_notes"][0]["number"], "CN-2026-000001", "{}", res.text);
    let note = res.body["credit_notes"][0]["id"].as_str().unwrap().to_string();
    let issued_on = &inv["issued_at"].as_str().unwrap()[..10];

    // The client downloads it as a PDF: its number, the invoice it credits, the amount split as
    // the invoice's (tax = 5.00 × 4.00 / 23.99 = 0.83, rounded half up).
    let pdf_path = format!("/api/v1/invoices/{id}/credit-notes/{note}/pdf");
    let res = app.get(&pdf_path, Some(&ann.token)).await;
    assert_eq!((res.status, res.content_type()), (StatusCode::OK, "application/pdf"), "{}", res.text);
    let header =
        |res: &crate::support::Res, name: &str| res.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert_eq!(header(&res, "content-disposition"), "attachment; filename=\"CN-2026-000001.pdf\"");
    assert_eq!(header(&res, "cache-control"), "private, no-store");
    let text = pdf_text(&res.bytes);
    for expected in [
        "CREDIT NOTE",
        "CN-2026-000001",
        "INV-2026-000001",
        "$5.00",
        "$4.17",
        "$0.83",
        "Refund: Goodwill for downtime",
        "Lee Hosting Ltd",
        "GB123456789",
    ] {
        assert!(text.contains(expected), "{expected} not in the credit note's text:\n{text}");
    }
    assert!(text.contains("Credits invoice") && text.contains("BANK-7"), "{text}");

    // Staff with billing.read download its UBL: a CreditNote (381) that refers to the invoice.
    let reader = a_staff_member().with_permissions(&["billing.read"]).create(&app).await;
    let ubl_path = format!("/api/v1/admin/invoices/{id}/credit-notes/{note}/ubl");
    let res = app.get(&ubl_path, Some(&reader.token)).await;
    assert_eq!((res.status, res.content_type()), (StatusCode::OK, "application/xml"), "{}", res.text);
    assert_eq!(header(&res, "content-disposition"), "attachment; filename=\"CN-2026-000001.xml\"");
    assert_eq!(header(&res, "cache-control"), "private, no-store");
    let doc = roxmltree::Document::parse(&res.text).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "CreditNote");
    let find = |path: &[&str]| {
        let mut node = root;
        for step in path {
            node = node.children().find(|c| c.tag_name().name() == *step).unwrap_or_else(|| panic!("{path:?} missing:\n{}", res.text));
        }
        node.text().unwrap_or_default().to_string()
    };
    assert_eq!(find(&["ID"]), "CN-2026-000001");
    assert_eq!(find(&["CreditNoteTypeCode"]), "381");
    assert_eq!(find(&["BillingReference", "InvoiceDocumentReference", "ID"]), "INV-2026-000001");
    assert_eq!(find(&["BillingReference", "InvoiceDocumentReference", "IssueDate"]), issued_on);
    assert_eq!(find(&["CreditNoteLine", "CreditedQuantity"]), "1");
    assert_eq!(find(&["CreditNoteLine", "LineExtensionAmount"]), "4.17");
    assert_eq!(find(&["TaxTotal", "TaxAmount"]), "0.83");
    assert_eq!(find(&["LegalMonetaryTotal", "TaxInclusiveAmount"]), "5.00");
    assert_eq!(find(&["AccountingSupplierParty", "Party", "PartyTaxScheme", "CompanyID"]), "GB987654321");
    assert_eq!(find(&["AccountingCustomerParty", "Party", "PartyTaxScheme", "CompanyID"]), "GB123456789");
    // The other two: the client's UBL, the back office's PDF.
    assert_eq!(app.get(&format!("/api/v1/invoices/{id}/credit-notes/{note}/ubl"), Some(&ann.token)).await.text, res.text);
    let res = app.get(&format!("/api/v1/admin/invoices/{id}/credit-notes/{note}/pdf"), Some(&admin)).await;
    assert_eq!((res.status, res.content_type()), (StatusCode::OK, "application/pdf"));
    let nobody = a_staff_member().create(&app).await;
    assert_eq!(app.get(&ubl_path, Some(&nobody.token)).await.status, StatusCode::FORBIDDEN);

    // Another client's invoice is nobody else's: 404, as for the invoice itself.
    let bob = a_client().create(&app).await;
    for path in [pdf_path.clone(), format!("/api/v1/invoices/{id}/credit-notes/{note}/ubl")] {
        assert_eq!(app.get(&path, Some(&bob.token)).await.problem(404)["status"], 404, "{path}");
    }
    // A note id that is not of that invoice (another invoice's note, an unknown or malformed id): 404.
    let second = order_vps(&app, &ann.token, "k2").await;
    let second = second["id"].as_str().unwrap();
    for (path, token) in [
        (format!("/api/v1/invoices/{second}/credit-notes/{note}/pdf"), &ann.token),
        (format!("/api/v1/invoices/{second}/credit-notes/{note}/ubl"), &ann.token),
        (format!("/api/v1/admin/invoices/{second}/credit-notes/{note}/pdf"), &admin),
        (format!("/api/v1/admin/invoices/{second}/credit-notes/{note}/ubl"), &admin),
        (format!("/api/v1/invoices/{id}/credit-notes/0199a0b2-0000-7000-8000-000000000000/pdf"), &ann.token),
        (format!("/api/v1/admin/invoices/{id}/credit-notes/0199a0b2-0000-7000-8000-000000000000/ubl"), &admin),
        (format!("/api/v1/invoices/{id}/credit-notes/nope/pdf"), &ann.token),
    ] {
        assert_eq!(app.get(&path, Some(token)).await.problem(404)["status"], 404, "{path}");
    }

    // A note of an invoice issued without the seller's VAT id is a PDF but no e-invoice: 409.
    let settings = json!({"seller_name": "Keel Hosting Ltd", "seller_address": "1 Dock Road\nLondon E1 1AA", "seller_tax_id": "",
                          "invoice_prefix": "INV-", "due_days": 14, "payment_instructions": ""});
    assert_eq!(app.put_json("/api/v1/admin/billing/settings", &admin, settings).await.status, StatusCode::OK);
    let third = order_vps(&app, &ann.token, "k3").await;
    let third = third["id"].as_str().unwrap();
    let res = app
        .post_json_authed(&format!("/api/v1/admin/invoices/{third}/payments"), &admin, json!({"amount_minor": 2399, "reference": "BANK-8"}))
        .await;
    let payment = res.body["payments"][0]["id"].clone();
    let res = app
        .post_json_authed(
            &format!("/api/v1/admin/invoices/{third}/refunds"),
            &admin,
            json!({"payment_id": payment, "amount_minor": 2399, "reason": "Cancelled"}),
        )
        .await;
    assert_eq!(res.body["credit_notes"][0]["number"], "CN-2026-000002", "{}", res.text);
    let note = res.body["credit_notes"][0]["id"].as_str().unwrap();
    for path in
        [format!("/api/v1/invoices/{third}/credit-notes/{note}/ubl"), format!("/api/v1/admin/invoices/{third}/credit-notes/{note}/ubl")]
    {
        let token = if path.contains("/admin/") { &admin } else { &ann.token };
        let res = app.get(&path, Some(token)).await;
        assert_eq!(res.problem(409)["code"], "einvoice_incomplete", "{path}");
        assert!(res.body["detail"].as_str().unwrap().starts_with("this credit note cannot be an e-invoice: the seller"), "{}", res.text);
    }
    let res = app.get(&format!("/api/v1/invoices/{third}/credit-notes/{note}/pdf"), Some(&ann.token)).await;
    assert_eq!((res.status, res.content_type()), (StatusCode::OK, "application/pdf"));
    assert!(pdf_text(&res.bytes).contains("CN-2026-000002"));
});

both_backends!(concurrent_credit_payments_never_overdraw, |app: TestApp| async move {
    let ann = a_client().verified().create(&app).await;
    let mut invoices = Vec::new();
    for i in 0..5 {
        invoices.push(order_vps(&app, &ann.token, &format!("k{i}")).await["id"].as_str().unwrap().to_string());
    }
    let admin = app.admin_token().await;
    let adjust = format!("/api/v1/admin/clients/{}/credit", ann.id);
    assert_eq!(
        app.post_json_authed(&adjust, &admin, json!({"amount_minor": 4000, "currency": "USD", "reason": "Prepaid"})).await.status,
        StatusCode::OK
    );
    let answers = futures_util::future::join_all(invoices.iter().map(|id| {
        app.post_json_authed(Box::leak(format!("/api/v1/invoices/{id}/pay").into_boxed_str()), &ann.token, json!({"gateway": "credit"}))
    }))
    .await;
    let paid: i64 = answers.iter().filter(|r| r.status == StatusCode::OK).map(|r| r.body["invoice"]["paid_minor"].as_i64().unwrap()).sum();
    assert_eq!(paid, 4000, "{:?}", answers.iter().map(|r| &r.text).collect::<Vec<_>>());
    let credit = app.get("/api/v1/credit", Some(&ann.token)).await.body;
    assert_eq!(credit["balances"][0]["balance_minor"], 0);
});

both_backends!(staff_write_manual_invoices_as_drafts_then_issue_them, |app: TestApp| async move {
    let ann = a_client().verified().create(&app).await;
    let admin = app.admin_token().await;
    let line = |d: &str, q: u32, unit: i64, rate: u32| json!({"description": d, "quantity": q, "unit_minor": unit, "tax_rate_bp": rate});
    let body = json!({"account_id": ann.id, "currency": "EUR", "lines": [line("Migration of 3 sites", 3, 2500, 2000)]});
    let staff = a_staff_member().with_permissions(&["billing.read"]).create(&app).await;
    assert_eq!(app.post_json_authed("/api/v1/admin/invoices", &staff.token, body.clone()).await.status, StatusCode::FORBIDDEN);
    let mut not_client = body.clone();
    not_client["account_id"] = json!(staff.id);
    assert!(app.post_json_authed("/api/v1/admin/invoices", &admin, not_client).await.problem(422)["errors"].get("account_id").is_some());
    for bad in [line("", 1, 100, 0), line("x", 0, 100, 0), line("x", 1, -1, 0), line("x", 1, 100, 10_001)] {
        let res =
            app.post_json_authed("/api/v1/admin/invoices", &admin, json!({"account_id": ann.id, "currency": "EUR", "lines": [bad]})).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    }
    let res = app.post_json_authed("/api/v1/admin/invoices", &admin, body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let id = res.body["id"].as_str().unwrap().to_string();
    assert_eq!((res.body["status"].as_str(), res.body.get("number")), (Some("draft"), None));
    assert_eq!((res.body["tax_minor"].as_i64(), res.body["total_minor"].as_i64()), (Some(1500), Some(9000)));
    // The client does not see drafts.
    assert_eq!(app.get(&format!("/api/v1/invoices/{id}"), Some(&ann.token)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/api/v1/invoices", Some(&ann.token)).await.body["total"], 0);
    // Lines added and removed: the list as it should be.
    let lines = format!("/api/v1/admin/invoices/{id}/lines");
    let res = app.put_json(&lines, &admin, json!({"lines": [line("Migration of 3 sites", 3, 2500, 2000), line("SSL certificate", 1, 999, 2000), line("Setup", 1, 333, 0)]})).await;
    // 7500 + 999 + 333; VAT 1500 + 199.8 → 200.
    assert_eq!(
        (res.body["subtotal_minor"].as_i64(), res.body["tax_minor"].as_i64(), res.body["total_minor"].as_i64()),
        (Some(8832), Some(1700), Some(10532)),
        "{}",
        res.text
    );
    let res = app.put_json(&lines, &admin, json!({"lines": []})).await;
    assert_eq!(res.body["total_minor"], 0);
    let issue = format!("/api/v1/admin/invoices/{id}/issue");
    assert!(app.post_authed(&issue, &admin).await.problem(422)["errors"].get("lines").is_some());
    app.put_json(&lines, &admin, json!({"lines": [line("SSL certificate", 1, 999, 2000)]})).await;
    let res = app.post_authed(&issue, &admin).await;
    assert_eq!(
        (res.body["status"].as_str(), res.body["number"].as_str(), res.body["kind"].as_str()),
        (Some("unpaid"), Some("INV-2026-000001"), Some("manual")),
        "{}",
        res.text
    );
    assert_eq!(crate::support::mail_count(&app, &ann.email, "invoice_created"), 1);
    // Issued: fixed. No more line changes, no second issue, no deletion.
    assert_eq!(app.put_json(&lines, &admin, json!({"lines": []})).await.problem(409)["code"], "invoice_state");
    assert_eq!(app.post_authed(&issue, &admin).await.problem(409)["code"], "invoice_state");
    assert_eq!(app.delete_authed(&format!("/api/v1/admin/invoices/{id}"), &admin).await.problem(409)["code"], "invoice_state");
    assert_eq!(app.get(&format!("/api/v1/invoices/{id}"), Some(&ann.token)).await.body["total_minor"], 1199);
    // A reminder e-mail; none for a paid invoice.
    let remind = format!("/api/v1/admin/invoices/{id}/remind");
    assert_eq!(app.post_authed(&remind, &admin).await.status, StatusCode::NO_CONTENT);
    assert_eq!(crate::support::mail_count(&app, &ann.email, "invoice_reminder"), 1);
    let pay = format!("/api/v1/admin/invoices/{id}/payments");
    app.post_json_authed(&pay, &admin, json!({"amount_minor": 1199, "reference": "SEPA-77"})).await;
    assert_eq!(app.post_authed(&remind, &admin).await.problem(409)["code"], "invoice_state");
    // A draft can be deleted.
    let res = app.post_json_authed("/api/v1/admin/invoices", &admin, json!({"account_id": ann.id, "currency": "EUR"})).await;
    let draft = res.body["id"].as_str().unwrap();
    assert_eq!(app.delete_authed(&format!("/api/v1/admin/invoices/{draft}"), &admin).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&format!("/api/v1/admin/invoices/{draft}"), Some(&admin)).await.status, StatusCode::NOT_FOUND);
});

both_backends!(adding_funds_is_an_invoice_that_becomes_credit_when_paid, |app: TestApp| async move {
    let ann = a_client().verified().create(&app).await;
    for bad in [
        json!({"amount_minor": 99, "currency": "USD"}),
        json!({"amount_minor": 1_000_001, "currency": "USD"}),
        json!({"amount_minor": 500, "currency": "JPY"}),
    ] {
        assert_eq!(app.post_json_authed("/api/v1/credit/add-funds", &ann.token, bad).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let res = app.post_json_authed("/api/v1/credit/add-funds", &ann.token, json!({"amount_minor": 5000, "currency": "USD"})).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(
        (res.body["kind"].as_str(), res.body["total_minor"].as_i64(), res.body["tax_minor"].as_i64()),
        (Some("add_funds"), Some(5000), Some(0))
    );
    let id = res.body["id"].as_str().unwrap();
    let pay = format!("/api/v1/invoices/{id}/pay");
    assert!(app.post_json_authed(&pay, &ann.token, json!({"gateway": "credit"})).await.problem(422)["errors"].get("gateway").is_some());
    assert_eq!(app.get("/api/v1/credit", Some(&ann.token)).await.body["balances"], json!([]));
    let admin = app.admin_token().await;
    let res = app
        .post_json_authed(&format!("/api/v1/admin/invoices/{id}/payments"), &admin, json!({"amount_minor": 5000, "reference": "WIRE-1"}))
        .await;
    assert_eq!(res.body["status"], "paid", "{}", res.text);
    let credit = app.get("/api/v1/credit", Some(&ann.token)).await.body;
    assert_eq!(credit["balances"], json!([{"currency": "USD", "balance_minor": 5000}]));
    assert!(credit["entries"][0]["reason"].as_str().unwrap().starts_with("Funds added (INV-2026-"));
});

both_backends!(an_idempotency_key_makes_money_moves_happen_once, |app: TestApp| async move {
    let ann = a_client().verified().create(&app).await;
    let post = |path: &str, token: &str, key: &str, body: Value| {
        TestRequest::post()
            .uri(path)
            .insert_header(("authorization", format!("Bearer {token}")))
            .insert_header(("idempotency-key", key.to_string()))
            .set_json(body)
    };
    // Adding funds twice with one key: one invoice.
    let funds = json!({"amount_minor": 2500, "currency": "USD"});
    let first = app.request(post("/api/v1/credit/add-funds", &ann.token, "add-1", funds.clone())).await;
    let again = app.request(post("/api/v1/credit/add-funds", &ann.token, "add-1", funds.clone())).await;
    assert_eq!((first.status, again.status), (StatusCode::CREATED, StatusCode::CREATED), "{}", again.text);
    assert_eq!(first.body["id"], again.body["id"]);
    assert_eq!(again.headers.get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    let other = app.request(post("/api/v1/credit/add-funds", &ann.token, "add-1", json!({"amount_minor": 2600, "currency": "USD"}))).await;
    assert!(other.problem(422)["errors"].get("Idempotency-Key").is_some());
    let bad = app.request(post("/api/v1/credit/add-funds", &ann.token, "bad key with spaces", funds.clone())).await;
    assert!(bad.problem(422)["errors"].get("Idempotency-Key").is_some());
    assert_eq!(app.get("/api/v1/invoices", Some(&ann.token)).await.body["total"], 1);
    // A failed request stores nothing: the same key works once the request can succeed.
    let id = first.body["id"].as_str().unwrap();
    let admin = app.admin_token().await;
    let path = format!("/api/v1/admin/invoices/{id}/payments");
    let transfer = json!({"amount_minor": 2500, "reference": "WIRE-9"});
    let answers = futures_util::future::join_all((0..10).map(|_| app.request(post(&path, &admin, "wire-9", transfer.clone())))).await;
    assert!(
        answers.iter().all(|r| r.status == StatusCode::OK || r.status == StatusCode::CONFLICT),
        "{:?}",
        answers.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    assert_eq!(app.request(post(&path, &admin, "wire-9", transfer)).await.body["paid_minor"], 2500);
    assert_eq!(count(&app, "payments"), 1, "ten requests with one key: one payment");
    let credit = app.get("/api/v1/credit", Some(&ann.token)).await.body;
    assert_eq!(credit["balances"], json!([{"currency": "USD", "balance_minor": 2500}]));
});

fn with_razorpay(c: &mut Config) {
    let (url, _) = standins::razorpay();
    let (key_id, key_secret, webhook_secret) = standins::RAZORPAY_KEYS;
    c.razorpay = Some(keel_api::config::RazorpayKeys {
        key_id: key_id.into(),
        key_secret: key_secret.into(),
        webhook_secret: webhook_secret.into(),
        api_url: url,
    });
}

async fn deliver_razorpay(app: &TestApp, body: &str, signature: &str, event_id: &str) -> crate::support::Res {
    app.request(
        TestRequest::post()
            .uri("/api/v1/webhooks/razorpay")
            .insert_header(("content-type", "application/json"))
            .insert_header(("x-razorpay-signature", signature.to_string()))
            .insert_header(("x-razorpay-event-id", event_id.to_string()))
            .set_payload(body.to_string()),
    )
    .await
}

both_backends!(a_razorpay_payment_is_matched_through_its_order_and_refunded, config = with_razorpay, |app: TestApp| async move {
    let ann = a_client().verified().create(&app).await;
    let inv = order_vps(&app, &ann.token, "k1").await;
    let id = inv["id"].as_str().unwrap().to_string();
    let res = app.post_json_authed(&format!("/api/v1/invoices/{id}/pay"), &ann.token, json!({"gateway": "razorpay"})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    // Live keys: Keel's own page loads Razorpay's checkout widget for the order.
    let widget = res.body["redirect_url"].as_str().unwrap().to_string();
    let order = widget.rsplit('/').next().unwrap().to_string();
    assert!(widget.ends_with(&format!("/api/v1/payments/razorpay/{order}")) && order.starts_with("order_"), "{widget}");
    let res = app.get(&format!("/api/v1/payments/razorpay/{order}"), None).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(
        res.text.contains("https://checkout.razorpay.com/v1/checkout.js")
            && res.text.contains(&order)
            && res.text.contains("\"amount\":1999"),
        "{}",
        res.text
    );
    assert_eq!(app.get("/api/v1/payments/razorpay/order_unknown", None).await.status, StatusCode::NOT_FOUND);
    // The stand-in's page plays the widget.
    let (base, sandbox) = standins::razorpay();
    let url = format!("{base}/pay/{order}");
    let page = reqwest::get(&url).await.unwrap().text().await.unwrap();
    assert!(page.contains("Razorpay sandbox") && page.contains("$19.99"), "{page}");
    let before = sandbox.delivered().len();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = http.post(&url).header("content-type", "application/x-www-form-urlencoded").body("action=pay").send().await.unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let back = res.headers()["location"].to_str().unwrap().to_string();
    let query = back.strip_prefix(standins::RAZORPAY_CALLBACK).unwrap().to_string();
    let events: Vec<_> = sandbox.delivered()[before..].to_vec();
    assert_eq!(events.len(), 1);
    let (event, event_id) = (&events[0], events[0].event_id.clone().unwrap());
    // A signature made with the key secret instead of the webhook secret is refused.
    let wrong = keel_api::payments::razorpay::hmac_hex(standins::RAZORPAY_KEYS.1, event.body.as_bytes());
    assert_eq!(deliver_razorpay(&app, &event.body, &wrong, &event_id).await.problem(400)["code"], "bad_signature");
    // payment.captured names only the order: matched to the invoice it was opened for.
    let res = deliver_razorpay(&app, &event.body, &event.signature, &event_id).await;
    assert_eq!((res.status, res.body["outcome"].as_str()), (StatusCode::OK, Some("recorded")), "{}", res.text);
    assert_eq!(deliver_razorpay(&app, &event.body, &event.signature, &event_id).await.body["outcome"], "duplicate");
    // The same payment under another event id: one payment still.
    assert_eq!(deliver_razorpay(&app, &event.body, &event.signature, "evt_other").await.body["outcome"], "duplicate");
    // The browser comes back through the callback: a verified signature lands on ?paid=1.
    let res = app.request(TestRequest::get().uri(&format!("/api/v1/payments/razorpay/callback{query}"))).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(res.headers.get("location").unwrap().to_str().unwrap().ends_with(&format!("/dashboard/invoices/{id}?paid=1")));
    let forged = query.replace("razorpay_signature=", "razorpay_signature=00");
    let res = app.request(TestRequest::get().uri(&format!("/api/v1/payments/razorpay/callback{forged}"))).await;
    assert!(res.headers.get("location").unwrap().to_str().unwrap().ends_with(&format!("/dashboard/invoices/{id}")));
    let paid = app.get(&format!("/api/v1/invoices/{id}"), Some(&ann.token)).await.body;
    assert_eq!((paid["status"].as_str(), paid["payments"][0]["gateway"].as_str()), (Some("paid"), Some("razorpay")));
    // Refunded at Razorpay, with a credit note; more than is left is refused there and here.
    let admin = app.admin_token().await;
    let payment = paid["payments"][0]["id"].as_str().unwrap();
    let refunds = format!("/api/v1/admin/invoices/{id}/refunds");
    let res =
        app.post_json_authed(&refunds, &admin, json!({"payment_id": payment, "amount_minor": 1999, "reason": "Duplicate order"})).await;
    assert_eq!((res.status, res.body["status"].as_str()), (StatusCode::OK, Some("refunded")), "{}", res.text);
    assert!(res.body["payments"][1]["reference"].as_str().unwrap().starts_with("rfnd_"));
    // Razorpay then reports that refund: already recorded.
    let rfnd = res.body["payments"][1]["reference"].as_str().unwrap();
    let pay_id = paid["payments"][0]["reference"].as_str().unwrap();
    let body = json!({"entity": "event", "event": "refund.processed", "payload": {"refund": {"entity": {"id": rfnd, "entity": "refund", "amount": 1999, "payment_id": pay_id, "status": "processed"}}}}).to_string();
    let signature = keel_api::payments::razorpay::hmac_hex(standins::RAZORPAY_KEYS.2, body.as_bytes());
    assert_eq!(deliver_razorpay(&app, &body, &signature, "evt_refund").await.body["outcome"], "duplicate");
    assert_eq!(
        app.post_json_authed(&refunds, &admin, json!({"payment_id": payment, "amount_minor": 1, "reason": "again"})).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
});

both_backends!(open_invoices_of_one_client_merge_into_one, |app: TestApp| async move {
    let ann = a_client().verified().create(&app).await;
    let bob = a_client().verified().create(&app).await;
    let a = order_vps(&app, &ann.token, "a").await;
    let b = order_vps(&app, &ann.token, "b").await;
    let c = order_vps(&app, &bob.token, "c").await;
    let admin = app.admin_token().await;
    let merge = |ids: Vec<&Value>| json!({"invoice_ids": ids.iter().map(|i| i["id"].clone()).collect::<Vec<_>>()});
    let res = app.post_json_authed("/api/v1/admin/invoice-merges", &admin, merge(vec![&a, &c])).await;
    assert_eq!(res.problem(422)["errors"]["invoice_ids[1]"][0], "belongs to another client");
    let res = app.post_json_authed("/api/v1/admin/invoice-merges", &admin, merge(vec![&a, &a])).await;
    assert_eq!(res.problem(422)["errors"]["invoice_ids[1]"][0], "listed twice");
    assert!(app.post_json_authed("/api/v1/admin/invoice-merges", &admin, merge(vec![&a])).await.problem(422)["errors"]
        .get("invoice_ids")
        .is_some());
    let res = app.post_json_authed("/api/v1/admin/invoice-merges", &admin, merge(vec![&a, &b])).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let merged = res.body.clone();
    assert_eq!((merged["number"].as_str(), merged["total_minor"].as_i64()), (Some("INV-2026-000004"), Some(3998)));
    assert_eq!(merged["lines"].as_array().map(Vec::len), Some(2));
    assert_eq!(merged["lines"][0]["description"], "VPS 2 (Monthly) (INV-2026-000001)");
    for old in [&a, &b] {
        let now = app.get(&format!("/api/v1/invoices/{}", old["id"].as_str().unwrap()), Some(&ann.token)).await.body;
        assert_eq!((now["status"].as_str(), now["number"].as_str()), (Some("cancelled"), old["number"].as_str()));
    }
    // Merged invoices cannot merge again; paying the new one pays for both orders.
    assert_eq!(
        app.post_json_authed("/api/v1/admin/invoice-merges", &admin, merge(vec![&a, &c])).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let id = merged["id"].as_str().unwrap();
    let res = app
        .post_json_authed(&format!("/api/v1/admin/invoices/{id}/payments"), &admin, json!({"amount_minor": 3998, "reference": "WIRE-7"}))
        .await;
    assert_eq!(res.body["status"], "paid", "{}", res.text);
    let audit = app.get(&format!("/api/v1/admin/audit?account_id={}&action=order.paid", ann.id), Some(&admin)).await;
    assert_eq!(audit.body["total"], 2, "{}", audit.text);
});

/// A client saves a card on the Stripe stand-in's page (`action`: `save`, or `save_declining`
/// for one that declines charges) and its signed events are delivered: their outcomes.
pub(crate) async fn save_card(app: &TestApp, token: &str, action: &str) -> Vec<String> {
    let (_, sandbox) = standins::stripe();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = app.post_authed("/api/v1/payment-methods", token).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let url = res.body["redirect_url"].as_str().unwrap().to_string();
    let page = reqwest::get(&url).await.unwrap().text().await.unwrap();
    assert!(page.contains("Save card"), "{page}");
    let before = sandbox.delivered().len();
    let res =
        http.post(&url).header("content-type", "application/x-www-form-urlencoded").body(format!("action={action}")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 303);
    futures_util::future::join_all(
        sandbox.delivered()[before..]
            .iter()
            .map(|e| async move { deliver(app, &e.body, &e.signature).await.body["outcome"].as_str().unwrap_or("?").to_string() }),
    )
    .await
}

both_backends!(clients_save_cards_and_pay_with_them, config = with_stripe, |app: TestApp| async move {
    let ann = a_client().verified().create(&app).await;
    assert_eq!(app.get("/api/v1/payment-methods", Some(&ann.token)).await.body, json!([]));
    let (_, sandbox) = standins::stripe();
    assert_eq!(save_card(&app, &ann.token, "save").await, ["ignored", "ignored", "recorded"]);
    save_card(&app, &ann.token, "save_declining").await;
    let cards = app.get("/api/v1/payment-methods", Some(&ann.token)).await.body;
    assert_eq!(cards.as_array().map(Vec::len), Some(2), "{cards}");
    assert_eq!(
        (cards[0]["last4"].as_str(), cards[0]["is_default"].as_bool(), cards[0]["brand"].as_str()),
        (Some("4242"), Some(true), Some("visa"))
    );
    let (good, declining) = (cards[0]["id"].as_str().unwrap().to_string(), cards[1]["id"].as_str().unwrap().to_string());
    // Paying with the card that declines: 409 with Stripe's message; nothing recorded.
    let inv = order_vps(&app, &ann.token, "k1").await;
    let pay = format!("/api/v1/invoices/{}/pay", inv["id"].as_str().unwrap());
    let res = app.post_json_authed(&pay, &ann.token, json!({"gateway": "stripe", "payment_method_id": declining})).await;
    assert_eq!(res.problem(409)["code"], "payment_declined");
    assert!(res.body["detail"].as_str().unwrap().contains("Your card was declined."));
    assert_eq!(count(&app, "payments"), 0);
    // Another client's card id is not yours.
    let bob = a_client().verified().create(&app).await;
    assert_eq!(app.delete_authed(&format!("/api/v1/payment-methods/{good}"), &bob.token).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.put_json(&format!("/api/v1/payment-methods/{good}/default"), &bob.token, json!({})).await.status, StatusCode::NOT_FOUND);
    // The good card pays at once.
    let res = app.post_json_authed(&pay, &ann.token, json!({"gateway": "stripe", "payment_method_id": good})).await;
    assert_eq!((res.status, res.body["invoice"]["status"].as_str()), (StatusCode::OK, Some("paid")), "{}", res.text);
    assert!(res.body.get("redirect_url").is_none());
    // Its payment_intent.succeeded arrives after: the same payment, recorded once. (The stand-in
    // is shared by the tests running beside this one: pick this invoice's event.)
    let invoice_id = inv["id"].as_str().unwrap();
    let last = sandbox.delivered().into_iter().rev().find(|d| d.body.contains(invoice_id)).unwrap();
    assert_eq!(deliver(&app, &last.body, &last.signature).await.body["outcome"], "duplicate");
    // Default and removal.
    let res = app.put_json(&format!("/api/v1/payment-methods/{declining}/default"), &ann.token, json!({})).await;
    assert_eq!((res.body[0]["id"].as_str(), res.body[0]["is_default"].as_bool()), (Some(declining.as_str()), Some(true)), "{}", res.text);
    assert_eq!(app.delete_authed(&format!("/api/v1/payment-methods/{declining}"), &ann.token).await.status, StatusCode::NO_CONTENT);
    let cards = app.get("/api/v1/payment-methods", Some(&ann.token)).await.body;
    assert_eq!(
        (cards.as_array().map(Vec::len), cards[0]["is_default"].as_bool()),
        (Some(1), Some(true)),
        "the other card is the default now"
    );
});

both_backends!(webhooks_refuse_what_is_not_an_event, |app: TestApp| async move {
    // Too large, not JSON, control characters, no signature: a problem, nothing stored as paid.
    let huge = "x".repeat(300_000);
    let res = deliver(&app, &huge, "t=1,v1=00").await;
    assert_eq!((res.status, res.content_type()), (StatusCode::PAYLOAD_TOO_LARGE, "application/problem+json"), "{}", res.text);
    for body in ["not json", "{\"id\":\"evt_\u{0}\"}", "{}{}"] {
        let res = deliver(&app, body, &signed(&app, body, 0)).await;
        assert_eq!(res.problem(400)["code"], "bad_signature", "{body}: {}", res.text);
    }
    let res = deliver_razorpay(&app, "{}", "00", "").await;
    assert_eq!(res.problem(400)["code"], "bad_signature");
    assert_eq!(count(&app, "payments"), 0);
});
