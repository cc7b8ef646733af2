//! The public storefront: plan comparison cards from `GET /products`, filtered by family, with a
//! monthly/annual switch.

use keel_shared::catalog::{BillingCycle, Price, Product, ProductType};
use keel_shared::Currency;
use leptos::prelude::*;
use leptos_router::components::A;

use crate::api;
use crate::components::feedback::{loaded, Empty};
use crate::components::icons::Check;
use crate::session::use_session;

#[component]
pub fn StorefrontPage() -> impl IntoView {
    let products = LocalResource::new(api::catalog::products);
    let cycle = RwSignal::new(BillingCycle::Monthly);
    let family = RwSignal::new(None::<ProductType>);

    let tabs = std::iter::once(None)
        .chain(ProductType::ALL.iter().copied().map(Some))
        .map(|t| {
            let label = t.map(ProductType::label).unwrap_or("All plans");
            view! {
                <button type="button" role="tab" class="tab"
                    aria-selected=move || (family.get() == t).to_string()
                    on:click=move |_| family.set(t)>{label}</button>
            }
        })
        .collect_view();

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
            <div class="tabs" role="tablist" aria-label="Hosting type">{tabs}</div>
            {loaded(products, move |list: Vec<Product>| move || {
                let shown: Vec<Product> = list.iter().filter(|p| family.get().is_none_or(|f| p.product_type == f)).cloned().collect();
                if shown.is_empty() {
                    view! { <Empty title="No plans here yet" hint="Try another hosting type."/> }.into_any()
                } else {
                    view! {
                        <div class="plan-grid" data-testid="plan-grid">
                            {shown.into_iter().map(|p| view! { <PlanCard product=p cycle=cycle/> }).collect_view()}
                        </div>
                    }.into_any()
                }
            })}
        </section>
    }
}

#[component]
fn PlanCard(product: Product, cycle: RwSignal<BillingCycle>) -> impl IntoView {
    let session = use_session();
    let monthly = product.price(BillingCycle::Monthly, Currency::Usd).cloned();
    let annual = product.price(BillingCycle::Annually, Currency::Usd).cloned();
    let price_view = move || {
        let chosen = if cycle.get() == BillingCycle::Annually { annual.clone().or(monthly.clone()) } else { monthly.clone() };
        match chosen {
            Some(p) => {
                let saving = match (&monthly, &annual) {
                    (Some(m), Some(a)) if p.cycle == BillingCycle::Annually => Price::annual_saving_percent(m, a),
                    _ => None,
                };
                let per_month = (p.cycle == BillingCycle::Annually).then(|| p.monthly_equivalent().display());
                view! {
                    <div class="price">
                        <span class="amount" data-testid="price">{p.amount().display()}</span>
                        <span class="per">{p.cycle.per()}</span>
                    </div>
                    <p class="price-note muted small">
                        {match (per_month, saving) {
                            (Some(pm), Some(s)) => format!("{pm}/mo billed yearly · save {s}%"),
                            (Some(pm), None) => format!("{pm}/mo billed yearly"),
                            _ => "billed monthly, cancel any time".to_string(),
                        }}
                    </p>
                }
                .into_any()
            }
            None => view! { <p class="muted">"Contact us for pricing"</p> }.into_any(),
        }
    };
    let cta_href = move || if session.current.with(Option::is_some) { "/dashboard".to_string() } else { "/register".to_string() };
    let class = if product.featured { "plan-card featured" } else { "plan-card" };
    view! {
        <article class=class data-testid="plan-card" data-slug=product.slug.clone()>
            {product.featured.then(|| view! { <span class="badge">"Most popular"</span> })}
            <p class="plan-type">{product.product_type.label()}</p>
            <h3>{product.name.clone()}</h3>
            <p class="muted">{product.description.clone()}</p>
            {price_view}
            <a href=cta_href rel=move || crate::routes::rel(&cta_href()) class=if product.featured { "btn btn-primary btn-block" } else { "btn btn-outline btn-block" }>"Get started"</a>
            <ul class="features">
                {product.features.iter().map(|f| view! { <li><Check/>{f.clone()}</li> }).collect_view()}
            </ul>
        </article>
    }
}
