//! Commerce: the catalog admins shape, and quotes priced by the same function as the browser.

use crate::support::{a_client, a_staff_member, TestApp};
use actix_web::http::{Method, StatusCode};
use keel_api::clock::Clock;
use keel_shared::cart::{CartLine, OptionChoice, QuoteRequest};
use keel_shared::catalog::{BillingCycle, Catalog};
use keel_shared::pricing::{self, PromoDuration, PromoKind, PromoRule, TaxContext, TaxRule};
use keel_shared::Currency;
use serde_json::{json, Value};

async fn catalog(app: &TestApp) -> Catalog {
    let res = app.get("/api/v1/catalog", None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    serde_json::from_value(res.body).unwrap()
}

fn product<'a>(c: &'a Catalog, slug: &str) -> &'a keel_shared::catalog::Product {
    c.products.iter().find(|p| p.slug == slug).unwrap()
}

fn addon_id(c: &Catalog, slug: &str) -> String {
    c.addons.iter().find(|a| a.slug == slug).unwrap().id.to_string()
}

async fn quote(app: &TestApp, token: Option<&str>, body: Value) -> crate::support::Res {
    match token {
        Some(t) => app.post_json_authed("/api/v1/cart/quote", t, body).await,
        None => app.post_json("/api/v1/cart/quote", body).await,
    }
}

/// A VPS 2 with 8 GB RAM, 100 GB extra disk, managed support and daily backups, monthly.
fn configured_vps(c: &Catalog) -> Value {
    let vps = product(c, "vps-2");
    let opt = |name: &str| vps.options.iter().find(|o| o.name == name).unwrap();
    json!({
        "product_id": vps.id,
        "cycle": "monthly",
        "options": [
            {"option_id": opt("RAM").id, "value_id": opt("RAM").values[1].id},
            {"option_id": opt("Extra disk").id, "quantity": 100},
            {"option_id": opt("Managed support").id, "quantity": 1},
        ],
        "addon_ids": [addon_id(c, "daily-backups")],
    })
}

both_backends!(the_catalog_has_groups_options_addons_and_currencies, |app: TestApp| async move {
    let c = catalog(&app).await;
    assert_eq!(c.groups.iter().map(|g| g.slug.as_str()).collect::<Vec<_>>(), ["shared", "wordpress", "vps", "cloud"]);
    assert_eq!(c.default_currency, Currency::USD);
    assert_eq!(c.currencies.iter().map(|x| x.code.code()).collect::<Vec<_>>(), ["USD", "EUR", "GBP", "INR"]);
    let vps = product(&c, "vps-2");
    assert_eq!(vps.options.iter().map(|o| o.name.as_str()).collect::<Vec<_>>(), ["RAM", "Extra disk", "Location", "Managed support"]);
    assert_eq!(vps.addon_ids.len(), 3, "backups, DDoS protection, dedicated IP");
    assert!(product(&c, "shared-starter").requires_domain && !vps.requires_domain);
    let res = app.get("/api/v1/catalog", None).await;
    let etag = res.headers.get("etag").unwrap().to_str().unwrap().to_string();
    let again = app.request(actix_web::test::TestRequest::get().uri("/api/v1/catalog").insert_header(("if-none-match", etag))).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
});

both_backends!(a_configured_vps_is_priced_with_promo_and_tax, |app: TestApp| async move {
    let c = catalog(&app).await;
    let line = configured_vps(&c);
    let res = quote(&app, None, json!({"lines": [line.clone()]})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    // 19.99 + 10.00 (8 GB) + 100 × 0.05 + 15.00 (support) + 2.99 (backups)
    assert_eq!(res.body["total_minor"], 5298);
    assert_eq!(res.body["lines"][0]["items"].as_array().unwrap().len(), 6);
    let res = quote(&app, None, json!({"lines": [line.clone()], "promo_codes": ["welcome10"], "country": "DE"})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    // 10 % of the plan and its options (4999 → 500); 19 % VAT on 4798 = 911.62 → 912.
    assert_eq!((res.body["discount_minor"].as_i64(), res.body["tax_minor"].as_i64()), (Some(500), Some(912)));
    assert_eq!((res.body["total_minor"].as_i64(), res.body["promo_codes"][0].as_str()), (Some(5710), Some("WELCOME10")));
    assert_eq!(res.body["tax_lines"], json!([{"name": "VAT", "rate_bp": 1900, "amount_minor": 912}]));
    // In euros, converted at the shop's rate; the reverse charge for a French business.
    let res = quote(&app, None, json!({"lines": [line.clone()], "currency": "EUR", "country": "FR", "vat_id": "FR12345678901"})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(
        (res.body["currency"].as_str(), res.body["reverse_charge"].as_bool(), res.body["tax_minor"].as_i64()),
        (Some("EUR"), Some(true), Some(0))
    );
    // Each price converts on its own (the per-GB 0.05 USD is 0.046 → 0.05 EUR, × 100 GB).
    assert_eq!(res.body["total_minor"], 1839 + 920 + 500 + 1380 + 275);
    // Quebec: GST on the country, QST on the province.
    let res = quote(&app, None, json!({"lines": [line], "country": "CA", "state": "qc"})).await;
    assert_eq!(res.body["tax_lines"].as_array().unwrap().len(), 2, "{}", res.text);
});

both_backends!(every_problem_of_a_cart_is_answered_at_once, |app: TestApp| async move {
    let c = catalog(&app).await;
    let mut vps = configured_vps(&c);
    vps["options"][1]["quantity"] = json!(75);
    vps["addon_ids"] = json!([addon_id(&c, "ssl")]);
    let shared = json!({"product_id": product(&c, "shared-starter").id, "cycle": "monthly"});
    let body = json!({"lines": [vps, shared], "promo_codes": ["NOPE"], "currency": "EUR", "country": "NL", "vat_id": "XX12345"});
    let res = quote(&app, None, body).await;
    let p = res.problem(422);
    let fields: Vec<&str> = p["errors"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        fields,
        ["lines[0].addon_ids[0]", "lines[0].options[1].quantity", "lines[1].domain", "promo_codes", "vat_id"],
        "{}",
        res.text
    );
    assert_eq!(p["errors"]["promo_codes"][0], "NOPE is not a promo code");
    // Request-shape problems come first, named by field.
    for (body, field) in [
        (json!({"lines": []}), "lines"),
        (json!({"lines": [{"product_id": "nope", "cycle": "monthly"}]}), "lines[0].product_id"),
        (json!({"lines": [{"product_id": product(&c, "vps-2").id, "cycle": "monthly", "quantity": 0}]}), "lines[0].quantity"),
        (json!({"lines": [{"product_id": product(&c, "vps-2").id, "cycle": "weekly"}]}), "lines[0].cycle"),
        (json!({"lines": [{"product_id": product(&c, "vps-2").id, "cycle": "monthly"}], "currency": "XXX"}), "currency"),
        (json!({"lines": [{"product_id": product(&c, "vps-2").id, "cycle": "monthly"}], "promo_codes": ["a b\u{0}"]}), "promo_codes[0]"),
        (
            json!({"lines": [{"product_id": product(&c, "shared-starter").id, "cycle": "monthly", "domain": {"action": "register", "name": "not a domain"}}]}),
            "lines[0].domain.name",
        ),
    ] {
        let res = quote(&app, None, body).await;
        assert!(res.problem(422)["errors"].get(field).is_some(), "{field}: {}", res.text);
    }
    let res = app.send_raw(Method::POST, "/api/v1/cart/quote", Some("application/json"), br#"{"lines": []} trailing"#).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    let res = quote(&app, Some("not-a-token"), json!({"lines": [configured_vps(&c)]})).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "a bad token is refused, not taken for a guest");
});

both_backends!(quotes_are_the_shared_calculation, |app: TestApp| async move {
    let c = catalog(&app).await;
    let products: Vec<_> = c.products.iter().filter(|p| !p.requires_domain).collect();
    let welcome = PromoRule {
        code: "WELCOME10".into(),
        kind: PromoKind::Percent,
        value: 1000,
        currency: None,
        duration: PromoDuration::Once,
        duration_cycles: None,
        product_ids: vec![],
        cycles: vec![],
        addon_ids: vec![],
        min_order_minor: None,
        stackable: true,
    };
    let vat = TaxContext { rules: vec![TaxRule { name: "VAT".into(), rate_bp: 1900, level: 1, compound: false }], ..TaxContext::default() };
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    for round in 0..25 {
        let lines: Vec<CartLine> = (0..1 + next(6))
            .map(|_| {
                let p = products[next(products.len())];
                let options = p
                    .options
                    .iter()
                    .map(|o| match o.kind {
                        keel_shared::catalog::OptionKind::Quantity => {
                            OptionChoice { option_id: o.id.clone(), value_id: None, quantity: Some(o.min + o.step * next(11) as i64) }
                        }
                        keel_shared::catalog::OptionKind::YesNo => {
                            OptionChoice { option_id: o.id.clone(), value_id: None, quantity: Some(next(2) as i64) }
                        }
                        _ => OptionChoice {
                            option_id: o.id.clone(),
                            value_id: Some(o.values[next(o.values.len())].id.clone()),
                            quantity: None,
                        },
                    })
                    .collect();
                let addon_ids = p.addon_ids.iter().filter(|_| next(2) == 1).cloned().collect();
                let cycle = if next(2) == 0 { BillingCycle::Monthly } else { BillingCycle::Annually };
                CartLine { product_id: p.id.clone(), cycle, quantity: 1 + next(3) as u32, options, addon_ids, domain: None }
            })
            .collect();
        let currency = [Currency::USD, Currency::EUR, Currency::INR][next(3)];
        let with_promo = next(2) == 1;
        let req = QuoteRequest {
            currency: Some(currency),
            lines,
            promo_codes: if with_promo { vec!["WELCOME10".into()] } else { vec![] },
            country: Some("DE".into()),
            state: None,
            vat_id: None,
        };
        let expected = pricing::quote(&c, &req, currency, if with_promo { std::slice::from_ref(&welcome) } else { &[] }, &vat).unwrap();
        let res = quote(&app, None, serde_json::to_value(&req).unwrap()).await;
        assert_eq!(res.status, StatusCode::OK, "round {round}: {}", res.text);
        assert_eq!(serde_json::from_value::<keel_shared::cart::Quote>(res.body).unwrap(), expected, "round {round}");
    }
});

fn a_product(slug: &str, extra: Value) -> Value {
    let mut p = json!({
        "slug": slug,
        "name": "Game server",
        "type": "other",
        "description": "For game worlds.",
        "features": ["4 players"],
        "prices": [{"cycle": "monthly", "currency": "USD", "amount_minor": 1500, "setup_fee_minor": 500, "renewal_minor": 2000}],
        "options": [{"name": "Slots", "kind": "dropdown", "values": [
            {"label": "8", "prices": []},
            {"label": "16", "prices": [{"cycle": "monthly", "currency": "USD", "amount_minor": 700}]}
        ]}],
    });
    for (k, v) in extra.as_object().unwrap() {
        p[k] = v.clone();
    }
    p
}

both_backends!(admins_shape_products_and_the_storefront_sees_them_at_once, |app: TestApp| async move {
    let admin = app.admin_token().await;
    let c = catalog(&app).await;
    let vps_group = c.groups.iter().find(|g| g.slug == "vps").unwrap().id.to_string();
    let body = a_product("game-server", json!({"group_id": vps_group, "addon_ids": [addon_id(&c, "daily-backups")]}));
    let res = app.post_json_authed("/api/v1/admin/catalog/products", &admin, body.clone()).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let id = res.body["id"].as_str().unwrap().to_string();
    let option = res.body["options"][0].clone();
    let c = catalog(&app).await;
    let game = product(&c, "game-server");
    assert_eq!((game.prices[0].renewal_minor, game.options[0].values.len(), game.addon_ids.len()), (Some(2000), 2, 1));

    // Edit: keep the option and its first value by id, drop the second, add a third.
    let mut edit = body.clone();
    edit["name"] = json!("Game server XL");
    edit["options"] = json!([{"id": option["id"], "name": "Slots", "kind": "dropdown", "values": [
        {"id": option["values"][0]["id"], "label": "8", "prices": []},
        {"label": "32", "prices": [{"cycle": "monthly", "currency": "USD", "amount_minor": 1400}]}
    ]}]);
    let res = app.put_json(&format!("/api/v1/admin/catalog/products/{id}"), &admin, edit).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!((&res.body["options"][0]["id"], &res.body["options"][0]["values"][0]["id"]), (&option["id"], &option["values"][0]["id"]));
    assert_ne!(res.body["options"][0]["values"][1]["id"], option["values"][1]["id"]);
    let c = catalog(&app).await;
    assert_eq!(product(&c, "game-server").name, "Game server XL", "the cached catalog was invalidated");
    let audit = app.get("/api/v1/admin/audit?action=catalog.product_updated", Some(&admin)).await;
    assert_eq!(audit.body["items"].as_array().map(Vec::len), Some(1), "{}", audit.text);

    // What the database must check is a field error, never a 500.
    for (extra, field, status) in [
        (json!({"slug": "vps-2"}), "slug", 409),
        (json!({"group_id": "0192f0c4-8e3b-7cc1-9a52-3f1e2d4c5b6a"}), "group_id", 422),
        (json!({"addon_ids": ["0192f0c4-8e3b-7cc1-9a52-3f1e2d4c5b6a"]}), "addon_ids[0]", 422),
        (json!({"prices": [{"cycle": "monthly", "currency": "JPY", "amount_minor": 1}]}), "prices[0].currency", 422),
        (json!({"prices": [{"cycle": "monthly", "currency": "USD", "amount_minor": -1}]}), "prices[0].amount_minor", 422),
        (
            json!({"prices": [{"cycle": "monthly", "currency": "USD", "amount_minor": 1}, {"cycle": "monthly", "currency": "USD", "amount_minor": 2}]}),
            "prices",
            422,
        ),
        (json!({"options": [{"name": "Disk", "kind": "quantity", "min": 5, "max": 1, "values": [{"label": "GB"}]}]}), "options[0]", 422),
        (
            json!({"options": [{"id": c.products[0].options.first().map(|o| o.id.to_string()).unwrap_or_else(|| option["id"].as_str().unwrap().to_string()), "name": "X", "kind": "radio", "values": [{"label": "a"}]}]}),
            "options[0].id",
            422,
        ),
        (json!({"slug": "Not A Slug"}), "slug", 422),
    ] {
        let res = app.post_json_authed("/api/v1/admin/catalog/products", &admin, a_product("another", extra.clone())).await;
        assert_eq!(res.status.as_u16(), status, "{extra}: {}", res.text);
        let errors = &res.body["errors"];
        assert!(errors.as_object().unwrap().keys().any(|k| k == field || k.starts_with(&format!("{field}."))), "{extra}: {}", res.text);
    }
    let res = app.put_json("/api/v1/admin/catalog/products/0192f0c4-8e3b-7cc1-9a52-3f1e2d4c5b6a", &admin, body.clone()).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);

    // Retired: gone from the storefront, and a quote says so.
    let mut retired = body.clone();
    retired["retired"] = json!(true);
    assert_eq!(app.put_json(&format!("/api/v1/admin/catalog/products/{id}"), &admin, retired).await.status, StatusCode::OK);
    assert!(catalog(&app).await.products.iter().all(|p| p.slug != "game-server"));
    let res = quote(&app, None, json!({"lines": [{"product_id": id, "cycle": "monthly"}]})).await;
    assert_eq!(res.problem(422)["errors"]["lines[0].product_id"][0], "this product is not for sale");

    // Roles are the API's: a client and staff without catalog.manage are refused.
    let client = a_client().create(&app).await;
    assert_eq!(app.get("/api/v1/admin/catalog/products", Some(&client.token)).await.status, StatusCode::FORBIDDEN);
    let reader = a_staff_member().with_permissions(&["clients.read"]).create(&app).await;
    assert_eq!(app.post_json_authed("/api/v1/admin/catalog/products", &reader.token, body.clone()).await.status, StatusCode::FORBIDDEN);
    let manager = a_staff_member().with_permissions(&["catalog.manage"]).create(&app).await;
    assert_eq!(app.get("/api/v1/admin/catalog/products", Some(&manager.token)).await.body.as_array().unwrap().len(), 9);
});

both_backends!(stock_groups_addons_and_currencies_are_data, |app: TestApp| async move {
    let admin = app.admin_token().await;
    // Out of stock.
    let res = app.post_json_authed("/api/v1/admin/catalog/products", &admin, a_product("limited", json!({"stock": 0}))).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let id = res.body["id"].as_str().unwrap().to_string();
    let res = quote(&app, None, json!({"lines": [{"product_id": id, "cycle": "monthly"}]})).await;
    assert_eq!(res.problem(422)["errors"]["lines[0].product_id"][0], "Game server is out of stock");
    // A group, renamed and deleted (its products stay, ungrouped).
    let res = app.post_json_authed("/api/v1/admin/catalog/groups", &admin, json!({"slug": "games", "name": "Games"})).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let group = res.body["id"].as_str().unwrap().to_string();
    let res = app
        .put_json(
            &format!("/api/v1/admin/catalog/groups/{group}"),
            &admin,
            json!({"slug": "games", "name": "Game servers", "visible": true}),
        )
        .await;
    assert_eq!((res.status, res.body["name"].as_str()), (StatusCode::OK, Some("Game servers")));
    assert!(catalog(&app).await.groups.iter().any(|g| g.name == "Game servers"));
    assert_eq!(app.delete_authed(&format!("/api/v1/admin/catalog/groups/{group}"), &admin).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.delete_authed(&format!("/api/v1/admin/catalog/groups/{group}"), &admin).await.status, StatusCode::NOT_FOUND);
    // An add-on with a setup fee.
    let res = app
        .post_json_authed(
            "/api/v1/admin/catalog/addons",
            &admin,
            json!({"slug": "mod-pack", "name": "Mod pack", "prices": [{"cycle": "monthly", "currency": "USD", "amount_minor": 200, "setup_fee_minor": 100}]}),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(app.get("/api/v1/admin/catalog/addons", Some(&admin)).await.body.as_array().unwrap().len(), 5);
    // Yen, with no minor unit: converted prices are whole yen.
    let res = app.put_json("/api/v1/admin/catalog/currencies/JPY", &admin, json!({"rate_micros": 150_250_000})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let c = catalog(&app).await;
    let jpy = c.currency(Currency::JPY).unwrap();
    assert_eq!((jpy.exponent, jpy.rate_micros), (0, 150_250_000));
    let res = quote(&app, None, json!({"lines": [{"product_id": product(&c, "vps-2").id, "cycle": "monthly"}], "currency": "JPY"})).await;
    assert_eq!(res.body["total_minor"], 3003, "19.99 USD × 150.25 = 3003.4975 → 3003 yen: {}", res.text);
    assert_eq!(app.put_json("/api/v1/admin/catalog/currencies/XXX", &admin, json!({"rate_micros": 1})).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.put_json("/api/v1/admin/catalog/currencies/EUR", &admin, json!({"rate_micros": 0})).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(app.delete_authed("/api/v1/admin/catalog/currencies/USD", &admin).await.status, StatusCode::CONFLICT);
    assert_eq!(app.delete_authed("/api/v1/admin/catalog/currencies/JPY", &admin).await.status, StatusCode::OK);
    let res = quote(&app, None, json!({"lines": [{"product_id": product(&c, "vps-2").id, "cycle": "monthly"}], "currency": "JPY"})).await;
    assert!(res.problem(422)["errors"].get("currency").is_some());
});

both_backends!(promo_terms_tax_rules_and_settings_apply_at_once, |app: TestApp| async move {
    let admin = app.admin_token().await;
    let c = catalog(&app).await;
    let line = json!({"product_id": product(&c, "vps-2").id, "cycle": "monthly"});
    let now = app.clock.now();
    let promo = |code: &str, extra: Value| {
        let mut p = json!({"code": code, "kind": "percent", "value": 5000, "duration": "once"});
        for (k, v) in extra.as_object().unwrap() {
            p[k] = v.clone();
        }
        p
    };
    for (code, extra, message) in [
        ("OLD", json!({"expires_at": now - chrono::Duration::days(1)}), "OLD has expired"),
        ("SOON", json!({"starts_at": now + chrono::Duration::days(1)}), "SOON is not valid yet"),
        ("OFF", json!({"active": false}), "OFF is not a promo code"),
        ("BIG", json!({"min_order_minor": 100_000}), "BIG needs an order of at least $1,000.00"),
        ("CLOUD", json!({"product_ids": [product(&c, "cloud-startup").id]}), "CLOUD does not apply to anything in your cart"),
    ] {
        let res = app.post_json_authed("/api/v1/admin/commerce/promo-codes", &admin, promo(code, extra)).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
        let res = quote(&app, None, json!({"lines": [line.clone()], "promo_codes": [code.to_lowercase()]})).await;
        assert_eq!(
            res.problem(422)["errors"]["promo_codes"][0].as_str().map(|m| m.replace(",", "")),
            Some(message.replace(",", "")),
            "{}",
            res.text
        );
    }
    let res = app.post_json_authed("/api/v1/admin/commerce/promo-codes", &admin, promo("old", json!({}))).await;
    assert_eq!(
        (res.status, res.body["errors"].get("code").is_some()),
        (StatusCode::CONFLICT, true),
        "codes are unique ignoring case: {}",
        res.text
    );
    let res = app.post_json_authed("/api/v1/admin/commerce/promo-codes", &admin, promo("HALF", json!({"value": 20_000}))).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "more than 100 %");

    // A state's sales tax, then tax-inclusive prices.
    let res = app
        .post_json_authed(
            "/api/v1/admin/commerce/tax-rules",
            &admin,
            json!({"country": "US", "state": "TX", "name": "Sales tax", "rate_bp": 625}),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let rule = res.body["id"].as_str().unwrap().to_string();
    let res = quote(&app, None, json!({"lines": [line.clone()], "country": "US", "state": "TX"})).await;
    assert_eq!(res.body["tax_minor"], 125, "6.25 % of 19.99: {}", res.text);
    assert_eq!(quote(&app, None, json!({"lines": [line.clone()], "country": "US", "state": "NY"})).await.body["tax_minor"], 0);
    let res = app
        .put_json(
            "/api/v1/admin/commerce/settings",
            &admin,
            json!({"tax_inclusive": true, "convert_missing_prices": true, "home_country": "DE"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let res = quote(&app, None, json!({"lines": [line.clone()], "country": "DE"})).await;
    // 19.99 includes 19 % VAT: 16.80 net, 3.19 tax.
    assert_eq!(
        (res.body["total_minor"].as_i64(), res.body["tax_minor"].as_i64(), res.body["tax_inclusive"].as_bool()),
        (Some(1999), Some(319), Some(true))
    );
    assert_eq!(app.delete_authed(&format!("/api/v1/admin/commerce/tax-rules/{rule}"), &admin).await.status, StatusCode::NO_CONTENT);
    assert_eq!(quote(&app, None, json!({"lines": [line], "country": "US", "state": "TX"})).await.body["tax_minor"], 0);
});

both_backends!(signed_in_clients_are_priced_from_their_profile, |app: TestApp| async move {
    let c = catalog(&app).await;
    let ann = a_client().create(&app).await;
    let address = json!({"line1": "1 Rue de Rivoli", "city": "Paris", "postcode": "75001", "country": "FR"});
    let res = app
        .put_json(
            "/api/v1/me/profile",
            &ann.token,
            json!({"first_name": "Ann", "last_name": "Lee", "address": address, "currency": "EUR", "language": "fr", "tax_id": null}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let line = json!({"product_id": product(&c, "vps-2").id, "cycle": "monthly"});
    let res = quote(&app, Some(&ann.token), json!({"lines": [line.clone()]})).await;
    assert_eq!(
        (res.body["currency"].as_str(), res.body["tax_minor"].as_i64()),
        (Some("EUR"), Some(368)),
        "20 % French VAT on 18.39: {}",
        res.text
    );
    let res = quote(&app, Some(&ann.token), json!({"lines": [line.clone()], "currency": "USD"})).await;
    assert_eq!(res.problem(422)["errors"]["currency"][0], "you pay in EUR, your profile's currency");
    let res = app
        .put_json(
            "/api/v1/me/profile",
            &ann.token,
            json!({"first_name": "Ann", "last_name": "Lee", "address": address, "currency": "EUR", "language": "fr", "tax_id": "FR12345678901"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let res = quote(&app, Some(&ann.token), json!({"lines": [line.clone()]})).await;
    assert_eq!((res.body["reverse_charge"].as_bool(), res.body["tax_minor"].as_i64()), (Some(true), Some(0)), "{}", res.text);
    // Exempt by the back office (clients.write): no tax, without a VAT id.
    let admin = app.admin_token().await;
    let res = app
        .put_json(
            "/api/v1/me/profile",
            &ann.token,
            json!({"first_name": "Ann", "last_name": "Lee", "address": address, "currency": "EUR", "language": "fr"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(quote(&app, Some(&ann.token), json!({"lines": [line.clone()]})).await.body["tax_minor"], 368);
    let path = format!("/api/v1/admin/clients/{}/tax-exempt", ann.id);
    assert_eq!(app.put_json(&path, &ann.token, json!({"tax_exempt": true})).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.put_json(&path, &admin, json!({"tax_exempt": true})).await.status, StatusCode::NO_CONTENT);
    let res = quote(&app, Some(&ann.token), json!({"lines": [line.clone()]})).await;
    assert_eq!((res.body["tax_minor"].as_i64(), res.body["total_minor"].as_i64()), (Some(0), Some(1839)), "{}", res.text);
    let staff_path = format!("/api/v1/admin/clients/{}/tax-exempt", a_staff_member().create(&app).await.id);
    assert_eq!(app.put_json(&staff_path, &admin, json!({"tax_exempt": true})).await.status, StatusCode::NOT_FOUND);
    let res = app
        .put_json("/api/v1/me/profile", &ann.token, json!({"first_name": "Ann", "last_name": "Lee", "currency": "JPY", "language": "fr"}))
        .await;
    assert_eq!(res.problem(422)["errors"]["currency"][0], "the shop does not sell in this currency");
});

async fn place(app: &TestApp, token: &str, key: &str, body: Value) -> crate::support::Res {
    app.request(
        actix_web::test::TestRequest::post()
            .uri("/api/v1/checkout")
            .insert_header(("authorization", format!("Bearer {token}")))
            .insert_header(("idempotency-key", key))
            .set_json(body),
    )
    .await
}

both_backends!(checkout_places_one_order_per_key_and_admins_decide, |app: TestApp| async move {
    let c = catalog(&app).await;
    let cart = json!({"lines": [configured_vps(&c), {"product_id": product(&c, "cloud-startup").id, "cycle": "annually", "quantity": 2}], "promo_codes": ["WELCOME10"], "country": "DE"});
    let unverified = a_client().create(&app).await;
    let res = place(&app, &unverified.token, "k1", cart.clone()).await;
    assert_eq!(res.problem(403)["code"], "email_unverified");
    assert_eq!(app.get("/api/v1/admin/orders", Some(&app.admin_token().await)).await.body["total"], 0, "nothing half-written");

    let ann = a_client().verified().create(&app).await;
    let quoted = quote(&app, Some(&ann.token), cart.clone()).await;
    assert_eq!(quoted.status, StatusCode::OK, "{}", quoted.text);
    let res = place(&app, &ann.token, "k1", cart.clone()).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let order = res.body.clone();
    assert_eq!((order["number"].as_str(), order["status"].as_str()), (Some("ORD-000001"), Some("pending")));
    assert_eq!(order["total_minor"], quoted.body["total_minor"], "the order costs what the quote said");
    assert_eq!(order["items"][1]["service_ids"].as_array().map(Vec::len), Some(2), "one service per unit");
    assert_eq!(crate::support::mail_count(&app, &ann.email, "order_confirmation"), 1);
    // The same key and cart: the same order. The same key, another cart: refused.
    let again = place(&app, &ann.token, "k1", cart.clone()).await;
    assert_eq!((again.status, &again.body["id"]), (StatusCode::OK, &order["id"]));
    let mut other = cart.clone();
    other["lines"][1]["quantity"] = json!(3);
    assert_eq!(place(&app, &ann.token, "k1", other).await.problem(409)["code"], "idempotency_key_reused");
    let res = app.post_json_authed("/api/v1/checkout", &ann.token, cart.clone()).await;
    assert!(res.problem(422)["errors"].get("Idempotency-Key").is_some());
    // WELCOME10 is once per client.
    let res = place(&app, &ann.token, "k2", cart.clone()).await;
    assert_eq!(res.problem(422)["errors"]["promo_codes"][0], "you have used WELCOME10 before");

    // The client's history; another client sees nothing of it.
    let mine = app.get("/api/v1/orders?status=pending", Some(&ann.token)).await;
    assert_eq!((mine.body["total"].as_i64(), mine.body["items"][0]["description"].as_str()), (Some(1), Some("VPS 2, Cloud Startup")));
    let id = order["id"].as_str().unwrap();
    assert_eq!(app.get(&format!("/api/v1/orders/{id}"), Some(&ann.token)).await.body["number"], "ORD-000001");
    let bob = a_client().create(&app).await;
    assert_eq!(app.get(&format!("/api/v1/orders/{id}"), Some(&bob.token)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/api/v1/orders", Some(&bob.token)).await.body["total"], 0);

    // The back office: billing.read lists, billing.write decides; every decision audited.
    let reader = a_staff_member().with_permissions(&["billing.read"]).create(&app).await;
    let listed = app.get("/api/v1/admin/orders?q=ord-0000", Some(&reader.token)).await;
    assert_eq!(
        (listed.body["total"].as_i64(), listed.body["items"][0]["email"].as_str()),
        (Some(1), Some(ann.email.as_str())),
        "{}",
        listed.text
    );
    assert_eq!(app.post_authed(&format!("/api/v1/admin/orders/{id}/accept"), &reader.token).await.status, StatusCode::FORBIDDEN);
    let writer = a_staff_member().with_permissions(&["billing.read", "billing.write"]).create(&app).await;
    let res = app.post_authed(&format!("/api/v1/admin/orders/{id}/accept"), &writer.token).await;
    assert_eq!((res.status, res.body["status"].as_str()), (StatusCode::OK, Some("accepted")), "{}", res.text);
    assert_eq!(app.post_authed(&format!("/api/v1/admin/orders/{id}/fraud"), &writer.token).await.problem(409)["code"], "order_state");
    let res = app.post_json_authed(&format!("/api/v1/admin/orders/{id}/cancel"), &writer.token, json!({"reason": ""})).await;
    assert!(res.problem(422)["errors"].get("reason").is_some());
    let res = app.post_json_authed(&format!("/api/v1/admin/orders/{id}/cancel"), &writer.token, json!({"reason": "Customer asked"})).await;
    assert_eq!((res.body["status"].as_str(), res.body["cancel_reason"].as_str()), (Some("cancelled"), Some("Customer asked")));
    let admin = app.admin_token().await;
    let audit = app.get(&format!("/api/v1/admin/audit?account_id={}", ann.id), Some(&admin)).await;
    let actions: Vec<&str> = audit.body["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(
        actions.contains(&"order.placed") && actions.contains(&"order.accepted") && actions.contains(&"order.cancelled"),
        "{actions:?}"
    );
    // Cancelling gave the promo use back: WELCOME10 works again for Ann.
    assert_eq!(place(&app, &ann.token, "k3", cart).await.status, StatusCode::CREATED);
});

both_backends!(concurrent_checkouts_stay_consistent, |app: TestApp| async move {
    let c = catalog(&app).await;
    let admin = app.admin_token().await;
    let line = json!({"product_id": product(&c, "vps-2").id, "cycle": "monthly"});
    // Ten identical requests with one key: one order.
    let ann = a_client().verified().create(&app).await;
    let body = json!({"lines": [line.clone()]});
    let answers = futures_util::future::join_all((0..10).map(|_| place(&app, &ann.token, "same-key", body.clone()))).await;
    let ids: std::collections::BTreeSet<&str> = answers.iter().map(|r| r.body["id"].as_str().unwrap_or("none")).collect();
    assert_eq!(ids.len(), 1, "{:?}", answers.iter().map(|r| (r.status, r.text.clone())).collect::<Vec<_>>());
    assert_eq!(answers.iter().filter(|r| r.status == StatusCode::CREATED).count(), 1);
    // A code limited to one use, 20 checkouts at once: exactly one gets it.
    let res = app
        .post_json_authed(
            "/api/v1/admin/commerce/promo-codes",
            &admin,
            json!({"code": "ONCE", "kind": "percent", "value": 5000, "duration": "once", "max_uses": 1}),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let promo = json!({"lines": [line.clone()], "promo_codes": ["ONCE"]});
    let keys: Vec<String> = (0..20).map(|i| format!("promo{i}")).collect();
    let answers = futures_util::future::join_all(keys.iter().map(|k| place(&app, &ann.token, k, promo.clone()))).await;
    let won: Vec<_> = answers.iter().filter(|r| r.status == StatusCode::CREATED).collect();
    assert_eq!(won.len(), 1, "{:?}", answers.iter().map(|r| r.status).collect::<Vec<_>>());
    assert_eq!(won[0].body["discount_minor"], 1000);
    assert!(answers
        .iter()
        .filter(|r| r.status != StatusCode::CREATED)
        .all(|r| r.body["errors"]["promo_codes"][0] == "ONCE has been used up"));
    // Fifty checkouts at once: fifty numbers, none skipped.
    let keys: Vec<String> = (0..50).map(|i| format!("n{i}")).collect();
    let answers = futures_util::future::join_all(keys.iter().map(|k| place(&app, &ann.token, k, body.clone()))).await;
    assert!(answers.iter().all(|r| r.status == StatusCode::CREATED), "{:?}", answers.iter().map(|r| r.text.clone()).collect::<Vec<_>>());
    let mut numbers: Vec<String> = app.get("/api/v1/admin/orders?per_page=100", Some(&admin)).await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["number"].as_str().unwrap().to_string())
        .collect();
    numbers.sort();
    assert_eq!(numbers, (1..=52).map(|n| format!("ORD-{n:06}")).collect::<Vec<_>>(), "gapless: 1 + 1 + 50");
});

both_backends!(stock_runs_out_and_fraud_rules_hold_orders, |app: TestApp| async move {
    let admin = app.admin_token().await;
    let res = app.post_json_authed("/api/v1/admin/catalog/products", &admin, a_product("last-two", json!({"stock": 2}))).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let id = res.body["id"].as_str().unwrap().to_string();
    let ann = a_client().verified().create(&app).await;
    let line = |qty: u32| json!({"lines": [{"product_id": id, "cycle": "monthly", "quantity": qty}]});
    assert_eq!(place(&app, &ann.token, "s1", line(3)).await.problem(422)["errors"]["lines[0].quantity"][0], "not enough left in stock");
    assert_eq!(place(&app, &ann.token, "s2", line(2)).await.status, StatusCode::CREATED);
    let res = place(&app, &ann.token, "s3", line(1)).await;
    assert!(res.problem(422)["errors"]["lines[0].product_id"][0].as_str().unwrap().contains("out of stock"), "{}", res.text);
    // A disposable address is held for review, with the reason.
    let tom = a_client().email("tom@mailinator.com").verified().create(&app).await;
    let c = catalog(&app).await;
    let res = place(&app, &tom.token, "f1", json!({"lines": [{"product_id": product(&c, "vps-2").id, "cycle": "monthly"}]})).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(
        (res.body["status"].as_str(), &res.body["fraud_reasons"]),
        (Some("in_review"), &json!(["a disposable e-mail address (mailinator.com)"]))
    );
    let held = res.body["id"].as_str().unwrap().to_string();
    let res = app.post_authed(&format!("/api/v1/admin/orders/{held}/fraud"), &admin).await;
    assert_eq!(res.body["status"], "fraud");
});
