//! Lists: one way of paging for every list — numbered pages within the counted part, a cursor that
//! walks any list to its end, totals that stop counting at 10,000 — and the client search.

use std::collections::HashSet;

use crate::support::{a_client, the_admin, TestApp};
use actix_web::http::StatusCode;
use keel_api::automation::queue::{self, NewJob};
use keel_api::clock::Clock;
use serde_json::{json, Value};

fn ids(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_string()).collect()
}

both_backends!(a_cursor_walks_a_long_list_and_totals_stop_at_ten_thousand, |app: TestApp| async move {
    // 10,050 jobs that will not run (they are due next year), in one timestamp: ties are broken by id.
    let later = app.clock.now() + chrono::Duration::days(365);
    let batch: Vec<NewJob> = (0..10_050).map(|_| NewJob::new("noop", json!({})).at(later)).collect();
    queue::enqueue_many(&mut app.conn(), app.clock.now(), &batch).unwrap();
    let admin = the_admin(&app).await.token;

    let first = app.get("/api/v1/admin/jobs?per_page=100", Some(&admin)).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!((first.body["total"].as_i64(), first.body["total_capped"].as_bool()), (Some(10_000), Some(true)));
    // Page numbers stop where counting stops; the cursor does not.
    let p = app.get("/api/v1/admin/jobs?per_page=100&page=101", Some(&admin)).await.problem(422).clone();
    assert!(p["errors"]["page"].is_array(), "{p}");
    app.get("/api/v1/admin/jobs?cursor=not-a-cursor", Some(&admin)).await.problem(422);
    app.get("/api/v1/admin/jobs?cursor=1.a%00b", Some(&admin)).await.problem(422);

    // Walk to the end: every job once, in order, the last page without a next cursor.
    let mut seen = HashSet::new();
    let mut page = first.body.clone();
    let mut pages = 1;
    loop {
        for id in ids(&page) {
            assert!(seen.insert(id), "a job came twice");
        }
        let Some(next) = page["next_cursor"].as_str().map(str::to_string) else { break };
        page = app.get(&format!("/api/v1/admin/jobs?per_page=100&cursor={next}"), Some(&admin)).await.body;
        pages += 1;
    }
    assert_eq!((seen.len(), pages), (10_050, 101));
    // Numbered pages and the cursor agree on the order.
    let second = app.get("/api/v1/admin/jobs?per_page=100&page=2", Some(&admin)).await.body;
    let via_cursor = app
        .get(&format!("/api/v1/admin/jobs?per_page=100&cursor={}", first.body["next_cursor"].as_str().unwrap()), Some(&admin))
        .await
        .body;
    assert_eq!(ids(&second), ids(&via_cursor));

    // A short list is counted exactly and has no cursor.
    let dead = app.get("/api/v1/admin/jobs?state=dead", Some(&admin)).await.body;
    assert_eq!((dead["total"].as_i64(), dead["total_capped"].as_bool(), dead.get("next_cursor")), (Some(0), Some(false), None));
});

both_backends!(admins_find_clients_by_the_start_of_their_email_name_or_company, |app: TestApp| async move {
    let admin = the_admin(&app).await.token;
    let ann = a_client().email("ann@example.com").create(&app).await;
    let bob = a_client().email("bob@example.com").create(&app).await;
    let address = json!({"line1": "Main St 1", "city": "Berlin", "postcode": "10115", "country": "DE"});
    let profile = |first: &str, last: &str, company: &str| {
        json!({"first_name": first, "last_name": last, "company": company, "phone": null, "address": address,
            "billing_address": null, "tax_id": null, "currency": "EUR", "language": "en"})
    };
    let res = app.put_json("/api/v1/me/profile", &bob.token, profile("Robert", "Stone", "Annex Hosting")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let find = |q: &str| {
        let path = format!("/api/v1/admin/clients?q={q}");
        let admin = admin.clone();
        let app = &app;
        async move {
            let res = app.get(&path, Some(&admin)).await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.text);
            let mut found = ids(&res.body);
            found.sort();
            found
        }
    };
    let mut both = vec![ann.id.clone(), bob.id.clone()];
    both.sort();
    assert_eq!(find("ann").await, both, "Ann by e-mail, Bob by company");
    assert_eq!(find("ANN").await, both, "any case");
    assert_eq!(find("sto").await, std::slice::from_ref(&bob.id), "by last name");
    assert_eq!(find("rob").await, std::slice::from_ref(&bob.id), "by first name");
    assert_eq!(find("bob%40ex").await, std::slice::from_ref(&bob.id), "by e-mail");
    assert!(find("nnex").await.is_empty(), "a prefix, not a substring");
    assert!(find("zz").await.is_empty());
    // The terms follow the profile.
    app.put_json("/api/v1/me/profile", &bob.token, profile("Robert", "Stone", "Zed Ltd")).await;
    assert_eq!(find("annex").await, Vec::<String>::new());
    assert_eq!(find("zed").await, std::slice::from_ref(&bob.id));
    // Staff and administrators are not clients.
    assert!(find("admin").await.is_empty());
    // Limits are the schema's.
    app.get(&format!("/api/v1/admin/clients?q={}", "a".repeat(101)), Some(&admin)).await.problem(422);
    app.get("/api/v1/admin/clients?q=ann", Some(&ann.token)).await.problem(403);
});
