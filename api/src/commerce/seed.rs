//! Demo tax rules and promo codes, loaded with the demo catalog through the back office's own
//! service functions.

use chrono::{DateTime, Utc};
use keel_shared::commerce::{PromoCodeInput, TaxRuleInput};
use keel_shared::pricing::{PromoDuration, PromoKind};

use super::service;
use crate::audit::Actor;
use crate::db::DbConn;
use crate::error::ApiError;

/// (country, state, name, basis points, level, compound)
const TAX_RULES: &[(&str, &str, &str, u32, u8, bool)] = &[
    ("DE", "", "VAT", 1900, 1, false),
    ("FR", "", "VAT", 2000, 1, false),
    ("NL", "", "VAT", 2100, 1, false),
    ("GB", "", "VAT", 2000, 1, false),
    ("IN", "", "GST", 1800, 1, false),
    ("CA", "", "GST", 500, 1, false),
    // Québec's QST is 9.975 %: in whole basis points, 998.
    ("CA", "QC", "QST", 998, 2, false),
];

pub fn load_demo(conn: &mut DbConn, now: DateTime<Utc>) -> Result<(), ApiError> {
    let system = Actor::default();
    for (country, state, name, rate_bp, level, compound) in TAX_RULES {
        let body = TaxRuleInput {
            country: (*country).into(),
            state: (*state).into(),
            name: (*name).into(),
            rate_bp: *rate_bp,
            level: *level,
            compound: *compound,
        };
        service::save_tax_rule(conn, now, &system, None, &body)?;
    }
    let promo = |code: &str, kind, value, duration| PromoCodeInput {
        code: code.into(),
        kind,
        value,
        currency: None,
        duration,
        duration_cycles: None,
        product_ids: vec![],
        cycles: vec![],
        addon_ids: vec![],
        starts_at: None,
        expires_at: None,
        max_uses: None,
        once_per_client: true,
        new_clients_only: false,
        // The two demo codes combine.
        stackable: true,
        min_order_minor: None,
        active: true,
    };
    service::save_promo(conn, now, &system, None, &promo("WELCOME10", PromoKind::Percent, 1000, PromoDuration::Once))?;
    service::save_promo(
        conn,
        now,
        &system,
        None,
        &PromoCodeInput { min_order_minor: Some(2000), ..promo("SAVE5", PromoKind::Fixed, 500, PromoDuration::Forever) },
    )?;
    Ok(())
}
