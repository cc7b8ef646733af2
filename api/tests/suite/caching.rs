//! What requests read from memory (session liveness, back-office access, the catalog; see
//! `keel_api::db::cache`) never outlives a change: a revocation or a staff edit made through one
//! process is refused by another process on the same database (a second `AppState` with its own
//! pool here: on PostgreSQL told by LISTEN/NOTIFY, on SQLite by the signal file beside the
//! database), and the catalog answers 304 to its ETag until it changes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::http::{header, StatusCode};
use actix_web::test::{self, TestRequest};
use diesel::prelude::*;
use keel_api::db::cache::{publish, Change};
use keel_api::db::{self, Backend};
use keel_api::state::AppState;
use serde_json::json;

use crate::support::{a_client, a_staff_member, the_admin, TestApp};

/// Another Keel process on the test app's database: its own pool (and so its own caches and,
/// on PostgreSQL, its own listener), the same secret and clock.
struct Replica {
    state: AppState,
}

impl Replica {
    fn of(app: &TestApp) -> Replica {
        let config = (*app.state.config).clone();
        let pool = db::connect(&config.database_url, 4).unwrap();
        let state = AppState::new(pool, config, Arc::new(app.clock.clone()), app.state.secret.to_vec()).unwrap();
        Replica { state }
    }

    async fn get(&self, path: &str, token: &str) -> StatusCode {
        let app = test::init_service(keel_api::http::app::build(self.state.clone())).await;
        let req = TestRequest::get().uri(path).insert_header((header::AUTHORIZATION, format!("Bearer {token}")));
        test::call_service(&app, req.to_request()).await.status()
    }

    async fn get_json(&self, path: &str, token: &str) -> serde_json::Value {
        let app = test::init_service(keel_api::http::app::build(self.state.clone())).await;
        let req = TestRequest::get().uri(path).insert_header((header::AUTHORIZATION, format!("Bearer {token}")));
        let res = test::call_service(&app, req.to_request()).await;
        assert_eq!(res.status(), StatusCode::OK);
        test::read_body_json(res).await
    }
}

/// `GET /me` on `replica` until `field` reads `want` (at once on SQLite; see [`refused_by`]).
async fn replica_me_shows(app: &TestApp, replica: &Replica, token: &str, field: &str, want: serde_json::Value) {
    let start = Instant::now();
    loop {
        let me = replica.get_json("/api/v1/me", token).await;
        if me[field] == want {
            return;
        }
        let backend = app.state.config.database_url.backend;
        assert!(backend == Backend::Postgres, "the other process still shows {field} = {} after the change", me[field]);
        assert!(start.elapsed() < Duration::from_secs(5), "the other process still shows {field} = {}", me[field]);
        actix_web::rt::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Waits until the pool listens for other processes' changes (PostgreSQL: its listener thread
/// has connected; SQLite: at once), so what the test reads next is cached.
async fn caches_on(state: &AppState) {
    let start = Instant::now();
    while !state.pool.caches().is_on() {
        assert!(start.elapsed() < Duration::from_secs(10), "the change listener did not connect");
        actix_web::rt::time::sleep(Duration::from_millis(5)).await;
    }
}

/// `path` as `token` on `replica` until it answers `want`. On SQLite the first request must;
/// PostgreSQL delivers a notification to the other process's listener asynchronously (well
/// under a millisecond on one machine), so there the test allows it up to 5 s — and fails if
/// the cache kept answering from before the change.
async fn refused_by(app: &TestApp, replica: &Replica, path: &str, token: &str, want: StatusCode) {
    let start = Instant::now();
    loop {
        let got = replica.get(path, token).await;
        if got == want {
            return;
        }
        let backend = app.state.config.database_url.backend;
        assert!(backend == Backend::Postgres, "the other process answered {got} at once after the change, not {want}");
        assert!(start.elapsed() < Duration::from_secs(5), "the other process still answers {got}, not {want}");
        actix_web::rt::time::sleep(Duration::from_millis(1)).await;
    }
}

both_backends!(a_session_signed_out_in_one_process_is_refused_by_another, |app: TestApp| async move {
    let replica = Replica::of(&app);
    caches_on(&app.state).await;
    caches_on(&replica.state).await;
    let admin = the_admin(&app).await;
    assert_eq!(replica.get("/api/v1/me", &admin.token).await, StatusCode::OK);
    assert_eq!(replica.get("/api/v1/me", &admin.token).await, StatusCode::OK, "now from the replica's cache");
    assert_eq!(replica.state.pool.caches().session_count(), 1, "the replica caches the live session");

    let res = app.post_with_cookie("/api/v1/auth/logout", &admin.refresh).await;
    assert!(res.status.is_success(), "{}", res.text);
    assert_eq!(app.get("/api/v1/me", Some(&admin.token)).await.status, StatusCode::UNAUTHORIZED, "at once where it happened");
    refused_by(&app, &replica, "/api/v1/me", &admin.token, StatusCode::UNAUTHORIZED).await;
});

both_backends!(a_staff_change_in_one_process_applies_in_another, |app: TestApp| async move {
    let replica = Replica::of(&app);
    caches_on(&app.state).await;
    caches_on(&replica.state).await;
    let admin = app.admin_token().await;
    let sam = a_staff_member().email("sam@keel.test").with_permissions(&["clients.read"]).create(&app).await;
    assert_eq!(replica.get("/api/v1/admin/clients", &sam.token).await, StatusCode::OK);
    assert_eq!(replica.get("/api/v1/admin/clients", &sam.token).await, StatusCode::OK);

    // The permission taken away through the first process: the second refuses the same token.
    let res =
        app.put_json(&format!("/api/v1/admin/staff/{}", sam.id), &admin, json!({"role": "staff", "permissions": ["audit.read"]})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    refused_by(&app, &replica, "/api/v1/admin/clients", &sam.token, StatusCode::FORBIDDEN).await;
    assert_eq!(replica.get("/api/v1/admin/audit", &sam.token).await, StatusCode::OK);

    // "Require 2FA for staff", switched on through the first process.
    let res = app.put_json("/api/v1/admin/settings/security", &admin, json!({"require_staff_two_factor": true})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    refused_by(&app, &replica, "/api/v1/admin/audit", &sam.token, StatusCode::FORBIDDEN).await;
    let res = app.put_json("/api/v1/admin/settings/security", &admin, json!({"require_staff_two_factor": false})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);

    // Disabled: every session ends, in both processes.
    let res = app
        .put_json(
            &format!("/api/v1/admin/staff/{}", sam.id),
            &admin,
            json!({"role": "staff", "permissions": ["audit.read"], "disabled": true}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    refused_by(&app, &replica, "/api/v1/admin/audit", &sam.token, StatusCode::UNAUTHORIZED).await;
});

both_backends!(me_is_served_from_memory_and_follows_every_change_to_the_user, |app: TestApp| async move {
    let replica = Replica::of(&app);
    caches_on(&app.state).await;
    caches_on(&replica.state).await;
    let client = a_client().create(&app).await;
    for _ in 0..2 {
        let me = replica.get_json("/api/v1/me", &client.token).await;
        assert_eq!((me["first_name"].as_str(), me["email_verified"].as_bool()), (Some("Ann"), Some(false)));
    }

    // The name, changed through the first process.
    let profile = app.get("/api/v1/me/profile", Some(&client.token)).await.body;
    let mut changed = profile.clone();
    changed["first_name"] = json!("Grace");
    let res = app.put_json("/api/v1/me/profile", &client.token, changed).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(app.get("/api/v1/me", Some(&client.token)).await.body["first_name"], "Grace", "at once where it happened");
    replica_me_shows(&app, &replica, &client.token, "first_name", json!("Grace")).await;

    // The address verified with the welcome e-mail's link.
    let link = crate::support::token_from_mail(&app, &client.email, "welcome").unwrap();
    let res = app.post_json("/api/v1/auth/verify-email", json!({"token": link})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    replica_me_shows(&app, &replica, &client.token, "email_verified", json!(true)).await;

    // Two-factor sign-in switched on.
    crate::support::enable_2fa(&app, &client.token).await;
    replica_me_shows(&app, &replica, &client.token, "two_factor", json!(true)).await;
});

both_backends!(the_catalog_answers_304_to_its_etag_until_it_changes, |app: TestApp| async move {
    caches_on(&app.state).await;
    let first = app.get("/api/v1/products", None).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body.as_array().unwrap().len(), 8);
    let etag = first.headers.get(header::ETAG).unwrap().to_str().unwrap().to_string();
    assert!(etag.starts_with("W/\""), "{etag}");
    assert_eq!(first.headers.get(header::CACHE_CONTROL).unwrap(), "no-cache");

    let again = |tag: String| TestRequest::get().uri("/api/v1/products").insert_header((header::IF_NONE_MATCH, tag));
    let res = app.request(again(etag.clone())).await;
    assert_eq!(res.status, StatusCode::NOT_MODIFIED);
    assert!(res.text.is_empty());
    assert_eq!(app.request(again("W/\"other\"".into())).await.status, StatusCode::OK);

    // A change to the catalog (published in its transaction, as every catalog write must).
    db::run(&app.state.pool, |c| {
        use keel_api::schema::products;
        diesel::update(products::table.filter(products::slug.eq("shared-starter"))).set(products::active.eq(false)).execute(c)?;
        publish(c, Change::CatalogChanged)?;
        Ok(())
    })
    .await
    .unwrap();
    let res = app.request(again(etag.clone())).await;
    assert_eq!(res.status, StatusCode::OK, "the old ETag no longer matches");
    assert_eq!(res.body.as_array().unwrap().len(), 7);
    assert_ne!(res.headers.get(header::ETAG).unwrap().to_str().unwrap(), etag);
});
