//! Server and service rows and their queries (diesel only).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use keel_shared::catalog::BillingCycle;
use keel_shared::orders::ServiceStatus;
use keel_shared::provisioning::{
    CancelWhen, CancellationRequest, ModuleKind, Server, ServerCheck, ServerStatus, Service, ServiceFilter, ServiceSummary,
};
use keel_shared::{Currency, Page};

use crate::db::paging::{Cursor, Paging};
use crate::db::DbConn;
use crate::error::ApiError;
use crate::schema::{order_items, products, server_checks, servers, service_events, service_usage, services, users};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = servers)]
#[diesel(treat_none_as_null = true)]
pub struct ServerRow {
    pub id: String,
    pub name: String,
    pub hostname: String,
    pub ip: Option<String>,
    pub location: String,
    pub module: String,
    pub sandbox: bool,
    pub api_url: String,
    pub username: String,
    pub secret_sealed: Option<String>,
    pub nameservers: String,
    pub max_accounts: i32,
    pub current_accounts: i32,
    pub status: String,
    pub disk_gb: Option<i32>,
    pub ram_mb: Option<i32>,
    pub healthy: bool,
    pub last_check_at: Option<NaiveDateTime>,
    pub latency_ms: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl ServerRow {
    pub fn module(&self) -> Result<ModuleKind, ApiError> {
        ModuleKind::parse(&self.module).ok_or_else(|| ApiError::internal(format!("unknown module '{}'", self.module)))
    }

    pub fn nameservers(&self) -> Vec<String> {
        serde_json::from_str(&self.nameservers).unwrap_or_default()
    }

    pub fn to_dto(&self) -> Result<Server, ApiError> {
        Ok(Server {
            id: self.id.clone().into(),
            name: self.name.clone(),
            hostname: self.hostname.clone(),
            ip: self.ip.clone(),
            location: self.location.clone(),
            module: self.module()?,
            sandbox: self.sandbox,
            api_url: self.api_url.clone(),
            username: self.username.clone(),
            has_credentials: self.secret_sealed.is_some() || self.sandbox,
            nameservers: self.nameservers(),
            max_accounts: self.max_accounts,
            current_accounts: self.current_accounts,
            status: ServerStatus::parse(&self.status).ok_or_else(|| ApiError::internal("server status"))?,
            disk_gb: self.disk_gb,
            ram_mb: self.ram_mb,
            healthy: self.healthy,
            last_check_at: self.last_check_at.map(|t| t.and_utc()),
            latency_ms: self.latency_ms,
            last_error: self.last_error.clone(),
            created_at: self.created_at.and_utc(),
        })
    }
}

/// A service with what provisioning needs of its order line and product.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = services)]
pub struct ServiceRow {
    pub id: String,
    pub account_id: String,
    pub order_id: String,
    pub order_item_id: String,
    pub product_id: String,
    pub status: String,
    pub cycle: String,
    pub currency: String,
    pub first_minor: i64,
    pub recurring_minor: i64,
    pub domain: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub server_id: Option<String>,
    pub package: Option<String>,
    pub username: Option<String>,
    pub secret_sealed: Option<String>,
    pub ip: Option<String>,
    pub anchor_on: Option<NaiveDate>,
    pub next_due_on: Option<NaiveDate>,
    pub suspend_reason: Option<String>,
    pub last_error: Option<String>,
    pub cancel_when: Option<String>,
    pub cancel_reason: Option<String>,
    pub activated_at: Option<NaiveDateTime>,
    pub terminated_at: Option<NaiveDateTime>,
    /// The plan's name once a change made it differ from the order line's.
    pub plan_name: Option<String>,
    /// The chosen options and add-ons (JSON `CartLine`) once a change made them differ.
    pub config: Option<String>,
    /// The recurring price's items (JSON `[PriceItem]`) once a change made them differ.
    pub items: Option<String>,
    pub period_paid_minor: Option<i64>,
    /// The due date of the first period not invoiced yet (renewals).
    pub next_invoice_on: Option<NaiveDate>,
}

impl ServiceRow {
    pub fn status(&self) -> Result<ServiceStatus, ApiError> {
        ServiceStatus::parse(&self.status).ok_or_else(|| ApiError::internal(format!("unknown service status '{}'", self.status)))
    }

    pub fn cycle(&self) -> Result<BillingCycle, ApiError> {
        BillingCycle::parse(&self.cycle).ok_or_else(|| ApiError::internal("service cycle"))
    }

    pub fn currency(&self) -> Result<Currency, ApiError> {
        Currency::parse(&self.currency).ok_or_else(|| ApiError::internal("service currency"))
    }

    pub fn to_dto(&self, product_name: &str, server: Option<&str>) -> Result<Service, ApiError> {
        let cancellation = match (self.cancel_when.as_deref().and_then(CancelWhen::parse), &self.cancel_reason) {
            (Some(when), reason) => Some(CancellationRequest { when, reason: reason.clone().unwrap_or_default() }),
            _ => None,
        };
        Ok(Service {
            id: self.id.clone().into(),
            account_id: self.account_id.clone().into(),
            order_id: self.order_id.clone().into(),
            product_id: self.product_id.clone().into(),
            product_name: product_name.to_string(),
            domain: self.domain.clone(),
            status: self.status()?,
            cycle: self.cycle()?,
            currency: self.currency()?,
            first_minor: self.first_minor,
            recurring_minor: self.recurring_minor,
            anchor_on: self.anchor_on,
            next_due_on: self.next_due_on,
            package: self.package.clone(),
            server: server.map(str::to_string),
            server_id: self.server_id.clone().map(Into::into),
            username: self.username.clone(),
            ip: self.ip.clone(),
            has_control_panel: self.server_id.is_some() && self.username.is_some(),
            suspend_reason: self.suspend_reason.clone(),
            last_error: self.last_error.clone(),
            cancellation,
            options: Vec::new(),
            addon_ids: Vec::new(),
            activated_at: self.activated_at.map(|t| t.and_utc()),
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        })
    }
}

pub fn server(conn: &mut DbConn, id: &str) -> Result<Option<ServerRow>, ApiError> {
    Ok(servers::table.find(id).select(ServerRow::as_select()).first(conn).optional()?)
}

pub fn servers_all(conn: &mut DbConn) -> Result<Vec<ServerRow>, ApiError> {
    Ok(servers::table.order((servers::name.asc(), servers::id.asc())).select(ServerRow::as_select()).load(conn)?)
}

pub fn server_checks(conn: &mut DbConn, id: &str, limit: i64) -> Result<Vec<ServerCheck>, ApiError> {
    let rows: Vec<(NaiveDateTime, bool, Option<i32>, Option<String>)> = server_checks::table
        .filter(server_checks::server_id.eq(id))
        .order(server_checks::at.desc())
        .limit(limit)
        .select((server_checks::at, server_checks::up, server_checks::latency_ms, server_checks::error))
        .load(conn)?;
    Ok(rows.into_iter().map(|(at, up, latency_ms, error)| ServerCheck { at: at.and_utc(), up, latency_ms, error }).collect())
}

pub fn service(conn: &mut DbConn, id: &str) -> Result<Option<ServiceRow>, ApiError> {
    Ok(services::table.find(id).select(ServiceRow::as_select()).first(conn).optional()?)
}

/// The product's module and package, and the order line's product name.
#[derive(Debug, Clone)]
pub struct Placement {
    pub product_name: String,
    pub module: Option<String>,
    pub package: Option<String>,
}

pub fn placement(conn: &mut DbConn, svc: &ServiceRow) -> Result<Placement, ApiError> {
    let (module, package): (Option<String>, Option<String>) =
        products::table.find(&svc.product_id).select((products::module, products::package)).first(conn)?;
    let product_name = plan_name(conn, svc)?;
    Ok(Placement { product_name, module, package })
}

/// The name of a service's plan: the order line's, until a change gave it another.
pub fn plan_name(conn: &mut DbConn, svc: &ServiceRow) -> Result<String, ApiError> {
    match &svc.plan_name {
        Some(name) => Ok(name.clone()),
        None => Ok(order_items::table.find(&svc.order_item_id).select(order_items::product_name).first(conn)?),
    }
}

/// What a service has now: its plan, options and add-ons (a cart line of one unit) and the items
/// of its recurring price per period. The order line's until a change gave it others.
#[derive(Debug, Clone)]
pub struct Current {
    pub line: keel_shared::cart::CartLine,
    pub items: Vec<keel_shared::proration::PriceItem>,
}

pub(super) fn parse<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, ApiError> {
    serde_json::from_str(text).map_err(|e| ApiError::internal(format!("service {what}: {e}")))
}

pub fn current(conn: &mut DbConn, svc: &ServiceRow) -> Result<Current, ApiError> {
    let (config, items) = match (&svc.config, &svc.items) {
        (Some(c), Some(i)) => (c.clone(), parse(i, "items")?),
        _ => {
            let (config, items): (String, String) =
                order_items::table.find(&svc.order_item_id).select((order_items::config, order_items::items)).first(conn)?;
            let quoted: Vec<keel_shared::cart::QuoteItem> = parse(&items, "order line items")?;
            let items = quoted
                .into_iter()
                .map(|i| keel_shared::proration::PriceItem { description: i.description, amount_minor: i.renewal_minor })
                .collect();
            (config, items)
        }
    };
    let mut line: keel_shared::cart::CartLine = parse(&config, "config")?;
    line.quantity = 1;
    Ok(Current { line, items })
}

/// What the client chose among the product's configurable options for this service, by option
/// name in lower case: the value's label (`location` → `Helsinki`), or the number of units.
pub fn module_settings(conn: &mut DbConn, svc: &ServiceRow) -> Result<std::collections::BTreeMap<String, String>, ApiError> {
    use crate::schema::{config_option_values, config_options};
    let line = current(conn, svc)?.line;
    let mut out = std::collections::BTreeMap::new();
    for choice in &line.options {
        let Some(name) =
            config_options::table.find(choice.option_id.as_str()).select(config_options::name).first::<String>(conn).optional()?
        else {
            continue;
        };
        let value = match &choice.value_id {
            Some(v) => config_option_values::table.find(v.as_str()).select(config_option_values::label).first::<String>(conn).optional()?,
            None => choice.quantity.map(|q| q.to_string()),
        };
        if let Some(value) = value {
            out.insert(name.trim().to_lowercase(), value);
        }
    }
    Ok(out)
}

/// A service as its owner or the back office sees it.
pub fn service_dto(conn: &mut DbConn, svc: &ServiceRow) -> Result<Service, ApiError> {
    let product_name = plan_name(conn, svc)?;
    let server: Option<(String, String)> = match &svc.server_id {
        Some(id) => servers::table.find(id).select((servers::name, servers::module)).first(conn).optional()?,
        None => None,
    };
    let mut dto = svc.to_dto(&product_name, server.as_ref().map(|(name, _)| name.as_str()))?;
    // Only panels sign clients in (a cloud server has none).
    dto.has_control_panel &= server.is_some_and(|(_, module)| module == ModuleKind::Cpanel.as_str());
    let now = current(conn, svc)?.line;
    dto.options = now.options;
    dto.addon_ids = now.addon_ids;
    Ok(dto)
}

/// Services newest first: one account's, or (back office) every account's.
pub fn list(conn: &mut DbConn, filter: &ServiceFilter, account: Option<&str>) -> Result<Page<ServiceSummary>, ApiError> {
    let paging = Paging::new(filter.paging.clone())?;
    let account = account.map(str::to_string).or_else(|| filter.account_id.clone().map(String::from));
    let server = filter.server_id.clone().map(String::from);
    let prefix = filter.q.as_ref().map(|q| q.trim().to_ascii_lowercase());
    macro_rules! base {
        () => {{
            let mut q = services::table.into_boxed();
            if let Some(s) = filter.status {
                q = q.filter(services::status.eq(s.as_str()));
            }
            if let Some(a) = &account {
                q = q.filter(services::account_id.eq(a.clone()));
            }
            if let Some(s) = &server {
                q = q.filter(services::server_id.eq(s.clone()));
            }
            if let Some(p) = &prefix {
                q = q.filter(services::domain.ge(p.clone())).filter(services::domain.lt(format!("{p}\u{7f}")));
            }
            q
        }};
    }
    let total = crate::count_capped!(conn, base!(), services::created_at, services::id);
    let rows: Vec<ServiceRow> =
        crate::keyset!(base!(), services::created_at, services::id, &paging).select(ServiceRow::as_select()).load(conn)?;
    let page = paging.finish(rows, total, |r: &ServiceRow| Cursor { at: r.created_at, id: r.id.clone() });
    let items: Vec<&str> = page.items.iter().map(|r| r.order_item_id.as_str()).collect();
    let names: Vec<(String, String)> =
        order_items::table.filter(order_items::id.eq_any(&items)).select((order_items::id, order_items::product_name)).load(conn)?;
    let accounts: Vec<&str> = page.items.iter().map(|r| r.account_id.as_str()).collect();
    let emails: Vec<(String, String)> = users::table.filter(users::id.eq_any(&accounts)).select((users::id, users::email)).load(conn)?;
    page.try_map(|r| {
        Ok(ServiceSummary {
            email: emails.iter().find(|(id, _)| *id == r.account_id).map(|(_, e)| e.clone()).unwrap_or_default(),
            product_name: match &r.plan_name {
                Some(name) => name.clone(),
                None => names.iter().find(|(i, _)| *i == r.order_item_id).map(|(_, n)| n.clone()).unwrap_or_default(),
            },
            status: r.status()?,
            cycle: r.cycle()?,
            currency: r.currency()?,
            id: r.id.into(),
            account_id: r.account_id.into(),
            product_id: r.product_id.into(),
            domain: r.domain,
            recurring_minor: r.recurring_minor,
            next_due_on: r.next_due_on,
            created_at: r.created_at.and_utc(),
        })
    })
}

/// Writes one line of a service's history.
pub fn event(conn: &mut DbConn, at: NaiveDateTime, service_id: &str, action: &str, ok: bool, detail: &str) -> Result<(), ApiError> {
    let detail: String = detail.chars().take(2000).collect();
    diesel::insert_into(service_events::table)
        .values((
            service_events::id.eq(crate::ids::new_id()),
            service_events::service_id.eq(service_id),
            service_events::at.eq(at),
            service_events::action.eq(action),
            service_events::ok.eq(ok),
            service_events::detail.eq(detail),
        ))
        .execute(conn)?;
    Ok(())
}

/// A service's history, newest first.
pub fn events(conn: &mut DbConn, service_id: &str) -> Result<Vec<keel_shared::provisioning::ServiceEvent>, ApiError> {
    let rows: Vec<(NaiveDateTime, String, bool, String)> = service_events::table
        .filter(service_events::service_id.eq(service_id))
        .order((service_events::at.desc(), service_events::id.desc()))
        .limit(200)
        .select((service_events::at, service_events::action, service_events::ok, service_events::detail))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(at, action, ok, detail)| keel_shared::provisioning::ServiceEvent { at: at.and_utc(), action, ok, detail })
        .collect())
}

/// A service's daily use, oldest first (the last `days`).
pub fn usage(conn: &mut DbConn, service_id: &str, days: i64) -> Result<Vec<keel_shared::provisioning::UsagePoint>, ApiError> {
    let mut rows: Vec<(NaiveDate, i64, i64)> = service_usage::table
        .filter(service_usage::service_id.eq(service_id))
        .order(service_usage::day.desc())
        .limit(days)
        .select((service_usage::day, service_usage::disk_mb, service_usage::bandwidth_mb))
        .load(conn)?;
    rows.reverse();
    Ok(rows.into_iter().map(|(day, disk_mb, bandwidth_mb)| keel_shared::provisioning::UsagePoint { day, disk_mb, bandwidth_mb }).collect())
}
