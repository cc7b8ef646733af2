//! Identity: verification, password reset and change, sessions, lockout, rate limits, audit.

use crate::support::{a_client, a_staff_member, an_api_key, mail_count, the_admin, token_from_mail, Res, TestApp, User, PASSWORD as PW};
use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use chrono::Duration;
use diesel::prelude::*;
use keel_api::clock::Clock;
use keel_api::schema::emails;
use serde_json::{json, Value};

const CHROME: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1";

async fn login_from(app: &TestApp, email: &str, password: &str, ip: &str, ua: &str) -> Res {
    app.request(
        TestRequest::post()
            .uri("/api/v1/auth/login")
            .peer_addr(format!("{ip}:40000").parse().unwrap())
            .insert_header(("user-agent", ua))
            .set_json(json!({"email": email, "password": password})),
    )
    .await
}

async fn register_from(app: &TestApp, email: &str, ip: &str) -> Res {
    app.request(
        TestRequest::post()
            .uri("/api/v1/auth/register")
            .peer_addr(format!("{ip}:40000").parse().unwrap())
            .insert_header(("user-agent", CHROME))
            .set_json(json!({"email": email, "password": PW, "first_name": "Ann", "last_name": "Lee"})),
    )
    .await
}

both_backends!(email_verification, |app: TestApp| async move {
    let token = a_client().email("v@example.com").create(&app).await.token;
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.body["email_verified"], false);
    let link = token_from_mail(&app, "v@example.com", "welcome").expect("the welcome e-mail has a verify link");
    app.post_json("/api/v1/auth/verify-email", json!({"token": "0".repeat(64)})).await.problem(422);
    let res = app.post_json("/api/v1/auth/verify-email", json!({"token": link})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["email_verified"], true);
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.body["email_verified"], true);
    assert!(
        app.post_json("/api/v1/auth/verify-email", json!({"token": link})).await.problem(422)["errors"]["token"].is_array(),
        "single use"
    );
    assert_eq!(app.post_authed("/api/v1/auth/verify-email/resend", &token).await.problem(409)["code"], "already_verified");
});

both_backends!(verification_resend_is_limited_to_three_an_hour, |app: TestApp| async move {
    let token = a_client().email("r@example.com").create(&app).await.token;
    for _ in 0..3 {
        assert_eq!(app.post_authed("/api/v1/auth/verify-email/resend", &token).await.status, StatusCode::ACCEPTED);
    }
    let res = app.post_authed("/api/v1/auth/verify-email/resend", &token).await;
    res.problem(429);
    assert!(res.headers.get("retry-after").is_some());
    assert_eq!(mail_count(&app, "r@example.com", "email_verification"), 3);
    // An older link expires after a day.
    let link = token_from_mail(&app, "r@example.com", "email_verification").unwrap();
    app.clock.advance(Duration::hours(25));
    app.post_json("/api/v1/auth/verify-email", json!({"token": link})).await.problem(422);
});

both_backends!(forgot_and_reset_password, |app: TestApp| async move {
    let User { token: access, refresh, .. } = a_client().email("f@example.com").create(&app).await;
    assert_eq!(app.post_json("/api/v1/auth/forgot-password", json!({"email": "nobody@example.com"})).await.status, StatusCode::ACCEPTED);
    assert_eq!(mail_count(&app, "nobody@example.com", "password_reset"), 0);
    assert_eq!(app.post_json("/api/v1/auth/forgot-password", json!({"email": "F@example.com"})).await.status, StatusCode::ACCEPTED);
    let token = token_from_mail(&app, "f@example.com", "password_reset").unwrap();
    let res = app.post_json("/api/v1/auth/reset-password", json!({"token": token, "password": "password1234"})).await;
    assert!(res.problem(422)["errors"]["password"][0].as_str().unwrap().contains("too common"));
    let res = app.post_json("/api/v1/auth/reset-password", json!({"token": token, "password": "violet kettle orbit"})).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text);
    app.post_with_cookie("/api/v1/auth/refresh", &refresh).await.problem(401);
    app.get("/api/v1/me", Some(&access)).await.problem(401);
    app.login("f@example.com", PW).await.problem(401);
    assert_eq!(app.login("f@example.com", "violet kettle orbit").await.status, StatusCode::OK);
    app.post_json("/api/v1/auth/reset-password", json!({"token": token, "password": "another fine phrase"})).await.problem(422);
    assert_eq!(mail_count(&app, "f@example.com", "password_changed"), 1);
    // Links expire after an hour.
    app.post_json("/api/v1/auth/forgot-password", json!({"email": "f@example.com"})).await;
    let token = token_from_mail(&app, "f@example.com", "password_reset").unwrap();
    app.clock.advance(Duration::minutes(61));
    app.post_json("/api/v1/auth/reset-password", json!({"token": token, "password": "another fine phrase"})).await.problem(422);
});

/// "Forgot password" for `email`, then the reset with the link (`revoke_api_keys` as given).
async fn reset_password_of(app: &TestApp, email: &str, revoke_api_keys: Option<bool>) {
    // A second apart, so the newest e-mail is this one's.
    app.clock.advance(Duration::seconds(1));
    app.post_json("/api/v1/auth/forgot-password", json!({"email": email})).await;
    let link = token_from_mail(app, email, "password_reset").unwrap();
    let mut body = json!({"token": link, "password": "violet kettle orbit"});
    if let Some(revoke) = revoke_api_keys {
        body["revoke_api_keys"] = json!(revoke);
    }
    let res = app.post_json("/api/v1/auth/reset-password", body).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text);
}

fn last_mail(app: &TestApp, to: &str, template: &str) -> String {
    emails::table
        .filter(emails::to_addr.eq(to))
        .filter(emails::template.eq(template))
        .order(emails::created_at.desc())
        .select(emails::body_text)
        .first(&mut app.conn())
        .unwrap()
}

// After "forgot password" the account may have been taken over: the reset revokes its API keys
// unless the owner keeps them; a password change keeps them unless asked. The "password changed"
// e-mail lists the keys that still work.
both_backends!(a_password_reset_revokes_api_keys_unless_kept, |app: TestApp| async move {
    let token = a_client().email("keys@example.com").create(&app).await.token;
    let deploy = an_api_key().with_scopes(&["read"]).create(&app, &token).await;
    assert_eq!(app.get("/api/v1/me", Some(&deploy)).await.status, StatusCode::OK);
    reset_password_of(&app, "keys@example.com", None).await;
    assert!(app.get("/api/v1/me", Some(&deploy)).await.problem(401)["detail"].as_str().unwrap().contains("revoked"), "revoked by default");
    let mail = last_mail(&app, "keys@example.com", "password_changed");
    assert!(mail.contains("1 API key(s) were revoked") && mail.contains("no API keys that work"), "{mail}");

    // Unticked: the keys stay, and the e-mail names them.
    let token = app.login("keys@example.com", "violet kettle orbit").await.body["access_token"].as_str().unwrap().to_string();
    let sync = an_api_key().with_scopes(&["read"]).create(&app, &token).await;
    reset_password_of(&app, "keys@example.com", Some(false)).await;
    assert_eq!(app.get("/api/v1/me", Some(&sync)).await.status, StatusCode::OK);
    let mail = last_mail(&app, "keys@example.com", "password_changed");
    assert!(mail.contains(&format!("- test key ({}…)", &sync[..11])) && !mail.contains("revoked"), "{mail}");

    // A password change keeps them by default, and revokes them when asked.
    let token = app.login("keys@example.com", "violet kettle orbit").await.body["access_token"].as_str().unwrap().to_string();
    let change = |from: &'static str, to: &'static str, revoke: Option<bool>| {
        let mut body = json!({"current_password": from, "new_password": to});
        if let Some(r) = revoke {
            body["revoke_api_keys"] = json!(r);
        }
        app.post_json_authed("/api/v1/me/password", &token, body)
    };
    assert_eq!(change("violet kettle orbit", "amber lantern river", None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/api/v1/me", Some(&sync)).await.status, StatusCode::OK);
    assert_eq!(change("amber lantern river", "copper meadow stone", Some(true)).await.status, StatusCode::NO_CONTENT);
    app.get("/api/v1/me", Some(&sync)).await.problem(401);
});

both_backends!(change_password_keeps_this_session_only, |app: TestApp| async move {
    let User { token, refresh: refresh_here, .. } = a_client().email("c@example.com").create(&app).await;
    let other = app.login("c@example.com", PW).await;
    let refresh_other = other.refresh_cookie().unwrap();
    let change =
        |cur: &str, new: &str| app.post_json_authed("/api/v1/me/password", &token, json!({"current_password": cur, "new_password": new}));
    assert!(change("wrong password!", "violet kettle orbit").await.problem(422)["errors"]["current_password"].is_array());
    assert!(change(PW, "short").await.problem(422)["errors"]["new_password"].is_array());
    assert!(change(PW, "qwertyuiop").await.problem(422)["errors"]["new_password"].is_array());
    assert_eq!(change(PW, "violet kettle orbit").await.status, StatusCode::NO_CONTENT);
    app.post_with_cookie("/api/v1/auth/refresh", &refresh_other).await.problem(401);
    assert_eq!(app.post_with_cookie("/api/v1/auth/refresh", &refresh_here).await.status, StatusCode::OK);
    assert_eq!(mail_count(&app, "c@example.com", "password_changed"), 1);
});

both_backends!(sessions_are_listed_and_revoked_by_their_owner_only, |app: TestApp| async move {
    let token = a_client().email("s@example.com").create(&app).await.token;
    let second = login_from(&app, "s@example.com", PW, "10.1.2.3", IPHONE).await;
    let other_token = a_client().email("intruder@example.com").create(&app).await.token;
    let res = app.get("/api/v1/me/sessions", Some(&token)).await;
    let list = res.body.as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    assert_eq!(list.iter().filter(|s| s["current"] == true).count(), 1);
    let phone: &Value = list.iter().find(|s| s["ip"] == "10.1.2.3").unwrap();
    assert_eq!(
        (phone["device_type"].as_str(), phone["browser"].as_str(), phone["os"].as_str()),
        (Some("mobile"), Some("Safari"), Some("iOS"))
    );
    let phone_id = phone["id"].as_str().unwrap().to_string();
    // Someone else's session id is "not found".
    app.delete_authed(&format!("/api/v1/me/sessions/{phone_id}"), &other_token).await.problem(404);
    assert_eq!(app.delete_authed(&format!("/api/v1/me/sessions/{phone_id}"), &token).await.status, StatusCode::NO_CONTENT);
    app.post_with_cookie("/api/v1/auth/refresh", &second.refresh_cookie().unwrap()).await.problem(401);
    app.get("/api/v1/me", second.body["access_token"].as_str()).await.problem(401);
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.status, StatusCode::OK);
    login_from(&app, "s@example.com", PW, "10.1.2.4", IPHONE).await;
    assert_eq!(app.delete_authed("/api/v1/me/sessions", &token).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/api/v1/me/sessions", Some(&token)).await.body.as_array().unwrap().len(), 1);
});

both_backends!(new_device_sign_in_sends_an_email, |app: TestApp| async move {
    register_from(&app, "d@example.com", "10.0.0.1").await;
    assert_eq!(login_from(&app, "d@example.com", PW, "10.0.0.1", CHROME).await.status, StatusCode::OK);
    assert_eq!(mail_count(&app, "d@example.com", "new_login"), 0, "same browser and OS as at registration");
    login_from(&app, "d@example.com", PW, "10.0.0.2", IPHONE).await;
    assert_eq!(mail_count(&app, "d@example.com", "new_login"), 1);
    let body: String = emails::table.filter(emails::template.eq("new_login")).select(emails::body_text).first(&mut app.conn()).unwrap();
    assert!(body.contains("Safari on iOS (mobile)") && body.contains("10.0.0.2"), "{body}");
});

both_backends!(five_failures_lock_the_account_for_thirty_minutes, |app: TestApp| async move {
    a_client().email("l@example.com").create(&app).await;
    for _ in 0..4 {
        app.login("l@example.com", "wrong password!").await.problem(401);
    }
    let res = app.login("l@example.com", "wrong password!").await;
    assert_eq!(res.problem(423)["code"], "account_locked");
    assert_eq!(res.headers.get("retry-after").unwrap(), "1800");
    let res = app.login("l@example.com", PW).await;
    res.problem(423);
    assert_eq!(mail_count(&app, "l@example.com", "account_locked"), 1);
    app.clock.advance(Duration::minutes(31));
    assert_eq!(app.login("l@example.com", PW).await.status, StatusCode::OK);
    // A success resets the count.
    for _ in 0..4 {
        app.login("l@example.com", "wrong password!").await.problem(401);
    }
    assert_eq!(app.login("l@example.com", PW).await.status, StatusCode::OK);
    app.login("l@example.com", "wrong password!").await.problem(401);
});

// Wrong passwords sent at once (from many addresses, as an attacker would) are counted one by
// one: the account locks at the fifth, a lock is never lifted by a later failure, and no more
// than four wrong guesses are answered 401 before it.
both_backends!(parallel_wrong_passwords_lock_the_account_at_the_fifth, |app: TestApp| async move {
    for n in [6usize, 25, 50] {
        let email = format!("race{n}@example.com");
        a_client().email(&email).create(&app).await;
        let (app_ref, email_ref) = (&app, &email);
        let tries = (0..n).map(|i| async move {
            login_from(app_ref, email_ref, "wrong password!", &format!("10.{n}.{}.{}", i / 200, i % 200 + 1), CHROME).await
        });
        let answers: Vec<u16> = futures_util::future::join_all(tries).await.iter().map(|r| r.status.as_u16()).collect();
        let wrong = answers.iter().filter(|s| **s == 401).count();
        assert_eq!(wrong, 4, "n = {n}: only the failures before the fifth are answered 401: {answers:?}");
        assert_eq!(answers.iter().filter(|s| **s == 423).count(), n - 4, "n = {n}: {answers:?}");
        let res = login_from(&app, &email, PW, "10.250.0.1", CHROME).await;
        assert_eq!(res.problem(423)["code"], "account_locked", "n = {n}: the right password is refused while locked");
        let (failed, locked): (i32, Option<chrono::NaiveDateTime>) = keel_api::schema::users::table
            .filter(keel_api::schema::users::email.eq(&email))
            .select((keel_api::schema::users::failed_logins, keel_api::schema::users::locked_until))
            .first(&mut app.conn())
            .unwrap();
        assert!(locked.is_some(), "n = {n}: the lock stays (failures = {failed})");
        assert_eq!(mail_count(&app, &email, "account_locked"), 1, "n = {n}: one e-mail");
    }
});

// An API client or a script signs out with its access token only: that session ends, on this
// process at once. A request naming no session is refused rather than answered "signed out".
both_backends!(log_out_with_only_the_access_token_ends_its_session, |app: TestApp| async move {
    let User { token, refresh, .. } = a_client().email("out@example.com").create(&app).await;
    let other = app.login("out@example.com", PW).await;
    let other_token = other.body["access_token"].as_str().unwrap().to_string();
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.status, StatusCode::OK);
    let res = app.post_authed("/api/v1/auth/logout", &token).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text);
    app.get("/api/v1/me", Some(&token)).await.problem(401);
    app.post_with_cookie("/api/v1/auth/refresh", &refresh).await.problem(401);
    assert_eq!(app.get("/api/v1/me", Some(&other_token)).await.status, StatusCode::OK, "only that session");
    // No cookie and no token (or the token of an ended session, or an API key): nothing is named.
    app.request(TestRequest::post().uri("/api/v1/auth/logout")).await.problem(401);
    app.post_authed("/api/v1/auth/logout", &token).await.problem(401);
    let key = an_api_key().with_scopes(&["read", "write"]).create(&app, &other_token).await;
    app.post_authed("/api/v1/auth/logout", &key).await.problem(401);
    // The cookie alone still signs out (the SPA), and so does the cookie with the token.
    let res = app.post_with_cookie("/api/v1/auth/logout", &other.refresh_cookie().unwrap()).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    app.get("/api/v1/me", Some(&other_token)).await.problem(401);
});

/// The `keel_device` cookie a response sets, with its attributes.
fn device_cookie(res: &Res) -> Option<(String, String)> {
    res.headers.get_all(actix_web::http::header::SET_COOKIE).filter_map(|v| v.to_str().ok()).find_map(|c| {
        let rest = c.strip_prefix("keel_device=")?;
        Some((rest.split(';').next().unwrap_or("").to_string(), c.to_string()))
    })
}

async fn login_with_device(app: &TestApp, email: &str, password: &str, device: &str) -> Res {
    app.request(
        TestRequest::post()
            .uri("/api/v1/auth/login")
            .peer_addr("10.1.1.1:40000".parse().unwrap())
            .insert_header(("cookie", format!("keel_device={device}")))
            .set_json(json!({"email": email, "password": password})),
    )
    .await
}

// Failures from unknown sources lock unknown sources only: a browser that signed in before (its
// signed keel_device cookie) still signs in, and its own failures lock only itself. The owner gets
// an e-mail with a one-time link that lifts the lock.
both_backends!(a_stranger_cannot_lock_the_owner_out_of_a_known_browser, |app: TestApp| async move {
    let User { id, .. } = a_client().email("own@example.com").create(&app).await;
    let res = login_from(&app, "own@example.com", PW, "10.1.1.1", CHROME).await;
    assert_eq!(res.status, StatusCode::OK);
    let (device, header) = device_cookie(&res).expect("a device cookie on sign-in");
    assert!(device.starts_with(&format!("{id}.")), "names the user: {device}");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/api/v1/auth", "Max-Age=31536000"] {
        assert!(header.contains(attr), "{attr} missing: {header}");
    }
    // A stranger locks unknown sources...
    for i in 0..4 {
        login_from(&app, "own@example.com", "wrong password!", &format!("10.66.0.{i}"), CHROME).await.problem(401);
    }
    login_from(&app, "own@example.com", "wrong password!", "10.66.0.9", CHROME).await.problem(423);
    login_from(&app, "own@example.com", PW, "10.66.0.10", CHROME).await.problem(423);
    // ...a forged or someone else's cookie is an unknown source...
    login_with_device(&app, "own@example.com", PW, &device.replace(&id, "someone-else")).await.problem(423);
    a_client().email("other@example.com").create(&app).await;
    let (others_device, _) = device_cookie(&app.login("other@example.com", PW).await).unwrap();
    login_with_device(&app, "own@example.com", PW, &others_device).await.problem(423);
    // ...but the owner's browser signs in.
    let res = login_with_device(&app, "own@example.com", PW, &device).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(device_cookie(&res).unwrap().0, device, "same device, cookie renewed");

    // The owner's browser's own failures lock that browser only.
    for _ in 0..4 {
        login_with_device(&app, "own@example.com", "wrong password!", &device).await.problem(401);
    }
    login_with_device(&app, "own@example.com", "wrong password!", &device).await.problem(423);
    login_with_device(&app, "own@example.com", PW, &device).await.problem(423);
    app.login("own@example.com", PW).await.problem(423);

    // The e-mail's link lifts the account's lock (once).
    assert_eq!(mail_count(&app, "own@example.com", "account_locked"), 1);
    let token = token_from_mail(&app, "own@example.com", "account_locked").expect("an unlock link");
    let res = app.post_json("/api/v1/auth/unlock", json!({"token": token})).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text);
    app.post_json("/api/v1/auth/unlock", json!({"token": token})).await.problem(422);
    let res = login_from(&app, "own@example.com", PW, "10.66.0.11", IPHONE).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let actions: Vec<String> = keel_api::schema::audit_log::table
        .filter(keel_api::schema::audit_log::account_id.eq(&id))
        .select(keel_api::schema::audit_log::action)
        .load(&mut app.conn())
        .unwrap();
    for a in ["account.locked", "device.locked", "account.unlocked"] {
        assert!(actions.iter().any(|x| x == a), "{a} missing from {actions:?}");
    }
});

both_backends!(per_ip_rate_limits, |app: TestApp| async move {
    for i in 0..10 {
        login_from(&app, &format!("x{i}@example.com"), "whatever pass", "10.9.9.9", CHROME).await.problem(401);
    }
    let res = login_from(&app, "x@example.com", "whatever pass", "10.9.9.9", CHROME).await;
    assert_eq!(res.problem(429)["code"], "rate_limited");
    let retry: i64 = res.headers.get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    login_from(&app, "x@example.com", "whatever pass", "10.9.9.10", CHROME).await.problem(401);
    app.clock.advance(Duration::seconds(61));
    login_from(&app, "x@example.com", "whatever pass", "10.9.9.9", CHROME).await.problem(401);

    for i in 0..5 {
        assert_eq!(register_from(&app, &format!("reg{i}@example.com"), "10.8.8.8").await.status, StatusCode::CREATED);
    }
    register_from(&app, "reg5@example.com", "10.8.8.8").await.problem(429);

    let forgot = |ip: &str| {
        TestRequest::post()
            .uri("/api/v1/auth/forgot-password")
            .peer_addr(format!("{ip}:1").parse().unwrap())
            .set_json(json!({"email": "a@b.co"}))
    };
    for _ in 0..5 {
        assert_eq!(app.request(forgot("10.7.7.7")).await.status, StatusCode::ACCEPTED);
    }
    app.request(forgot("10.7.7.7")).await.problem(429);
});

both_backends!(audit_log_records_sign_ins_and_changes, |app: TestApp| async move {
    let User { token, id, .. } = a_client().email("a@example.com").create(&app).await;
    app.login("a@example.com", "wrong password!").await;
    app.login("a@example.com", PW).await;
    let other = a_client().email("b@example.com").create(&app).await.token;
    let res = app.get("/api/v1/me/audit", Some(&token)).await;
    let actions: Vec<&str> = res.body["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["auth.login", "auth.login_failed", "account.registered"]);
    assert!(res.body["items"].as_array().unwrap().iter().all(|e| e["account_id"] == id.as_str()));
    let res = app.get("/api/v1/me/audit", Some(&other)).await;
    assert_eq!(res.body["total"], 1, "only B's own trail");
    app.get("/api/v1/admin/audit", Some(&token)).await.problem(403);
    let admin = app.admin_token().await;
    let res = app.get("/api/v1/admin/audit?action=auth.login_failed", Some(&admin)).await;
    assert_eq!(res.body["total"], 1);
    assert_eq!(res.body["items"][0]["details"]["reason"], "wrong_password");
    // Admin actions are audited too.
    app.put_json("/api/v1/admin/tasks/housekeeping", &admin, json!({"cron": "0 2 * * *", "enabled": true})).await;
    let res = app.get("/api/v1/admin/audit?action=task.updated", Some(&admin)).await;
    assert_eq!(res.body["items"][0]["target_id"], "housekeeping");
    app.get("/api/v1/admin/audit?per_page=0", Some(&admin)).await.problem(422);
});

both_backends!(common_passwords_are_refused_at_registration, |app: TestApp| async move {
    let res = app
        .post_json(
            "/api/v1/auth/register",
            json!({"email": "p@example.com", "password": "Password123", "first_name": "P", "last_name": "Q"}),
        )
        .await;
    assert!(res.problem(422)["errors"]["password"].is_array());
    let n: i64 = keel_api::schema::users::table
        .filter(keel_api::schema::users::email.eq("p@example.com"))
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(n, 0, "nothing half-written");
});

both_backends!(breached_passwords_are_refused_with_a_field_error, |app: TestApp| async move {
    // From the shipped breach-corpus list, and a listed password with digits or symbols added.
    for (i, pw) in ["password123456", "qwertyuiop123", "1q2w3e4r5t6y", "iloveyou12345", "Sunshine2024!", "football1234"].iter().enumerate()
    {
        let email = format!("c{i}@example.com");
        app.clock.advance(Duration::hours(1)); // past the per-IP registration limit
        let res =
            app.post_json("/api/v1/auth/register", json!({"email": email, "password": pw, "first_name": "P", "last_name": "Q"})).await;
        let p = res.problem(422);
        assert!(p["errors"]["password"][0].as_str().unwrap_or_default().contains("common"), "{pw}: {}", res.text);
    }
    // A password of several uncommon words is fine.
    app.clock.advance(Duration::hours(1));
    let res = app
        .post_json(
            "/api/v1/auth/register",
            json!({"email": "ok@example.com", "password": "violet kettle orbit", "first_name": "P", "last_name": "Q"}),
        )
        .await;
    assert_eq!(res.status.as_u16(), 201, "{}", res.text);
});

both_backends!(api_keys_authenticate_with_scopes_expiry_and_ip_rules, |app: TestApp| async move {
    let User { token, id, .. } = a_client().email("k@example.com").create(&app).await;
    let create = |body: Value| {
        TestRequest::post().uri("/api/v1/me/api-keys").insert_header(("authorization", format!("Bearer {token}"))).set_json(body)
    };
    let res = app.request(create(json!({"name": "Sync", "scopes": ["admin"]}))).await;
    assert!(res.problem(422)["errors"]["scopes"].is_array(), "clients cannot mint admin keys");
    app.request(create(json!({"name": "Sync", "scopes": []}))).await.problem(422);
    app.request(create(json!({"name": "Sync", "scopes": ["read"], "allowed_ips": ["nope"]}))).await.problem(422);
    let res = app.request(create(json!({"name": "Reader", "scopes": ["read"]}))).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let reader = res.body["secret"].as_str().unwrap().to_string();
    let reader_id = res.body["id"].as_str().unwrap().to_string();
    assert!(reader.starts_with("keel_") && reader.len() > 40);
    // Stored hashed only.
    let stored: Vec<String> =
        keel_api::schema::api_keys::table.select(keel_api::schema::api_keys::secret_hash).load(&mut app.conn()).unwrap();
    assert!(!stored.contains(&reader));
    // Listing never shows the secret.
    let list = app.get("/api/v1/me/api-keys", Some(&token)).await;
    assert!(!list.text.contains(&reader));
    assert_eq!(list.body[0]["name"], "Reader");

    let me = app.get("/api/v1/me", Some(&reader)).await;
    assert_eq!((me.status, me.body["id"].as_str()), (StatusCode::OK, Some(id.as_str())));
    assert_eq!(list.body[0]["last_used_at"], Value::Null);
    assert!(app.get("/api/v1/me/api-keys", Some(&token)).await.body[0]["last_used_at"].is_string(), "last use recorded");
    // Read-only: no changes, no admin, no key management.
    assert!(app.post_authed("/api/v1/auth/verify-email/resend", &reader).await.problem(403)["detail"].as_str().unwrap().contains("write"));
    app.get("/api/v1/admin/clients", Some(&reader)).await.problem(403);
    app.get("/api/v1/me/api-keys", Some(&reader)).await.problem(403);
    app.get("/api/v1/me", Some("keel_0000000000000000000000000000000000000000000000")).await.problem(401);

    // IP allow-list and expiry.
    let res = app.request(create(json!({"name": "Office", "scopes": ["read"], "allowed_ips": ["10.0.0.9"]}))).await;
    let office = res.body["secret"].as_str().unwrap().to_string();
    let from = |ip: &str| {
        TestRequest::get()
            .uri("/api/v1/me")
            .peer_addr(format!("{ip}:1").parse().unwrap())
            .insert_header(("authorization", format!("Bearer {office}")))
    };
    assert_eq!(app.request(from("10.0.0.9")).await.status, StatusCode::OK);
    app.request(from("10.0.0.8")).await.problem(403);
    let soon = (app.clock.now() + Duration::hours(1)).to_rfc3339();
    let res = app.request(create(json!({"name": "Temp", "scopes": ["read", "write"], "expires_at": soon}))).await;
    let temp = res.body["secret"].as_str().unwrap().to_string();
    assert_eq!(app.get("/api/v1/me", Some(&temp)).await.status, StatusCode::OK);
    app.clock.advance(Duration::hours(2));
    assert!(app.get("/api/v1/me", Some(&temp)).await.problem(401)["detail"].as_str().unwrap().contains("expired"));

    // Revoking: only the owner, then the key stops working.
    let other = a_client().email("k2@example.com").create(&app).await.token;
    app.delete_authed(&format!("/api/v1/me/api-keys/{reader_id}"), &other).await.problem(404);
    let token = app.login("k@example.com", PW).await.body["access_token"].as_str().unwrap().to_string();
    assert_eq!(app.delete_authed(&format!("/api/v1/me/api-keys/{reader_id}"), &token).await.status, StatusCode::NO_CONTENT);
    assert!(app.get("/api/v1/me", Some(&reader)).await.problem(401)["detail"].as_str().unwrap().contains("revoked"));
    let actions: Vec<String> = app.get("/api/v1/me/audit?per_page=100", Some(&token)).await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    assert!(actions.contains(&"api_key.created".to_string()) && actions.contains(&"api_key.revoked".to_string()));
});

// Walks every operation in the OpenAPI document with every kind of caller and checks the API
// refuses exactly those it must: anonymous callers everywhere but the public routes, clients on
// /admin, staff without the permission on /admin, staff with every permission only on the
// administrator-only routes, read-only keys on changes.
both_backends!(every_route_enforces_roles, |app: TestApp| async move {
    let spec: Value = serde_json::from_str(&keel_api::http::openapi::document()).unwrap();
    let client = a_client().email("role@example.com").create(&app).await.token;
    let admin = app.admin_token().await;
    let no_perms = a_staff_member().create(&app).await.token;
    let all: Vec<&str> = keel_shared::access::Permission::ALL.iter().map(|p| p.as_str()).collect();
    let all_perms = a_staff_member().with_permissions(&all).create(&app).await.token;
    let key = an_api_key().with_scopes(&["read"]).create(&app, &client).await;
    let public = [
        "/healthz",
        "/readyz",
        "/api/v1/products",
        "/api/v1/catalog",
        "/api/v1/cart/quote",
        "/api/v1/email/unsubscribe",
        "/api/v1/team/invitations/{token}",
        "/api/v1/team/invitations/{token}/accept",
        // The gateways sign these instead: without a valid signature they are a 400.
        "/api/v1/webhooks/stripe",
        "/api/v1/webhooks/razorpay",
        // The browser coming back from Razorpay's checkout, and Keel's page that opens it.
        "/api/v1/payments/razorpay/callback",
        "/api/v1/payments/razorpay/{order}",
    ];
    let public_auth = [
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/login/2fa",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/auth/unlock",
        "/api/v1/auth/verify-email",
        "/api/v1/auth/forgot-password",
        "/api/v1/auth/reset-password",
    ];
    let admin_only = ["/api/v1/admin/staff", "/api/v1/admin/staff/{id}", "/api/v1/admin/settings/security"];
    let mut checked = 0;
    for (path, ops) in spec["paths"].as_object().unwrap() {
        let concrete = path
            .replace("{id}", "01a20000-0000-7000-8000-000000000000")
            .replace("{name}", "housekeeping")
            .replace("{key}", "welcome")
            .replace("{token}", "00ff00ff")
            .replace("{code}", "EUR");
        for method in ops.as_object().unwrap().keys() {
            let call = |token: Option<&str>| {
                let mut r = TestRequest::default().method(method.to_uppercase().parse().unwrap()).uri(&concrete);
                if let Some(t) = token {
                    r = r.insert_header(("authorization", format!("Bearer {t}")));
                }
                if method != "get" && method != "delete" {
                    r = r.set_json(json!({}));
                }
                r
            };
            let status = |r: &Res| r.status.as_u16();
            if path.ends_with("/auth/logout") {
                // Signing out ends the caller's session, and the walk's callers must stay signed in:
                // anonymous only (it names no session: 401).
                assert_eq!(status(&app.request(call(None)).await), 401, "POST {path}: anonymous");
                checked += 1;
                continue;
            }
            let anon = status(&app.request(call(None)).await);
            let as_client = status(&app.request(call(Some(&client))).await);
            let as_admin = status(&app.request(call(Some(&admin))).await);
            let as_key = status(&app.request(call(Some(&key))).await);
            let as_no_perms = status(&app.request(call(Some(&no_perms))).await);
            let as_all_perms = status(&app.request(call(Some(&all_perms))).await);
            let what = format!("{} {path}", method.to_uppercase());
            if public.contains(&path.as_str()) || public_auth.contains(&path.as_str()) {
                // Signing out names a session (a cookie or an access token): without one, 401.
                assert!(
                    anon != 403 && (anon != 401 || path.ends_with("/refresh") || path.ends_with("/logout")),
                    "{what}: public, anonymous got {anon}"
                );
            } else {
                assert_eq!(anon, 401, "{what}: anonymous must be refused");
                if path.starts_with("/api/v1/admin") {
                    assert_eq!(as_client, 403, "{what}: a client must be refused");
                    assert!(as_admin != 401 && as_admin != 403, "{what}: admin got {as_admin}");
                    assert_eq!(as_key, 403, "{what}: a client's key must be refused");
                    assert_eq!(as_no_perms, 403, "{what}: staff without permissions must be refused");
                    if admin_only.contains(&path.as_str()) {
                        assert_eq!(as_all_perms, 403, "{what}: administrators only");
                    } else {
                        assert!(as_all_perms != 401 && as_all_perms != 403, "{what}: staff with every permission got {as_all_perms}");
                    }
                } else {
                    assert!(as_client != 401 && as_client != 403, "{what}: client got {as_client}");
                    assert!(as_no_perms != 401 && as_no_perms != 403, "{what}: staff on their own account got {as_no_perms}");
                    if method != "get" || path.starts_with("/api/v1/me/api-keys") || path.starts_with("/api/v1/me/sessions") {
                        assert_eq!(as_key, 403, "{what}: a read-only key must be refused");
                    } else {
                        assert!(as_key != 401 && as_key != 403, "{what}: read key got {as_key}");
                    }
                }
            }
            assert!(
                anon < 500 && as_client < 500 && as_admin < 500 && as_key < 500 && as_no_perms < 500 && as_all_perms < 500,
                "{what}: {anon} {as_client} {as_admin} {as_key} {as_no_perms} {as_all_perms}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 45, "only {checked} operations in the spec");
});

both_backends!(two_factor_sign_in_with_codes_and_recovery_codes, |app: TestApp| async move {
    use keel_api::identity::totp;
    let User { token, id, .. } = a_client().email("t@example.com").create(&app).await;
    let post = |path: &'static str, body: Value| app.post_json_authed(path, &token, body);
    let res = app.post_authed("/api/v1/me/2fa/setup", &token).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let secret_b32 = res.body["secret"].as_str().unwrap().to_string();
    assert!(res.body["qr_svg"].as_str().unwrap().starts_with("<?xml") || res.body["qr_svg"].as_str().unwrap().contains("<svg"));
    assert!(res.body["otpauth_url"].as_str().unwrap().starts_with("otpauth://totp/"));
    let raw = totp::base32_decode(&secret_b32).unwrap();
    let code_now = |offset_steps: i64| totp::code_at_step(&raw, totp::step_of(app.clock.now().timestamp()) + offset_steps);
    assert!(post("/api/v1/me/2fa/enable", json!({"code": "000000"})).await.problem(422)["errors"]["code"].is_array());
    let res = post("/api/v1/me/2fa/enable", json!({"code": code_now(0)})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let recovery: Vec<String> = res.body["codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect();
    assert_eq!(recovery.len(), 10);
    // Sealed at rest.
    let stored: Option<String> =
        keel_api::schema::users::table.find(&id).select(keel_api::schema::users::totp_secret).first(&mut app.conn()).unwrap();
    let stored = stored.unwrap();
    assert!(stored.starts_with("v1:") && !stored.contains(&secret_b32) && !stored.contains(&hex::encode(&raw)));

    // Password alone is not enough now.
    let res = app.login("t@example.com", PW).await;
    assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.text);
    assert!(res.refresh_cookie().is_none());
    let mfa = res.body["mfa_token"].as_str().unwrap().to_string();
    app.get("/api/v1/me", Some(&mfa)).await.problem(401);
    app.post_json("/api/v1/auth/login/2fa", json!({"mfa_token": mfa, "code": "123456"})).await.problem(401);
    // The code used to enable was for this step: it cannot be used again; the next step's works.
    app.post_json("/api/v1/auth/login/2fa", json!({"mfa_token": mfa, "code": code_now(0)})).await.problem(401);
    app.clock.advance(Duration::seconds(30));
    let res = app.post_json("/api/v1/auth/login/2fa", json!({"mfa_token": mfa, "code": code_now(0)})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert!(res.refresh_cookie().is_some());
    // A recovery code works once.
    let mfa = app.login("t@example.com", PW).await.body["mfa_token"].as_str().unwrap().to_string();
    assert_eq!(app.post_json("/api/v1/auth/login/2fa", json!({"mfa_token": mfa, "code": recovery[0]})).await.status, StatusCode::OK);
    app.post_json("/api/v1/auth/login/2fa", json!({"mfa_token": mfa, "code": recovery[0]})).await.problem(401);
    // The step token expires.
    app.clock.advance(Duration::minutes(6));
    app.post_json("/api/v1/auth/login/2fa", json!({"mfa_token": mfa, "code": recovery[1]})).await.problem(401);

    // Turning it off needs the password and a code.
    let token = {
        let mfa = app.login("t@example.com", PW).await.body["mfa_token"].as_str().unwrap().to_string();
        app.post_json("/api/v1/auth/login/2fa", json!({"mfa_token": mfa, "code": recovery[2]})).await.body["access_token"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let off = |pw: &str, code: String| app.post_json_authed("/api/v1/me/2fa/disable", &token, json!({"password": pw, "code": code}));
    assert!(off("wrong password!", code_now(0)).await.problem(422)["errors"]["password"].is_array());
    app.clock.advance(Duration::seconds(30));
    assert_eq!(off(PW, code_now(0)).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.login("t@example.com", PW).await.status, StatusCode::OK);
    let actions: Vec<String> = app.get("/api/v1/me/audit?per_page=100", Some(&token)).await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    for a in ["two_factor.enabled", "two_factor.disabled", "auth.two_factor_failed"] {
        assert!(actions.contains(&a.to_string()), "{a} missing from {actions:?}");
    }
});

/// Turns two-factor on for the holder of `token`; answers the raw TOTP secret.
async fn with_two_factor(app: &TestApp, token: &str) -> Vec<u8> {
    use keel_api::identity::totp;
    let secret = app.post_authed("/api/v1/me/2fa/setup", token).await.body["secret"].as_str().unwrap().to_string();
    let raw = totp::base32_decode(&secret).unwrap();
    let code = totp::code_at_step(&raw, totp::step_of(app.clock.now().timestamp()));
    let res = app.post_json_authed("/api/v1/me/2fa/enable", token, json!({"code": code})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    // The code that enabled it is spent: move on to the next time step.
    app.clock.advance(Duration::seconds(30));
    raw
}

fn second_step_from(mfa: &str, code: &str, ip: &str) -> TestRequest {
    TestRequest::post()
        .uri("/api/v1/auth/login/2fa")
        .peer_addr(format!("{ip}:40000").parse().unwrap())
        .set_json(json!({"mfa_token": mfa, "code": code}))
}

// Sixty wrong codes at once against one mfa_token (from sixty addresses, under every per-IP
// limit): at most five are checked, they count towards the account's lockout, and the token is
// void afterwards, even for the right code. A token that completed a sign-in opens no second one.
both_backends!(two_factor_codes_are_limited_per_token_and_account, |app: TestApp| async move {
    use keel_api::identity::totp;
    let User { token, id, .. } = a_client().email("mfa@example.com").create(&app).await;
    let raw = with_two_factor(&app, &token).await;
    let code_now = || totp::code_at_step(&raw, totp::step_of(app.clock.now().timestamp()));
    let mfa = app.login("mfa@example.com", PW).await.body["mfa_token"].as_str().unwrap().to_string();
    let wrong = if code_now() == "000000" { "111111" } else { "000000" };
    let answers =
        futures_util::future::join_all((0..60).map(|i| app.request(second_step_from(&mfa, wrong, &format!("10.60.0.{}", i + 1))))).await;
    let checked = answers.iter().filter(|r| r.status == StatusCode::UNAUTHORIZED && r.body["code"] == "unauthenticated").count();
    assert!(checked <= 5, "{checked} wrong codes were checked");
    assert!(answers.iter().all(|r| r.status == StatusCode::UNAUTHORIZED || r.status == StatusCode::LOCKED), "only 401 and 423");
    let failures: i64 = keel_api::schema::audit_log::table
        .filter(keel_api::schema::audit_log::account_id.eq(&id))
        .filter(keel_api::schema::audit_log::action.eq("auth.two_factor_failed"))
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert!((1..=5).contains(&failures), "{failures} codes checked");
    let res = app.request(second_step_from(&mfa, &code_now(), "10.61.0.1")).await;
    assert!(res.status == StatusCode::UNAUTHORIZED || res.status == StatusCode::LOCKED, "the right code is refused: {}", res.text);
    // Five wrong codes locked the account like five wrong passwords.
    app.login("mfa@example.com", PW).await.problem(423);

    // Once the lock ends: a token that signed in once is used up.
    app.clock.advance(Duration::minutes(31));
    let mfa = app.login("mfa@example.com", PW).await.body["mfa_token"].as_str().unwrap().to_string();
    assert_eq!(app.request(second_step_from(&mfa, &code_now(), "10.62.0.1")).await.status, StatusCode::OK);
    app.clock.advance(Duration::seconds(30));
    let res = app.request(second_step_from(&mfa, &code_now(), "10.62.0.1")).await;
    assert_eq!(res.problem(401)["code"], "mfa_token_invalid", "single use");
    // A token gets five codes, then is void.
    let mfa = app.login("mfa@example.com", PW).await.body["mfa_token"].as_str().unwrap().to_string();
    for _ in 0..4 {
        assert_eq!(app.request(second_step_from(&mfa, wrong, "10.63.0.1")).await.problem(401)["code"], "unauthenticated");
    }
    app.request(second_step_from(&mfa, wrong, "10.63.0.1")).await.problem(423);
});

both_backends!(profile_export_and_gdpr_deletion, |app: TestApp| async move {
    let User { token, id, .. } = a_client().email("g@example.com").create(&app).await;
    let put = |body: Value| app.put_json("/api/v1/me/profile", &token, body);
    let address = json!({"line1": "Main St 1", "city": "Berlin", "postcode": "10115", "country": "DE"});
    let mut profile = json!({"first_name": "Gina", "last_name": "Gdpr", "company": "Acme GmbH", "phone": "+49 30 1234567",
        "address": address, "billing_address": null, "tax_id": "DE123456789", "currency": "EUR", "language": "de"});
    let res = put(profile.clone()).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["address"]["city"], "Berlin");
    assert_eq!(app.get("/api/v1/me/profile", Some(&token)).await.body["currency"], "EUR");
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.body["first_name"], "Gina");
    profile["address"]["country"] = json!("Germany");
    profile["phone"] = json!("call me");
    let res = put(profile.clone()).await;
    let p = res.problem(422);
    assert!(p["errors"]["address.country"].is_array() && p["errors"]["phone"].is_array(), "{}", res.text);

    let res = app.get("/api/v1/me/export", Some(&token)).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.headers.get("content-disposition").unwrap().to_str().unwrap().contains("attachment"));
    assert_eq!(res.body["profile"]["company"], "Acme GmbH");
    assert!(!res.body["emails"].as_array().unwrap().is_empty());
    assert!(!res.text.contains("argon2") && !res.text.contains("password_hash"));

    let admin = app.admin_token().await;
    app.post_authed(&format!("/api/v1/admin/clients/{id}/anonymise"), &admin).await.problem(409);
    assert_eq!(app.post_authed("/api/v1/me/deletion-request", &token).await.status, StatusCode::ACCEPTED);
    app.get("/api/v1/admin/deletion-requests", Some(&token)).await.problem(403);
    let res = app.get("/api/v1/admin/deletion-requests", Some(&admin)).await;
    assert_eq!(res.body[0]["email"], "g@example.com");
    assert_eq!(app.post_authed(&format!("/api/v1/admin/clients/{id}/anonymise"), &admin).await.status, StatusCode::NO_CONTENT);
    app.login("g@example.com", PW).await.problem(401);
    assert!(app.get("/api/v1/admin/deletion-requests", Some(&admin)).await.body.as_array().unwrap().is_empty());
    let clients = app.get("/api/v1/admin/clients", Some(&admin)).await;
    let row = clients.body["items"].as_array().unwrap().iter().find(|c| c["id"] == id.as_str()).unwrap().clone();
    assert_eq!(row["first_name"], "Deleted");
    assert!(row["email"].as_str().unwrap().ends_with("@invalid"));
    let left: Option<String> = keel_api::schema::client_profiles::table
        .find(&id)
        .select(keel_api::schema::client_profiles::tax_id)
        .first(&mut app.conn())
        .unwrap();
    assert_eq!(left, None);
});

both_backends!(admins_log_in_as_a_client_visibly, |app: TestApp| async move {
    let User { token: client, id, .. } = a_client().email("imp@example.com").create(&app).await;
    let admin = app.admin_token().await;
    app.post_authed(&format!("/api/v1/admin/clients/{id}/impersonate"), &client).await.problem(403);
    let res = app.post_authed(&format!("/api/v1/admin/clients/{id}/impersonate"), &admin).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert!(res.refresh_cookie().is_none(), "no refresh token for a support view");
    let token = res.body["access_token"].as_str().unwrap().to_string();
    let me = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!((me.body["id"].as_str(), me.body["impersonator"].as_str()), (Some(id.as_str()), Some(crate::support::ADMIN_EMAIL)));
    assert_eq!(app.get("/api/v1/me", Some(&client)).await.body.get("impersonator"), None);
    // Not for passwords, sessions, keys or the admin.
    app.get("/api/v1/me/sessions", Some(&token)).await.problem(403);
    app.get("/api/v1/admin/clients", Some(&token)).await.problem(403);
    // In the client's own trail.
    let trail = app.get("/api/v1/me/audit", Some(&client)).await;
    assert_eq!(trail.body["items"][0]["action"], "admin.impersonation_started");
    // Only clients.
    let admin_id = the_admin(&app).await.id;
    app.post_authed(&format!("/api/v1/admin/clients/{admin_id}/impersonate"), &admin).await.problem(409);
    // The view lives by the admin's session: ending that session (here from another of the
    // admin's sessions) ends the view at once.
    let elsewhere = app.admin_token().await;
    assert_eq!(app.delete_authed("/api/v1/me/sessions", &elsewhere).await.status, StatusCode::NO_CONTENT);
    app.get("/api/v1/me", Some(&token)).await.problem(401);
    app.get("/api/v1/me", Some(&admin)).await.problem(401);
});
