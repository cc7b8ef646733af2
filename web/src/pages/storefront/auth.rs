//! Log in and register. Both check the form with the same rules the API runs (from `shared`)
//! before sending, and show the server's per-field problems under the fields.

use keel_shared::auth::{LoginRequest, MfaLoginRequest, RegisterRequest, TokenResponse};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::api::auth::{self, LoginResult};
use crate::api::ClientError;
use crate::components::feedback::ErrorBanner;
use crate::components::form::{Field, Form, NameFields, Submit};
use crate::routes;
use crate::session::use_session;

/// Where to go after signing in: `?next=` when it is a local path, else the portal (or the admin
/// for back-office users).
fn next_path(next: Option<String>, back_office: bool) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") => n,
        _ if back_office => "/admin".into(),
        _ => "/dashboard".into(),
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let session = use_session();
    let go = routes::use_go();
    let query = use_query_map();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let form = Form::new();

    // Set when the password was right and the account asks for a code.
    let challenge = RwSignal::new(None::<String>);
    let code = RwSignal::new(String::new());
    let finish = move |t: TokenResponse| {
        let to = next_path(query.with_untracked(|q| q.get("next")), t.user.role.is_back_office());
        session.set(t);
        go(&to);
    };

    let log_in = form.action(|req: &LoginRequest| auth::login(req.clone()), {
        let finish = finish.clone();
        move |r| match r {
            LoginResult::SignedIn(t) => finish(t),
            LoginResult::NeedsCode(c) => challenge.set(Some(c.mfa_token)),
        }
    });
    let send_code = Action::new_local(move |req: &MfaLoginRequest| {
        let (req, finish) = (req.clone(), finish.clone());
        async move {
            match auth::login_code(req).await {
                Ok(t) => finish(t),
                // The step is used up (used, expired, or five wrong codes): back to the password.
                Err(ClientError::Unauthorized(p)) if p.code == "mfa_token_invalid" => {
                    code.set(String::new());
                    challenge.set(None);
                    form.banner.set(Some(p.message().to_string()));
                }
                Err(e) => form.fail(e),
            }
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let req = LoginRequest { email: email.get_untracked().trim().to_string(), password: password.get_untracked() };
        if form.check(&req) {
            log_in.dispatch_local(req);
        }
    };
    let submit_code = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let req =
            MfaLoginRequest { mfa_token: challenge.get_untracked().unwrap_or_default(), code: code.get_untracked().trim().to_string() };
        if form.check(&req) {
            send_code.dispatch_local(req);
        }
    };

    let code_step = move || {
        view! {
            <form class="card auth-card" on:submit=submit_code novalidate data-testid="code-step">
                <h1>"Two-factor sign-in"</h1>
                <p class="muted">"Enter the six-digit code from your authenticator app, or one of your recovery codes."</p>
                <ErrorBanner message=form.banner/>
                <Field label="Code" name="code" autocomplete="one-time-code" value=code errors=form.errors/>
                <Submit pending=send_code.pending() label="Verify" busy="Verifying…" class="btn btn-primary btn-block"/>
            </form>
        }
    };

    view! {
        <section class="auth-page">
            <Show when=move || challenge.with(Option::is_none) fallback=code_step>
            <form class="card auth-card" on:submit=submit novalidate>
                <h1>"Welcome back"</h1>
                <p class="muted">"Log in to manage your hosting, invoices and support."</p>
                {move || query.with(|q| q.get("reset").is_some()).then(|| view! {
                    <div class="alert alert-info" role="status">"Your password was changed. Log in with the new one."</div>
                })}
                <ErrorBanner message=form.banner/>
                <Field label="E-mail" name="email" kind="email" autocomplete="email" value=email errors=form.errors/>
                <Field label="Password" name="password" kind="password" autocomplete="current-password" value=password errors=form.errors/>
                <p class="small right"><A href="/forgot-password">"Forgot your password?"</A></p>
                <Submit pending=log_in.pending() label="Log in" busy="Logging in…" class="btn btn-primary btn-block"/>
                <p class="muted small center">"New here? " <A href=move || query.with(|q| q.get("next")).map_or("/register".to_string(), |n| format!("/register?next={}", crate::api::percent_encode(&n)))>"Create an account"</A></p>
            </form>
            </Show>
        </section>
    }
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    let session = use_session();
    let go = routes::use_go();
    let query = use_query_map();
    let first_name = RwSignal::new(String::new());
    let last_name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let form = Form::new();
    let register = form.action(
        |req: &RegisterRequest| auth::register(req.clone()),
        move |t: TokenResponse| {
            let to = next_path(query.with_untracked(|q| q.get("next")), false);
            session.set(t);
            go(&to);
        },
    );

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let req = RegisterRequest {
            email: email.get_untracked().trim().to_string(),
            password: password.get_untracked(),
            first_name: first_name.get_untracked().trim().to_string(),
            last_name: last_name.get_untracked().trim().to_string(),
        };
        if form.check(&req) {
            register.dispatch_local(req);
        }
    };

    view! {
        <section class="auth-page">
            <form class="card auth-card" on:submit=submit novalidate>
                <h1>"Create your account"</h1>
                <p class="muted">"One account for your hosting, domains, invoices and support."</p>
                <ErrorBanner message=form.banner/>
                <NameFields first=first_name last=last_name errors=form.errors/>
                <Field label="E-mail" name="email" kind="email" autocomplete="email" value=email errors=form.errors/>
                <Field label="Password" name="password" kind="password" autocomplete="new-password"
                    hint="At least 10 characters." value=password errors=form.errors/>
                <Submit pending=register.pending() label="Create account" busy="Creating account…" class="btn btn-primary btn-block"/>
                <p class="muted small center">"Already a customer? " <A href=move || query.with(|q| q.get("next")).map_or("/login".to_string(), |n| format!("/login?next={}", crate::api::percent_encode(&n)))>"Log in"</A></p>
            </form>
        </section>
    }
}
