//! The configurator (`/order/:slug`): billing cycle, the product's options, add-ons, the domain
//! and the quantity, with a live price. The price comes from `keel_shared::pricing::price_line`,
//! the function the API prices carts with, so the browser and the server show the same number
//! and name the same fields (`lines[0].options[1].value_id`, shown under that option); the page
//! does no money arithmetic of its own. "Add to cart" stores the line in the browser's cart
//! (`crate::cart`) and opens `/cart`.
//!
//! The page's state is the one `CartLine` being configured. The page is HTML (see
//! `components::shop` on size): the form is redrawn only when the cycle or currency changes its
//! prices; one delegated handler reads every input by its `name` (`cycle`, `o<index>` for an
//! option, `addon`, `domain-action`, `domain`, `quantity`, `currency`) into the line, and an
//! effect writes the price panel and each field's problem into its `data-error` placeholder.

use std::sync::Arc;

use keel_shared::cart::{CartLine, DomainAction, DomainChoice, OptionChoice, LINE_QUANTITY_MAX};
use keel_shared::catalog::{BillingCycle, Catalog, OptionKind, Price, Product};
use keel_shared::ids::OptionValueId;
use keel_shared::pricing::{price_line, LinePrice, Problems};
use keel_shared::validation;
use keel_shared::Currency;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::cart::use_cart;
use crate::components::feedback::Empty;
use crate::components::shop::{
    attr, checked, currency_html, currency_of, esc, extra, money, on_currency, place_errors, row, set_html, target, value, with_catalog,
};
use crate::routes;

/// The field path of the configured line, as the API names it in a quote of one line.
const AT: &str = "lines[0]";

/// `Extra disk` → `extra-disk`: the part of a `data-testid` named after a catalog name.
fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

#[component]
pub fn OrderPage() -> impl IntoView {
    view! { <section class="container order-page">{with_catalog(order)}</section> }
}

fn order(catalog: Arc<Catalog>) -> AnyView {
    let params = use_params_map();
    (move || {
        let slug = params.with(|p| p.get("slug")).unwrap_or_default();
        match catalog.products.iter().find(|p| p.slug == slug) {
            Some(product) => configurator(catalog.clone(), Arc::new(product.clone())).into_any(),
            None => view! {
                <Empty title="This plan is not for sale" hint="It may have been renamed or withdrawn."/>
                <p class="center"><a href="/#plans" class="btn btn-primary">"See all plans"</a></p>
            }
            .into_any(),
        }
    })
    .into_any()
}

/// The first cycle `prices` are sold on in `currency`, when `wanted` is not.
fn sold_cycle(catalog: &Catalog, prices: &[Price], wanted: BillingCycle, currency: Currency) -> BillingCycle {
    if catalog.price_in(prices, wanted, currency).is_some() {
        return wanted;
    }
    BillingCycle::ALL.iter().copied().find(|c| catalog.price_in(prices, *c, currency).is_some()).unwrap_or(wanted)
}

/// The problems of the line beyond pricing, with the shared rules: the quantity, and (once the
/// visitor has tried to add it) the domain name.
fn own_problems(line: &CartLine, tried: bool, errors: &mut Problems) {
    if !(1..=LINE_QUANTITY_MAX).contains(&line.quantity) {
        errors.insert(format!("{AT}.quantity"), vec![format!("must be between 1 and {LINE_QUANTITY_MAX}")]);
    }
    if let Some(d) = line.domain.as_ref().filter(|_| tried) {
        let message = if d.name.is_empty() {
            Some("Enter a domain name, such as example.com".to_string())
        } else {
            validation::domain_name(&d.name).err().map(|e| e.message.map_or_else(|| "is not a domain name".into(), |m| m.to_string()))
        };
        if let Some(m) = message {
            errors.insert(format!("{AT}.domain.name"), vec![m]);
        }
    }
}

fn configurator(catalog: Arc<Catalog>, product: Arc<Product>) -> impl IntoView {
    let cart = use_cart();
    let go = routes::use_go();
    let wanted = use_query_map().with_untracked(|q| q.get("cycle")).and_then(|c| BillingCycle::parse(&c)).unwrap_or(BillingCycle::Monthly);
    let currency = currency_of(cart, &catalog);
    // Every option starts at its default: the first value, the minimum, "no".
    let options = product
        .options
        .iter()
        .map(|o| OptionChoice {
            option_id: o.id.clone(),
            value_id: if matches!(o.kind, OptionKind::Dropdown | OptionKind::Radio) {
                o.values.first().map(|v| v.id.clone())
            } else {
                None
            },
            quantity: match o.kind {
                OptionKind::Quantity => Some(o.min),
                OptionKind::YesNo => Some(0),
                _ => None,
            },
        })
        .collect();
    let line = RwSignal::new(CartLine {
        product_id: product.id.clone(),
        cycle: sold_cycle(&catalog, &product.prices, wanted, currency.get_untracked()),
        quantity: 1,
        options,
        addon_ids: Vec::new(),
        domain: product.requires_domain.then(|| DomainChoice { action: DomainAction::Register, name: String::new() }),
    });
    let price = {
        let catalog = catalog.clone();
        Memo::new(move |_| line.with(|l| price_line(&catalog, l, currency.get(), AT)))
    };
    let tried = RwSignal::new(false);
    let problems = move || {
        let mut errors: Problems = price.with(|r| r.as_ref().err().cloned().unwrap_or_default());
        line.with(|l| own_problems(l, tried.get(), &mut errors));
        errors
    };

    // What changes, written into the page: the cycles (for a new currency; a cycle it does not
    // sell gives way to the first it does), the form (when the cycle or currency changes its
    // prices), the price panel and each field's problem.
    let drawn = StoredValue::new(None::<(BillingCycle, Currency)>);
    {
        let (catalog, product) = (catalog.clone(), product.clone());
        Effect::new(move |_| {
            let cur = currency.get();
            let chosen = line.with(|l| l.cycle);
            let cycle = sold_cycle(&catalog, &product.prices, chosen, cur);
            if cycle != chosen {
                line.update(|l| l.cycle = cycle);
                return;
            }
            let before = drawn.get_value();
            if before.is_none_or(|(_, c)| c != cur) {
                set_html("cycles", &cycles_html(&catalog, &product, cycle, cur));
            }
            if before != Some((cycle, cur)) {
                set_html("options", &line.with_untracked(|l| form_html(&catalog, &product, l, cycle, cur)));
                drawn.set_value(Some((cycle, cur)));
            }
            let mut errors = problems();
            let quantity = line.with(|l| l.quantity);
            let mut panel = price.with(|r| match r {
                Ok(lp) => summary_html(lp, cycle, cur, quantity),
                Err(p) => unpriced_html(p),
            });
            if tried.get() && !errors.is_empty() {
                panel.push_str("<div class=\"alert alert-error\" role=\"alert\">Check the highlighted choices.</div>");
            }
            set_html("panel", &panel);
            // An add-on's problem names it by its place among the chosen ones; its placeholder by
            // its id.
            line.with(|l| {
                for (k, id) in l.addon_ids.iter().enumerate() {
                    if let Some(m) = errors.remove(&format!("{AT}.addon_ids[{k}]")) {
                        errors.insert(format!("addon:{id}"), m);
                    }
                }
            });
            place_errors(&errors);
        });
    }

    // Every input of the page, by its name; the one button.
    let input = {
        let product = product.clone();
        move |ev: leptos::ev::Event| {
            let Some(el) = target(&ev, "[name]") else { return };
            let (name, value) = (attr(&el, "name"), value(&el));
            if name == "currency" {
                on_currency(cart, &el);
                return;
            }
            line.update(|l| match name.as_str() {
                "cycle" => l.cycle = BillingCycle::parse(&value).unwrap_or(l.cycle),
                "quantity" => l.quantity = value.trim().parse().unwrap_or(0),
                "domain" => {
                    if let Some(d) = &mut l.domain {
                        d.name = value.trim().to_ascii_lowercase();
                    }
                }
                "domain-action" => {
                    if let (Some(d), Some(a)) = (&mut l.domain, DomainAction::parse(&value)) {
                        d.action = a;
                    }
                }
                "addon" => {
                    // Kept in the catalog's order, so a problem's index names the same add-on.
                    let on = |id: &str| if id == value { checked(&el) } else { l.addon_ids.iter().any(|x| x == id) };
                    l.addon_ids = product.addon_ids.iter().filter(|id| on(id)).cloned().collect();
                }
                _ => {
                    let i = name.strip_prefix('o').and_then(|i| i.parse::<usize>().ok());
                    if let (Some(o), Some(c)) = (i.and_then(|i| product.options.get(i)), i.and_then(|i| l.options.get_mut(i))) {
                        match o.kind {
                            OptionKind::Dropdown | OptionKind::Radio => c.value_id = OptionValueId::parse(&value),
                            OptionKind::Quantity => c.quantity = value.trim().parse().ok(),
                            OptionKind::YesNo => c.quantity = Some(i64::from(checked(&el))),
                        }
                    }
                }
            });
        }
    };
    let click = move |ev: leptos::ev::MouseEvent| {
        if target(&ev, "[data-act=add]").is_none() {
            return;
        }
        tried.set(true);
        if untrack(problems).is_empty() && price.with_untracked(Result::is_ok) {
            cart.add(line.get_untracked(), currency.get_untracked());
            go("/cart");
        }
    };
    let page = page_html(&catalog, &product, currency.get_untracked());
    view! { <div inner_html=page on:change=input.clone() on:input=input on:click=click></div> }
}

/// The page around what its effect draws: `#cycles`, `#options` and the price panel `#panel`.
fn page_html(catalog: &Catalog, product: &Product, currency: Currency) -> String {
    let tax_note = if catalog.tax_inclusive { "Prices include tax." } else { "Prices exclude tax; the cart adds it for your country." };
    format!(
        "{}<div class=\"order-layout\"><div class=\"order-form\"><section class=\"card order-section\"><h2>Billing cycle</h2>\
         <div id=\"cycles\" class=\"choices cycles\" role=\"radiogroup\" aria-label=\"Billing cycle\"></div>{}</section>\
         <div id=\"options\" class=\"order-sections\"></div></div>\
         <aside class=\"card summary\" data-testid=\"price-panel\"><div class=\"summary-head\"><h2>Your order</h2>{}</div>\
         <div id=\"panel\" class=\"summary-body\" aria-live=\"polite\"></div><p class=\"muted small\">{tax_note}</p>\
         <button class=\"btn btn-primary btn-lg btn-block\" type=\"button\" data-act=\"add\" data-testid=\"add-to-cart\"{}>Add to cart</button>\
         </aside></div>",
        head_html(catalog, product),
        error_slot(&format!("{AT}.cycle")),
        currency_html(catalog, currency),
        if product.in_stock { "" } else { " disabled" }
    )
}

/// Breadcrumbs, name, description, features and stock.
fn head_html(catalog: &Catalog, product: &Product) -> String {
    let group = product.group_id.as_ref().and_then(|g| catalog.groups.iter().find(|x| &x.id == g));
    let mut out = String::from("<nav class=\"crumbs muted small\" aria-label=\"Breadcrumb\"><a href=\"/#plans\">Plans</a>");
    if let Some(g) = group {
        out.push_str(&format!("<span aria-hidden=\"true\"> / </span><span>{}</span>", esc(&g.name)));
    }
    out.push_str(&format!(
        "</nav><header class=\"order-head\"><p class=\"plan-type\">{}</p><h1 data-testid=\"product-name\">{}</h1><p class=\"muted\">{}</p><ul class=\"chips\">",
        product.product_type.label(),
        esc(&product.name),
        esc(&product.description)
    ));
    for f in &product.features {
        out.push_str(&format!("<li>{}</li>", esc(f)));
    }
    out.push_str("</ul></header>");
    if !product.in_stock {
        out.push_str("<div class=\"alert alert-warn\" role=\"status\">This plan is out of stock at the moment.</div>");
    }
    out
}

/// The cycles the product is sold on in `currency`, as radio cards with their price.
fn cycles_html(catalog: &Catalog, product: &Product, chosen: BillingCycle, currency: Currency) -> String {
    let chosen = sold_cycle(catalog, &product.prices, chosen, currency);
    let mut out = String::new();
    for p in BillingCycle::ALL.iter().filter_map(|c| catalog.price_in(&product.prices, *c, currency)) {
        let c = p.cycle;
        let per_month = (c.months() > 1).then(|| format!("{}/mo", p.monthly_equivalent().display()));
        let renewal =
            (c.is_recurring() && p.renewal() != p.amount_minor).then(|| format!("renews at {}{}", money(p.renewal(), currency), c.per()));
        let setup = (p.setup_fee_minor != 0).then(|| format!("+ {} setup", money(p.setup_fee_minor, currency)));
        let notes = [per_month, renewal, setup].into_iter().flatten().collect::<Vec<_>>().join(" · ");
        out.push_str(&format!(
            "<label class=\"choice\" data-testid=\"cycle-{c}\"><input type=\"radio\" name=\"cycle\" value=\"{c}\"{}>\
             <span class=\"choice-title\">{}</span><span class=\"choice-price\">{}<span class=\"per\">{}</span></span>\
             <span class=\"muted small\">{}</span></label>",
            if c == chosen { " checked" } else { "" },
            c.label(),
            p.amount().display(),
            esc(c.per()),
            esc(&notes)
        ));
    }
    if out.is_empty() {
        out = format!("<p class=\"muted\">{} is not sold in {currency}. Choose another currency.</p>", esc(&product.name));
    }
    out
}

/// A problem's placeholder, filled by the configurator's effect.
fn error_slot(key: &str) -> String {
    format!("<p class=\"field-error\" data-error=\"{key}\"></p>")
}

/// The options, add-ons, domain and quantity as HTML, showing `line`'s choices, priced on
/// `cycle` in `currency`.
fn form_html(catalog: &Catalog, product: &Product, line: &CartLine, cycle: BillingCycle, currency: Currency) -> String {
    let extra_of = |prices: &[Price]| extra(catalog.price_in(prices, cycle, currency).as_ref(), cycle);
    let checked = |on: bool| if on { " checked" } else { "" };
    let mut out = String::new();
    if !product.options.is_empty() {
        out.push_str("<section class=\"card order-section\"><h2>Configuration</h2>");
        for (i, o) in product.options.iter().enumerate() {
            let choice = line.options.get(i);
            let name = esc(&o.name);
            let testid = format!("option-{}", slug(&o.name));
            out.push_str("<div class=\"field\">");
            match o.kind {
                OptionKind::Dropdown => {
                    out.push_str(&format!("<label for=\"o{i}\">{name}</label><select id=\"o{i}\" name=\"o{i}\" data-testid=\"{testid}\">"));
                    for v in &o.values {
                        let text = match extra_of(&v.prices) {
                            Some(e) => format!("{} ({e})", v.label),
                            None => v.label.clone(),
                        };
                        let on = choice.and_then(|c| c.value_id.as_ref()) == Some(&v.id);
                        out.push_str(&format!("<option value=\"{}\"{}>{}</option>", v.id, if on { " selected" } else { "" }, esc(&text)));
                    }
                    out.push_str("</select>");
                    out.push_str(&error_slot(&format!("{AT}.options[{i}].value_id")));
                }
                OptionKind::Radio => {
                    out.push_str(&format!(
                        "<span class=\"legend\" id=\"o{i}\">{name}</span><div class=\"choices\" role=\"radiogroup\" aria-labelledby=\"o{i}\" data-testid=\"{testid}\">"
                    ));
                    for v in &o.values {
                        let on = choice.and_then(|c| c.value_id.as_ref()) == Some(&v.id);
                        out.push_str(&format!(
                            "<label class=\"choice\" data-testid=\"{testid}-{}\"><input type=\"radio\" name=\"o{i}\" value=\"{}\"{}>\
                             <span class=\"choice-title\">{}</span><span class=\"muted small\">{}</span></label>",
                            slug(&v.label),
                            v.id,
                            checked(on),
                            esc(&v.label),
                            esc(&extra_of(&v.prices).unwrap_or_else(|| "Included".into()))
                        ));
                    }
                    out.push_str("</div>");
                    out.push_str(&error_slot(&format!("{AT}.options[{i}].value_id")));
                }
                OptionKind::Quantity => {
                    let unit = if o.unit.is_empty() { "unit".to_string() } else { esc(&o.unit) };
                    let per_unit =
                        o.values.first().and_then(|v| extra_of(&v.prices)).map(|e| format!("{e} per {unit} · ")).unwrap_or_default();
                    let units = choice.and_then(|c| c.quantity).unwrap_or(o.min);
                    out.push_str(&format!(
                        "<label for=\"o{i}\">{name} ({unit})</label><input id=\"o{i}\" name=\"o{i}\" type=\"number\" inputmode=\"numeric\" \
                         min=\"{}\" max=\"{}\" step=\"{}\" value=\"{units}\" data-testid=\"{testid}\">\
                         <p class=\"field-hint\">{per_unit}from {} to {}, in steps of {}</p>",
                        o.min,
                        o.max,
                        o.step.max(1),
                        o.min,
                        o.max,
                        o.step.max(1)
                    ));
                    out.push_str(&error_slot(&format!("{AT}.options[{i}].quantity")));
                }
                OptionKind::YesNo => {
                    let on = choice.and_then(|c| c.quantity) == Some(1);
                    let price = o.values.first().and_then(|v| extra_of(&v.prices)).unwrap_or_else(|| "Included".into());
                    out.push_str(&format!(
                        "<label class=\"check-card\" data-testid=\"{testid}\"><input type=\"checkbox\" name=\"o{i}\"{}>\
                         <span class=\"check-card-body\"><strong>{name}</strong></span><span class=\"check-card-price\">{}</span></label>",
                        checked(on),
                        esc(&price)
                    ));
                    out.push_str(&error_slot(&format!("{AT}.options[{i}].quantity")));
                }
            }
            out.push_str("</div>");
        }
        out.push_str(&error_slot(&format!("{AT}.options")));
        out.push_str("</section>");
    }
    let addons: Vec<_> = product.addon_ids.iter().filter_map(|id| catalog.addon(id)).collect();
    if !addons.is_empty() {
        out.push_str("<section class=\"card order-section\"><h2>Add-ons</h2><div class=\"check-cards\">");
        for a in addons {
            out.push_str(&format!(
                "<label class=\"check-card\" data-testid=\"addon-{}\"><input type=\"checkbox\" name=\"addon\" value=\"{}\"{}>\
                 <span class=\"check-card-body\"><strong>{}</strong><span class=\"muted small\">{}</span>\
                 <span class=\"field-error\" data-error=\"addon:{}\"></span></span><span class=\"check-card-price\">{}</span></label>",
                esc(&a.slug),
                a.id,
                checked(line.addon_ids.contains(&a.id)),
                esc(&a.name),
                esc(&a.description),
                a.id,
                esc(&extra_of(&a.prices).unwrap_or_else(|| "Included".into()))
            ));
        }
        out.push_str("</div></section>");
    }
    if let Some(d) = &line.domain {
        out.push_str(
            "<section class=\"card order-section\"><h2>Domain</h2><div class=\"choices\" role=\"radiogroup\" aria-label=\"Domain\">",
        );
        for (a, label) in [
            (DomainAction::Register, "Register a new domain"),
            (DomainAction::Transfer, "Transfer my domain"),
            (DomainAction::Existing, "Use a domain I own"),
        ] {
            out.push_str(&format!(
                "<label class=\"choice compact\" data-testid=\"domain-{a}\"><input type=\"radio\" name=\"domain-action\" value=\"{a}\"{}>\
                 <span class=\"choice-title\">{label}</span></label>",
                checked(d.action == a)
            ));
        }
        out.push_str(&format!(
            "</div><div class=\"field\"><label for=\"f-domain\">Domain name</label><input id=\"f-domain\" name=\"domain\" type=\"text\" \
             placeholder=\"example.com\" autocomplete=\"off\" autocapitalize=\"off\" spellcheck=\"false\" value=\"{}\" data-testid=\"domain-name\">\
             <p class=\"field-hint\">The name to register, the one to transfer (have its transfer code ready) or one you already use.</p>{}{}</div></section>",
            esc(&d.name),
            error_slot(&format!("{AT}.domain")),
            error_slot(&format!("{AT}.domain.name"))
        ));
    }
    out.push_str(&format!(
        "<section class=\"card order-section\"><h2>Quantity</h2><div class=\"field\"><label for=\"f-quantity\">How many</label>\
         <input id=\"f-quantity\" name=\"quantity\" type=\"number\" min=\"1\" max=\"{LINE_QUANTITY_MAX}\" step=\"1\" value=\"{}\" \
         inputmode=\"numeric\" data-testid=\"quantity\">{}</div></section>",
        line.quantity,
        error_slot(&format!("{AT}.quantity"))
    ));
    out
}

/// The price panel for a priced line: its items per unit, setup fees, the quantity, what is due
/// first and what each renewal costs.
fn summary_html(lp: &LinePrice, cycle: BillingCycle, currency: Currency, quantity: u32) -> String {
    let m = |v: i64| money(v, currency);
    let mut out = String::from("<ul class=\"summary-items\">");
    for it in &lp.items {
        let label = if cycle.is_recurring() && it.renewal_minor != it.amount_minor {
            format!("{} · then {}{}", it.description, m(it.renewal_minor), cycle.per())
        } else {
            it.description.clone()
        };
        let amount = if it.amount_minor == 0 { "Included".to_string() } else { m(it.amount_minor) };
        row(&mut out, "", &label, &amount, "");
    }
    if lp.setup_fee_minor != 0 {
        row(&mut out, "muted", "Setup fees", &m(lp.setup_fee_minor), "");
    }
    if quantity > 1 {
        row(&mut out, "muted", "Quantity", &format!("× {quantity}"), "");
    }
    let renewal = match cycle {
        BillingCycle::OneTime => "A one-time payment: it does not renew.".to_string(),
        BillingCycle::Free => "Free: nothing to pay later.".to_string(),
        _ => format!("Renews at {}{}{}", m(lp.renewal_minor), cycle.per(), if quantity > 1 { " each" } else { "" }),
    };
    out.push_str(&format!(
        "</ul><div class=\"summary-total\"><span>Due today</span><strong data-testid=\"price-total\">{}</strong></div>\
         <p class=\"summary-renewal\" data-testid=\"price-renewal\">{}</p>",
        m(lp.subtotal_minor),
        esc(&renewal)
    ));
    out
}

/// The price panel while the choices cannot be priced, with the problems no field shows.
fn unpriced_html(problems: &Problems) -> String {
    let mut out = String::from("<p class=\"muted\" data-testid=\"price-total\">Choose valid options to see the price.</p>");
    for (_, messages) in problems.iter().filter(|(k, _)| k.as_str() == AT || k.ends_with(".product_id")) {
        for m in messages {
            out.push_str(&format!("<p class=\"field-error\">{}</p>", esc(m)));
        }
    }
    out
}
