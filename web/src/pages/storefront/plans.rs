//! The public storefront: plan cards from `GET /catalog`, in the catalog's groups (hidden
//! products are left out: they are ordered by their link), with a monthly/yearly switch and the
//! shop's currencies. Each card leads to its configurator, `/order/:slug`. The cards are HTML
//! (see `components::shop` on size), redrawn when the tab, cycle or currency changes.

use std::sync::Arc;

use keel_shared::catalog::{BillingCycle, Catalog, Price, Product};
use keel_shared::Currency;
use leptos::prelude::*;
use leptos_router::components::A;

use crate::cart::use_cart;
use crate::components::icons::Check;
use crate::components::shop::{attr, currency_html, esc, money, on_currency, target, with_catalog};

/// The billing cycle the cards show (page context: the switch is drawn before the catalog loads).
#[derive(Clone, Copy)]
struct ShownCycle(RwSignal<BillingCycle>);

#[component]
pub fn StorefrontPage() -> impl IntoView {
    let cycle = RwSignal::new(BillingCycle::Monthly);
    provide_context(ShownCycle(cycle));

    view! {
        <section class="hero">
            <div class="container hero-inner">
                <p class="eyebrow">"Hosting for every project"</p>
                <h1>"Web hosting that just works"</h1>
                <p class="lead">"From a first website to a fleet of cloud servers: fast NVMe storage, free SSL, daily backups and people who answer when you need them."</p>
                <div class="hero-actions">
                    <a href="#plans" class="btn btn-primary btn-lg">"See plans"</a>
                    <A href="/register" attr:class="btn btn-outline btn-lg">"Create an account"</A>
                </div>
                <ul class="hero-points">
                    <li><Check/>"30-day money-back guarantee"</li>
                    <li><Check/>"99.9% uptime"</li>
                    <li><Check/>"24/7 support"</li>
                </ul>
            </div>
        </section>
        <section class="container plans-section" id="plans">
            <div class="section-head">
                <h2>"Choose your plan"</h2>
                <div class="cycle-switch" role="group" aria-label="Billing cycle">
                    <button type="button" class="seg" aria-pressed=move || (cycle.get() == BillingCycle::Monthly).to_string()
                        on:click=move |_| cycle.set(BillingCycle::Monthly)>"Monthly"</button>
                    <button type="button" class="seg" aria-pressed=move || (cycle.get() == BillingCycle::Annually).to_string()
                        on:click=move |_| cycle.set(BillingCycle::Annually)>"Yearly " <span class="save-tag">"save up to 16%"</span></button>
                </div>
            </div>
            {with_catalog(plans)}
        </section>
    }
}

/// A group of the storefront with the products listed in it.
struct Shelf {
    name: String,
    description: String,
    products: Vec<Product>,
}

/// The catalog's groups in order, each with its visible products; products in no known group
/// come last, under "More".
fn shelves(catalog: &Catalog) -> Vec<Shelf> {
    let visible = || catalog.products.iter().filter(|p| !p.hidden);
    let mut out: Vec<Shelf> = catalog
        .groups
        .iter()
        .map(|g| Shelf {
            name: g.name.clone(),
            description: g.description.clone(),
            products: visible().filter(|p| p.group_id.as_ref() == Some(&g.id)).cloned().collect(),
        })
        .collect();
    let loose: Vec<Product> =
        visible().filter(|p| !p.group_id.as_ref().is_some_and(|g| catalog.groups.iter().any(|x| &x.id == g))).cloned().collect();
    out.push(Shelf { name: "More".into(), description: String::new(), products: loose });
    out.retain(|s| !s.products.is_empty());
    out
}

fn plans(catalog: Arc<Catalog>) -> AnyView {
    let ShownCycle(cycle) = expect_context();
    let cart = use_cart();
    let shelves = Arc::new(shelves(&catalog));
    // The group shown: `None` for all of them.
    let tab = RwSignal::new(None::<usize>);
    let toolbar = {
        let (catalog, shelves) = (catalog.clone(), shelves.clone());
        move || toolbar_html(&shelves, tab.get(), &catalog, cart.currency_in(&catalog))
    };
    let grid = move || {
        let (chosen, cycle, currency) = (tab.get(), cycle.get(), cart.currency_in(&catalog));
        let mut out = String::new();
        for (i, s) in shelves.iter().enumerate().filter(|(i, _)| chosen.is_none_or(|t| t == *i)) {
            out.push_str("<section class=\"shelf\">");
            if shelves.len() > 1 {
                out.push_str(&format!(
                    "<div class=\"shelf-head\"><h3>{}</h3><p class=\"muted small\">{}</p></div>",
                    esc(&s.name),
                    esc(&s.description)
                ));
            }
            out.push_str(&format!("<div class=\"plan-grid\" data-testid=\"plan-grid\" data-shelf=\"{i}\">"));
            for p in &s.products {
                card_html(&mut out, &catalog, p, cycle, currency);
            }
            out.push_str("</div></section>");
        }
        out
    };
    let click = move |ev: leptos::ev::MouseEvent| {
        if let Some(el) = target(&ev, "[data-tab]") {
            tab.set(attr(&el, "data-tab").parse().ok());
        }
    };
    let change = move |ev: leptos::ev::Event| {
        if let Some(el) = target(&ev, "select") {
            on_currency(cart, &el);
        }
    };
    view! {
        <div class="plans-toolbar" inner_html=toolbar on:click=click on:change=change></div>
        <div inner_html=grid></div>
    }
    .into_any()
}

/// The group tabs (when there is more than one group) and the currency select.
fn toolbar_html(shelves: &[Shelf], chosen: Option<usize>, catalog: &Catalog, currency: Currency) -> String {
    let mut out = String::new();
    if shelves.len() > 1 {
        out.push_str("<div class=\"tabs\" role=\"tablist\" aria-label=\"Hosting type\">");
        let tabs = std::iter::once((None, "All plans")).chain(shelves.iter().enumerate().map(|(i, s)| (Some(i), s.name.as_str())));
        for (t, label) in tabs {
            out.push_str(&format!(
                "<button type=\"button\" role=\"tab\" class=\"tab\" data-tab=\"{}\" aria-selected=\"{}\">{}</button>",
                t.map(|i| i.to_string()).unwrap_or_default(),
                chosen == t,
                esc(label)
            ));
        }
        out.push_str("</div>");
    }
    out.push_str(&currency_html(catalog, currency));
    out
}

/// The price a card shows: on the chosen cycle, else on the first cycle the plan is sold on.
fn card_price(catalog: &Catalog, prices: &[Price], cycle: BillingCycle, cur: Currency) -> Option<Price> {
    catalog.price_in(prices, cycle, cur).or_else(|| BillingCycle::ALL.iter().find_map(|c| catalog.price_in(prices, *c, cur)))
}

/// A plan card: the first cycle's price with a note (per month, the yearly saving) and, when it
/// differs, what it renews at; the button to its configurator (on the cycle shown); features.
fn card_html(out: &mut String, catalog: &Catalog, product: &Product, cycle: BillingCycle, cur: Currency) {
    let price = card_price(catalog, &product.prices, cycle, cur);
    let featured = product.featured;
    out.push_str(&format!(
        "<article class=\"plan-card{}\" data-testid=\"plan-card\" data-slug=\"{}\">{}<p class=\"plan-type\">{}</p><h3>{}</h3><p class=\"muted\">{}</p>",
        if featured { " featured" } else { "" },
        esc(&product.slug),
        if featured { "<span class=\"badge\">Most popular</span>" } else { "" },
        product.product_type.label(),
        esc(&product.name),
        esc(&product.description)
    ));
    match &price {
        Some(p) => {
            let saving = match catalog.price_in(&product.prices, BillingCycle::Monthly, cur) {
                Some(m) if p.cycle == BillingCycle::Annually => Price::annual_saving_percent(&m, p),
                _ => None,
            };
            let per_month = (p.cycle.months() > 1).then(|| format!("{}/mo", p.monthly_equivalent().display()));
            let note = match (per_month, saving) {
                (Some(pm), Some(s)) => format!("{pm} billed yearly · save {s}%"),
                (Some(pm), None) => format!("{pm} billed {}", p.cycle.label().to_ascii_lowercase()),
                _ if p.cycle == BillingCycle::Monthly => "billed monthly, cancel any time".to_string(),
                _ => String::new(),
            };
            out.push_str(&format!(
                "<div class=\"price\"><span class=\"amount\" data-testid=\"price\">{}</span><span class=\"per\">{}</span></div>\
                 <p class=\"price-note muted small\">{}</p>",
                p.amount().display(),
                esc(p.cycle.per()),
                esc(&note)
            ));
            if p.cycle.is_recurring() && p.renewal() != p.amount_minor {
                out.push_str(&format!(
                    "<p class=\"renewal-note small\" data-testid=\"renewal-price\">Renews at {}{}</p>",
                    money(p.renewal(), cur),
                    p.cycle.per()
                ));
            }
        }
        None => out.push_str(&format!("<p class=\"muted price-note\">Not sold in {cur}</p>")),
    }
    let configurable = !product.options.is_empty() || !product.addon_ids.is_empty() || product.requires_domain;
    if product.in_stock {
        out.push_str(&format!(
            "<a href=\"/order/{}?cycle={}\" class=\"btn btn-block {}\" data-testid=\"order\">{}</a>",
            esc(&product.slug),
            price.map_or(cycle, |p| p.cycle),
            if featured { "btn-primary" } else { "btn-outline" },
            if configurable { "Configure" } else { "Order" }
        ));
    } else {
        out.push_str("<button type=\"button\" class=\"btn btn-outline btn-block\" disabled>Out of stock</button>");
    }
    out.push_str("<ul class=\"features\">");
    for f in &product.features {
        out.push_str(&format!("<li>{CHECK}{}</li>", esc(f)));
    }
    out.push_str("</ul></article>");
}

/// `icons::Check` as HTML.
const CHECK: &str = "<svg class=\"icon icon-check\" viewBox=\"0 0 20 20\" width=\"18\" height=\"18\" aria-hidden=\"true\">\
    <path d=\"M5 10.5 L8.5 14 L15 7\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"2\" stroke-linecap=\"round\" stroke-linejoin=\"round\"/></svg>";
