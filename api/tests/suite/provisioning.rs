//! Provisioning: a paid hosting order is created on the sandbox server's WHM (a stand-in over
//! HTTP), and the service lives its life through the module: suspend, unsuspend, password,
//! single sign-on, cancellation, termination. Retries find what an earlier attempt made; a full
//! server takes no more accounts; credentials appear in no answer and no log.

use crate::support::{a_client, a_staff_member, TestApp};
use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use diesel::prelude::*;
use keel_api::schema::{jobs, servers, services};
use serde_json::{json, Value};

pub(crate) async fn product_id(app: &TestApp, slug: &str) -> String {
    let res = app.get("/api/v1/catalog", None).await;
    res.body["products"].as_array().unwrap().iter().find(|p| p["slug"] == slug).unwrap()["id"].as_str().unwrap().to_string()
}

/// Checks out `lines` for the client signed in with `token` (`key`: the Idempotency-Key) and
/// answers (order, its invoice's id).
pub(crate) async fn checkout(app: &TestApp, token: &str, key: &str, lines: Value) -> (Value, String) {
    let res = app
        .request(
            TestRequest::post()
                .uri("/api/v1/checkout")
                .insert_header(("authorization", format!("Bearer {token}")))
                .insert_header(("idempotency-key", key.to_string()))
                .set_json(json!({"lines": lines})),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let order = res.body.clone();
    let list = app.get(&format!("/api/v1/invoices?order_id={}", order["id"].as_str().unwrap()), Some(token)).await;
    let invoice = list.body["items"][0]["id"].as_str().unwrap().to_string();
    (order, invoice)
}

/// Checks out `lines` and pays the invoice as staff (`admin`): the first service's id.
pub(crate) async fn order_paid(app: &TestApp, token: &str, admin: &str, key: &str, lines: Value) -> String {
    let (order, invoice) = checkout(app, token, key, lines).await;
    pay(app, admin, &invoice).await;
    order["items"][0]["service_ids"][0].as_str().unwrap().to_string()
}

/// Orders a Shared Starter plan for each of `domains` and answers (order, invoice id).
pub(crate) async fn order_hosting(app: &TestApp, token: &str, domains: &[&str]) -> (Value, String) {
    let plan = product_id(app, "shared-starter").await;
    let lines: Vec<Value> =
        domains.iter().map(|d| json!({"product_id": plan, "cycle": "monthly", "domain": {"action": "existing", "name": d}})).collect();
    checkout(app, token, &format!("order-{}", domains[0]), json!(lines)).await
}

/// Pays an invoice in full by bank transfer, as staff.
pub(crate) async fn pay(app: &TestApp, admin: &str, invoice: &str) {
    let inv = app.get(&format!("/api/v1/admin/invoices/{invoice}"), Some(admin)).await;
    let res = app
        .post_json_authed(
            &format!("/api/v1/admin/invoices/{invoice}/payments"),
            admin,
            json!({"amount_minor": inv.body["balance_minor"], "reference": "BANK-1"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["status"], "paid");
}

fn create_jobs(app: &TestApp) -> i64 {
    jobs::table.filter(jobs::kind.eq("provisioning.create")).count().get_result(&mut app.conn()).unwrap()
}

both_backends!(a_paid_hosting_order_is_created_on_the_sandbox_server_and_lives_its_life, |app: TestApp| async move {
    let admin = crate::support::the_admin(&app).await;
    let ann = a_client().verified().create(&app).await;
    let (order, invoice) = order_hosting(&app, &ann.token, &["ann-example.com"]).await;
    let service_id = order["items"][0]["service_ids"][0].as_str().unwrap().to_string();
    let svc = app.get(&format!("/api/v1/services/{service_id}"), Some(&ann.token)).await;
    assert_eq!((svc.status, svc.body["status"].as_str()), (StatusCode::OK, Some("pending")), "{}", svc.text);
    assert_eq!(create_jobs(&app), 0, "nothing is provisioned before it is paid");

    // Paying commits the provisioning job with the payment.
    pay(&app, &admin.token, &invoice).await;
    assert_eq!(create_jobs(&app), 1);
    let svc = app.get(&format!("/api/v1/services/{service_id}"), Some(&ann.token)).await;
    assert_eq!(svc.body["status"], "provisioning", "queued: {}", svc.text);
    app.drain();

    let svc = app.get(&format!("/api/v1/services/{service_id}"), Some(&ann.token)).await;
    assert_eq!(svc.body["status"], "active", "{}", svc.text);
    assert_eq!((svc.body["package"].as_str(), svc.body["domain"].as_str()), (Some("shared_starter"), Some("ann-example.com")));
    assert_eq!(svc.body["username"], "annexamp", "{}", svc.text);
    assert_eq!((svc.body["anchor_on"].as_str(), svc.body["next_due_on"].as_str()), (Some("2026-11-23"), Some("2026-12-23")));
    assert_eq!(svc.body["has_control_panel"], true);
    let accounts = app.whm.sandbox.accounts();
    assert_eq!(accounts.len(), 1);
    assert_eq!(
        (accounts[0].username.as_str(), accounts[0].domain.as_str(), accounts[0].package.as_str()),
        ("annexamp", "ann-example.com", "shared_starter")
    );
    let used: i32 = servers::table
        .filter(servers::sandbox.eq(true))
        .filter(servers::module.eq("cpanel"))
        .select(servers::current_accounts)
        .first(&mut app.conn())
        .unwrap();
    assert_eq!(used, 1);

    // The client sees the login, once active; the password is the one the panel has, and it is
    // sealed in the database.
    let creds = app.get(&format!("/api/v1/services/{service_id}/credentials"), Some(&ann.token)).await;
    assert_eq!(creds.status, StatusCode::OK, "{}", creds.text);
    let password = creds.body["password"].as_str().unwrap().to_string();
    assert!(password.len() >= 16);
    assert!(app.whm.sandbox.password_matches("annexamp", &password));
    let sealed: Option<String> = services::table.find(&service_id).select(services::secret_sealed).first(&mut app.conn()).unwrap();
    assert!(sealed.as_deref().is_some_and(|s| s.starts_with("v1:") && !s.contains(&password)));
    assert_eq!(crate::support::mail_count(&app, &ann.email, "service_provisioned"), 1);
    // The welcome e-mail carried the password; the outbox and e-mail logs show it masked, and the
    // sealed copy it went out from is erased once sent.
    let (email_id, logged, sealed_body): (String, String, Option<String>) = keel_api::schema::emails::table
        .filter(keel_api::schema::emails::template.eq("service_provisioned"))
        .select((keel_api::schema::emails::id, keel_api::schema::emails::body_text, keel_api::schema::emails::sealed_body))
        .first(&mut app.conn())
        .unwrap();
    assert!(!logged.contains(&password) && logged.contains("annexamp") && logged.contains("••••"), "{logged}");
    assert_eq!(sealed_body, None, "sent: nothing of the secret is kept");
    let sent = std::fs::read_to_string(app.state.config.data_dir.join("mail").join(format!("{email_id}.eml"))).unwrap();
    assert!(sent.contains(&password), "the e-mail as sent has the password");
    // Nobody else's: another client, and staff without servers.manage.
    let bob = a_client().verified().create(&app).await;
    for path in ["", "/credentials", "/usage"] {
        assert_eq!(
            app.get(&format!("/api/v1/services/{service_id}{path}"), Some(&bob.token)).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let clerk = a_staff_member().with_permissions(&["billing.read"]).create(&app).await;
    app.get(&format!("/api/v1/admin/services/{service_id}"), Some(&clerk.token)).await.problem(403);

    // Single sign-on opens the sandbox control panel.
    let sso = app.post_authed(&format!("/api/v1/services/{service_id}/sso"), &ann.token).await;
    assert_eq!(sso.status, StatusCode::OK, "{}", sso.text);
    let page = reqwest::get(sso.body["url"].as_str().unwrap()).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("annexamp"));

    // Staff suspend it (the panel suspends the account, the client is told), then unsuspend.
    let res = app
        .post_json_authed(&format!("/api/v1/admin/services/{service_id}/suspend"), &admin.token, json!({"reason": "Overdue invoice"}))
        .await;
    assert_eq!((res.status, res.body["status"].as_str()), (StatusCode::OK, Some("suspended")), "{}", res.text);
    assert!(app.whm.sandbox.accounts()[0].suspended);
    assert_eq!(crate::support::mail_count(&app, &ann.email, "service_suspended"), 1);
    let res = app.post_json_authed(&format!("/api/v1/admin/services/{service_id}/suspend"), &admin.token, json!({"reason": "again"})).await;
    assert_eq!(res.problem(409)["code"], "service_state");
    let res = app.post_authed(&format!("/api/v1/admin/services/{service_id}/unsuspend"), &admin.token).await;
    assert_eq!(res.body["status"], "active", "{}", res.text);
    assert!(!app.whm.sandbox.accounts()[0].suspended);

    // The client sets a new password: the panel has it, the portal shows it.
    let res =
        app.put_json(&format!("/api/v1/services/{service_id}/password"), &ann.token, json!({"password": "Correct-Horse-42-battery"})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert!(app.whm.sandbox.password_matches("annexamp", "Correct-Horse-42-battery"));
    let creds = app.get(&format!("/api/v1/services/{service_id}/credentials"), Some(&ann.token)).await;
    assert_eq!(creds.body["password"], "Correct-Horse-42-battery");
    app.put_json(&format!("/api/v1/services/{service_id}/password"), &ann.token, json!({"password": "short"})).await.problem(422);

    // The usage sync reads disk and bandwidth for the graphs.
    let mut conn = app.conn();
    keel_api::provisioning::service::sync_usage(&app.state.deps, &mut conn).unwrap();
    drop(conn);
    let usage = app.get(&format!("/api/v1/services/{service_id}/usage"), Some(&ann.token)).await;
    assert_eq!(usage.body["days"].as_array().map(Vec::len), Some(1), "{}", usage.text);

    // The history shows each step; then the client cancels at once: a job terminates it.
    let history = app.get(&format!("/api/v1/admin/services/{service_id}"), Some(&admin.token)).await;
    let actions: Vec<&str> = history.body["events"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    for a in ["queued", "placed", "create", "activate", "suspend", "unsuspend", "change_password"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    let res = app
        .post_json_authed(
            &format!("/api/v1/services/{service_id}/cancellation"),
            &ann.token,
            json!({"when": "immediate", "reason": "moving"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    app.post_json_authed(&format!("/api/v1/services/{service_id}/cancellation"), &ann.token, json!({"when": "immediate"}))
        .await
        .problem(409);
    app.drain();
    let svc = app.get(&format!("/api/v1/services/{service_id}"), Some(&ann.token)).await;
    assert_eq!(svc.body["status"], "terminated", "{}", svc.text);
    assert!(app.whm.sandbox.accounts().is_empty(), "the account is removed from the server");
    let used: i32 = servers::table
        .filter(servers::sandbox.eq(true))
        .filter(servers::module.eq("cpanel"))
        .select(servers::current_accounts)
        .first(&mut app.conn())
        .unwrap();
    assert_eq!(used, 0, "its slot is free again");
    app.get(&format!("/api/v1/services/{service_id}/credentials"), Some(&ann.token)).await.problem(409);

    // Neither password was ever logged, by Keel or by the HTTP client, at any level.
    let logs = crate::support::logs();
    assert!(logs.contains("service provisioned"), "the capture works");
    for secret in [password.as_str(), "Correct-Horse-42-battery", app.whm.target.token.as_str()] {
        assert!(!logs.contains(secret), "a credential is in the logs");
    }
});

both_backends!(a_create_whose_reply_was_lost_is_retried_into_one_account, |app: TestApp| async move {
    let admin = crate::support::the_admin(&app).await;
    let ann = a_client().verified().create(&app).await;
    let (order, invoice) = order_hosting(&app, &ann.token, &["lost-reply.org"]).await;
    let service_id = order["items"][0]["service_ids"][0].as_str().unwrap().to_string();
    // The panel makes the account but the answer never arrives, as if the worker died mid-call.
    app.whm.sandbox.lose_next_reply("createacct");
    pay(&app, &admin.token, &invoice).await;
    app.drain();
    let svc = app.get(&format!("/api/v1/admin/services/{service_id}"), Some(&admin.token)).await;
    assert_eq!(svc.body["service"]["status"], "provisioning", "{}", svc.text);
    assert!(svc.body["service"]["last_error"].as_str().is_some(), "{}", svc.text);
    assert_eq!(app.whm.sandbox.accounts().len(), 1);

    // The retry finds the account instead of making a second one.
    app.clock.advance(chrono::Duration::minutes(5));
    app.drain();
    let svc = app.get(&format!("/api/v1/services/{service_id}"), Some(&ann.token)).await;
    assert_eq!(svc.body["status"], "active", "{}", svc.text);
    assert_eq!(app.whm.sandbox.accounts().len(), 1, "exactly one account");
    assert_eq!(app.whm.sandbox.calls("createacct"), 1);
    let creds = app.get(&format!("/api/v1/services/{service_id}/credentials"), Some(&ann.token)).await;
    assert!(app.whm.sandbox.password_matches(creds.body["username"].as_str().unwrap(), creds.body["password"].as_str().unwrap()));
});

both_backends!(a_panel_refusal_fails_the_service_for_staff_to_retry, |app: TestApp| async move {
    let admin = crate::support::the_admin(&app).await;
    let ann = a_client().verified().create(&app).await;
    let (order, invoice) = order_hosting(&app, &ann.token, &["refused.net"]).await;
    let service_id = order["items"][0]["service_ids"][0].as_str().unwrap().to_string();
    app.whm.sandbox.fail_next(
        "createacct",
        "Sorry, \"shared_starter\" is not a valid pacakge name. at /usr/local/cpanel/Whostmgr/Accounts/Create.pm line 1298.",
    );
    pay(&app, &admin.token, &invoice).await;
    app.drain();
    let svc = app.get(&format!("/api/v1/admin/services/{service_id}"), Some(&admin.token)).await;
    assert_eq!(svc.body["service"]["status"], "failed", "{}", svc.text);
    let error = svc.body["service"]["last_error"].as_str().unwrap();
    assert!(error.contains("not a valid pacakge name") && !error.contains("Create.pm"), "{error}");
    assert_eq!(crate::support::mail_count(&app, &admin.email, "service_provisioning_failed"), 1);
    // The client sees it failed, not why (that speaks of servers).
    let mine = app.get(&format!("/api/v1/services/{service_id}"), Some(&ann.token)).await;
    assert_eq!((mine.body["status"].as_str(), mine.body.get("last_error")), (Some("failed"), None));
    let used: i32 = servers::table
        .filter(servers::sandbox.eq(true))
        .filter(servers::module.eq("cpanel"))
        .select(servers::current_accounts)
        .first(&mut app.conn())
        .unwrap();
    assert_eq!(used, 0, "a refused create gives its slot back");

    // Staff provision it again: it goes through.
    let res = app.post_authed(&format!("/api/v1/admin/services/{service_id}/provision"), &admin.token).await;
    assert_eq!((res.status, res.body["status"].as_str()), (StatusCode::OK, Some("provisioning")), "{}", res.text);
    app.drain();
    let svc = app.get(&format!("/api/v1/services/{service_id}"), Some(&ann.token)).await;
    assert_eq!(svc.body["status"], "active", "{}", svc.text);
    assert_eq!(app.whm.sandbox.accounts().len(), 1);
    app.post_authed(&format!("/api/v1/admin/services/{service_id}/provision"), &admin.token).await.problem(409);
});

both_backends!(twenty_concurrent_provisions_fill_five_slots_and_no_more, |app: TestApp| async move {
    let admin = crate::support::the_admin(&app).await;
    diesel::update(servers::table).set(servers::max_accounts.eq(5)).execute(&mut app.conn()).unwrap();
    let ann = a_client().verified().create(&app).await;
    let domains: Vec<String> = (1..=20).map(|i| format!("site{i}.example.org")).collect();
    let (order, invoice) = order_hosting(&app, &ann.token, &domains.iter().map(String::as_str).collect::<Vec<_>>()).await;
    let ids: Vec<String> = order["items"].as_array().unwrap().iter().map(|i| i["service_ids"][0].as_str().unwrap().to_string()).collect();
    assert_eq!(ids.len(), 20);
    // Stop the payment's jobs from running: the twenty provisions run at once below instead.
    pay(&app, &admin.token, &invoice).await;
    diesel::delete(jobs::table.filter(jobs::kind.eq("provisioning.create"))).execute(&mut app.conn()).unwrap();
    let handles: Vec<_> = ids
        .iter()
        .map(|id| {
            let (state, id) = (app.state.clone(), id.clone());
            std::thread::spawn(move || {
                let mut conn = state.pool.get().unwrap();
                keel_api::provisioning::service::provision(&state.deps, &mut conn, &id, true)
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 5, "{results:?}");
    assert!(results.iter().filter_map(|r| r.as_ref().err()).all(|e| format!("{e:?}").contains("no capacity")), "{results:?}");
    assert_eq!(app.whm.sandbox.accounts().len(), 5);
    let used: i32 = servers::table.filter(servers::module.eq("cpanel")).select(servers::current_accounts).first(&mut app.conn()).unwrap();
    assert_eq!(used, 5);
    let failed: i64 = services::table.filter(services::status.eq("failed")).count().get_result(&mut app.conn()).unwrap();
    assert_eq!(failed, 15);
    assert_eq!(crate::support::mail_count(&app, &admin.email, "service_provisioning_failed"), 15);
    // Usernames stay unique on the server.
    let mut names: Vec<String> = app.whm.sandbox.accounts().into_iter().map(|a| a.username).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 5);

    // A second server takes the rest when staff provision them again.
    let res = app
        .post_json_authed(
            "/api/v1/admin/servers",
            &admin.token,
            json!({"name": "Second", "hostname": "s2.example.com", "module": "cpanel", "username": "root",
                   "secret": app.whm.target.token, "api_url": app.whm.target.api_url, "max_accounts": 50, "status": "active"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let failed_ids: Vec<String> = services::table.filter(services::status.eq("failed")).select(services::id).load(&mut app.conn()).unwrap();
    for id in &failed_ids {
        let res = app.post_authed(&format!("/api/v1/admin/services/{id}/provision"), &admin.token).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    }
    app.drain();
    let active: i64 = services::table.filter(services::status.eq("active")).count().get_result(&mut app.conn()).unwrap();
    assert_eq!(active, 20);
});

both_backends!(servers_keep_their_tokens_sealed_and_out_of_every_answer, |app: TestApp| async move {
    let admin = crate::support::the_admin(&app).await;
    let token = "WHMTOKEN-0123456789ABCDEFGHIJ";
    let body = json!({"name": "Box 1", "hostname": "box1.example.com", "ip": "203.0.113.7", "location": "Frankfurt", "module": "cpanel",
                      "username": "root", "secret": token, "nameservers": ["ns1.example.com", "ns2.example.com"], "max_accounts": 200,
                      "status": "active", "disk_gb": 1000});
    let res = app.post_json_authed("/api/v1/admin/servers", &admin.token, body.clone()).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let id = res.body["id"].as_str().unwrap().to_string();
    assert_eq!((res.body["has_credentials"].as_bool(), res.body["api_url"].as_str()), (Some(true), Some("https://box1.example.com:2087")));
    let sealed: Option<String> = servers::table.find(&id).select(servers::secret_sealed).first(&mut app.conn()).unwrap();
    assert!(sealed.as_deref().is_some_and(|s| s.starts_with("v1:") && !s.contains(token)));
    for path in ["/api/v1/admin/servers".to_string(), format!("/api/v1/admin/servers/{id}"), "/api/v1/admin/audit".to_string()] {
        let res = app.get(&path, Some(&admin.token)).await;
        assert_eq!(res.status, StatusCode::OK, "{path}: {}", res.text);
        assert!(!res.text.contains(token), "{path} shows the token");
    }
    // A change without a token keeps the saved one.
    let mut change = body.clone();
    change.as_object_mut().unwrap().remove("secret");
    change["max_accounts"] = json!(300);
    let res = app.put_json(&format!("/api/v1/admin/servers/{id}"), &admin.token, change).await;
    assert_eq!((res.status, res.body["max_accounts"].as_i64()), (StatusCode::OK, Some(300)), "{}", res.text);
    let still: Option<String> = servers::table.find(&id).select(servers::secret_sealed).first(&mut app.conn()).unwrap();
    assert_eq!(still, sealed);

    // Bad input names its field; a taken name is a conflict.
    for (field, value) in
        [("hostname", json!("not a host")), ("ip", json!("300.1.1.1")), ("api_url", json!("ftp://x")), ("max_accounts", json!(0))]
    {
        let mut bad = body.clone();
        bad[field] = value;
        let res = app.post_json_authed("/api/v1/admin/servers", &admin.token, bad).await;
        assert!(res.problem(422)["errors"][field].is_array(), "{field}: {}", res.text);
    }
    let mut no_token = body.clone();
    no_token["name"] = json!("Box 2");
    no_token.as_object_mut().unwrap().remove("secret");
    assert!(app.post_json_authed("/api/v1/admin/servers", &admin.token, no_token).await.problem(422)["errors"]["secret"].is_array());
    assert_eq!(
        app.post_json_authed("/api/v1/admin/servers", &admin.token, body.clone()).await.problem(409)["errors"]["name"][0],
        "another server has this name"
    );

    // The check reaches nothing at box1.example.com: recorded as down, admins told.
    let res = app.post_authed(&format!("/api/v1/admin/servers/{id}/check"), &admin.token).await;
    assert_eq!((res.status, res.body["up"].as_bool()), (StatusCode::OK, Some(false)), "{}", res.text);
    assert!(!res.text.contains(token));
    assert_eq!(crate::support::mail_count(&app, &admin.email, "server_down"), 1);
    let detail = app.get(&format!("/api/v1/admin/servers/{id}"), Some(&admin.token)).await;
    assert_eq!((detail.body["server"]["healthy"].as_bool(), detail.body["checks"].as_array().map(Vec::len)), (Some(false), Some(1)));
    // The sandbox server's check passes.
    let sandbox: String = servers::table
        .filter(servers::sandbox.eq(true))
        .filter(servers::module.eq("cpanel"))
        .select(servers::id)
        .first(&mut app.conn())
        .unwrap();
    let res = app.post_authed(&format!("/api/v1/admin/servers/{sandbox}/check"), &admin.token).await;
    assert_eq!(res.body["up"], true, "{}", res.text);
    // A server with live services cannot go; an empty one can.
    assert_eq!(app.delete_authed(&format!("/api/v1/admin/servers/{id}"), &admin.token).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&format!("/api/v1/admin/servers/{id}"), Some(&admin.token)).await.status, StatusCode::NOT_FOUND);
});

both_backends!(the_same_request_fifty_times_at_once_acts_once, |app: TestApp| async move {
    let admin = crate::support::the_admin(&app).await;
    let ann = a_client().verified().create(&app).await;
    let (order, invoice) = order_hosting(&app, &ann.token, &["fifty.example.net"]).await;
    let id = order["items"][0]["service_ids"][0].as_str().unwrap().to_string();
    pay(&app, &admin.token, &invoice).await;
    app.drain();

    // Fifty suspensions: one suspends, the others are told it changed (or is suspended already).
    let suspend = format!("/api/v1/admin/services/{id}/suspend");
    let answers =
        futures_util::future::join_all((0..50).map(|_| app.post_json_authed(&suspend, &admin.token, json!({"reason": "abuse"})))).await;
    assert_eq!(
        answers.iter().filter(|r| r.status == StatusCode::OK).count(),
        1,
        "{:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(answers.iter().all(|r| r.status == StatusCode::OK || r.status == StatusCode::CONFLICT));
    assert_eq!(crate::support::mail_count(&app, &ann.email, "service_suspended"), 1);
    app.post_authed(&format!("/api/v1/admin/services/{id}/unsuspend"), &admin.token).await;

    // Fifty cancellations: one is recorded, one job terminates the account.
    let cancel = format!("/api/v1/services/{id}/cancellation");
    let answers = futures_util::future::join_all(
        (0..50).map(|_| app.post_json_authed(&cancel, &ann.token, json!({"when": "end_of_period", "reason": "x"}))),
    )
    .await;
    assert_eq!(answers.iter().filter(|r| r.status == StatusCode::OK).count(), 1);
    assert!(answers.iter().all(|r| r.status == StatusCode::OK || r.status == StatusCode::CONFLICT));

    // Bad input: control characters, huge numbers, trailing bytes, another account's ids.
    let res = app.put_json(&format!("/api/v1/services/{id}/password"), &ann.token, json!({"password": "abc\u{0}defghijklmnop"})).await;
    assert!(res.problem(422)["errors"]["password"].is_array(), "{}", res.text);
    let res = app
        .request(
            TestRequest::patch()
                .uri(&format!("/api/v1/admin/services/{id}"))
                .insert_header(("authorization", format!("Bearer {}", admin.token)))
                .set_json(json!({"recurring_minor": 99_999_999_999_999_i64})),
        )
        .await;
    assert!(res.problem(422)["errors"]["recurring_minor"].is_array(), "{}", res.text);
    let res = app
        .request(
            TestRequest::patch()
                .uri(&format!("/api/v1/admin/services/{id}"))
                .insert_header(("authorization", format!("Bearer {}", admin.token)))
                .insert_header(("content-type", "application/json"))
                .set_payload(r#"{"recurring_minor": 100} trailing"#),
        )
        .await;
    res.problem(400);
    let res = app
        .request(
            TestRequest::patch()
                .uri(&format!("/api/v1/admin/services/{id}"))
                .insert_header(("authorization", format!("Bearer {}", admin.token)))
                .set_json(json!({"recurring_minor": 1299, "next_due_on": "2027-01-15"})),
        )
        .await;
    assert_eq!(
        (res.status, res.body["recurring_minor"].as_i64(), res.body["next_due_on"].as_str()),
        (StatusCode::OK, Some(1299), Some("2027-01-15")),
        "{}",
        res.text
    );
    let bob = a_client().verified().create(&app).await;
    for (path, body) in [("sso", json!({})), ("cancellation", json!({"when": "immediate"}))] {
        let res = app.post_json_authed(&format!("/api/v1/services/{id}/{path}"), &bob.token, body).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}: {}", res.text);
    }
    app.get("/api/v1/services/not-an-id", Some(&ann.token)).await.problem(404);
    let mine = app.get("/api/v1/services", Some(&bob.token)).await;
    assert_eq!(mine.body["items"].as_array().map(Vec::len), Some(0));
});

both_backends!(a_paid_vps_is_a_hetzner_cloud_server_in_the_chosen_location, |app: TestApp| async move {
    let admin = crate::support::the_admin(&app).await;
    let ann = a_client().verified().create(&app).await;
    let catalog = app.get("/api/v1/catalog", None).await;
    let vps = catalog.body["products"].as_array().unwrap().iter().find(|p| p["slug"] == "vps-2").unwrap().clone();
    let location = vps["options"].as_array().unwrap().iter().find(|o| o["name"] == "Location").unwrap();
    let helsinki = location["values"].as_array().unwrap().iter().find(|v| v["label"] == "Helsinki").unwrap()["id"].clone();
    let lines = json!([{"product_id": vps["id"], "cycle": "monthly", "options": [{"option_id": location["id"], "value_id": helsinki}]}]);
    let id = order_paid(&app, &ann.token, &admin.token, "vps-1", lines).await;
    app.drain();

    let svc = app.get(&format!("/api/v1/services/{id}"), Some(&ann.token)).await;
    assert_eq!((svc.body["status"].as_str(), svc.body["package"].as_str()), (Some("active"), Some("cx22")), "{}", svc.text);
    let servers = app.hetzner.sandbox.servers();
    assert_eq!(servers.len(), 1);
    let name = svc.body["username"].as_str().unwrap();
    assert!(name.starts_with("vps-"), "{name}");
    assert_eq!((servers[0].name.as_str(), servers[0].server_type.as_str(), servers[0].location.as_str()), (name, "cx22", "hel1"));
    assert_eq!(svc.body["ip"], json!(servers[0].ipv4), "{}", svc.text);
    // The login is the root password Hetzner chose.
    let creds = app.get(&format!("/api/v1/services/{id}/credentials"), Some(&ann.token)).await;
    assert!(app.hetzner.sandbox.root_password_matches(name, creds.body["password"].as_str().unwrap()), "{}", creds.text);

    // Suspending powers it off, unsuspending on; terminating deletes it.
    let res = app.post_json_authed(&format!("/api/v1/admin/services/{id}/suspend"), &admin.token, json!({"reason": "unpaid"})).await;
    assert_eq!(res.body["status"], "suspended", "{}", res.text);
    assert_eq!(app.hetzner.sandbox.servers()[0].status, "off");
    app.post_authed(&format!("/api/v1/admin/services/{id}/unsuspend"), &admin.token).await;
    assert_eq!(app.hetzner.sandbox.servers()[0].status, "running");
    // No control panel and no chosen root password on Hetzner Cloud: refused with the reason.
    assert_eq!(svc.body["has_control_panel"], false);
    assert_eq!(app.post_authed(&format!("/api/v1/services/{id}/sso"), &ann.token).await.problem(409)["code"], "module_refused");
    let res = app.put_json(&format!("/api/v1/services/{id}/password"), &ann.token, json!({"password": "Correct-Horse-42-battery"})).await;
    assert_eq!(res.problem(409)["code"], "module_refused");
    let res = app.post_authed(&format!("/api/v1/admin/services/{id}/terminate"), &admin.token).await;
    assert_eq!(res.body["status"], "terminated", "{}", res.text);
    assert!(app.hetzner.sandbox.servers().is_empty());
});

both_backends!(a_hosting_plan_with_a_location_goes_to_a_server_there, |app: TestApp| async move {
    let admin = crate::support::the_admin(&app).await;
    // A cPanel plan whose clients pick a location, and a server in Helsinki beside the sandbox.
    let product = json!({"slug": "nordic-hosting", "name": "Nordic hosting", "type": "shared_hosting", "description": "Hosting in the north.",
        "features": [], "requires_domain": true, "module": "cpanel", "package": "default",
        "prices": [{"cycle": "monthly", "currency": "USD", "amount_minor": 900, "setup_fee_minor": 0}],
        "options": [{"name": "Location", "kind": "radio", "values": [{"label": "Sandbox", "prices": []}, {"label": "Helsinki", "prices": []}]}]});
    let res = app.post_json_authed("/api/v1/admin/catalog/products", &admin.token, product).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let (plan, option) = (res.body["id"].clone(), res.body["options"][0].clone());
    let value = |label: &str| option["values"].as_array().unwrap().iter().find(|v| v["label"] == label).unwrap()["id"].clone();
    let res = app
        .post_json_authed(
            "/api/v1/admin/servers",
            &admin.token,
            json!({"name": "HEL-1", "hostname": "hel1.example.com", "location": "helsinki", "module": "cpanel", "username": "root",
                   "secret": app.whm.target.token, "api_url": app.whm.target.api_url, "max_accounts": 10, "status": "active"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let ann = a_client().verified().create(&app).await;
    let res = app
        .request(
            TestRequest::post()
                .uri("/api/v1/checkout")
                .insert_header(("authorization", format!("Bearer {}", ann.token)))
                .insert_header(("idempotency-key", "nordic"))
                .set_json(json!({"lines": [
                    {"product_id": plan, "cycle": "monthly", "domain": {"action": "existing", "name": "south.example.com"},
                     "options": [{"option_id": option["id"], "value_id": value("Sandbox")}]},
                    {"product_id": plan, "cycle": "monthly", "domain": {"action": "existing", "name": "north.example.fi"},
                     "options": [{"option_id": option["id"], "value_id": value("Helsinki")}]}]})),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let other = res.body["items"][0]["service_ids"][0].as_str().unwrap().to_string();
    let id = res.body["items"][1]["service_ids"][0].as_str().unwrap().to_string();
    let list = app.get(&format!("/api/v1/invoices?order_id={}", res.body["id"].as_str().unwrap()), Some(&ann.token)).await;
    pay(&app, &admin.token, list.body["items"][0]["id"].as_str().unwrap()).await;
    app.drain();
    let svc = app.get(&format!("/api/v1/admin/services/{id}"), Some(&admin.token)).await;
    assert_eq!(
        (svc.body["service"]["status"].as_str(), svc.body["service"]["server"].as_str()),
        (Some("active"), Some("HEL-1")),
        "{}",
        svc.text
    );
    // Placed first, when both servers were empty and HEL-1 comes first by name: it went to the
    // sandbox's place, as ordered.
    let svc = app.get(&format!("/api/v1/admin/services/{other}"), Some(&admin.token)).await;
    assert_eq!(svc.body["service"]["server"], "Sandbox (cPanel/WHM stand-in)", "{}", svc.text);
});
