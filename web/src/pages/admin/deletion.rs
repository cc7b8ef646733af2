//! Pending deletion requests above the client list.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::admin;
use crate::session::use_session;

/// Pending deletion requests; `on_approved` runs after an approval (the client list reloads).
#[component]
pub fn DeletionRequests(on_approved: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let session = use_session();
    let list = LocalResource::new(move || admin::deletion_requests(session));
    let approve = move |id: String| {
        spawn_local(async move {
            let _ = admin::anonymise(session, &id).await;
            list.refetch();
            on_approved();
        });
    };
    view! {
        {move || match list.get() {
            Some(Ok(items)) if !items.is_empty() => view! {
                <section class="card deletion-requests" data-testid="deletion-requests">
                    <h2>"Deletion requests"</h2>
                    <p class="muted small">"Approving anonymises the client's personal data; invoices stay."</p>
                    <ul class="session-list">
                        {items.into_iter().map(|c| {
                            let id = c.id.clone();
                            view! {
                                <li class="session-item">
                                    <div><strong>{format!("{} {}", c.first_name, c.last_name)}</strong><p class="muted small">{c.email.clone()}</p></div>
                                    <button class="btn btn-outline btn-sm" type="button" on:click=move |_| approve(id.to_string())>"Approve and anonymise"</button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </section>
            }.into_any(),
            _ => ().into_any(),
        }}
    }
}
