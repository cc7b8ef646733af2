//! E-mail confirmation, password reset and lifting a sign-in lock: the pages links in e-mails open.

use keel_shared::auth::{ForgotPasswordRequest, ResetPasswordRequest};
use keel_shared::validation::field_messages;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use validator::Validate;

use crate::api::auth;
use crate::components::feedback::{ErrorBanner, Loading};
use crate::components::form::{Field, Form, Submit};
use crate::components::layout::Link;
use crate::routes;
use crate::session::use_session;

#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let query = use_query_map();
    let session = use_session();
    let token = query.with_untracked(|q| q.get("token")).unwrap_or_default();
    let result = LocalResource::new(move || auth::verify_email(token.clone()));
    view! {
        <section class="auth-page">
            <div class="card auth-card" data-testid="verify-result">
                {move || match result.get() {
                    None => view! { <Loading label="Confirming your e-mail address…"/> }.into_any(),
                    Some(Ok(me)) => {
                        // Refresh the signed-in copy of the account, if this browser is signed in.
                        session.current.update(|s| if let Some(s) = s { if s.user.id == me.id { s.user = me.clone(); } });
                        view! {
                            <h1>"E-mail address confirmed"</h1>
                            <p class="muted">{format!("Thank you. {} is confirmed.", me.email)}</p>
                            <Link href="/dashboard" class="btn btn-primary btn-block">"Go to your dashboard"</Link>
                        }.into_any()
                    }
                    Some(Err(e)) => view! {
                        <h1>"This link did not work"</h1>
                        <div class="alert alert-error" role="alert">{e.field("token").unwrap_or_else(|| e.message())}</div>
                        <p class="muted small">"Sign in and ask for a new link from your dashboard."</p>
                    }.into_any(),
                }}
            </div>
        </section>
    }
}

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let email = RwSignal::new(String::new());
    let form = Form::new();
    let send = form.action(|req: &ForgotPasswordRequest| auth::forgot_password(req.email.clone()), |()| {});
    let sent = move || send.value().get() == Some(true);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let req = ForgotPasswordRequest { email: email.get_untracked().trim().to_string() };
        if form.check(&req) {
            send.dispatch_local(req);
        }
    };
    view! {
        <section class="auth-page">
            <Show when=move || !sent() fallback=move || view! {
                <div class="card auth-card" data-testid="reset-sent">
                    <h1>"Check your inbox"</h1>
                    <p class="muted">{move || format!("If {} has an account, we sent a link to choose a new password. It works once and expires in an hour.", email.get())}</p>
                    <A href="/login" attr:class="btn btn-outline btn-block">"Back to log in"</A>
                </div>
            }>
                <form class="card auth-card" on:submit=submit novalidate>
                    <h1>"Forgot your password?"</h1>
                    <p class="muted">"Enter your e-mail address and we will send you a link to choose a new one."</p>
                    <ErrorBanner message=form.banner/>
                    <Field label="E-mail" name="email" kind="email" autocomplete="email" value=email errors=form.errors/>
                    <Submit pending=send.pending() label="Send reset link" busy="Sending…" class="btn btn-primary btn-block"/>
                    <p class="muted small center"><A href="/login">"Back to log in"</A></p>
                </form>
            </Show>
        </section>
    }
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let query = use_query_map();
    let go = routes::use_go();
    let password = RwSignal::new(String::new());
    let revoke_api_keys = RwSignal::new(true);
    let form = Form::new();
    let reset = Action::new_local(move |req: &ResetPasswordRequest| {
        let (req, go) = (req.clone(), go.clone());
        async move {
            match auth::reset_password(req).await {
                Ok(()) => go("/login?reset=1"),
                // A bad or used link is the page's problem, not the password field's.
                Err(e) => match e.field("token") {
                    Some(t) => form.banner.set(Some(t)),
                    None => form.fail(e),
                },
            }
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.banner.set(None);
        let req = ResetPasswordRequest {
            token: query.with_untracked(|q| q.get("token")).unwrap_or_default(),
            password: password.get_untracked(),
            revoke_api_keys: revoke_api_keys.get_untracked(),
        };
        if let Err(e) = req.validate() {
            let mut m = field_messages(&e);
            if let Some(t) = m.remove("token") {
                form.banner.set(Some(format!("This link is incomplete: the token {}", t.join(", "))));
            }
            form.errors.set(m);
            return;
        }
        form.errors.set(Default::default());
        reset.dispatch_local(req);
    };
    view! {
        <section class="auth-page">
            <form class="card auth-card" on:submit=submit novalidate>
                <h1>"Choose a new password"</h1>
                <p class="muted">"Every device signed in to your account will be signed out."</p>
                <ErrorBanner message=form.banner/>
                <Field label="New password" name="password" kind="password" autocomplete="new-password" hint="At least 10 characters, not a common password." value=password errors=form.errors/>
                <label class="check"><input type="checkbox" name="revoke_api_keys" bind:checked=revoke_api_keys/>" Also revoke my API keys (recommended if someone else may have used the account)"</label>
                <Submit pending=reset.pending() label="Set new password" busy="Saving…" class="btn btn-primary btn-block"/>
            </form>
        </section>
    }
}

/// The link in the "account locked" e-mail: one click lifts the lock on unknown browsers.
#[component]
pub fn UnlockPage() -> impl IntoView {
    let query = use_query_map();
    let form = Form::new();
    let unlock = form.action(|token: &String| auth::unlock_account(token.clone()), |()| {});
    let done = move || unlock.value().get() == Some(true);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.banner.set(None);
        unlock.dispatch_local(query.with_untracked(|q| q.get("token")).unwrap_or_default());
    };
    view! {
        <section class="auth-page">
            <Show
                when=done
                fallback=move || view! {
                    <form class="card auth-card" on:submit=submit novalidate>
                        <h1>"Unlock your account"</h1>
                        <p class="muted">"After failed sign-in attempts, sign-ins from new browsers were paused. If the attempts were yours, lift the pause now."</p>
                        <ErrorBanner message=form.banner/>
                        <Submit pending=unlock.pending() label="Unlock my account" busy="Unlocking…" class="btn btn-primary btn-block"/>
                    </form>
                }
            >
                <div class="card auth-card" data-testid="unlocked">
                    <h1>"Your account is unlocked"</h1>
                    <p class="muted">"You can sign in again from any browser. If the attempts were not yours, change your password."</p>
                    <Link href="/login" class="btn btn-primary btn-block">"Log in"</Link>
                </div>
            </Show>
        </section>
    }
}
