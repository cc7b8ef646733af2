//! The cart: what a customer is about to buy, and the quote the API (and the browser, with the
//! same code in [`crate::pricing`]) computes for it.

use serde::{Deserialize, Serialize};
use validator::Validate;

use crate::catalog::BillingCycle;
use crate::ids::{AddonId, OptionId, OptionValueId, ProductId};
use crate::money::Currency;

/// At most this many lines in a cart.
pub const CART_LINES_MAX: u64 = 50;
/// At most this many promo codes together.
pub const PROMO_CODES_MAX: u64 = 5;
/// At most this many of one line.
pub const LINE_QUANTITY_MAX: u32 = 100;

/// The value chosen for one configurable option.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OptionChoice {
    pub option_id: OptionId,
    /// Dropdown and radio options: the chosen value (default: the first).
    #[serde(default)]
    pub value_id: Option<OptionValueId>,
    /// Quantity options: the number of units (default: the minimum); yes/no options: 1 for yes,
    /// 0 for no (default: no).
    #[serde(default)]
    #[validate(range(min = 0, max = 1_000_000))]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1000000))]
    pub quantity: Option<i64>,
}

crate::text_enum! {
    /// What happens to the domain a hosting line is for.
    pub enum DomainAction {
        /// Register a new domain with the order.
        Register = "register",
        /// Transfer a domain in from another registrar.
        Transfer = "transfer",
        /// Use a domain the client already holds.
        Existing = "existing",
    }
}

/// The domain a line (hosting) is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DomainChoice {
    pub action: DomainAction,
    /// A fully qualified domain name such as `example.com` (lower-cased when stored).
    #[validate(length(min = 3, max = 253), custom(function = "crate::validation::domain_name"))]
    #[cfg_attr(feature = "openapi", schema(min_length = 3, max_length = 253))]
    pub name: String,
}

/// One line of a cart: a product on a cycle with its options, add-ons and domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CartLine {
    pub product_id: ProductId,
    pub cycle: BillingCycle,
    /// How many of it (default 1).
    #[serde(default = "one")]
    #[validate(range(min = 1, max = LINE_QUANTITY_MAX))]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100))]
    pub quantity: u32,
    #[serde(default)]
    #[validate(length(max = 50), nested)]
    #[cfg_attr(feature = "openapi", schema(max_items = 50))]
    pub options: Vec<OptionChoice>,
    #[serde(default)]
    #[validate(length(max = 50))]
    #[cfg_attr(feature = "openapi", schema(max_items = 50))]
    pub addon_ids: Vec<AddonId>,
    #[serde(default)]
    #[validate(nested)]
    pub domain: Option<DomainChoice>,
}

fn one() -> u32 {
    1
}

/// A cart to price: `POST /cart/quote`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuoteRequest {
    /// The currency to price in (default: a signed-in client's profile currency, else the
    /// shop's default currency).
    #[serde(default)]
    pub currency: Option<Currency>,
    #[validate(length(min = 1, max = CART_LINES_MAX), nested)]
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 50))]
    pub lines: Vec<CartLine>,
    /// Promo codes (letters, digits, `-` and `_`; case does not matter). More than one only
    /// when every one of them is stackable.
    #[serde(default)]
    #[validate(length(max = PROMO_CODES_MAX), custom(function = "crate::validation::promo_codes"))]
    #[cfg_attr(feature = "openapi", schema(max_items = 5))]
    pub promo_codes: Vec<String>,
    /// Where the buyer is, for tax (ISO 3166-1 alpha-2). A signed-in client's billing address
    /// is used instead.
    #[serde(default)]
    #[validate(custom(function = "crate::validation::country"))]
    #[cfg_attr(feature = "openapi", schema(min_length = 2, max_length = 2))]
    pub country: Option<String>,
    /// State or region, for tax rules that differ by state.
    #[serde(default)]
    #[validate(length(min = 1, max = 100))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub state: Option<String>,
    /// An EU VAT id (`DE123456789`), for the reverse charge. A signed-in client's tax id is used
    /// instead.
    #[serde(default)]
    #[validate(length(min = 4, max = 20))]
    #[cfg_attr(feature = "openapi", schema(min_length = 4, max_length = 20))]
    pub vat_id: Option<String>,
}

/// A cart as it is kept: in the browser for a guest (localStorage), on the server for a
/// signed-in client (`GET`/`PUT /cart`), merged into the server's on sign-in
/// (`POST /cart/merge`). Nothing in it is priced: quotes are computed from it each time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Cart {
    /// The currency chosen in the storefront (none: the shop's default).
    #[serde(default)]
    pub currency: Option<Currency>,
    #[serde(default)]
    #[validate(length(max = CART_LINES_MAX), nested)]
    #[cfg_attr(feature = "openapi", schema(max_items = 50))]
    pub lines: Vec<CartLine>,
    /// The promo codes applied.
    #[serde(default)]
    #[validate(length(max = PROMO_CODES_MAX), custom(function = "crate::validation::promo_codes"))]
    #[cfg_attr(feature = "openapi", schema(max_items = 5))]
    pub promo_codes: Vec<String>,
    /// A guest's country and VAT id, for tax (a signed-in client's profile is used instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(custom(function = "crate::validation::country"))]
    #[cfg_attr(feature = "openapi", schema(min_length = 2, max_length = 2))]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(length(min = 4, max = 20))]
    #[cfg_attr(feature = "openapi", schema(min_length = 4, max_length = 20))]
    pub vat_id: Option<String>,
}

impl Cart {
    /// Adds a guest's cart to this one: its lines not already here (the same line twice is
    /// kept once), up to [`CART_LINES_MAX`]; its codes not already here; its currency, country
    /// and VAT id where this cart has none. Returns how many lines did not fit.
    pub fn merge(&mut self, guest: Cart) -> usize {
        let mut dropped = 0;
        for line in guest.lines {
            if self.lines.contains(&line) {
                continue;
            }
            if self.lines.len() as u64 >= CART_LINES_MAX {
                dropped += 1;
                continue;
            }
            self.lines.push(line);
        }
        for code in guest.promo_codes {
            if self.promo_codes.len() as u64 >= PROMO_CODES_MAX || self.promo_codes.iter().any(|c| c.eq_ignore_ascii_case(&code)) {
                continue;
            }
            self.promo_codes.push(code);
        }
        self.currency = self.currency.or(guest.currency);
        self.country = self.country.take().or(guest.country);
        self.vat_id = self.vat_id.take().or(guest.vat_id);
        dropped
    }
}

crate::text_enum! {
    /// What a priced item of a line is.
    pub enum ItemKind {
        Product = "product",
        Option = "option",
        Addon = "addon",
    }
}

/// One priced part of a line: the product, an option value or an add-on (per unit of the line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuoteItem {
    pub kind: ItemKind,
    /// "VPS 2", "RAM: 8 GB", "Disk: 100 GB", "Daily backups".
    pub description: String,
    /// First cycle, per unit of the line.
    pub amount_minor: i64,
    pub setup_fee_minor: i64,
    /// Every later cycle, per unit of the line (0 for one-time and free).
    pub renewal_minor: i64,
}

/// A priced cart line. Money is in the quote's currency, in minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuotedLine {
    pub product_id: ProductId,
    pub product_name: String,
    pub cycle: BillingCycle,
    pub quantity: u32,
    pub items: Vec<QuoteItem>,
    /// First payment before discount and tax: (items' amounts + setup fees) × quantity.
    pub subtotal_minor: i64,
    /// The promo's discount on this line (never more than the line).
    pub discount_minor: i64,
    /// Tax on this line (rounded on the line: see `pricing`).
    pub tax_minor: i64,
    /// What this line adds to the first payment: subtotal − discount, plus tax when prices
    /// exclude it.
    pub total_minor: i64,
    /// What each later cycle costs before tax, after a recurring discount (0 when the cycle does
    /// not renew).
    pub renewal_minor: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<DomainChoice>,
}

/// A tax charged, summed over the lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaxLine {
    /// "VAT", "GST", "Sales tax".
    pub name: String,
    /// Rate in basis points (2000 = 20 %).
    pub rate_bp: u32,
    pub amount_minor: i64,
}

/// The price of a cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Quote {
    pub currency: Currency,
    pub lines: Vec<QuotedLine>,
    /// Sum of the lines' subtotals.
    pub subtotal_minor: i64,
    /// Sum of the lines' discounts.
    pub discount_minor: i64,
    pub tax_lines: Vec<TaxLine>,
    /// Sum of the lines' taxes.
    pub tax_minor: i64,
    /// The first payment: sum of the lines' totals.
    pub total_minor: i64,
    /// Prices include tax: `tax_minor` is contained in the total, not added to it.
    pub tax_inclusive: bool,
    /// No tax is charged: an EU business customer in another member state (the customer accounts
    /// for the VAT).
    pub reverse_charge: bool,
    /// The promo codes applied, upper-cased, in the order they took their discounts.
    #[serde(default)]
    pub promo_codes: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::BillingCycle;

    fn line(product: &str) -> CartLine {
        CartLine {
            product_id: product.to_string().into(),
            cycle: BillingCycle::Monthly,
            quantity: 1,
            options: vec![],
            addon_ids: vec![],
            domain: None,
        }
    }

    #[test]
    fn merging_keeps_both_carts_lines_once_and_the_servers_choices() {
        let mut server =
            Cart { lines: vec![line("a")], promo_codes: vec!["SAVE5".into()], currency: Some(Currency::EUR), ..Cart::default() };
        let guest = Cart {
            lines: vec![line("a"), line("b")],
            promo_codes: vec!["save5".into(), "WELCOME10".into()],
            currency: Some(Currency::USD),
            country: Some("DE".into()),
            ..Cart::default()
        };
        assert_eq!(server.merge(guest), 0);
        assert_eq!(server.lines, vec![line("a"), line("b")]);
        assert_eq!(server.promo_codes, vec!["SAVE5".to_string(), "WELCOME10".to_string()]);
        assert_eq!((server.currency, server.country.as_deref()), (Some(Currency::EUR), Some("DE")));

        let full = Cart { lines: (0..CART_LINES_MAX).map(|i| line(&i.to_string())).collect(), ..Cart::default() };
        let mut merged = full.clone();
        assert_eq!(merged.merge(Cart { lines: vec![line("x"), line("0")], ..Cart::default() }), 1, "one did not fit, one was there");
        assert_eq!(merged, full);
    }

    #[test]
    fn a_list_too_long_is_counted_in_items() {
        use validator::Validate;
        let over = Cart { lines: (0..=CART_LINES_MAX).map(|i| line(&i.to_string())).collect(), ..Cart::default() };
        let errors = crate::validation::field_messages(&over.validate().unwrap_err());
        assert_eq!(errors["lines"], ["must be at most 50 items"]);
        let long = Cart { vat_id: Some("X".repeat(21)), ..Cart::default() };
        assert_eq!(crate::validation::field_messages(&long.validate().unwrap_err())["vat_id"], ["must be between 4 and 20 characters"]);
    }
}
