//! Staff permissions, the two-factor rule for staff, team members acting for a client account,
//! and what "log in as client" writes to the audit trail.

use crate::support::{a_client, a_staff_member, an_api_key, mail_count, the_admin, token_from_mail, Res, TestApp, PASSWORD as PW};
use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use keel_api::clock::Clock;
use keel_api::identity::totp;
use serde_json::{json, Value};

fn token(res: &Res) -> String {
    assert!(res.status.is_success(), "{} {}", res.status, res.text);
    res.body["access_token"].as_str().unwrap().to_string()
}

async fn get_as(app: &TestApp, path: &str, token: &str, account: Option<&str>) -> Res {
    let mut r = TestRequest::get().uri(path).insert_header(("authorization", format!("Bearer {token}")));
    if let Some(a) = account {
        r = r.insert_header(("x-keel-account", a));
    }
    app.request(r).await
}

async fn put_as(app: &TestApp, path: &str, token: &str, account: Option<&str>, body: Value) -> Res {
    let mut r = TestRequest::put().uri(path).insert_header(("authorization", format!("Bearer {token}"))).set_json(body);
    if let Some(a) = account {
        r = r.insert_header(("x-keel-account", a));
    }
    app.request(r).await
}

both_backends!(staff_hold_only_the_permissions_an_admin_grants, |app: TestApp| async move {
    let admin = app.admin_token().await;
    let sam = a_staff_member().email("sam@keel.test").with_permissions(&["clients.read"]).create(&app).await;
    let (sam_id, sam) = (sam.id, sam.token);
    let me = app.get("/api/v1/me", Some(&sam)).await;
    assert_eq!(me.body["role"], "staff");
    assert_eq!(me.body["permissions"], json!(["clients.read"]));

    assert_eq!(app.get("/api/v1/admin/clients", Some(&sam)).await.status, StatusCode::OK);
    assert!(app.get("/api/v1/admin/jobs", Some(&sam)).await.problem(403)["detail"].as_str().unwrap().contains("automation.manage"));
    app.get("/api/v1/admin/audit", Some(&sam)).await.problem(403);
    // Staff management and security settings stay with administrators, whatever is granted.
    app.get("/api/v1/admin/staff", Some(&sam)).await.problem(403);
    app.get("/api/v1/admin/settings/security", Some(&sam)).await.problem(403);

    // A change applies to the token the staff member already holds.
    let res = app
        .put_json(
            &format!("/api/v1/admin/staff/{sam_id}"),
            &admin,
            json!({"role": "staff", "permissions": ["clients.read", "automation.manage"]}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(app.get("/api/v1/admin/jobs", Some(&sam)).await.status, StatusCode::OK);
    let listed = app.get("/api/v1/admin/staff", Some(&admin)).await;
    let row = listed.body.as_array().unwrap().iter().find(|m| m["id"] == sam_id.as_str()).unwrap().clone();
    assert_eq!(row["permissions"], json!(["automation.manage", "clients.read"]));
    assert_eq!(listed.body[0]["role"], "admin");

    // A staff API key with the admin scope carries the staff member's permissions, no more.
    let key = an_api_key().with_scopes(&["read", "admin"]).create(&app, &sam).await;
    assert_eq!(app.get("/api/v1/admin/jobs", Some(&key)).await.status, StatusCode::OK);
    app.get("/api/v1/admin/email-templates", Some(&key)).await.problem(403);

    // Disabling: the sessions end, sign-in and keys are refused.
    let res = app
        .put_json(
            &format!("/api/v1/admin/staff/{sam_id}"),
            &admin,
            json!({"role": "staff", "permissions": ["clients.read"], "disabled": true}),
        )
        .await;
    assert_eq!(res.body["disabled"], true, "{}", res.text);
    // (Their signed-in token's session has ended: 401, as after any revocation.)
    app.get("/api/v1/admin/clients", Some(&sam)).await.problem(401);
    app.get("/api/v1/me", Some(&sam)).await.problem(401);
    app.get("/api/v1/admin/clients", Some(&key)).await.problem(403);
    app.get("/api/v1/me", Some(&key)).await.problem(403);
    assert!(app.login("sam@keel.test", PW).await.problem(403)["detail"].as_str().unwrap().contains("disabled"));

    // Promotion to administrator grants everything.
    let res = app.put_json(&format!("/api/v1/admin/staff/{sam_id}"), &admin, json!({"role": "admin"})).await;
    assert_eq!(res.body["role"], "admin", "{}", res.text);
    let sam = token(&app.login("sam@keel.test", PW).await);
    assert_eq!(app.get("/api/v1/admin/staff", Some(&sam)).await.status, StatusCode::OK);

    // Every change is audited with before and after.
    let audit = app.get("/api/v1/admin/audit?action=staff.updated", Some(&admin)).await;
    let first = audit.body["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(first["details"]["before"]["permissions"], json!(["clients.read"]));
    assert_eq!(first["details"]["after"]["permissions"], json!(["automation.manage", "clients.read"]));
    assert_eq!(app.get("/api/v1/admin/audit?action=staff.created", Some(&admin)).await.body["total"], 1);
});

both_backends!(staff_requests_are_validated_and_admins_cannot_lock_themselves_out, |app: TestApp| async move {
    let the_admin = the_admin(&app).await;
    let (admin, admin_id) = (the_admin.token, the_admin.id);
    let post = |body: Value| app.post_json_authed("/api/v1/admin/staff", &admin, body);
    let base = json!({"email": "x@keel.test", "first_name": "X", "last_name": "Y", "role": "staff", "permissions": []});
    let mut bad = base.clone();
    bad["role"] = json!("client");
    assert!(post(bad).await.problem(422)["errors"]["role"].is_array());
    let mut bad = base.clone();
    bad["permissions"] = json!(["clients.read", "root.all"]);
    let res = post(bad).await;
    assert!(res.problem(422)["errors"].as_object().unwrap().keys().any(|k| k.starts_with("permissions")), "{}", res.text);
    let mut bad = base.clone();
    bad["permissions"] = json!(["clients.read", "clients.read"]);
    assert!(post(bad).await.problem(422)["errors"]["permissions"].is_array());
    let mut taken = base.clone();
    taken["email"] = json!(crate::support::ADMIN_EMAIL);
    post(taken).await.problem(409);

    app.put_json(&format!("/api/v1/admin/staff/{admin_id}"), &admin, json!({"role": "staff", "permissions": []})).await.problem(409);
    let client = a_client().create(&app).await;
    app.put_json(&format!("/api/v1/admin/staff/{}", client.id), &admin, json!({"role": "staff", "permissions": []})).await.problem(404);
    app.get("/api/v1/admin/staff", Some(&client.token)).await.problem(403);
    let res = post(base).await;
    let id = res.body["id"].as_str().unwrap().to_string();
    assert!(app.put_json(&format!("/api/v1/admin/staff/{id}"), &admin, json!({"role": "admin", "disabled": true})).await.problem(422)
        ["errors"]["disabled"]
        .is_array());
});

both_backends!(admins_can_require_two_factor_for_staff, |app: TestApp| async move {
    let admin = app.admin_token().await;
    let sam = a_staff_member().email("sam@keel.test").with_permissions(&["clients.read"]).create(&app).await.token;
    let kim = a_staff_member().with_permissions(&["clients.read"]).with_2fa().create(&app).await;
    assert_eq!(app.get("/api/v1/admin/settings/security", Some(&admin)).await.body["require_staff_two_factor"], false);
    let res = app.put_json("/api/v1/admin/settings/security", &admin, json!({"require_staff_two_factor": true})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);

    let refused = app.get("/api/v1/admin/clients", Some(&sam)).await;
    assert_eq!(refused.problem(403)["code"], "two_factor_required");
    // Administrators and staff who already use two-factor are not held back, and staff can still
    // reach their own security page.
    assert_eq!(app.get("/api/v1/admin/clients", Some(&admin)).await.status, StatusCode::OK);
    assert_eq!(app.get("/api/v1/admin/clients", Some(&kim.token)).await.status, StatusCode::OK);
    app.clock.advance(chrono::Duration::seconds(30)); // past the step whose code enabled it
    let code = kim.totp.as_ref().unwrap().code(&app, 0);
    let mfa = app.login(&kim.email, PW).await.body["mfa_token"].as_str().unwrap().to_string();
    let kim_again = token(&app.post_json("/api/v1/auth/login/2fa", json!({"mfa_token": mfa, "code": code})).await);
    assert_eq!(app.get("/api/v1/admin/clients", Some(&kim_again)).await.status, StatusCode::OK);
    let setup = app.post_authed("/api/v1/me/2fa/setup", &sam).await;
    let raw = totp::base32_decode(setup.body["secret"].as_str().unwrap()).unwrap();
    let code = totp::code_at_step(&raw, totp::step_of(app.clock.now().timestamp()));
    let res = app.post_json_authed("/api/v1/me/2fa/enable", &sam, json!({"code": code})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(app.get("/api/v1/admin/clients", Some(&sam)).await.status, StatusCode::OK);
    assert_eq!(app.get("/api/v1/admin/audit?action=settings.security_updated", Some(&admin)).await.body["total"], 1);
});

both_backends!(team_members_see_only_what_they_were_granted, |app: TestApp| async move {
    let owner = a_client().email("owner@example.com").create(&app).await;
    let (owner, owner_id) = (owner.token, owner.id);
    let res = app
        .put_json(
            "/api/v1/me/profile",
            &owner,
            json!({"first_name": "Ann", "last_name": "Lee", "company": "Acme Ltd", "currency": "EUR", "language": "en"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);

    // Invitation: by e-mail, validated, one pending row per address.
    let invite = |body: Value| app.post_json_authed("/api/v1/me/team", &owner, body);
    assert!(invite(json!({"email": "owner@example.com", "permissions": ["billing"]})).await.problem(422)["errors"]["email"].is_array());
    assert!(invite(json!({"email": "bob@example.com", "permissions": []})).await.problem(422)["errors"]["permissions"].is_array());
    assert!(
        invite(json!({"email": crate::support::ADMIN_EMAIL, "permissions": ["billing"]})).await.problem(422)["errors"]["email"].is_array()
    );
    let res = invite(json!({"email": "Bob@Example.com", "permissions": ["billing", "support"]})).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(res.body["status"], "invited");
    let member_id = res.body["id"].as_str().unwrap().to_string();
    let link = token_from_mail(&app, "bob@example.com", "team_invite").unwrap();
    let shown = app.get(&format!("/api/v1/team/invitations/{link}"), None).await;
    assert_eq!(shown.body["account_name"], "Acme Ltd", "{}", shown.text);
    assert_eq!(shown.body["existing_account"], false);
    assert_eq!(shown.body["permissions"], json!(["billing", "support"]));
    app.get("/api/v1/team/invitations/0123abcd", None).await.problem(404);

    // Accepting opens Bob's own login (a weak password is refused first).
    let accept = format!("/api/v1/team/invitations/{link}/accept");
    assert!(app.post_json(&accept, json!({"first_name": "Bob", "last_name": "Ray", "password": "password123"})).await.problem(422)
        ["errors"]["password"]
        .is_array());
    let res = app.post_json(&accept, json!({"first_name": "Bob", "last_name": "Ray", "password": PW})).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(res.body["user"]["email_verified"], true);
    let bob = token(&res);
    app.post_json(&accept, json!({"first_name": "Bob", "last_name": "Ray", "password": PW})).await.problem(404);
    let mine = app.get("/api/v1/me/memberships", Some(&bob)).await;
    assert_eq!(mine.body[0]["account_id"], owner_id.as_str());
    assert_eq!(mine.body[0]["account_name"], "Acme Ltd");
    let listed = app.get("/api/v1/me/team", Some(&owner)).await;
    assert_eq!(listed.body[0]["status"], "active");
    assert_eq!(listed.body[0]["name"], "Bob Ray");

    // Bob acts for the account where he has billing: its billing details, not his own.
    let res = get_as(&app, "/api/v1/me/profile", &bob, Some(&owner_id)).await;
    assert_eq!(res.body["company"], "Acme Ltd", "{}", res.text);
    let res = put_as(
        &app,
        "/api/v1/me/profile",
        &bob,
        Some(&owner_id),
        json!({"first_name": "Ann", "last_name": "Lee", "company": "Acme GmbH", "currency": "EUR", "language": "de"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(app.get("/api/v1/me/profile", Some(&owner)).await.body["company"], "Acme GmbH");
    assert_eq!(app.get("/api/v1/me/profile", Some(&bob)).await.body["company"], Value::Null);
    // The holder's name is not Bob's to change.
    let res = put_as(
        &app,
        "/api/v1/me/profile",
        &bob,
        Some(&owner_id),
        json!({"first_name": "Bob", "last_name": "Lee", "company": "Acme GmbH", "currency": "EUR", "language": "de"}),
    )
    .await;
    assert!(res.problem(422)["errors"]["first_name"].is_array(), "{}", res.text);
    assert_eq!(app.get("/api/v1/me", Some(&owner)).await.body["first_name"], "Ann");
    let trail = app.get("/api/v1/me/audit?action=profile.updated", Some(&owner)).await;
    let bob_id = app.get("/api/v1/me", Some(&bob)).await.body["id"].as_str().unwrap().to_string();
    assert_eq!(trail.body["items"][0]["actor_id"], bob_id.as_str(), "{}", trail.text);

    // Without billing, the billing details are refused; a stranger learns nothing.
    let res = app.put_json(&format!("/api/v1/me/team/{member_id}"), &owner, json!({"permissions": ["support"]})).await;
    assert_eq!(res.body["permissions"], json!(["support"]), "{}", res.text);
    assert!(get_as(&app, "/api/v1/me/profile", &bob, Some(&owner_id)).await.problem(403)["detail"].as_str().unwrap().contains("billing"));
    let eve = a_client().email("eve@example.com").create(&app).await.token;
    get_as(&app, "/api/v1/me/profile", &eve, Some(&owner_id)).await.problem(404);
    app.put_json(&format!("/api/v1/me/team/{member_id}"), &eve, json!({"permissions": ["billing"]})).await.problem(404);
    app.delete_authed(&format!("/api/v1/me/team/{member_id}"), &eve).await.problem(404);
    // Members cannot manage the owner's team: /me/team is always their own.
    assert_eq!(get_as(&app, "/api/v1/me/team", &bob, Some(&owner_id)).await.body, json!([]));

    // Removal ends access at once.
    assert_eq!(app.delete_authed(&format!("/api/v1/me/team/{member_id}"), &owner).await.status, StatusCode::NO_CONTENT);
    get_as(&app, "/api/v1/me/profile", &bob, Some(&owner_id)).await.problem(404);
    let actions: Vec<String> = app.get("/api/v1/me/audit?per_page=100", Some(&owner)).await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    for a in ["team.invited", "team.joined", "team.permissions_changed", "team.removed"] {
        assert!(actions.contains(&a.to_string()), "{a} missing from {actions:?}");
    }
});

both_backends!(an_existing_login_accepts_an_invitation_for_its_own_address, |app: TestApp| async move {
    let owner = a_client().email("owner@example.com").create(&app).await;
    let (owner, owner_id) = (owner.token, owner.id);
    let carol = a_client().email("carol@example.com").create(&app).await.token;
    let eve = a_client().email("eve@example.com").create(&app).await.token;
    let res = app.post_json_authed("/api/v1/me/team", &owner, json!({"email": "carol@example.com", "permissions": ["services"]})).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(mail_count(&app, "carol@example.com", "team_invite"), 1);
    let link = token_from_mail(&app, "carol@example.com", "team_invite").unwrap();
    assert_eq!(app.get(&format!("/api/v1/team/invitations/{link}"), None).await.body["existing_account"], true);
    app.post_json(&format!("/api/v1/team/invitations/{link}/accept"), json!({"first_name": "C", "last_name": "D", "password": PW}))
        .await
        .problem(409);
    let join = json!({"token": link});
    app.post_json_authed("/api/v1/me/memberships", &eve, join.clone()).await.problem(403);
    let res = app.post_json_authed("/api/v1/me/memberships", &carol, join).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(res.body["permissions"], json!(["services"]));
    // Services only: the billing details stay closed.
    get_as(&app, "/api/v1/me/profile", &carol, Some(&owner_id)).await.problem(403);
    // Inviting an active member again is a conflict; leaving works once.
    let again = app.post_json_authed("/api/v1/me/team", &owner, json!({"email": "carol@example.com", "permissions": ["billing"]})).await;
    assert_eq!(again.problem(409)["code"], "already_member");
    assert_eq!(app.delete_authed(&format!("/api/v1/me/memberships/{owner_id}"), &carol).await.status, StatusCode::NO_CONTENT);
    app.delete_authed(&format!("/api/v1/me/memberships/{owner_id}"), &carol).await.problem(404);
    assert_eq!(app.get("/api/v1/me/memberships", Some(&carol)).await.body, json!([]));
});

both_backends!(actions_while_viewing_as_a_client_are_audited_as_the_admin, |app: TestApp| async move {
    let admin = the_admin(&app).await;
    let client = a_client().create(&app).await;
    let res = app.post_authed(&format!("/api/v1/admin/clients/{}/impersonate", client.id), &admin.token).await;
    let viewing = token(&res);
    let res = app
        .put_json(
            "/api/v1/me/profile",
            &viewing,
            json!({"first_name": "Ann", "last_name": "Lee", "company": "Fixed by support", "currency": "USD", "language": "en"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let trail = app.get("/api/v1/me/audit?action=profile.updated", Some(&client.token)).await;
    assert_eq!(trail.body["items"][0]["actor_id"], admin.id.as_str(), "{}", trail.text);
    assert_eq!(trail.body["items"][0]["account_id"], client.id.as_str());
});

// The OpenAPI document must name permissions as the API reads and writes them.
#[test]
fn the_spec_names_permissions_as_they_travel() {
    let spec: Value = serde_json::from_str(&keel_api::http::openapi::document()).unwrap();
    let names = |schema: &str| spec["components"]["schemas"][schema]["enum"].clone();
    let perms: Vec<&str> = keel_shared::access::Permission::ALL.iter().map(|p| p.as_str()).collect();
    assert_eq!(names("Permission"), json!(perms));
    assert_eq!(names("MemberPermission"), json!(["billing", "services", "domains", "support"]));
}
