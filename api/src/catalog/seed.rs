//! The demo catalog loaded into an empty database on first start: eight plans in four groups,
//! priced monthly and annually in USD (other currencies convert at the demo rates), VPS options
//! (RAM, extra disk, location, managed support), four add-ons and the shop's currencies. It goes
//! through the same service functions the back office uses.

use chrono::{DateTime, Utc};
use keel_shared::catalog::{
    AddonInput, BillingCycle, GroupInput, OptionInput, OptionKind, OptionValueInput, Price, ProductInput, ProductType,
};
use keel_shared::commerce::{CommerceSettings, CurrencyInput};
use keel_shared::Currency;

use super::service;
use crate::audit::Actor;
use crate::db::DbConn;
use crate::error::ApiError;

struct Plan {
    slug: &'static str,
    name: &'static str,
    kind: ProductType,
    group: &'static str,
    description: &'static str,
    features: &'static [&'static str],
    featured: bool,
    monthly: i64,
    annual: i64,
}

const PLANS: &[Plan] = &[
    Plan {
        slug: "shared-starter",
        name: "Starter",
        kind: ProductType::SharedHosting,
        group: "shared",
        description: "Everything a first website needs.",
        features: &["1 website", "10 GB SSD storage", "Free SSL certificate", "5 e-mail accounts", "Weekly backups"],
        featured: false,
        monthly: 499,
        annual: 4999,
    },
    Plan {
        slug: "shared-business",
        name: "Business",
        kind: ProductType::SharedHosting,
        group: "shared",
        description: "More room and speed for growing sites.",
        features: &["25 websites", "100 GB NVMe storage", "Free SSL and domain", "Unlimited e-mail", "Daily backups"],
        featured: true,
        monthly: 999,
        annual: 9999,
    },
    Plan {
        slug: "wordpress-starter",
        name: "WordPress Starter",
        kind: ProductType::WordpressHosting,
        group: "wordpress",
        description: "Managed WordPress with automatic updates.",
        features: &["1 WordPress site", "20 GB NVMe storage", "Automatic core updates", "Staging site", "Free SSL"],
        featured: false,
        monthly: 999,
        annual: 9999,
    },
    Plan {
        slug: "wordpress-pro",
        name: "WordPress Pro",
        kind: ProductType::WordpressHosting,
        group: "wordpress",
        description: "For busy WordPress and WooCommerce shops.",
        features: &["10 WordPress sites", "100 GB NVMe storage", "Object cache", "Malware scanning", "Priority support"],
        featured: true,
        monthly: 1999,
        annual: 19999,
    },
    Plan {
        slug: "vps-2",
        name: "VPS 2",
        kind: ProductType::Vps,
        group: "vps",
        description: "Your own virtual server with root access.",
        features: &["2 vCPU", "4 GB RAM", "80 GB NVMe", "4 TB traffic", "Full root access"],
        featured: false,
        monthly: 1999,
        annual: 19999,
    },
    Plan {
        slug: "vps-8",
        name: "VPS 8",
        kind: ProductType::Vps,
        group: "vps",
        description: "Dedicated resources for demanding applications.",
        features: &["8 vCPU", "32 GB RAM", "400 GB NVMe", "20 TB traffic", "Snapshots"],
        featured: false,
        monthly: 9999,
        annual: 99999,
    },
    Plan {
        slug: "cloud-startup",
        name: "Cloud Startup",
        kind: ProductType::Cloud,
        group: "cloud",
        description: "Managed cloud hosting with dedicated resources.",
        features: &["100 websites", "4 CPU cores", "8 GB RAM", "200 GB NVMe", "Dedicated IP"],
        featured: false,
        monthly: 1999,
        annual: 19999,
    },
    Plan {
        slug: "cloud-enterprise",
        name: "Cloud Enterprise",
        kind: ProductType::Cloud,
        group: "cloud",
        description: "Top performance and isolation for large sites.",
        features: &["300 websites", "16 CPU cores", "64 GB RAM", "1 TB NVMe", "Dedicated IP and CDN"],
        featured: false,
        monthly: 9999,
        annual: 99999,
    },
];

const GROUPS: &[(&str, &str, &str)] = &[
    ("shared", "Shared hosting", "Fast, managed hosting for websites and e-mail."),
    ("wordpress", "WordPress", "Managed WordPress with updates, staging and caching."),
    ("vps", "VPS", "Virtual servers with root access and dedicated resources."),
    ("cloud", "Cloud", "Managed cloud hosting for busy sites."),
];

/// (slug, name, description, monthly, annual, setup fee, for groups)
type DemoAddon = (&'static str, &'static str, &'static str, i64, i64, i64, &'static [&'static str]);
const ADDONS: &[DemoAddon] = &[
    ("ssl", "SSL certificate", "A domain-validated certificate, renewed automatically.", 499, 4999, 0, &["shared", "wordpress"]),
    (
        "daily-backups",
        "Daily backups",
        "Off-site backups every night, kept 30 days.",
        299,
        2999,
        0,
        &["shared", "wordpress", "vps", "cloud"],
    ),
    ("ddos-protection", "DDoS protection", "Always-on filtering of attack traffic.", 500, 5000, 0, &["vps", "cloud"]),
    ("dedicated-ip", "Dedicated IP", "An IPv4 address of your own.", 300, 3000, 500, &["vps", "cloud"]),
];

/// (code, rate in millionths of a USD)
const CURRENCIES: &[(Currency, i64)] =
    &[(Currency::USD, 1_000_000), (Currency::EUR, 920_000), (Currency::GBP, 790_000), (Currency::INR, 83_500_000)];

fn usd(cycle: BillingCycle, amount_minor: i64, setup_fee_minor: i64) -> Price {
    Price { cycle, currency: Currency::USD, amount_minor, setup_fee_minor, renewal_minor: None }
}

fn priced(monthly: i64, annual: i64) -> Vec<Price> {
    vec![usd(BillingCycle::Monthly, monthly, 0), usd(BillingCycle::Annually, annual, 0)]
}

fn value(label: &str, prices: Vec<Price>) -> OptionValueInput {
    OptionValueInput { id: None, label: label.into(), prices }
}

fn option(name: &str, kind: OptionKind, values: Vec<OptionValueInput>) -> OptionInput {
    OptionInput { id: None, name: name.into(), kind, hidden: false, min: 0, max: 0, step: 1, unit: String::new(), values }
}

/// The VPS configurator: RAM, extra disk, location, managed support.
/// The module and package a demo plan is provisioned with.
fn module_of(plan: &Plan) -> Option<(&'static str, String)> {
    match plan.kind {
        ProductType::SharedHosting | ProductType::WordpressHosting => Some(("cpanel", plan.slug.replace('-', "_"))),
        ProductType::Vps | ProductType::Cloud => {
            let server_type = match plan.slug {
                "vps-2" => "cx22",
                "vps-8" => "cx42",
                "cloud-startup" => "cx32",
                _ => "cx52",
            };
            Some(("hetzner", server_type.to_string()))
        }
        ProductType::Domain | ProductType::Other => None,
    }
}

fn vps_options() -> Vec<OptionInput> {
    vec![
        option(
            "RAM",
            OptionKind::Dropdown,
            vec![value("4 GB", vec![]), value("8 GB", priced(1000, 10000)), value("16 GB", priced(2500, 25000))],
        ),
        OptionInput {
            min: 0,
            max: 500,
            step: 50,
            unit: "GB".into(),
            ..option("Extra disk", OptionKind::Quantity, vec![value("per GB", priced(5, 50))])
        },
        option("Location", OptionKind::Radio, vec![value("Falkenstein", vec![]), value("Helsinki", vec![]), value("Ashburn", vec![])]),
        option("Managed support", OptionKind::YesNo, vec![value("Yes", priced(1500, 15000))]),
    ]
}

/// Loads the demo catalog into an empty one. Returns how many products were created.
pub fn load_demo_catalog(conn: &mut DbConn, now: DateTime<Utc>) -> Result<usize, ApiError> {
    let system = Actor::default();
    crate::db::transaction(conn, |conn| {
        if service::count(conn)? > 0 {
            return Ok(0);
        }
        for (i, (code, rate)) in CURRENCIES.iter().enumerate() {
            let body = CurrencyInput { rate_micros: *rate, is_default: i == 0, sort_order: i as i32 };
            service::put_currency(conn, now, &system, *code, &body)?;
        }
        service::update_settings(conn, now, &system, &CommerceSettings { home_country: Some("DE".into()), ..CommerceSettings::default() })?;
        let mut groups = Vec::new();
        for (i, (slug, name, description)) in GROUPS.iter().enumerate() {
            let body = GroupInput {
                slug: (*slug).into(),
                name: (*name).into(),
                description: (*description).into(),
                visible: true,
                sort_order: i as i32,
            };
            groups.push((*slug, service::save_group(conn, now, &system, None, &body)?.id));
        }
        let mut addons = Vec::new();
        for (i, (slug, name, description, monthly, annual, setup, for_groups)) in ADDONS.iter().enumerate() {
            let mut prices = priced(*monthly, *annual);
            for p in &mut prices {
                p.setup_fee_minor = *setup;
            }
            let body = AddonInput {
                slug: (*slug).into(),
                name: (*name).into(),
                description: (*description).into(),
                retired: false,
                sort_order: i as i32,
                prices,
            };
            addons.push((*for_groups, service::save_addon(conn, now, &system, None, &body)?.id));
        }
        for (i, plan) in PLANS.iter().enumerate() {
            let vps = plan.kind == ProductType::Vps;
            let body = ProductInput {
                slug: plan.slug.into(),
                name: plan.name.into(),
                product_type: plan.kind,
                group_id: groups.iter().find(|(g, _)| *g == plan.group).map(|(_, id)| id.clone()),
                description: plan.description.into(),
                features: plan.features.iter().map(|f| (*f).to_string()).collect(),
                featured: plan.featured,
                hidden: false,
                retired: false,
                requires_domain: matches!(plan.kind, ProductType::SharedHosting | ProductType::WordpressHosting),
                stock: None,
                // Hosting plans are created on cPanel/WHM servers with a package of the plan's
                // name; VPS and cloud plans are Hetzner Cloud servers of a server type (the
                // sandbox servers out of the box).
                module: module_of(plan).map(|(m, _)| m.to_string()),
                package: module_of(plan).map(|(_, p)| p),
                sort_order: i as i32,
                prices: priced(plan.monthly, plan.annual),
                options: if vps { vps_options() } else { Vec::new() },
                addon_ids: addons.iter().filter(|(g, _)| g.contains(&plan.group)).map(|(_, id)| id.clone()).collect(),
            };
            service::create_product(conn, now, &system, &body)?;
        }
        crate::commerce::seed::load_demo(conn, now)?;
        Ok(PLANS.len())
    })
}
