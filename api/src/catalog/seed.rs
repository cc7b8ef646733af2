//! The demo catalog loaded into an empty database on first start: eight hosting plans in four
//! families, priced monthly and annually in USD.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use keel_shared::catalog::{BillingCycle, ProductType};

use super::models::{PriceRow, ProductRow};
use crate::db::{now_micros, DbConn};
use crate::error::ApiError;
use crate::ids;
use crate::schema::{product_prices, products};

struct Plan {
    slug: &'static str,
    name: &'static str,
    kind: ProductType,
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
        description: "Top performance and isolation for large sites.",
        features: &["300 websites", "16 CPU cores", "64 GB RAM", "1 TB NVMe", "Dedicated IP and CDN"],
        featured: false,
        monthly: 9999,
        annual: 99999,
    },
];

/// Loads the demo plans into an empty catalog. Returns how many products were created.
pub fn load_demo_catalog(conn: &mut DbConn, now: DateTime<Utc>) -> Result<usize, ApiError> {
    crate::db::transaction(conn, |conn| {
        if super::service::count(conn)? > 0 {
            return Ok(0);
        }
        let at = now_micros(now);
        for (i, plan) in PLANS.iter().enumerate() {
            let row = ProductRow {
                id: ids::new_id(),
                slug: plan.slug.into(),
                name: plan.name.into(),
                product_type: plan.kind.as_str().into(),
                description: plan.description.into(),
                features: serde_json::to_string(plan.features).map_err(ApiError::internal)?,
                featured: plan.featured,
                active: true,
                sort_order: i32::try_from(i).unwrap_or(i32::MAX),
                created_at: at,
                updated_at: at,
            };
            diesel::insert_into(products::table).values(&row).execute(conn)?;
            let prices = [(BillingCycle::Monthly, plan.monthly), (BillingCycle::Annually, plan.annual)].map(|(cycle, amount)| PriceRow {
                product_id: row.id.clone(),
                cycle: cycle.as_str().into(),
                currency: "USD".into(),
                amount_minor: amount,
                setup_fee_minor: 0,
            });
            // One statement per row: multi-row inserts are not portable across the two backends.
            for price in &prices {
                diesel::insert_into(product_prices::table).values(price).execute(conn)?;
            }
        }
        crate::db::cache::publish(conn, crate::db::cache::Change::CatalogChanged)?;
        Ok(PLANS.len())
    })
}
