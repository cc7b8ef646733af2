//! `keel bench quote`: quotes per second for a 10-line cart (options, add-ons, a promo code and
//! tax), through the pure `keel_shared::pricing::quote` and through the service the route calls
//! (the promo code looked up in the database); `keel bench checkout`, checkouts per second.
//! `--cart-json` prints the cart's request body for
//! `scripts/bench-http`, which measures `POST /cart/quote` over HTTP beside `GET /healthz`.
//! Figures, never assertions.

use std::time::Instant;

use keel_shared::cart::{CartLine, OptionChoice, QuoteRequest};
use keel_shared::catalog::{BillingCycle, Catalog, OptionKind};
use keel_shared::pricing::{self, PromoDuration, PromoKind, PromoRule, TaxContext, TaxRule};

use crate::db::cache::CachedCatalog;
use crate::db::Pool;

/// Ten lines over the products that need no domain: every option set (the last value, the
/// largest quantity, yes), every add-on, monthly and annual in turn; WELCOME10; a buyer in DE.
pub fn ten_line_cart(catalog: &Catalog) -> Result<QuoteRequest, String> {
    let products: Vec<_> = catalog.products.iter().filter(|p| !p.requires_domain && !p.hidden).collect();
    if products.is_empty() {
        return Err("the catalog has no product without a domain (load the demo catalog)".into());
    }
    let lines = (0..10)
        .map(|i| {
            let p = products[i % products.len()];
            let options = p
                .options
                .iter()
                .map(|o| match o.kind {
                    OptionKind::Quantity => OptionChoice { option_id: o.id.clone(), value_id: None, quantity: Some(o.max) },
                    OptionKind::YesNo => OptionChoice { option_id: o.id.clone(), value_id: None, quantity: Some(1) },
                    _ => OptionChoice { option_id: o.id.clone(), value_id: o.values.last().map(|v| v.id.clone()), quantity: None },
                })
                .collect();
            let cycle = if i % 2 == 0 { BillingCycle::Monthly } else { BillingCycle::Annually };
            CartLine {
                product_id: p.id.clone(),
                cycle,
                quantity: 1 + (i % 3) as u32,
                options,
                addon_ids: p.addon_ids.clone(),
                domain: None,
            }
        })
        .collect();
    Ok(QuoteRequest { currency: None, lines, promo_codes: vec!["WELCOME10".into()], country: Some("DE".into()), state: None, vat_id: None })
}

fn snapshot(pool: &Pool) -> Result<CachedCatalog, String> {
    let mut c = pool.get().map_err(|e| e.to_string())?;
    crate::catalog::service::snapshot(&mut c).map_err(|e| e.to_string())
}

pub fn cart_json(pool: &Pool) -> Result<(), String> {
    let cat = snapshot(pool)?;
    println!("{}", serde_json::to_string(&ten_line_cart(&cat.model)?).map_err(|e| e.to_string())?);
    Ok(())
}

pub fn quote(pool: &Pool, runs: usize) -> Result<(), String> {
    let backend = pool.get().map_err(|e| e.to_string())?.backend().name();
    let cat = snapshot(pool)?;
    let req = ten_line_cart(&cat.model)?;
    let promo = PromoRule {
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
        stackable: false,
    };
    let promos = std::slice::from_ref(&promo);
    let tax = TaxContext { rules: vec![TaxRule { name: "VAT".into(), rate_bp: 1900, level: 1, compound: false }], ..TaxContext::default() };
    let currency = cat.model.default_currency;
    let total = pricing::quote(&cat.model, &req, currency, promos, &tax).map_err(|p| format!("{p:?}"))?.total_minor;
    println!("bench quote: backend={backend} lines={} runs={runs} total={total}", req.lines.len());
    let t = Instant::now();
    for _ in 0..runs {
        std::hint::black_box(pricing::quote(&cat.model, std::hint::black_box(&req), currency, promos, &tax).map_err(|p| format!("{p:?}"))?);
    }
    let pure = runs as f64 / t.elapsed().as_secs_f64();
    println!("  keel_shared::pricing::quote:        {pure:>10.0} quotes/s ({:.1} µs each)", 1e6 / pure);
    let mut c = pool.get().map_err(|e| e.to_string())?;
    let buyer = super::service::Buyer::default();
    let now = chrono::Utc::now();
    let service_runs = (runs / 10).max(1);
    let t = Instant::now();
    for _ in 0..service_runs {
        std::hint::black_box(super::service::quote(Some(&mut c), now, &cat, &req, &buyer).map_err(|e| e.to_string())?);
    }
    let service = service_runs as f64 / t.elapsed().as_secs_f64();
    println!("  commerce::service::quote (+ promo): {service:>10.0} quotes/s ({:.1} µs each)", 1e6 / service);
    Ok(())
}

/// `keel bench checkout`: `orders` checkouts of the 10-line cart (WELCOME10 left out: it is once
/// per client) by `threads` threads, each for its own verified client, through the service the
/// route calls (one transaction each: stock, the order number, items, services, fraud screening,
/// audit, the confirmation e-mail). Prints checkouts/second. The orders stay in the database.
pub fn checkout(state: &crate::state::AppState, orders: usize, threads: usize) -> Result<(), String> {
    use diesel::prelude::*;
    let backend = state.pool.get().map_err(|e| e.to_string())?.backend().name();
    let cat = snapshot(&state.pool)?;
    let mut req = ten_line_cart(&cat.model)?;
    req.promo_codes.clear();
    let threads = threads.max(1);
    let hash = crate::identity::password::hash("bench: Keel checkout 4711").map_err(|e| e.to_string())?;
    let now = state.clock.now();
    let run = format!("{:x}", now.timestamp_micros());
    let mut buyers = Vec::new();
    for t in 0..threads {
        let mut c = state.pool.get().map_err(|e| e.to_string())?;
        let email = format!("checkout-{run}-{t}@bench-checkout.example.com");
        let user = crate::accounts::users::create_user(&mut c, now, &email, &hash, "Bench", "Buyer", keel_shared::auth::Role::Client)
            .map_err(|e| e.to_string())?;
        diesel::update(crate::schema::users::table.find(&user.id))
            .set(crate::schema::users::email_verified_at.eq(Some(crate::db::now_micros(now))))
            .execute(&mut c)
            .map_err(|e| e.to_string())?;
        buyers.push(user.id);
    }
    println!("bench checkout: backend={backend} orders={orders} threads={threads} lines={}", req.lines.len());
    let mail = state.mail();
    let per_thread = orders.div_ceil(threads);
    let t0 = Instant::now();
    let placed: Result<Vec<usize>, String> = std::thread::scope(|scope| {
        let handles: Vec<_> = buyers
            .iter()
            .enumerate()
            .map(|(t, buyer)| {
                let (req, cat, mail, run) = (&req, &cat, &mail, &run);
                scope.spawn(move || -> Result<usize, String> {
                    let mut c = state.pool.get().map_err(|e| e.to_string())?;
                    let env = super::service::Env { deps: &state.deps, mail, catalog: cat };
                    for i in 0..per_thread {
                        let who = super::service::Checkout {
                            actor: crate::audit::Actor { user_id: Some(buyer.clone()), ..Default::default() },
                            account_id: buyer.clone(),
                            placed_by: buyer.clone(),
                            ip: None,
                            idempotency_key: format!("bench-{run}-{t}-{i}"),
                        };
                        // As the route does: the buyer is read before the transaction.
                        let buyer = super::service::Buyer::of_account(&mut c, buyer).map_err(|e| e.to_string())?;
                        super::service::checkout(&mut c, state.clock.now(), &env, &who, req, &buyer).map_err(|e| e.to_string())?;
                    }
                    Ok(per_thread)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().map_err(|_| "a bench thread panicked".to_string())?).collect()
    });
    let placed: usize = placed?.into_iter().sum();
    let secs = t0.elapsed().as_secs_f64();
    println!("  checkouts: {:>8.1} /s ({placed} orders in {secs:.2} s)", placed as f64 / secs);
    Ok(())
}
