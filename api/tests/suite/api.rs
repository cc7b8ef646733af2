//! API integration tests: the real actix app over a real database, once per backend.

use crate::support::{a_client, TestApp, User, ADMIN_EMAIL, ADMIN_PASSWORD};
use actix_web::http::{Method, StatusCode};
use chrono::Duration;
use keel_api::clock::Clock;
use serde_json::{json, Value};

both_backends!(health_and_readiness, |app: TestApp| async move {
    let res = app.get("/healthz", None).await;
    assert_eq!((res.status, res.body["status"].as_str()), (StatusCode::OK, Some("ok")));
    let res = app.get("/readyz", None).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.body["database"], app.state.pool.get().unwrap().backend().name());
    assert!(res.headers.get("x-request-id").is_some());
});

both_backends!(demo_catalog_has_eight_plans_priced_as_seeded, |app: TestApp| async move {
    let res = app.get("/api/v1/products", None).await;
    assert_eq!(res.status, StatusCode::OK);
    let products = res.body.as_array().unwrap();
    assert_eq!(products.len(), 8);
    let types: std::collections::BTreeSet<&str> = products.iter().map(|p| p["type"].as_str().unwrap()).collect();
    assert_eq!(types.into_iter().collect::<Vec<_>>(), ["cloud", "shared_hosting", "vps", "wordpress_hosting"]);
    let price = |slug: &str, cycle: &str| {
        let p = products.iter().find(|p| p["slug"] == slug).unwrap();
        p["prices"].as_array().unwrap().iter().find(|x| x["cycle"] == cycle && x["currency"] == "USD").unwrap()["amount_minor"]
            .as_i64()
            .unwrap()
    };
    assert_eq!((price("shared-starter", "monthly"), price("shared-starter", "annually")), (499, 4999));
    assert_eq!((price("shared-business", "monthly"), price("shared-business", "annually")), (999, 9999));
    assert_eq!((price("wordpress-pro", "monthly"), price("wordpress-pro", "annually")), (1999, 19999));
    assert_eq!((price("cloud-enterprise", "monthly"), price("cloud-enterprise", "annually")), (9999, 99999));
    // Storefront order is stable.
    assert_eq!(products[0]["slug"], "shared-starter");
});

both_backends!(first_start_runs_once, |app: TestApp| async move {
    let mut conn = app.state.pool.get().unwrap();
    let again = keel_api::bootstrap::first_start(&mut conn, &app.state.config, app.state.jobs.tasks(), app.clock.now()).unwrap();
    assert_eq!(again.products_created, 0);
    assert!(again.admin.is_none(), "no second admin, no new password");
    drop(conn);
    assert_eq!(app.get("/api/v1/products", None).await.body.as_array().unwrap().len(), 8);
});

both_backends!(register_then_me, |app: TestApp| async move {
    let res = app
        .post_json(
            "/api/v1/auth/register",
            json!({"email": "  Ann@Example.COM ", "password": "correct horse battery", "first_name": " Ann ", "last_name": "Lee"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(res.body["token_type"], "Bearer");
    assert_eq!(res.body["expires_in"], 900);
    assert_eq!(res.body["user"]["email"], "ann@example.com");
    assert_eq!(res.body["user"]["first_name"], "Ann");
    assert_eq!(res.body["user"]["role"], "client");
    let cookie = res.set_cookie_header();
    for part in ["keel_refresh=", "HttpOnly", "SameSite=Strict", "Path=/api/v1/auth"] {
        assert!(cookie.contains(part), "{cookie} lacks {part}");
    }
    assert!(!res.text.contains(&res.refresh_cookie().unwrap()), "refresh token never in the body");
    let token = res.body["access_token"].as_str().unwrap();
    let me = app.get("/api/v1/me", Some(token)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["email"], "ann@example.com");
    assert_eq!(me.body["id"], res.body["user"]["id"]);
    assert!(me.body.get("password_hash").is_none());
});

both_backends!(email_is_unique_ignoring_case, |app: TestApp| async move {
    a_client().email("dup@example.com").create(&app).await;
    let res = app
        .post_json(
            "/api/v1/auth/register",
            json!({"email": "DUP@example.com", "password": "another password", "first_name": "B", "last_name": "C"}),
        )
        .await;
    let p = res.problem(409);
    assert_eq!(p["code"], "email_taken");
    assert!(p["errors"]["email"].is_array());
});

both_backends!(login_wrong_password_or_email_is_401_alike, |app: TestApp| async move {
    a_client().email("bob@example.com").create(&app).await;
    let wrong_pw = app.login("bob@example.com", "not the password").await;
    let unknown = app.login("nobody@example.com", "not the password").await;
    assert_eq!(wrong_pw.problem(401)["detail"], unknown.problem(401)["detail"]);
    let ok = app.login("BOB@example.com", "correct horse battery").await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert!(ok.refresh_cookie().is_some());
});

both_backends!(refresh_rotates_and_reuse_revokes_the_session, |app: TestApp| async move {
    let User { token: access, refresh: first, .. } = a_client().email("rot@example.com").create(&app).await;
    let res = app.post_with_cookie("/api/v1/auth/refresh", &first).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let second = res.refresh_cookie().unwrap();
    assert_ne!(first, second);
    let newest_access = res.body["access_token"].as_str().unwrap().to_string();
    assert_eq!(app.get("/api/v1/me", Some(&newest_access)).await.status, StatusCode::OK);
    // The old token again, past the 30-second grace: theft suspected, the session is revoked...
    app.clock.advance(Duration::seconds(31));
    app.post_with_cookie("/api/v1/auth/refresh", &first).await.problem(401);
    // No cookie at all is an anonymous visitor, not an error.
    let res = app.send_raw(Method::POST, "/api/v1/auth/refresh", None, b"").await;
    assert_eq!((res.status, res.text.as_str()), (StatusCode::NO_CONTENT, ""));
    // ...so the newest token is dead too.
    let res = app.post_with_cookie("/api/v1/auth/refresh", &second).await;
    res.problem(401);
    assert!(res.set_cookie_header().contains("keel_refresh=;"), "cookie cleared: {}", res.set_cookie_header());
    // And the session's access tokens stop working at once, not when they expire.
    for token in [&access, &newest_access] {
        assert!(app.get("/api/v1/me", Some(token)).await.problem(401)["detail"].as_str().unwrap().contains("session has ended"));
    }
});

// Two tabs (here six requests) restoring one session at once: each gets the session's current
// token, nobody is signed out, and that token keeps working. Within the grace window even an
// older token leads to the current one.
both_backends!(parallel_refreshes_with_one_cookie_share_the_successor, |app: TestApp| async move {
    let User { refresh: first, .. } = a_client().email("tabs@example.com").create(&app).await;
    let answers = futures_util::future::join_all((0..6).map(|_| app.post_with_cookie("/api/v1/auth/refresh", &first))).await;
    for res in &answers {
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert_eq!(app.get("/api/v1/me", res.body["access_token"].as_str()).await.status, StatusCode::OK);
    }
    let cookies: std::collections::BTreeSet<String> = answers.iter().map(|r| r.refresh_cookie().unwrap()).collect();
    assert_eq!(cookies.len(), 1, "one successor: {cookies:?}");
    let second = cookies.into_iter().next().unwrap();
    app.clock.advance(Duration::seconds(10));
    let res = app.post_with_cookie("/api/v1/auth/refresh", &second).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let third = res.refresh_cookie().unwrap();
    // The first token, rotated 10 s ago, leads past the second to the current (third) one.
    let res = app.post_with_cookie("/api/v1/auth/refresh", &first).await;
    assert_eq!((res.status, res.refresh_cookie()), (StatusCode::OK, Some(third.clone())), "{}", res.text);
    assert_eq!(app.post_with_cookie("/api/v1/auth/refresh", &third).await.status, StatusCode::OK);
});

both_backends!(refresh_token_expires_with_its_session, |app: TestApp| async move {
    let User { refresh, .. } = a_client().email("exp@example.com").create(&app).await;
    app.clock.advance(Duration::days(7) + Duration::seconds(1));
    app.post_with_cookie("/api/v1/auth/refresh", &refresh).await.problem(401);
});

both_backends!(logout_revokes_the_session, |app: TestApp| async move {
    let User { token: access, refresh, .. } = a_client().email("out@example.com").create(&app).await;
    let other = a_client().email("stays@example.com").create(&app).await.token;
    let res = app.post_with_cookie("/api/v1/auth/logout", &refresh).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    assert!(res.set_cookie_header().contains("Max-Age=0"));
    app.post_with_cookie("/api/v1/auth/refresh", &refresh).await.problem(401);
    app.get("/api/v1/me", Some(&access)).await.problem(401);
    assert_eq!(app.get("/api/v1/me", Some(&other)).await.status, StatusCode::OK, "only that session ended");
    // Logging out again with the cookie is fine; a request naming no session is not.
    assert_eq!(app.post_with_cookie("/api/v1/auth/logout", &refresh).await.status, StatusCode::NO_CONTENT);
    app.post_json("/api/v1/auth/logout", json!({})).await.problem(401);
});

both_backends!(access_tokens_expire_and_are_checked, |app: TestApp| async move {
    let token = a_client().email("tok@example.com").create(&app).await.token;
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.status, StatusCode::OK);
    app.get("/api/v1/me", None).await.problem(401);
    app.get("/api/v1/me", Some("not-a-jwt")).await.problem(401);
    let mut tampered = token.clone();
    tampered.push('x');
    app.get("/api/v1/me", Some(&tampered)).await.problem(401);
    // Signed with another key.
    let foreign = keel_api::identity::tokens::JwtKeys::from_secret(b"some other secret some other secret!")
        .issue("x", "y", keel_shared::auth::Role::Admin, app.clock.now())
        .unwrap();
    app.get("/api/v1/admin/clients", Some(&foreign)).await.problem(401);
    app.clock.advance(Duration::minutes(15));
    let res = app.get("/api/v1/me", Some(&token)).await;
    assert!(res.problem(401)["detail"].as_str().unwrap().contains("expired"));
});

both_backends!(admin_clients_is_admin_only_and_paginated, |app: TestApp| async move {
    let client_token = a_client().email("c1@example.com").create(&app).await.token;
    app.clock.advance(Duration::seconds(1));
    a_client().email("c2@example.com").create(&app).await;
    app.clock.advance(Duration::seconds(1));
    a_client().email("c3@example.com").create(&app).await;

    app.get("/api/v1/admin/clients", None).await.problem(401);
    assert_eq!(app.get("/api/v1/admin/clients", Some(&client_token)).await.problem(403)["code"], "forbidden");

    let admin = app.admin_token().await;
    let res = app.get("/api/v1/admin/clients", Some(&admin)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["total"], 3, "the admin is not a client");
    let emails: Vec<&str> = res.body["items"].as_array().unwrap().iter().map(|c| c["email"].as_str().unwrap()).collect();
    assert_eq!(emails, ["c3@example.com", "c2@example.com", "c1@example.com"]);

    let res = app.get("/api/v1/admin/clients?page=2&per_page=2", Some(&admin)).await;
    assert_eq!((res.body["page"].as_u64(), res.body["per_page"].as_u64(), res.body["total_pages"].as_u64()), (Some(2), Some(2), Some(2)));
    assert_eq!(res.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(res.body["items"][0]["email"], "c1@example.com");
    assert!(res.body["items"][0].get("password_hash").is_none());
});

both_backends!(admin_login_reports_the_admin_role, |app: TestApp| async move {
    let res = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(res.body["user"]["role"], "admin");
});

// Every endpoint, fed malformed requests: each answer is a 4xx problem+json, never a 500 or HTML.
both_backends!(bad_input_is_always_a_4xx_problem, |app: TestApp| async move {
    let token = a_client().email("bad@example.com").create(&app).await.token;
    let big = format!("{{\"email\": \"{}\"}}", "a".repeat(70 * 1024));
    let json = Some("application/json");
    let cases: Vec<(Method, &str, Option<&str>, Vec<u8>, u16, Option<&str>)> = vec![
        // (method, path, content type, body, expected status, field named in `errors`)
        (Method::POST, "/api/v1/auth/register", json, b"{not json".to_vec(), 400, None),
        (Method::POST, "/api/v1/auth/register", json, b"".to_vec(), 400, None),
        (Method::POST, "/api/v1/auth/register", json, b"[]".to_vec(), 422, Some("body")),
        (Method::POST, "/api/v1/auth/register", json, b"null".to_vec(), 422, Some("body")),
        (Method::POST, "/api/v1/auth/register", json, br#"{"email":"x@y.io"}"#.to_vec(), 422, Some("password")),
        (
            Method::POST,
            "/api/v1/auth/register",
            json,
            br#"{"email":5,"password":"correct horse","first_name":"a","last_name":"b"}"#.to_vec(),
            422,
            Some("email"),
        ),
        (
            Method::POST,
            "/api/v1/auth/register",
            json,
            br#"{"email":"nope","password":"correct horse","first_name":"a","last_name":"b"}"#.to_vec(),
            422,
            Some("email"),
        ),
        (
            Method::POST,
            "/api/v1/auth/register",
            json,
            br#"{"email":"a@b.io","password":"short","first_name":"a","last_name":"b"}"#.to_vec(),
            422,
            Some("password"),
        ),
        (
            Method::POST,
            "/api/v1/auth/register",
            json,
            br#"{"email":"a@b.io","password":"correct horse","first_name":"  ","last_name":"b"}"#.to_vec(),
            422,
            Some("first_name"),
        ),
        (
            Method::POST,
            "/api/v1/auth/register",
            json,
            format!(r#"{{"email":"a@b.io","password":"correct horse","first_name":"{}","last_name":"b"}}"#, "x".repeat(101)).into_bytes(),
            422,
            Some("first_name"),
        ),
        (Method::POST, "/api/v1/auth/register", Some("text/plain"), br#"{"email":"a@b.io"}"#.to_vec(), 415, None),
        (Method::POST, "/api/v1/auth/register", None, br#"{"email":"a@b.io"}"#.to_vec(), 415, None),
        (Method::POST, "/api/v1/auth/register", json, big.clone().into_bytes(), 413, None),
        (Method::POST, "/api/v1/auth/login", json, b"{".to_vec(), 400, None),
        (Method::POST, "/api/v1/auth/login", json, br#"{"email":"a@b.io"}"#.to_vec(), 422, Some("password")),
        (Method::POST, "/api/v1/auth/login", json, br#"{"email":"","password":""}"#.to_vec(), 422, Some("email")),
        (Method::POST, "/api/v1/auth/login", json, br#"{"email":["a"],"password":"x"}"#.to_vec(), 422, Some("email")),
        (Method::POST, "/api/v1/auth/login", json, big.into_bytes(), 413, None),
        (Method::GET, "/api/v1/me", None, b"".to_vec(), 401, None),
        (Method::GET, "/api/v1/admin/clients?page=abc", None, b"".to_vec(), 401, None),
        (Method::GET, "/api/v1/does-not-exist", None, b"".to_vec(), 404, None),
        (Method::DELETE, "/api/v1/products", None, b"".to_vec(), 405, None),
        (Method::GET, "/api/nothing/here", None, b"".to_vec(), 404, None),
    ];
    for (method, path, ct, body, status, field) in cases {
        let res = app.send_raw(method.clone(), path, ct, &body).await;
        let p = res.problem(status);
        if let Some(field) = field {
            assert!(p["errors"][field].is_array(), "{method} {path}: expected errors.{field} in {}", res.text);
        }
    }
    // Authenticated, with bad query parameters: the parameter is named. (A client is refused first
    // with 403, so use the admin.)
    let admin = app.admin_token().await;
    for (query, field) in [("page=abc", "page"), ("page=0", "page"), ("per_page=1000", "per_page"), ("per_page=-5", "per_page")] {
        let res = app.get(&format!("/api/v1/admin/clients?{query}"), Some(&admin)).await;
        assert!(res.problem(422)["errors"][field].is_array(), "{query}: {}", res.text);
    }
    // A malformed Authorization header.
    let res =
        app.request(actix_web::test::TestRequest::get().uri("/api/v1/me").insert_header(("authorization", format!("Basic {token}")))).await;
    res.problem(401);
});

both_backends!(json_followed_by_garbage_is_malformed, |app: TestApp| async move {
    // A valid object followed by anything but whitespace is not JSON: nothing is created.
    let body = br#"{"email":"trail@example.com","password":"correct horse battery","first_name":"a","last_name":"b"} this is not JSON"#;
    let res = app.send_raw(Method::POST, "/api/v1/auth/register", Some("application/json"), body).await;
    assert_eq!(res.problem(400)["code"], "malformed_json", "{}", res.text);
    let two = br#"{"email":"trail@example.com","password":"correct horse battery","first_name":"a","last_name":"b"}{}"#;
    let res = app.send_raw(Method::POST, "/api/v1/auth/register", Some("application/json"), two).await;
    assert_eq!(res.problem(400)["code"], "malformed_json", "{}", res.text);
    assert_eq!(app.login("trail@example.com", "correct horse battery").await.status, StatusCode::UNAUTHORIZED);
    // Trailing whitespace is fine.
    let body = b"{\"email\":\"trail@example.com\",\"password\":\"correct horse battery\",\"first_name\":\"a\",\"last_name\":\"b\"} \n\t ";
    let res = app.send_raw(Method::POST, "/api/v1/auth/register", Some("application/json"), body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
});

both_backends!(control_characters_are_field_errors_on_both_databases, |app: TestApp| async move {
    // PostgreSQL refuses a NUL in text (500 before); SQLite stored it. Every text input refuses
    // control characters with a 422 naming the field; only multi-line fields take \n, \r and \t.
    let admin = app.admin_token().await;
    let client = a_client().email("ctl@example.com").create(&app).await.token;
    let profile = app.get("/api/v1/me/profile", Some(&client)).await.body;
    assert!(profile.is_object(), "{profile}");
    let address = json!({"line1": "1 Main St", "city": "Berlin", "postcode": "10115", "country": "DE"});
    for c in ["\u{0}", "\u{7}", "\u{1b}", "\u{7f}", "\t"] {
        let bodies: Vec<(Method, &str, &str, Value, &str)> = vec![
            (Method::POST, "/api/v1/auth/login", "", json!({"email": format!("a@b{c}.io"), "password": "x"}), "email"),
            (Method::POST, "/api/v1/auth/login", "", json!({"email": "a@b.io", "password": format!("pass{c}word")}), "password"),
            (
                Method::POST,
                "/api/v1/auth/register",
                "",
                json!({"email": "n@b.io", "password": "correct horse battery", "first_name": "a", "last_name": format!("b{c}")}),
                "last_name",
            ),
            (Method::POST, "/api/v1/auth/forgot-password", "", json!({"email": format!("x{c}@b.io")}), "email"),
            (
                Method::PUT,
                "/api/v1/me/profile",
                &client,
                {
                    let mut p = profile.clone();
                    p["company"] = json!(format!("Acme{c}"));
                    p
                },
                "company",
            ),
            (
                Method::PUT,
                "/api/v1/me/profile",
                &client,
                {
                    let mut p = profile.clone();
                    p["tax_id"] = json!(format!("DE1{c}"));
                    p
                },
                "tax_id",
            ),
            (
                Method::PUT,
                "/api/v1/me/profile",
                &client,
                {
                    let mut p = profile.clone();
                    p["language"] = json!(format!("e{c}"));
                    p
                },
                "language",
            ),
            (
                Method::PUT,
                "/api/v1/me/profile",
                &client,
                {
                    let mut p = profile.clone();
                    p["first_name"] = json!(format!("A{c}n"));
                    p
                },
                "first_name",
            ),
            (
                Method::PUT,
                "/api/v1/me/profile",
                &client,
                {
                    let mut p = profile.clone();
                    let mut a = address.clone();
                    a["city"] = json!(format!("Ber{c}lin"));
                    p["address"] = a;
                    p
                },
                "address.city",
            ),
            (Method::POST, "/api/v1/me/api-keys", &client, json!({"name": format!("k{c}"), "scopes": ["read"]}), "name"),
            (
                Method::PUT,
                "/api/v1/admin/email-templates/welcome",
                &admin,
                json!({"subject": format!("Hi{c}"), "body_text": "a", "body_html": "<p>a</p>"}),
                "subject",
            ),
        ];
        for (method, path, token, body, field) in bodies {
            let mut req = actix_web::test::TestRequest::default().method(method.clone()).uri(path).set_json(&body);
            if !token.is_empty() {
                req = req.insert_header(("authorization", format!("Bearer {token}")));
            }
            let res = app.request(req).await;
            assert_eq!(res.status.as_u16(), 422, "{method} {path} {field} {c:?}: {}", res.text);
            assert!(res.problem(422)["errors"][field].is_array(), "{method} {path} {c:?}: expected errors.{field} in {}", res.text);
        }
        let enc: String = url::form_urlencoded::byte_serialize(c.as_bytes()).collect();
        for (path, token, field) in [
            (format!("/api/v1/me/audit?action=auth{enc}"), &client, "action"),
            (format!("/api/v1/admin/audit?action=auth{enc}"), &admin, "action"),
            (format!("/api/v1/admin/jobs?kind=email{enc}"), &admin, "kind"),
            (format!("/api/v1/admin/clients?q=ann{enc}"), &admin, "q"),
            (format!("/api/v1/admin/clients?cursor=1{enc}"), &admin, "cursor"),
            (format!("/api/v1/email/unsubscribe?email=a{enc}@b.io&token=x"), &admin, "email"),
        ] {
            let res = app.get(&path, Some(token)).await;
            assert_eq!(res.status.as_u16(), 422, "{path}: {}", res.text);
            assert!(res.problem(422)["errors"][field].is_array(), "{path}: expected errors.{field} in {}", res.text);
        }
        // Text path segments name nothing.
        for (method, path) in [
            (Method::GET, format!("/api/v1/team/invitations/abc{enc}")),
            (Method::PUT, format!("/api/v1/admin/tasks/x{enc}")),
            (Method::PUT, format!("/api/v1/admin/email-templates/welcome{enc}")),
            (Method::DELETE, format!("/api/v1/admin/email-templates/welcome{enc}")),
        ] {
            let req = actix_web::test::TestRequest::default()
                .method(method.clone())
                .uri(&path)
                .insert_header(("authorization", format!("Bearer {admin}")))
                .set_json(json!({"subject": "s", "body_text": "b", "body_html": "h", "cron": "0 * * * *", "enabled": true}));
            let res = app.request(req).await;
            assert_eq!(res.status.as_u16(), 404, "{method} {path}: {}", res.text);
            res.problem(404);
        }
    }
    // A multi-line field keeps its line breaks and tabs, and still refuses the rest.
    let body = json!({"subject": "Welcome", "body_text": "Hello,\r\n\tthere\n", "body_html": "<p>\n\tHello</p>"});
    let res = app.put_json("/api/v1/admin/email-templates/welcome", &admin, body).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let body = json!({"subject": "Welcome", "body_text": "Hello\u{0}", "body_html": "<p>Hello</p>"});
    let res = app.put_json("/api/v1/admin/email-templates/welcome", &admin, body).await;
    assert!(res.problem(422)["errors"]["body_text"].is_array(), "{}", res.text);
});

both_backends!(a_wrong_type_inside_an_array_names_its_index, |app: TestApp| async move {
    // README promises type errors as 422 naming the field's path, also inside arrays of enums.
    let client = a_client().email("arr@example.com").create(&app).await.token;
    for (body, field) in [
        (json!({"email": "m@example.com", "permissions": [{}]}), "permissions[0]"),
        (json!({"email": "m@example.com", "permissions": ["billing", 5]}), "permissions[1]"),
        (json!({"email": "m@example.com", "permissions": ["billing", "nope"]}), "permissions[1]"),
        (json!({"email": "m@example.com", "permissions": {}}), "permissions"),
    ] {
        let res = app.post_json_authed("/api/v1/me/team", &client, body.clone()).await;
        assert_eq!(res.status.as_u16(), 422, "{body}: {}", res.text);
        assert!(res.problem(422)["errors"][field].is_array(), "{body}: expected errors.{field} in {}", res.text);
    }
    let admin = app.admin_token().await;
    let body = json!({"email": "s@example.com", "first_name": "S", "last_name": "T", "role": "staff", "permissions": [[]]});
    let res = app.post_json_authed("/api/v1/admin/staff", &admin, body).await;
    assert!(res.problem(422)["errors"]["permissions[0]"].is_array(), "{}", res.text);
});

both_backends!(a_method_a_path_does_not_have_is_405_with_allow, |app: TestApp| async move {
    let token = a_client().email("allow@example.com").create(&app).await.token;
    let job = "0192f0c4-8e3b-7cc1-9a52-3f1e2d4c5b6a";
    for (method, path, allow) in [
        (Method::DELETE, "/api/v1/products".to_string(), "GET"),
        (Method::PATCH, "/api/v1/me/profile".to_string(), "GET, PUT"),
        (Method::POST, "/api/v1/me/profile".to_string(), "GET, PUT"),
        (Method::GET, format!("/api/v1/admin/jobs/{job}"), "DELETE"),
        (Method::GET, format!("/api/v1/admin/jobs/{job}/retry"), "POST"),
        (Method::PUT, "/api/v1/auth/login".to_string(), "POST"),
        (Method::POST, "/healthz".to_string(), "GET"),
        (Method::DELETE, "/readyz".to_string(), "GET"),
    ] {
        let req = actix_web::test::TestRequest::default()
            .method(method.clone())
            .uri(&path)
            .insert_header(("authorization", format!("Bearer {token}")));
        let res = app.request(req).await;
        assert_eq!(res.problem(405)["code"], "method_not_allowed", "{method} {path}");
        assert_eq!(res.headers.get("allow").and_then(|v| v.to_str().ok()), Some(allow), "{method} {path}");
    }
    // Unknown paths stay 404 problems; /healthz answers JSON.
    for path in ["/api/v1/nope", "/api/v1/products/x/y", "/api/elsewhere"] {
        let res = app.send_raw(Method::DELETE, path, None, b"").await;
        res.problem(404);
        assert!(res.headers.get("allow").is_none());
    }
    let res = app.get("/healthz", None).await;
    assert_eq!((res.status.as_u16(), res.content_type()), (200, "application/json"));
});

both_backends!(a_malformed_id_names_nothing, |app: TestApp| async move {
    // Ids are typed (keel_shared::ids): one that is not an id's shape is a 404 problem, on both
    // databases alike, before any query runs (PostgreSQL refused a NUL byte with a 500).
    let admin = app.admin_token().await;
    let client = a_client().email("ids@example.com").create(&app).await.token;
    let long = "a".repeat(10_000);
    for bad in ["nope", "%00", "0192f0c4-8e3b-7cc1-9a52-3f1e2d4c5b6%00", long.as_str(), "..%2f..%2fetc"] {
        for (method, path, token) in [
            (Method::DELETE, format!("/api/v1/me/sessions/{bad}"), &client),
            (Method::DELETE, format!("/api/v1/me/api-keys/{bad}"), &client),
            (Method::DELETE, format!("/api/v1/me/team/{bad}"), &client),
            (Method::DELETE, format!("/api/v1/me/memberships/{bad}"), &client),
            (Method::GET, format!("/api/v1/admin/emails/{bad}"), &admin),
            (Method::POST, format!("/api/v1/admin/jobs/{bad}/retry"), &admin),
            (Method::DELETE, format!("/api/v1/admin/jobs/{bad}"), &admin),
            (Method::POST, format!("/api/v1/admin/clients/{bad}/impersonate"), &admin),
            (Method::POST, format!("/api/v1/admin/clients/{bad}/anonymise"), &admin),
        ] {
            let req = actix_web::test::TestRequest::default()
                .method(method.clone())
                .uri(&path)
                .insert_header(("authorization", format!("Bearer {token}")));
            let res = app.request(req).await;
            assert_eq!(res.status.as_u16(), 404, "{method} {}: {}", &path[..path.len().min(80)], res.text);
            res.problem(404);
        }
    }
    // In a filter, a malformed id is a field error.
    let res = app.get("/api/v1/admin/audit?account_id=%00", Some(&admin)).await;
    assert!(res.problem(422)["errors"]["account_id"].is_array(), "{}", res.text);
});

both_backends!(spa_is_served_with_fallback_and_cache_headers, |app: TestApp| async move {
    // Build a stand-in dist folder as Trunk lays it out.
    let dist = app.state.config.web_dir.clone();
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("index.html"), "<!doctype html><title>Keel</title>").unwrap();
    std::fs::write(dist.join("keel-web-0123456789abcdef_bg.wasm"), b"\0asm").unwrap();
    let res = app.get("/dashboard", None).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.text.contains("<title>Keel</title>"));
    assert_eq!(res.headers.get("cache-control").unwrap(), "no-cache");
    let res = app.get("/admin/clients", None).await;
    assert!(res.text.contains("<title>Keel</title>"));
    let res = app.get("/keel-web-0123456789abcdef_bg.wasm", None).await;
    assert!(res.headers.get("cache-control").unwrap().to_str().unwrap().contains("immutable"));
    // The API keeps its own 404.
    app.get("/api/v1/unknown", None).await.problem(404);
    // Docs UI and document.
    let res = app.get("/api/openapi.json", None).await;
    assert_eq!(res.body["openapi"], "3.1.0");
    let res = app.get("/api/docs/", None).await;
    assert!(res.text.contains("swagger-ui"), "{}", res.text);
});

#[test]
fn concurrent_registration_of_one_email_creates_one_account() {
    // Races on the unique index end in one account and one 409, never a 500 (SQLite file).
    let (db, url) = crate::support::fresh_db(keel_api::db::Backend::Sqlite).unwrap();
    let pool = keel_api::db::connect(&url, 8).unwrap();
    let now = chrono::Utc::now();
    let hashed = keel_api::identity::password::hash("correct horse battery").unwrap();
    let handles: Vec<_> = (0..6)
        .map(|_| {
            let (pool, hashed) = (pool.clone(), hashed.clone());
            std::thread::spawn(move || {
                let mut c = pool.get().unwrap();
                keel_api::accounts::users::create_user(&mut c, now, "race@example.com", &hashed, "A", "B", keel_shared::auth::Role::Client)
                    .map(|_| ())
                    .map_err(|e| e.code())
            })
        })
        .collect();
    let results: Vec<Result<(), &str>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    assert!(results.iter().all(|r| r.is_ok() || *r == Err("email_taken")), "{results:?}");
    drop(db);
}

#[test]
fn openapi_document_matches_the_committed_file() {
    let generated = keel_api::http::openapi::document();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi/openapi.json");
    if std::env::var("KEEL_UPDATE_OPENAPI").as_deref() == Ok("1") {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is out of date with the code; regenerate it with `make openapi` (or KEEL_UPDATE_OPENAPI=1 cargo test)"
    );
    let doc: Value = serde_json::from_str(&generated).unwrap();
    for path in [
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/logout",
        "/api/v1/auth/refresh",
        "/api/v1/me",
        "/api/v1/products",
        "/api/v1/admin/clients",
        "/healthz",
        "/readyz",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing from the spec");
    }
}

both_backends!(every_answer_is_listed_in_the_document_and_every_route_is_documented, |app: TestApp| async move {
    // Walks the OpenAPI document the server serves and provokes the errors Keel answers before
    // its handlers (no token, a client at an admin route, a body that is not JSON, of the wrong
    // content type or type, a malformed id, bad query parameters): each answer's status must be
    // listed for that operation, as a problem. And the reverse: a method a documented path does
    // not list is refused (405), so actix serves nothing the document does not say.
    let spec: Value = serde_json::from_str(&keel_api::http::openapi::document()).unwrap();
    let admin = app.admin_token().await;
    let client = a_client().email("walk@example.com").create(&app).await.token;
    let mut checked = 0;
    for (template, item) in spec["paths"].as_object().unwrap() {
        let path = template.split('/').map(|s| if s.starts_with('{') { "nope" } else { s }).collect::<Vec<_>>().join("/");
        for (method, op) in item.as_object().unwrap() {
            let listed: Vec<&str> = op["responses"].as_object().unwrap().keys().map(String::as_str).collect();
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let secured = op["security"].as_array().is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
            let has_query = op["parameters"].as_array().is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
            let mut probes: Vec<(String, Option<&str>, Option<&str>, Vec<u8>)> = Vec::new();
            if secured {
                probes.push((path.clone(), None, None, vec![]));
            }
            if op.get("requestBody").is_some() {
                for (ct, body) in
                    [("text/plain", &b"{}"[..]), ("application/json", b"{"), ("application/json", b"[]"), ("application/json", b"{} x")]
                {
                    probes.push((path.clone(), Some(ct), Some(&admin), body.to_vec()));
                    probes.push((path.clone(), Some(ct), Some(&client), body.to_vec()));
                }
            } else if method == Method::GET || template.contains('{') {
                probes.push((path.clone(), None, Some(&client), vec![]));
                if method == Method::GET {
                    probes.push((path.clone(), None, Some(&admin), vec![]));
                }
            }
            if has_query {
                for q in ["per_page=0", "page=x", "per_page=101", "page=1000001"] {
                    probes.push((format!("{path}?{q}"), None, Some(&admin), vec![]));
                }
            }
            for (uri, ct, token, body) in probes {
                let mut req = actix_web::test::TestRequest::default().method(method.clone()).uri(&uri).set_payload(body);
                if let Some(ct) = ct {
                    req = req.insert_header(("content-type", ct));
                }
                if let Some(token) = token {
                    req = req.insert_header(("authorization", format!("Bearer {token}")));
                }
                let res = app.request(req).await;
                let status = res.status.as_u16();
                assert!(listed.contains(&status.to_string().as_str()), "{method} {uri} answered {status}, listed {listed:?}: {}", res.text);
                if status >= 400 {
                    res.problem(status);
                }
                checked += 1;
            }
            assert!(listed.iter().all(|s| s.len() == 3), "{method} {template}");
        }
        let documented: Vec<String> = item.as_object().unwrap().keys().map(|m| m.to_uppercase()).collect();
        for other in ["GET", "PUT", "POST", "PATCH", "DELETE"].into_iter().filter(|m| !documented.iter().any(|d| d == m)) {
            let res = app.send_raw(Method::from_bytes(other.as_bytes()).unwrap(), &path, None, b"").await;
            assert_eq!(res.status.as_u16(), 405, "{other} {path} is not in the document but answered: {}", res.text);
            let allow = res.headers.get("allow").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
            assert_eq!(
                allow.split(", ").map(str::to_string).collect::<std::collections::BTreeSet<_>>(),
                documented.iter().cloned().collect()
            );
        }
    }
    assert!(checked > 200, "{checked} probes");
});
