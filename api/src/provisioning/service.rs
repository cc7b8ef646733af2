//! Provisioning's use cases: servers (saved with sealed credentials, health-checked), placing a
//! service on the least loaded server with room, creating its account through the server's
//! module, and the rest of its life (suspend, unsuspend, terminate, change package or password,
//! cancellation, single sign-on, usage).
//!
//! Module calls are made outside any database transaction; the steps around them each open one,
//! write the service's history and audit entry, and queue e-mails and jobs in it. A step that
//! fails part-way leaves what it learnt on the service (its server, username and sealed password
//! are written before the account is created), so a retry finds the account an earlier attempt
//! made instead of making a second one.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use keel_shared::catalog::BillingCycle;
use keel_shared::orders::ServiceStatus;
use keel_shared::provisioning::{
    due_date, next_due_after, AdminService, CancelWhen, CancellationRequest, ModuleKind, Server, ServerCheck, ServerDetail, ServerInput,
    ServerStatus, Service, ServiceCredentials, ServiceFilter, ServiceSummary, ServiceUpdate, ServiceUsage,
};
use keel_shared::Page;

use super::module::{self, Endpoint, ModuleError, NewAccount};
use super::store::{self, ServerRow, ServiceRow};
use crate::audit::{self, Actor, Event};
use crate::automation::queue::{self, NewJob};
use crate::crypto;
use crate::db::{self, now_micros, DbConn};
use crate::deps::Deps;
use crate::error::ApiError;
use crate::notifications::outbox::{self, Category, Outgoing};
use crate::schema::{orders, server_checks, servers, service_usage, services, users};

/// The job that creates a service's account.
pub const CREATE: &str = "provisioning.create";
/// The job that carries out a lifecycle action later (cancellations, the billing run).
pub const ACTION: &str = "provisioning.action";

// ---------------------------------------------------------------------------------------------
// Servers

pub fn list_servers(conn: &mut DbConn) -> Result<Vec<Server>, ApiError> {
    store::servers_all(conn)?.iter().map(ServerRow::to_dto).collect()
}

pub fn get_server(conn: &mut DbConn, id: &str) -> Result<ServerDetail, ApiError> {
    let row = store::server(conn, id)?.ok_or_else(|| ApiError::not_found("server"))?;
    Ok(ServerDetail { server: row.to_dto()?, checks: store::server_checks(conn, id, 50)? })
}

/// Creates (`id` none) or changes a server. The token is sealed; an absent one keeps the saved
/// token on a change.
pub fn save_server(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    secret: &[u8],
    actor: &Actor,
    id: Option<&str>,
    input: &ServerInput,
) -> Result<Server, ApiError> {
    let sealed = input.secret.as_deref().map(|s| crypto::seal(secret, s.as_bytes())).transpose()?;
    let nameservers = serde_json::to_string(&input.nameservers).map_err(ApiError::internal)?;
    let api_url = input.api_url.clone().unwrap_or_else(|| default_api_url(input.module, &input.hostname));
    db::transaction(conn, |conn| {
        let at = now_micros(now);
        let row = match id {
            Some(id) => {
                let old = store::server(conn, id)?.ok_or_else(|| ApiError::not_found("server"))?;
                if old.sandbox && old.module != input.module.as_str() {
                    return Err(ApiError::field("module", "a sandbox server keeps its module"));
                }
                ServerRow {
                    name: input.name.trim().to_string(),
                    hostname: input.hostname.clone(),
                    ip: input.ip.clone(),
                    location: input.location.trim().to_string(),
                    module: input.module.as_str().into(),
                    api_url: if old.sandbox { old.api_url.clone() } else { api_url.clone() },
                    username: input.username.clone(),
                    secret_sealed: sealed.clone().or(old.secret_sealed.clone()),
                    nameservers: nameservers.clone(),
                    max_accounts: input.max_accounts,
                    status: input.status.as_str().into(),
                    disk_gb: input.disk_gb,
                    ram_mb: input.ram_mb,
                    updated_at: at,
                    ..old
                }
            }
            None => ServerRow {
                id: crate::ids::new_id(),
                name: input.name.trim().to_string(),
                hostname: input.hostname.clone(),
                ip: input.ip.clone(),
                location: input.location.trim().to_string(),
                module: input.module.as_str().into(),
                sandbox: false,
                api_url: api_url.clone(),
                username: input.username.clone(),
                secret_sealed: sealed.clone(),
                nameservers: nameservers.clone(),
                max_accounts: input.max_accounts,
                current_accounts: 0,
                status: input.status.as_str().into(),
                disk_gb: input.disk_gb,
                ram_mb: input.ram_mb,
                healthy: true,
                last_check_at: None,
                latency_ms: None,
                last_error: None,
                created_at: at,
                updated_at: at,
            },
        };
        if !row.sandbox && row.secret_sealed.is_none() {
            return Err(ApiError::field("secret", "the module's API token is required"));
        }
        let taken: i64 = servers::table.filter(servers::name.eq(&row.name)).filter(servers::id.ne(&row.id)).count().get_result(conn)?;
        if taken > 0 {
            return Err(ApiError::Conflict {
                code: "server_name_taken",
                detail: "another server has this name".into(),
                field: Some("name".into()),
            });
        }
        let action = if id.is_some() { "server.updated" } else { "server.created" };
        crate::each_backend!(conn, c => diesel::insert_into(servers::table).values(&row).on_conflict(servers::id).do_update().set(&row).execute(c))?;
        // Never the token: only whether one was set.
        audit::record(
            conn,
            now,
            actor,
            Event::new(action).target("server", &row.id).details(serde_json::json!({
                "name": row.name, "hostname": row.hostname, "module": row.module, "token_changed": input.secret.is_some(),
            })),
        )?;
        row.to_dto()
    })
}

fn default_api_url(module: ModuleKind, hostname: &str) -> String {
    match module {
        ModuleKind::Cpanel => format!("https://{hostname}:2087"),
        ModuleKind::Hetzner => "https://api.hetzner.cloud/v1".into(),
    }
}

/// Removes a server that has no live services.
pub fn delete_server(conn: &mut DbConn, now: DateTime<Utc>, actor: &Actor, id: &str) -> Result<(), ApiError> {
    db::transaction(conn, |conn| {
        let row = store::server(conn, id)?.ok_or_else(|| ApiError::not_found("server"))?;
        let live: i64 = services::table
            .filter(services::server_id.eq(id))
            .filter(services::status.ne_all([ServiceStatus::Terminated.as_str(), ServiceStatus::Cancelled.as_str()]))
            .count()
            .get_result(conn)?;
        if live > 0 {
            return Err(ApiError::Conflict {
                code: "server_in_use",
                detail: format!("{live} service(s) still live on this server: move or terminate them first"),
                field: None,
            });
        }
        diesel::update(services::table.filter(services::server_id.eq(id))).set(services::server_id.eq(None::<String>)).execute(conn)?;
        diesel::delete(servers::table.find(id)).execute(conn)?;
        audit::record(conn, now, actor, Event::new("server.deleted").target("server", id).details(serde_json::json!({"name": row.name})))
    })
}

/// The built-in sandbox servers, made on first start when there is no server at all: one of
/// the cPanel/WHM module and one of Hetzner Cloud, each backed by a stand-in in this process.
pub fn ensure_sandbox_server(conn: &mut DbConn, now: DateTime<Utc>) -> Result<bool, ApiError> {
    let any: i64 = servers::table.count().get_result(conn)?;
    if any > 0 {
        return Ok(false);
    }
    let at = now_micros(now);
    let sandbox = |name: &str, hostname: &str, module: ModuleKind, nameservers: &[&str]| -> Result<ServerRow, ApiError> {
        Ok(ServerRow {
            id: crate::ids::new_id(),
            name: name.into(),
            hostname: hostname.into(),
            ip: Some("192.0.2.10".into()),
            location: "Sandbox".into(),
            module: module.as_str().into(),
            sandbox: true,
            api_url: "in-process".into(),
            username: "root".into(),
            secret_sealed: None,
            nameservers: serde_json::to_string(nameservers).map_err(ApiError::internal)?,
            max_accounts: 500,
            current_accounts: 0,
            status: ServerStatus::Active.as_str().into(),
            disk_gb: Some(500),
            ram_mb: Some(32768),
            healthy: true,
            last_check_at: None,
            latency_ms: None,
            last_error: None,
            created_at: at,
            updated_at: at,
        })
    };
    let rows = [
        sandbox(
            "Sandbox (cPanel/WHM stand-in)",
            "sandbox.keel.test",
            ModuleKind::Cpanel,
            &["ns1.sandbox.keel.test", "ns2.sandbox.keel.test"],
        )?,
        sandbox("Sandbox (Hetzner Cloud stand-in)", "cloud.sandbox.keel.test", ModuleKind::Hetzner, &[])?,
    ];
    for row in &rows {
        diesel::insert_into(servers::table).values(row).execute(conn)?;
    }
    Ok(true)
}

/// How a module reaches a server: the sandbox's stand-in, or the server's own API with its
/// unsealed token.
fn endpoint(deps: &Deps, row: &ServerRow) -> Result<Endpoint, ApiError> {
    if row.sandbox {
        let module = row.module()?;
        let t = match module {
            ModuleKind::Cpanel => &deps.sandbox_whm,
            ModuleKind::Hetzner => &deps.sandbox_hetzner,
        };
        return Ok(Endpoint { module, api_url: t.api_url.clone(), username: t.username.clone(), secret: t.token.clone() });
    }
    let sealed = row.secret_sealed.as_deref().ok_or_else(|| ApiError::internal(format!("server '{}' has no API token", row.name)))?;
    let secret = String::from_utf8(crypto::open(&deps.secret, sealed)?).map_err(ApiError::internal)?;
    Ok(Endpoint { module: row.module()?, api_url: row.api_url.clone(), username: row.username.clone(), secret })
}

/// Runs a module call to completion from this synchronous code (see `outbound::block_on`).
fn run<T: Send, F>(fut: F) -> Result<T, ModuleError>
where
    F: std::future::Future<Output = Result<T, ModuleError>> + Send,
{
    crate::outbound::block_on(fut).unwrap_or_else(|e| Err(ModuleError::Retryable(e)))
}

/// Checks one server: the module's connection test, timed. Records the check and the server's
/// health; a server that turns unhealthy is skipped by placement and administrators are told.
pub fn check_server(deps: &Deps, conn: &mut DbConn, id: &str) -> Result<ServerCheck, ApiError> {
    let row = store::server(conn, id)?.ok_or_else(|| ApiError::not_found("server"))?;
    let ep = endpoint(deps, &row)?;
    let started = std::time::Instant::now();
    let outcome = run(async move {
        let m = module::connect(&ep)?;
        m.test_connection().await
    });
    let latency = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    let now = deps.clock.now();
    let check = ServerCheck {
        at: now,
        up: outcome.is_ok(),
        latency_ms: outcome.is_ok().then_some(latency),
        error: outcome.as_ref().err().map(ToString::to_string),
    };
    let mail = deps.mail();
    db::transaction(conn, |conn| {
        let at = now_micros(now);
        diesel::insert_into(server_checks::table)
            .values((
                server_checks::id.eq(crate::ids::new_id()),
                server_checks::server_id.eq(id),
                server_checks::at.eq(at),
                server_checks::up.eq(check.up),
                server_checks::latency_ms.eq(check.latency_ms),
                server_checks::error.eq(&check.error),
            ))
            .execute(conn)?;
        diesel::update(servers::table.find(id))
            .set((
                servers::healthy.eq(check.up),
                servers::last_check_at.eq(Some(at)),
                servers::latency_ms.eq(check.latency_ms),
                servers::last_error.eq(&check.error),
            ))
            .execute(conn)?;
        if row.healthy && !check.up {
            let why = check.error.clone().unwrap_or_default();
            tell_admins(conn, now, &mail, "server_down", &serde_json::json!({"server": row.name, "hostname": row.hostname, "error": why}))?;
        }
        Ok::<_, ApiError>(())
    })?;
    Ok(check)
}

/// Every server's health check (the `provisioning.health` task); keeps the last week of checks.
pub fn check_all(deps: &Deps, conn: &mut DbConn) -> Result<(usize, usize), ApiError> {
    let ids: Vec<String> = servers::table.select(servers::id).load(conn)?;
    let mut down = 0;
    for id in &ids {
        if !check_server(deps, conn, id)?.up {
            down += 1;
        }
    }
    let cutoff = now_micros(deps.clock.now() - chrono::Duration::days(7));
    diesel::delete(server_checks::table.filter(server_checks::at.lt(cutoff))).execute(conn)?;
    Ok((ids.len(), down))
}

/// Queues an e-mail to every administrator.
fn tell_admins(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    mail: &outbox::MailContext,
    template: &str,
    vars: &serde_json::Value,
) -> Result<(), ApiError> {
    let admins: Vec<(String, String)> =
        users::table.filter(users::role.eq(keel_shared::auth::Role::Admin.as_str())).select((users::id, users::email)).load(conn)?;
    for (id, email) in admins {
        outbox::queue_email(
            conn,
            now,
            mail,
            Outgoing { to: &email, user_id: Some(&id), template, category: Category::Transactional, vars },
        )?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Orders hand over

/// An order is paid and accepted (in that transaction): its pending services go to provisioning.
/// Services whose product has no module are active at once; the others get a create job.
pub fn start_order_in(conn: &mut DbConn, now: DateTime<Utc>, order_id: &str) -> Result<usize, ApiError> {
    let rows: Vec<ServiceRow> = services::table
        .filter(services::order_id.eq(order_id))
        .filter(services::status.eq(ServiceStatus::Pending.as_str()))
        .select(ServiceRow::as_select())
        .load(conn)?;
    let at = now_micros(now);
    let mut jobs = Vec::new();
    for svc in &rows {
        let place = store::placement(conn, svc)?;
        if place.module.is_none() {
            activate_in(conn, now, svc, None, "no provisioning module: active at once")?;
            continue;
        }
        store::event(conn, at, &svc.id, "queued", true, "paid: queued for provisioning")?;
        // Queued: the client's page says it is being set up, not waiting for payment.
        diesel::update(services::table.find(&svc.id))
            .set((services::status.eq(ServiceStatus::Provisioning.as_str()), services::updated_at.eq(at)))
            .execute(conn)?;
        jobs.push(NewJob::new(CREATE, serde_json::json!({"service_id": svc.id})).unique(format!("{CREATE}:{}", svc.id)).max_attempts(5));
    }
    queue::enqueue_many(conn, now, &jobs)?;
    Ok(rows.len())
}

/// Marks a service active: its due dates counted from the day it was ordered.
fn activate_in(conn: &mut DbConn, now: DateTime<Utc>, svc: &ServiceRow, ip: Option<&str>, detail: &str) -> Result<(), ApiError> {
    let at = now_micros(now);
    let cycle = svc.cycle()?;
    let anchor = svc.anchor_on.unwrap_or_else(|| svc.created_at.date());
    let next = svc.next_due_on.or_else(|| next_due_after(anchor, cycle, now.date_naive()).or_else(|| first_due(anchor, cycle)));
    diesel::update(services::table.find(&svc.id))
        .set((
            services::status.eq(ServiceStatus::Active.as_str()),
            services::anchor_on.eq(Some(anchor)),
            services::next_due_on.eq(next),
            services::next_invoice_on.eq(svc.next_invoice_on.or(next)),
            services::ip.eq(ip.map(str::to_string).or(svc.ip.clone())),
            services::last_error.eq(None::<String>),
            services::activated_at.eq(Some(at)),
            services::updated_at.eq(at),
        ))
        .execute(conn)?;
    store::event(conn, at, &svc.id, "activate", true, detail)?;
    audit::record(
        conn,
        now,
        &Actor::default(),
        Event::new("service.activated").account(&svc.account_id).target("service", &svc.id).details(serde_json::json!({"detail": detail})),
    )
}

fn first_due(anchor: chrono::NaiveDate, cycle: BillingCycle) -> Option<chrono::NaiveDate> {
    due_date(anchor, cycle, 1)
}

// ---------------------------------------------------------------------------------------------
// Creating an account

/// How a provisioning step ended when it did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepError {
    /// Try again later (the panel is unreachable, a lock).
    Retry(String),
    /// Trying again cannot help; the service is marked failed.
    Fail(String),
}

impl From<ApiError> for StepError {
    fn from(e: ApiError) -> Self {
        StepError::Retry(e.to_string())
    }
}

impl From<diesel::result::Error> for StepError {
    fn from(e: diesel::result::Error) -> Self {
        StepError::Retry(e.to_string())
    }
}

/// What the placing transaction decided.
struct Placed {
    svc: ServiceRow,
    server: ServerRow,
    username: String,
    password: String,
    package: String,
    domain: String,
    email: String,
    product_name: String,
    settings: std::collections::BTreeMap<String, String>,
}

/// Creates a service's account: places it on a server (or keeps the one an earlier attempt
/// chose), asks the module for the account unless the server already has it, and activates the
/// service with its login e-mailed to the client. `last_attempt`: a passing failure is final.
pub fn provision(deps: &Deps, conn: &mut DbConn, service_id: &str, last_attempt: bool) -> Result<(), StepError> {
    let now = deps.clock.now();
    let placed = match place(deps, conn, now, service_id)? {
        Some(p) => p,
        None => return Ok(()),
    };
    let ep = endpoint(deps, &placed.server)?;
    let account = NewAccount {
        username: placed.username.clone(),
        domain: placed.domain.clone(),
        password: placed.password.clone(),
        package: placed.package.clone(),
        contact_email: placed.email.clone(),
        settings: placed.settings.clone(),
    };
    let username = placed.username.clone();
    // A cloud server's name is Keel's own choice for this service: whatever has it is ours.
    let named_by_keel = placed.server.module()? == ModuleKind::Hetzner;
    let outcome = run(async move {
        let m = module::connect(&ep)?;
        // An earlier attempt may have made the account and died before it could say so.
        match m.find(username).await? {
            Some(existing) if named_by_keel || existing.domain.eq_ignore_ascii_case(&account.domain) => Ok((None, true, None)),
            Some(existing) => Err(ModuleError::Permanent(format!(
                "the server already has an account '{}' for another domain ({})",
                existing.username, existing.domain
            ))),
            None => m.create(account).await.map(|c| (c.ip, false, c.password)),
        }
    });
    let at = now_micros(deps.clock.now());
    match outcome {
        Ok((ip, found, chosen)) => {
            // A provider that picks the password itself (a cloud server's root password): that
            // one is the login, sealed in place of Keel's.
            let password = chosen.unwrap_or_else(|| placed.password.clone());
            let sealed = crypto::seal(&deps.secret, password.as_bytes())?;
            let mail = deps.mail();
            db::transaction(conn, |conn| {
                let svc = store::service(conn, service_id)?.ok_or_else(|| ApiError::not_found("service"))?;
                let detail = if found {
                    format!("account {} was already on {} (an earlier attempt made it)", placed.username, placed.server.name)
                } else {
                    format!("account {} created on {}", placed.username, placed.server.name)
                };
                store::event(conn, at, service_id, "create", true, &detail)?;
                diesel::update(services::table.find(service_id)).set(services::secret_sealed.eq(Some(&sealed))).execute(conn)?;
                activate_in(conn, deps.clock.now(), &svc, ip.as_deref(), &detail)?;
                let first = users::table.find(&svc.account_id).select(users::first_name).first::<String>(conn)?;
                let vars = serde_json::json!({
                    "first_name": first,
                    "service_name": placed.product_name,
                    "domain": placed.domain,
                    "username": placed.username,
                    "password": password,
                    "panel_url": format!("{}/dashboard/services/{}", mail.public_url, service_id),
                });
                // The password goes out in the e-mail; the outbox keeps it sealed until then.
                outbox::queue_email_sealed(
                    conn,
                    deps.clock.now(),
                    &mail,
                    &deps.secret,
                    Outgoing {
                        to: &placed.email,
                        user_id: Some(&svc.account_id),
                        template: "service_provisioned",
                        category: Category::Transactional,
                        vars: &vars,
                    },
                    &["password"],
                )?;
                Ok::<_, ApiError>(())
            })?;
            tracing::info!(service = service_id, server = %placed.server.name, "service provisioned");
            Ok(())
        }
        Err(ModuleError::Retryable(why)) if !last_attempt => {
            db::transaction(conn, |conn| {
                diesel::update(services::table.find(service_id)).set(services::last_error.eq(Some(&why))).execute(conn)?;
                store::event(conn, at, service_id, "create", false, &format!("{why} (will try again)"))
            })?;
            Err(StepError::Retry(why))
        }
        Err(e) => {
            // Refused: nothing was made, so the slot and the name go back. Unreachable to the
            // last: the account may exist, so the next attempt keeps looking for it there.
            let forget = if e.is_permanent() { Forget::Placement } else { Forget::Nothing };
            let why = e.to_string();
            fail_in_txn(deps, conn, &placed.svc, &placed.product_name, &placed.email, &why, forget)?;
            Err(StepError::Fail(why))
        }
    }
}

/// The placing transaction: checks the service may be provisioned, picks its server (claiming a
/// slot under the server's maximum), its username and password, and writes them down.
/// `None`: nothing to do (already active, or no module).
fn place(deps: &Deps, conn: &mut DbConn, now: DateTime<Utc>, service_id: &str) -> Result<Option<Placed>, StepError> {
    let at = now_micros(now);
    let secret = deps.secret.clone();
    let placed = db::transaction(conn, |conn| {
        let svc = store::service(conn, service_id)?.ok_or_else(|| ApiError::not_found("service"))?;
        let status = svc.status()?;
        match status {
            ServiceStatus::Pending | ServiceStatus::Provisioning | ServiceStatus::Failed => {}
            ServiceStatus::Active | ServiceStatus::Suspended => return Ok(Err(None)),
            other => return Ok(Err(Some(format!("a {} service is not provisioned", other.as_str())))),
        }
        let place = store::placement(conn, &svc)?;
        let email: String = users::table.find(&svc.account_id).select(users::email).first(conn)?;
        let Some(module) = place.module.as_deref() else {
            activate_in(conn, now, &svc, None, "no provisioning module: active at once")?;
            return Ok(Err(None));
        };
        let Some(kind) = ModuleKind::parse(module) else {
            return Ok(Ok(Err((svc, place.product_name, email, format!("the product's module '{module}' is not one Keel has")))));
        };
        let domain = match (kind, svc.domain.clone()) {
            (_, Some(d)) => d,
            // A VPS is named after the service when it has no domain.
            (ModuleKind::Hetzner, None) => vps_name(&svc.id),
            (ModuleKind::Cpanel, None) => {
                return Ok(Ok(Err((svc, place.product_name, email, "a hosting account needs a domain; the service has none".to_string()))));
            }
        };
        let settings = store::module_settings(conn, &svc)?;
        let server = match svc.server_id.as_deref().map(|id| store::server(conn, id)).transpose()?.flatten() {
            Some(s) => s,
            None => match claim_server(conn, at, kind, place_in(kind, &settings))? {
                Some(s) => s,
                None => {
                    return Ok(Ok(Err((
                        svc,
                        place.product_name,
                        email,
                        format!("no capacity: no healthy active {} server has a free slot (in the location chosen, if any)", kind.label()),
                    ))))
                }
            },
        };
        let (username, password) = match (&svc.username, &svc.secret_sealed) {
            (Some(u), Some(sealed)) => (u.clone(), String::from_utf8(crypto::open(&secret, sealed)?).map_err(ApiError::internal)?),
            _ => {
                let used: std::collections::HashSet<String> = services::table
                    .filter(services::server_id.eq(&server.id))
                    .filter(services::username.is_not_null())
                    .select(services::username.assume_not_null())
                    .load::<String>(conn)?
                    .into_iter()
                    .collect();
                let name = match kind {
                    ModuleKind::Cpanel => super::whm::username_for(&domain, &|u: &str| used.contains(u)),
                    ModuleKind::Hetzner => vps_name(&svc.id),
                };
                (name, super::whm::strong_password())
            }
        };
        let package = svc.package.clone().or(place.package.clone()).unwrap_or_else(|| "default".into());
        diesel::update(services::table.find(&svc.id))
            .set((
                services::status.eq(ServiceStatus::Provisioning.as_str()),
                services::server_id.eq(Some(&server.id)),
                services::username.eq(Some(&username)),
                services::secret_sealed.eq(Some(crypto::seal(&secret, password.as_bytes())?)),
                services::package.eq(Some(&package)),
                services::updated_at.eq(at),
            ))
            .execute(conn)?;
        if svc.server_id.is_none() {
            store::event(conn, at, &svc.id, "placed", true, &format!("on {} as {username}", server.name))?;
        }
        Ok::<_, ApiError>(Ok(Ok(Placed {
            svc,
            server,
            username,
            password,
            package,
            domain,
            email,
            product_name: place.product_name,
            settings,
        })))
    })?;
    match placed {
        Err(None) => Ok(None),
        Err(Some(why)) => Err(StepError::Fail(why)),
        Ok(Ok(p)) => Ok(Some(p)),
        Ok(Err((svc, name, email, why))) => {
            fail_in_txn(deps, conn, &svc, &name, &email, &why, Forget::Nothing)?;
            Err(StepError::Fail(why))
        }
    }
}

/// Takes a slot on the least loaded healthy active server of `kind` that has one. The slot is
/// taken by a conditional update, so two placements never overfill a server.
/// Where a service must be placed: the location the client chose, for modules whose servers
/// stand in one place (a cloud module passes it to the provider instead).
fn place_in(kind: ModuleKind, settings: &std::collections::BTreeMap<String, String>) -> Option<String> {
    match kind {
        ModuleKind::Cpanel => settings.get("location").cloned(),
        ModuleKind::Hetzner => None,
    }
}

/// `location`: only servers there (by name, any case).
fn claim_server(
    conn: &mut DbConn,
    at: chrono::NaiveDateTime,
    kind: ModuleKind,
    location: Option<String>,
) -> Result<Option<ServerRow>, ApiError> {
    let candidates: Vec<ServerRow> = servers::table
        .filter(servers::module.eq(kind.as_str()))
        .filter(servers::status.eq(ServerStatus::Active.as_str()))
        .filter(servers::healthy.eq(true))
        .filter(servers::current_accounts.lt(servers::max_accounts))
        .order((servers::current_accounts.asc(), servers::name.asc()))
        .select(ServerRow::as_select())
        .load(conn)?;
    let there = |s: &ServerRow| location.as_deref().is_none_or(|l| s.location.trim().eq_ignore_ascii_case(l.trim()));
    for s in candidates.into_iter().filter(there) {
        let took = diesel::update(servers::table.find(&s.id).filter(servers::current_accounts.lt(servers::max_accounts)))
            .set((servers::current_accounts.eq(servers::current_accounts + 1), servers::updated_at.eq(at)))
            .execute(conn)?;
        if took == 1 {
            return Ok(Some(ServerRow { current_accounts: s.current_accounts + 1, ..s }));
        }
    }
    Ok(None)
}

/// The name of a VPS whose service has no domain: a host name from the random end of the
/// service's id, the same on every attempt.
fn vps_name(service_id: &str) -> String {
    let hex: String = service_id.chars().filter(char::is_ascii_hexdigit).collect();
    format!("vps-{}", &hex[hex.len().saturating_sub(12)..])
}

/// What a failed service lets go of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Forget {
    Nothing,
    /// Its server slot, username and password: the next attempt places it afresh.
    Placement,
}

/// Marks a service failed with the reason (letting go of what `forget` says) and tells
/// administrators.
fn fail_in_txn(
    deps: &Deps,
    conn: &mut DbConn,
    svc: &ServiceRow,
    product_name: &str,
    email: &str,
    why: &str,
    forget: Forget,
) -> Result<(), ApiError> {
    let now = deps.clock.now();
    let at = now_micros(now);
    let mail = deps.mail();
    db::transaction(conn, |conn| {
        let current = store::service(conn, &svc.id)?.ok_or_else(|| ApiError::not_found("service"))?;
        if let (Forget::Placement, Some(server)) = (forget, &current.server_id) {
            diesel::update(servers::table.find(server).filter(servers::current_accounts.gt(0)))
                .set(servers::current_accounts.eq(servers::current_accounts - 1))
                .execute(conn)?;
            diesel::update(services::table.find(&svc.id))
                .set((
                    services::server_id.eq(None::<String>),
                    services::username.eq(None::<String>),
                    services::secret_sealed.eq(None::<String>),
                ))
                .execute(conn)?;
        }
        diesel::update(services::table.find(&svc.id))
            .set((services::status.eq(ServiceStatus::Failed.as_str()), services::last_error.eq(Some(why)), services::updated_at.eq(at)))
            .execute(conn)?;
        store::event(conn, at, &svc.id, "create", false, why)?;
        audit::record(
            conn,
            now,
            &Actor::default(),
            Event::new("service.provisioning_failed")
                .account(&svc.account_id)
                .target("service", &svc.id)
                .details(serde_json::json!({"error": why})),
        )?;
        tell_admins(
            conn,
            now,
            &mail,
            "service_provisioning_failed",
            &serde_json::json!({"service_name": product_name, "client_email": email, "error": why}),
        )
    })
}

/// Back office: provision a pending or failed service now (or again).
pub fn provision_now(deps: &Deps, conn: &mut DbConn, actor: &Actor, id: &str) -> Result<Service, ApiError> {
    let now = deps.clock.now();
    db::transaction(conn, |conn| {
        let svc = store::service(conn, id)?.ok_or_else(|| ApiError::not_found("service"))?;
        let status = svc.status()?;
        if !matches!(status, ServiceStatus::Pending | ServiceStatus::Failed) {
            return Err(state_conflict(status, "provisioned"));
        }
        let at = now_micros(now);
        // Conditional on the state read: concurrent requests queue one job between them (the
        // update holds the row until commit; a second one finds it changed or the job queued).
        let moved = diesel::update(services::table.find(id).filter(services::status.eq(status.as_str())))
            .set((
                services::status.eq(ServiceStatus::Provisioning.as_str()),
                services::last_error.eq(None::<String>),
                services::updated_at.eq(at),
            ))
            .execute(conn)?;
        if moved == 0 || create_job_pending(conn, id)? {
            return Err(ApiError::Conflict {
                code: "provisioning_queued",
                detail: "this service is already queued for provisioning".into(),
                field: None,
            });
        }
        store::event(conn, at, id, "queued", true, "provisioning requested by staff")?;
        // A fresh job even if an earlier one died: no unique key.
        queue::enqueue(conn, now, &NewJob::new(CREATE, serde_json::json!({"service_id": id})).max_attempts(5))?;
        audit::record(conn, now, actor, Event::new("service.provision_requested").account(&svc.account_id).target("service", id))?;
        let svc = store::service(conn, id)?.ok_or_else(|| ApiError::not_found("service"))?;
        store::service_dto(conn, &svc)
    })
}

/// Whether a create job for the service is waiting, running or due for a retry.
fn create_job_pending(conn: &mut DbConn, id: &str) -> Result<bool, ApiError> {
    use crate::schema::jobs;
    use keel_shared::automation::JobState;
    let n: i64 = jobs::table
        .filter(jobs::kind.eq(CREATE))
        .filter(jobs::state.eq_any([JobState::Queued.as_str(), JobState::Running.as_str(), JobState::Failed.as_str()]))
        .filter(jobs::payload.like(format!("%\"{id}\"%")))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

pub(super) fn state_conflict(status: ServiceStatus, verb: &str) -> ApiError {
    ApiError::Conflict {
        code: "service_state",
        detail: format!("a {} service cannot be {verb}", status.as_str()),
        field: Some("status".into()),
    }
}

// ---------------------------------------------------------------------------------------------
// The rest of a service's life

/// A lifecycle action on a service's account.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    Suspend { reason: String },
    Unsuspend,
    Terminate,
    ChangePackage { package: String },
    ChangePassword { password: String },
}

impl Action {
    fn name(&self) -> &'static str {
        match self {
            Action::Suspend { .. } => "suspend",
            Action::Unsuspend => "unsuspend",
            Action::Terminate => "terminate",
            Action::ChangePackage { .. } => "change_package",
            Action::ChangePassword { .. } => "change_password",
        }
    }

    fn past(&self) -> &'static str {
        match self {
            Action::Suspend { .. } => "suspended",
            Action::Unsuspend => "unsuspended",
            Action::Terminate => "terminated",
            Action::ChangePackage { .. } => "moved to another package",
            Action::ChangePassword { .. } => "given a new password",
        }
    }

    fn allowed(&self, s: ServiceStatus) -> bool {
        match self {
            Action::Suspend { .. } => s == ServiceStatus::Active,
            Action::Unsuspend => s == ServiceStatus::Suspended,
            Action::Terminate => {
                matches!(s, ServiceStatus::Active | ServiceStatus::Suspended | ServiceStatus::Failed | ServiceStatus::Pending)
            }
            Action::ChangePackage { .. } => s.is_live(),
            Action::ChangePassword { .. } => s == ServiceStatus::Active,
        }
    }
}

/// Carries out `action` on a service: the module first (outside any transaction), then the
/// service's new state, history, audit entry and the client's e-mail in one transaction.
/// Refusals by the panel are 409 `module_refused`; an unreachable panel 503.
pub fn perform(deps: &Deps, conn: &mut DbConn, actor: &Actor, id: &str, action: Action) -> Result<Service, ApiError> {
    let svc = store::service(conn, id)?.ok_or_else(|| ApiError::not_found("service"))?;
    let status = svc.status()?;
    if !action.allowed(status) {
        return Err(state_conflict(status, action.past()));
    }
    let server = match &svc.server_id {
        Some(sid) => store::server(conn, sid)?,
        None => None,
    };
    let live = status != ServiceStatus::Failed && status != ServiceStatus::Pending;
    if let (Some(server), Some(username)) = (&server, &svc.username) {
        let ep = endpoint(deps, server)?;
        let (username, act) = (username.clone(), action.clone());
        let outcome = run(async move {
            let m = module::connect(&ep)?;
            match act {
                Action::Suspend { reason } => m.suspend(username, reason).await,
                Action::Unsuspend => m.unsuspend(username).await,
                // An account already gone from the server is terminated (the module's contract).
                Action::Terminate => m.terminate(username).await,
                Action::ChangePackage { package } => m.change_package(username, package).await,
                Action::ChangePassword { password } => m.change_password(username, password).await,
            }
        });
        if let Err(e) = outcome {
            let at = now_micros(deps.clock.now());
            let why = e.to_string();
            db::transaction(conn, |conn| store::event(conn, at, id, action.name(), false, &why))?;
            return Err(match e {
                ModuleError::Permanent(why) => {
                    ApiError::Conflict { code: "module_refused", detail: format!("the control panel refused: {why}"), field: None }
                }
                ModuleError::Retryable(why) => ApiError::Unavailable(format!("the control panel cannot be reached: {why}")),
            });
        }
    }
    let now = deps.clock.now();
    let mail = deps.mail();
    let secret = deps.secret.clone();
    db::transaction(conn, |conn| {
        let at = now_micros(now);
        // Still in the state it was read in (the update holds the row until commit, so two
        // suspensions at once record one; the second is told the service changed).
        let same = diesel::update(services::table.find(id).filter(services::status.eq(status.as_str())))
            .set(services::updated_at.eq(at))
            .execute(conn)?;
        if same == 0 {
            return Err(ApiError::Conflict {
                code: "service_state",
                detail: "the service changed while this request ran; look at it again".into(),
                field: Some("status".into()),
            });
        }
        let (template, detail) = match &action {
            Action::Suspend { reason } => {
                diesel::update(services::table.find(id))
                    .set((
                        services::status.eq(ServiceStatus::Suspended.as_str()),
                        services::suspend_reason.eq(Some(reason)),
                        services::updated_at.eq(at),
                    ))
                    .execute(conn)?;
                (Some("service_suspended"), reason.clone())
            }
            Action::Unsuspend => {
                diesel::update(services::table.find(id))
                    .set((
                        services::status.eq(ServiceStatus::Active.as_str()),
                        services::suspend_reason.eq(None::<String>),
                        services::updated_at.eq(at),
                    ))
                    .execute(conn)?;
                (Some("service_unsuspended"), String::new())
            }
            Action::Terminate => {
                if let Some(server) = &svc.server_id {
                    diesel::update(servers::table.find(server).filter(servers::current_accounts.gt(0)))
                        .set(servers::current_accounts.eq(servers::current_accounts - 1))
                        .execute(conn)?;
                }
                diesel::update(services::table.find(id))
                    .set((
                        services::status.eq(ServiceStatus::Terminated.as_str()),
                        services::secret_sealed.eq(None::<String>),
                        services::terminated_at.eq(Some(at)),
                        services::next_due_on.eq(None::<chrono::NaiveDate>),
                        services::next_invoice_on.eq(None::<chrono::NaiveDate>),
                        services::updated_at.eq(at),
                    ))
                    .execute(conn)?;
                (if live { Some("service_terminated") } else { None }, String::new())
            }
            Action::ChangePackage { package } => {
                diesel::update(services::table.find(id))
                    .set((services::package.eq(Some(package)), services::updated_at.eq(at)))
                    .execute(conn)?;
                (None, format!("to {package}"))
            }
            Action::ChangePassword { password } => {
                diesel::update(services::table.find(id))
                    .set((services::secret_sealed.eq(Some(crypto::seal(&secret, password.as_bytes())?)), services::updated_at.eq(at)))
                    .execute(conn)?;
                (None, String::new())
            }
        };
        store::event(conn, at, id, action.name(), true, &detail)?;
        audit::record(
            conn,
            now,
            actor,
            Event::new(match &action {
                Action::Suspend { .. } => "service.suspended",
                Action::Unsuspend => "service.unsuspended",
                Action::Terminate => "service.terminated",
                Action::ChangePackage { .. } => "service.package_changed",
                Action::ChangePassword { .. } => "service.password_changed",
            })
            .account(&svc.account_id)
            .target("service", id)
            .details(serde_json::json!({"detail": detail})),
        )?;
        if let Some(template) = template {
            let place = store::placement(conn, &svc)?;
            let (email, first): (String, String) =
                users::table.find(&svc.account_id).select((users::email, users::first_name)).first(conn)?;
            let vars = serde_json::json!({"first_name": first, "service_name": place.product_name, "reason": detail});
            outbox::queue_email(
                conn,
                now,
                &mail,
                Outgoing { to: &email, user_id: Some(&svc.account_id), template, category: Category::Transactional, vars: &vars },
            )?;
        }
        let svc = store::service(conn, id)?.ok_or_else(|| ApiError::not_found("service"))?;
        store::service_dto(conn, &svc)
    })
}

/// A service for its owner (`account`) or the back office (`None`).
pub fn get(conn: &mut DbConn, id: &str, account: Option<&str>) -> Result<Service, ApiError> {
    let svc = owned(conn, id, account)?;
    let mut dto = store::service_dto(conn, &svc)?;
    if account.is_some() {
        // Provisioning errors speak of servers and panels: for staff only.
        dto.last_error = None;
    }
    Ok(dto)
}

pub(super) fn owned(conn: &mut DbConn, id: &str, account: Option<&str>) -> Result<ServiceRow, ApiError> {
    let svc = store::service(conn, id)?.ok_or_else(|| ApiError::not_found("service"))?;
    match account {
        Some(a) if a != svc.account_id => Err(ApiError::not_found("service")),
        _ => Ok(svc),
    }
}

pub fn admin_get(conn: &mut DbConn, id: &str) -> Result<AdminService, ApiError> {
    let svc = owned(conn, id, None)?;
    Ok(AdminService {
        service: store::service_dto(conn, &svc)?,
        events: store::events(conn, id)?,
        changes: super::changes::list(conn, id, None)?,
    })
}

pub fn list(conn: &mut DbConn, filter: &ServiceFilter, account: Option<&str>) -> Result<Page<ServiceSummary>, ApiError> {
    store::list(conn, filter, account)
}

/// The control panel login of an active or suspended service, for its owner (audited).
pub fn credentials(deps: &Deps, conn: &mut DbConn, actor: &Actor, id: &str, account: &str) -> Result<ServiceCredentials, ApiError> {
    let svc = owned(conn, id, Some(account))?;
    let status = svc.status()?;
    let (Some(username), Some(sealed), Some(server_id), true) = (&svc.username, &svc.secret_sealed, &svc.server_id, status.is_live())
    else {
        return Err(ApiError::Conflict {
            code: "service_state",
            detail: "the login is shown once the service is active".into(),
            field: None,
        });
    };
    let server = store::server(conn, server_id)?.ok_or_else(|| ApiError::not_found("server"))?;
    let password = String::from_utf8(crypto::open(&deps.secret, sealed)?).map_err(ApiError::internal)?;
    audit::record(conn, deps.clock.now(), actor, Event::new("service.credentials_viewed").account(account).target("service", id))?;
    Ok(ServiceCredentials {
        username: username.clone(),
        password,
        hostname: server.hostname.clone(),
        ip: svc.ip.clone().or(server.ip.clone()),
        nameservers: server.nameservers(),
    })
}

/// A one-time control panel login link for an active service.
pub fn sso(deps: &Deps, conn: &mut DbConn, actor: &Actor, id: &str, account: Option<&str>) -> Result<String, ApiError> {
    let svc = owned(conn, id, account)?;
    let status = svc.status()?;
    let (Some(username), Some(server_id), ServiceStatus::Active) = (&svc.username, &svc.server_id, status) else {
        return Err(ApiError::Conflict {
            code: "service_state",
            detail: "the control panel opens once the service is active".into(),
            field: None,
        });
    };
    let server = store::server(conn, server_id)?.ok_or_else(|| ApiError::not_found("server"))?;
    let ep = endpoint(deps, &server)?;
    let username = username.clone();
    let url = run(async move { module::connect(&ep)?.sso_url(username).await }).map_err(|e| match e {
        ModuleError::Permanent(why) => {
            ApiError::Conflict { code: "module_refused", detail: format!("the control panel refused: {why}"), field: None }
        }
        ModuleError::Retryable(why) => ApiError::Unavailable(format!("the control panel cannot be reached: {why}")),
    })?;
    audit::record(conn, deps.clock.now(), actor, Event::new("service.sso").account(&svc.account_id).target("service", id))?;
    Ok(url)
}

/// A client asks to cancel: at once (terminated by a job now) or at the end of the paid period
/// (the daily task terminates it on its next due date; it is not renewed).
pub fn request_cancellation(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    actor: &Actor,
    id: &str,
    account: &str,
    req: &CancellationRequest,
) -> Result<Service, ApiError> {
    db::transaction(conn, |conn| {
        let svc = owned(conn, id, Some(account))?;
        let status = svc.status()?;
        if !status.is_live() {
            return Err(state_conflict(status, "cancelled"));
        }
        let at = now_micros(now);
        // Once: a second request (or one racing this) finds the column set.
        let set = diesel::update(services::table.find(id).filter(services::cancel_when.is_null()))
            .set((
                services::cancel_when.eq(Some(req.when.as_str())),
                services::cancel_reason.eq(Some(&req.reason)),
                services::updated_at.eq(at),
            ))
            .execute(conn)?;
        if set == 0 {
            return Err(ApiError::Conflict {
                code: "cancellation_requested",
                detail: "a cancellation is already requested".into(),
                field: None,
            });
        }
        store::event(conn, at, id, "cancellation", true, &format!("requested ({}): {}", req.when.as_str(), req.reason))?;
        super::renewals::service_cancelled_in(conn, now, actor, id)?;
        if req.when == CancelWhen::Immediate {
            queue::enqueue(
                conn,
                now,
                &NewJob::new(ACTION, ActionJob { service_id: id.into(), action: Action::Terminate }).unique(format!("terminate:{id}")),
            )?;
        }
        audit::record(
            conn,
            now,
            actor,
            Event::new("service.cancellation_requested")
                .account(account)
                .target("service", id)
                .details(serde_json::json!({"when": req.when, "reason": req.reason})),
        )?;
        get(conn, id, Some(account))
    })
}

/// The payload of an `ACTION` job.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ActionJob {
    pub service_id: String,
    #[serde(flatten)]
    pub action: Action,
}

/// Back office: next due date, recurring price, package (the package goes to the panel first).
pub fn update(deps: &Deps, conn: &mut DbConn, actor: &Actor, id: &str, body: &ServiceUpdate) -> Result<Service, ApiError> {
    if let Some(package) = &body.package {
        let svc = owned(conn, id, None)?;
        if svc.package.as_deref() != Some(package.as_str()) {
            perform(deps, conn, actor, id, Action::ChangePackage { package: package.clone() })?;
        }
    }
    let now = deps.clock.now();
    db::transaction(conn, |conn| {
        let svc = owned(conn, id, None)?;
        let at = now_micros(now);
        if let Some(day) = body.next_due_on {
            // Periods before a later due date are paid: they are not invoiced either.
            let invoice_from = svc.next_invoice_on.map_or(day, |d| d.max(day));
            diesel::update(services::table.find(id))
                .set((services::next_due_on.eq(Some(day)), services::next_invoice_on.eq(Some(invoice_from))))
                .execute(conn)?;
        }
        if let Some(price) = body.recurring_minor {
            diesel::update(services::table.find(id)).set(services::recurring_minor.eq(price)).execute(conn)?;
        }
        diesel::update(services::table.find(id)).set(services::updated_at.eq(at)).execute(conn)?;
        audit::record(
            conn,
            now,
            actor,
            Event::new("service.updated").account(&svc.account_id).target("service", id).details(serde_json::json!({
                "next_due_on": body.next_due_on, "recurring_minor": body.recurring_minor, "package": body.package,
                "was": {"next_due_on": svc.next_due_on, "recurring_minor": svc.recurring_minor},
            })),
        )?;
        let svc = owned(conn, id, None)?;
        store::service_dto(conn, &svc)
    })
}

/// Services whose end-of-period cancellation has come are terminated (the daily task).
pub fn due_cancellations(conn: &mut DbConn, now: DateTime<Utc>) -> Result<usize, ApiError> {
    let ids: Vec<String> = services::table
        .filter(services::cancel_when.eq(CancelWhen::EndOfPeriod.as_str()))
        .filter(services::status.eq_any(ServiceStatus::LIVE.map(ServiceStatus::as_str)))
        .filter(services::next_due_on.le(now.date_naive()))
        .select(services::id)
        .load(conn)?;
    let jobs: Vec<NewJob> = ids
        .iter()
        .map(|id| NewJob::new(ACTION, ActionJob { service_id: id.clone(), action: Action::Terminate }).unique(format!("terminate:{id}")))
        .collect();
    queue::enqueue_many(conn, now, &jobs)
}

/// Reads every active account's disk and bandwidth use from its panel into today's row.
pub fn sync_usage(deps: &Deps, conn: &mut DbConn) -> Result<(usize, usize), ApiError> {
    let rows: Vec<ServiceRow> = services::table
        .filter(services::status.eq_any(ServiceStatus::LIVE.map(ServiceStatus::as_str)))
        .filter(services::server_id.is_not_null())
        .select(ServiceRow::as_select())
        .load(conn)?;
    let today = deps.clock.now().date_naive();
    let (mut read, mut failed) = (0, 0);
    for svc in rows {
        let (Some(server_id), Some(username)) = (&svc.server_id, &svc.username) else { continue };
        let Some(server) = store::server(conn, server_id)? else { continue };
        if !server.healthy {
            continue;
        }
        let ep = endpoint(deps, &server)?;
        let username = username.clone();
        match run(async move { module::connect(&ep)?.usage(username).await }) {
            Ok(u) => {
                crate::each_backend!(conn, c => diesel::insert_into(service_usage::table)
                    .values((
                        service_usage::service_id.eq(&svc.id),
                        service_usage::day.eq(today),
                        service_usage::disk_mb.eq(u.disk_used_mb),
                        service_usage::bandwidth_mb.eq(u.bandwidth_used_mb),
                    ))
                    .on_conflict((service_usage::service_id, service_usage::day))
                    .do_update()
                    .set((service_usage::disk_mb.eq(u.disk_used_mb), service_usage::bandwidth_mb.eq(u.bandwidth_used_mb)))
                    .execute(c))?;
                read += 1;
            }
            Err(e) => {
                failed += 1;
                tracing::warn!(service = %svc.id, error = %e, "usage not read");
            }
        }
    }
    Ok((read, failed))
}

pub fn usage(conn: &mut DbConn, id: &str, account: Option<&str>) -> Result<ServiceUsage, ApiError> {
    owned(conn, id, account)?;
    Ok(ServiceUsage { days: store::usage(conn, id, 30)? })
}

/// When an order is accepted after it was paid (manual acceptance), or paid after it was
/// accepted: hands its services to provisioning.
pub fn order_ready_in(conn: &mut DbConn, now: DateTime<Utc>, order_id: &str) -> Result<(), ApiError> {
    let status: String = orders::table.find(order_id).select(orders::status).first(conn)?;
    if status == keel_shared::orders::OrderStatus::Accepted.as_str() && crate::billing::store::order_paid(conn, order_id)? {
        start_order_in(conn, now, order_id)?;
    }
    Ok(())
}
