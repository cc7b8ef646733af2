//! `/team/accept?token=…`: what an invitation offers, then a new login or the current one.

use keel_shared::access::{AcceptInvitationRequest, Invitation};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;

use crate::api::{auth, portal};
use crate::components::areas_text;
use crate::components::feedback::{loaded, ErrorBanner};
use crate::components::form::{Field, Form, NameFields, Submit};
use crate::routes;
use crate::session::use_session;

#[component]
pub fn AcceptInvitationPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.with(|q| q.get("token").unwrap_or_default());
    let invitation = LocalResource::new(move || {
        let t = token();
        async move { auth::invitation(&t).await }
    });
    view! {
        <div class="auth-page">
            <div class="card auth-card">
                <h1>"Join a team"</h1>
                {loaded(invitation, move |inv| view! { <Offer invitation=inv token=token()/> })}
            </div>
        </div>
    }
}

#[component]
fn Offer(invitation: Invitation, token: String) -> impl IntoView {
    let summary = format!(
        "{} invited {} to help manage their account, with access to: {}.",
        invitation.account_name,
        invitation.email,
        areas_text(&invitation.permissions)
    );
    let body = if invitation.existing_account {
        view! { <JoinWithLogin invitation=invitation token=token/> }.into_any()
    } else {
        view! { <NewLogin token=token/> }.into_any()
    };
    view! {
        <p data-testid="invitation-summary">{summary}</p>
        {body}
    }
}

#[component]
fn JoinWithLogin(invitation: Invitation, token: String) -> impl IntoView {
    let session = use_session();
    let go = routes::use_go();
    let error = RwSignal::new(None::<String>);
    let next = format!("/login?next=/team/accept?token={token}");
    let email = invitation.email.clone();
    let accept = move |_| {
        let (token, go) = (token.clone(), go.clone());
        spawn_local(async move {
            match portal::join_account(session, token).await {
                Ok(m) => {
                    session.acting.set(Some(m));
                    go("/dashboard");
                }
                Err(e) => error.set(Some(e.message())),
            }
        });
    };
    view! {
        {move || {
            let signed_in_as = session.user().map(|u| u.email);
            if signed_in_as.as_deref() == Some(email.as_str()) {
                let accept = accept.clone();
                view! { <button class="btn btn-primary btn-block" type="button" on:click=accept>"Accept invitation"</button> }.into_any()
            } else {
                view! {
                    <p class="muted">{format!("{} already has a login. Sign in with it to accept.", email)}</p>
                    <a href=next.clone() rel=routes::rel(&next) class="btn btn-primary btn-block">"Log in to accept"</a>
                }.into_any()
            }
        }}
        <ErrorBanner message=error/>
    }
}

#[component]
fn NewLogin(token: String) -> impl IntoView {
    let session = use_session();
    let go = routes::use_go();
    let (first, last, password) = (RwSignal::new(String::new()), RwSignal::new(String::new()), RwSignal::new(String::new()));
    let form = Form::new();
    let accept = form.action(
        move |req: &AcceptInvitationRequest| {
            let (token, req) = (token.clone(), req.clone());
            async move { auth::accept_invitation(&token, req).await }
        },
        move |t| {
            session.set(t);
            let go = go.clone();
            spawn_local(async move {
                if let Ok(list) = portal::memberships(session).await {
                    session.acting.set(list.into_iter().last());
                }
                go("/dashboard");
            });
        },
    );
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let req = AcceptInvitationRequest {
            first_name: first.get_untracked().trim().into(),
            last_name: last.get_untracked().trim().into(),
            password: password.get_untracked(),
        };
        if form.check(&req) {
            accept.dispatch_local(req);
        }
    };
    view! {
        <form on:submit=submit novalidate data-testid="accept-form">
            <p class="muted">"Choose your name and a password for your own login."</p>
            <ErrorBanner message=form.banner/>
            <NameFields first=first last=last errors=form.errors/>
            <Field label="Password" name="password" kind="password" autocomplete="new-password" hint="At least 10 characters" value=password errors=form.errors/>
            <Submit pending=accept.pending() label="Accept and create login" busy="Creating login…" class="btn btn-primary btn-block"/>
        </form>
    }
}
