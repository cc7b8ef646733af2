//! Saved cards: the portal's list of the account's stored payment methods (the gateway's tokens:
//! brand, last four digits, expiry), adding one on the card gateway's page, making one the default
//! (renewals are charged to it) and removing one.

use keel_shared::billing::PaymentMethod;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;

use crate::api;
use crate::components::feedback::ErrorBanner;
use crate::routes;
use crate::session::SessionCtx;

/// "Visa •••• 4242".
pub fn card_label(m: &PaymentMethod) -> String {
    let mut brand = m.brand.clone();
    if let Some(first) = brand.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    format!("{brand} •••• {}", m.last4)
}

#[component]
pub fn SavedCards(session: SessionCtx) -> impl IntoView {
    let query = use_query_map();
    let cards = LocalResource::new(move || api::portal::payment_methods(session));
    let banner = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    // Back from the gateway's page: the card arrives with its webhook, a moment later.
    let saved = query.with_untracked(|q| q.get("card").as_deref() == Some("saved"));
    if saved {
        set_timeout(move || cards.refetch(), std::time::Duration::from_millis(1_500));
    }
    let add = move |_| {
        banner.set(None);
        busy.set(true);
        spawn_local(async move {
            match api::portal::add_payment_method(session).await {
                Ok(page) => routes::load(&page.redirect_url),
                Err(e) => {
                    banner.set(Some(e.message()));
                    busy.set(false);
                }
            }
        });
    };
    let act = move |id: String, remove: bool| {
        banner.set(None);
        busy.set(true);
        spawn_local(async move {
            let done = if remove {
                api::portal::remove_payment_method(session, &id).await
            } else {
                api::portal::default_payment_method(session, &id).await
            };
            if let Err(e) = done {
                banner.set(Some(e.message()));
            }
            busy.set(false);
            cards.refetch();
        });
    };
    view! {
        <section class="card saved-cards" data-testid="saved-cards">
            <div class="credit-head">
                <h2>"Saved cards"</h2>
                <button class="btn btn-outline" type="button" data-testid="add-card" disabled=move || busy.get() on:click=add>"Add a card"</button>
            </div>
            {saved.then(|| view! { <p class="muted small" role="status" data-testid="card-saved">"Your card is saved once the card provider confirms it."</p> })}
            <ErrorBanner message=banner/>
            {move || cards.get().and_then(Result::ok).map(|list: Vec<PaymentMethod>| {
                if list.is_empty() {
                    return view! { <p class="muted small">"No saved cards. Save one to pay invoices in one click; renewals are charged to the default card."</p> }.into_any();
                }
                view! {
                    <ul class="card-list">
                        {list.into_iter().map(|m| {
                            let (id, id2) = (m.id.to_string(), m.id.to_string());
                            view! {
                                <li data-testid="saved-card">
                                    <span class="card-name">{card_label(&m)}</span>
                                    <span class="muted small">{format!("expires {:02}/{}", m.exp_month, m.exp_year)}</span>
                                    {if m.is_default {
                                        view! { <span class="pill pill-invoice-paid" data-testid="default-card">"Default"</span> }.into_any()
                                    } else {
                                        view! { <button class="btn btn-link" type="button" disabled=move || busy.get() on:click=move |_| act(id.clone(), false)>"Make default"</button> }.into_any()
                                    }}
                                    <button class="btn btn-link danger" type="button" data-testid="remove-card" disabled=move || busy.get()
                                        on:click=move |_| act(id2.clone(), true)>"Remove"</button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            })}
        </section>
    }
}
