//! Banners above a page's content in the app frames: unconfirmed e-mail, acting for another
//! account, an administrator viewing a client's portal.

use keel_shared::access::Membership;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::areas_text;
use super::layout::return_to_admin;
use crate::api;
use crate::routes;
use crate::session::use_session;

/// "Please confirm your e-mail" with a resend button, for the dashboard.
#[component]
pub fn VerifyBanner() -> impl IntoView {
    let session = use_session();
    let note = RwSignal::new(None::<String>);
    let resend = move |_| {
        spawn_local(async move {
            note.set(Some(match api::auth::resend_verification(session).await {
                Ok(()) => "Sent. Check your inbox.".into(),
                Err(e) => e.message(),
            }));
        });
    };
    view! {
        <Show when=move || session.user().is_some_and(|u| !u.email_verified)>
            <div class="alert alert-info banner" role="status" data-testid="verify-banner">
                <span>"Please confirm your e-mail address: we sent you a link. You need it before you can order."</span>
                <button class="btn btn-outline btn-sm" type="button" on:click=resend>"Send again"</button>
                {move || note.get().map(|n| view! { <span class="small">{n}</span> })}
            </div>
        </Show>
    }
}

/// Shown while a team member acts for another account.
#[component]
pub fn ActingBanner() -> impl IntoView {
    let session = use_session();
    let go = routes::use_go();
    view! {
        {move || session.acting.get().map(|m: Membership| {
            let go = go.clone();
            view! {
                <div class="alert alert-info banner" role="status" data-testid="acting-banner">
                    <span>{format!("You are working in {}'s account ({}).", m.account_name, areas_text(&m.permissions))}</span>
                    <button class="btn btn-outline btn-sm" type="button" on:click=move |_| {
                        session.acting.set(None);
                        go("/dashboard");
                    }>"Back to my account"</button>
                </div>
            }
        })}
    }
}

/// Shown while an administrator views the portal as a client.
#[component]
pub fn ImpersonationBanner() -> impl IntoView {
    let session = use_session();
    view! {
        {move || session.user().and_then(|u| u.impersonator.clone().map(|admin| (u, admin))).map(|(u, admin)| view! {
            <div class="alert alert-warn banner" role="status" data-testid="impersonation-banner">
                <span>{format!("You are viewing {}'s account ({}) as {}.", u.first_name, u.email, admin)}</span>
                <button class="btn btn-outline btn-sm" type="button" on:click=|_| return_to_admin()>"Return to admin"</button>
            </div>
        })}
    }
}
