//! `keel bench provision`: how long a client waits between paying and an active service. Each of
//! `orders` orders (one Shared Starter plan with its own domain) is paid through the same
//! transaction a payment webhook runs (`billing::service::record_transfer` → the order accepted,
//! the create job queued); in-process workers place it on the sandbox server and create the
//! account on a WHM stand-in on a loopback port. Prints p50, p99 and the worst, from the
//! payment's commit to the service read back as active. Figures, never assertions.

use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use keel_shared::cart::{CartLine, DomainAction, DomainChoice, QuoteRequest};
use keel_shared::catalog::BillingCycle;

use super::whm_sandbox::WhmSandbox;
use crate::config::{Config, ModuleTarget};
use crate::schema::{invoices, servers, services, users};

pub fn provision(mut config: Config, orders: usize, workers: usize) -> Result<(), String> {
    // The WHM stand-in, on a loopback port of its own.
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).map_err(|e| e.to_string())?;
    let url = format!("http://{}", listener.local_addr().map_err(|e| e.to_string())?);
    let whm = Arc::new(WhmSandbox::new(&url, Arc::new(crate::clock::SystemClock)));
    let served = whm.clone();
    let stand_in = super::serve_stand_in(listener, move |c| super::whm_sandbox::configure(c, served.clone()))?;
    config.sandbox_whm = Some(ModuleTarget { api_url: url, username: whm.user.clone(), token: whm.token.clone() });
    config.workers = workers.max(1);
    let state = crate::server::prepare(config, crate::server::system_clock())?;
    crate::server::first_start(&state)?;
    let mut c = state.pool.get().map_err(|e| e.to_string())?;
    let backend = c.backend().name();
    let now = state.clock.now();
    crate::provisioning::service::ensure_sandbox_server(&mut c, now).map_err(|e| e.to_string())?;
    diesel::update(servers::table.filter(servers::sandbox.eq(true)))
        .set((servers::max_accounts.eq(100_000), servers::healthy.eq(true)))
        .execute(&mut c)
        .map_err(|e| e.to_string())?;
    let cat = crate::catalog::service::snapshot(&mut c).map_err(|e| e.to_string())?;
    let plan = cat.model.products.iter().find(|p| p.slug == "shared-starter").ok_or("no shared-starter product: load the demo catalog")?;
    let run = format!("{:x}", now.timestamp_micros());
    let hash = crate::identity::password::hash("bench: Keel provision 4711").map_err(|e| e.to_string())?;
    let email = format!("provision-{run}@bench-provision.example.com");
    let user = crate::accounts::users::create_user(&mut c, now, &email, &hash, "Bench", "Buyer", keel_shared::auth::Role::Client)
        .map_err(|e| e.to_string())?;
    diesel::update(users::table.find(&user.id))
        .set(users::email_verified_at.eq(Some(crate::db::now_micros(now))))
        .execute(&mut c)
        .map_err(|e| e.to_string())?;
    let mail = state.mail();
    let env = crate::commerce::service::Env { deps: &state.deps, mail: &mail, catalog: &cat };
    let running = crate::server::spawn_workers(&state);
    println!("bench provision: backend={backend} orders={orders} workers={}", workers.max(1));
    let mut waits = Vec::with_capacity(orders);
    for i in 0..orders {
        let req = QuoteRequest {
            currency: None,
            lines: vec![CartLine {
                product_id: plan.id.clone(),
                cycle: BillingCycle::Monthly,
                quantity: 1,
                options: vec![],
                addon_ids: vec![],
                domain: Some(DomainChoice { action: DomainAction::Existing, name: format!("b{run}-{i}.example.com") }),
            }],
            promo_codes: vec![],
            country: None,
            state: None,
            vat_id: None,
        };
        let who = crate::commerce::service::Checkout {
            actor: crate::audit::Actor { user_id: Some(user.id.clone()), ..Default::default() },
            account_id: user.id.clone(),
            placed_by: user.id.clone(),
            ip: None,
            idempotency_key: format!("bench-{run}-{i}"),
        };
        let buyer = crate::commerce::service::Buyer::of_account(&mut c, &user.id).map_err(|e| e.to_string())?;
        let (order, _) =
            crate::commerce::service::checkout(&mut c, state.clock.now(), &env, &who, &req, &buyer).map_err(|e| e.to_string())?;
        let order_id = order.id.to_string();
        let (invoice, owed): (String, i64) = invoices::table
            .filter(invoices::order_id.eq(&order_id))
            .select((invoices::id, invoices::total_minor))
            .first(&mut c)
            .map_err(|e| e.to_string())?;
        let staff = crate::audit::Actor::default();
        crate::billing::service::record_transfer(&mut c, state.clock.now(), &mail, &staff, &invoice, owed, "bench")
            .map_err(|e| e.to_string())?;
        let paid = Instant::now();
        loop {
            let status: String = services::table
                .filter(services::order_id.eq(&order_id))
                .select(services::status)
                .first(&mut c)
                .map_err(|e| e.to_string())?;
            match status.as_str() {
                "active" => break,
                "failed" => return Err(format!("order {i}: provisioning failed")),
                _ if paid.elapsed() > Duration::from_secs(30) => return Err(format!("order {i}: not active after 30 s ({status})")),
                _ => std::thread::sleep(Duration::from_millis(2)),
            }
        }
        waits.push(paid.elapsed());
    }
    running.stop();
    drop(stand_in.stop(false));
    waits.sort();
    let pick = |q: f64| waits[((waits.len() as f64 * q).ceil() as usize).clamp(1, waits.len()) - 1];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "  paid → active: p50 {:.0} ms, p99 {:.0} ms, worst {:.0} ms ({} accounts on the stand-in)",
        ms(pick(0.50)),
        ms(pick(0.99)),
        ms(pick(1.0)),
        whm.accounts().len()
    );
    Ok(())
}
