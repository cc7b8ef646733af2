//! Log in and register. Both check the form with the same rules the API runs (from `shared`)
//! before sending, and show the server's per-field problems under the fields.

use std::collections::BTreeMap;

use keel_shared::auth::{LoginRequest, MfaLoginRequest, RegisterRequest};
use keel_shared::validation::field_messages;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use validator::Validate;

use crate::api::{self, ClientError};
use crate::session::use_session;

pub type FieldErrors = RwSignal<BTreeMap<String, Vec<String>>>;

#[component]
pub fn Field(
    label: &'static str,
    name: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "")] autocomplete: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    value: RwSignal<String>,
    errors: FieldErrors,
) -> impl IntoView {
    let id = format!("f-{name}");
    let err_id = format!("{id}-error");
    let error = move || errors.with(|e| e.get(name).and_then(|v| v.first().cloned()));
    view! {
        <div class="field" class:has-error=move || error().is_some()>
            <label for=id.clone()>{label}</label>
            <input id=id name=name type=kind autocomplete=autocomplete bind:value=value
                aria-invalid=move || error().is_some().to_string()
                aria-describedby=err_id.clone()/>
            {move || match error() {
                Some(e) => view! { <p class="field-error" id=err_id.clone()>{e}</p> }.into_any(),
                None => hint.map(|h| view! { <p class="field-hint">{h}</p> }).into_any(),
            }}
        </div>
    }
}

/// A person's first and last name side by side, as every form that asks for one shows them.
/// `own`: the name is the user's own, so the browser may fill it in (not when an admin adds staff).
#[component]
pub fn NameFields(first: RwSignal<String>, last: RwSignal<String>, errors: FieldErrors, #[prop(default = true)] own: bool) -> impl IntoView {
    let (given, family) = if own { ("given-name", "family-name") } else { ("off", "off") };
    view! {
        <div class="field-row">
            <Field label="First name" name="first_name" autocomplete=given value=first errors=errors/>
            <Field label="Last name" name="last_name" autocomplete=family value=last errors=errors/>
        </div>
    }
}

/// Runs the shared validation rules before a form is sent: shows the per-field messages and
/// answers false when something is wrong; clears earlier messages and answers true otherwise.
pub fn checked<T: Validate>(req: &T, errors: FieldErrors) -> bool {
    match req.validate() {
        Err(e) => {
            errors.set(field_messages(&e));
            false
        }
        Ok(()) => {
            errors.set(BTreeMap::new());
            true
        }
    }
}

pub fn show_error(err: ClientError, errors: FieldErrors, banner: RwSignal<Option<String>>) {
    match &err {
        ClientError::Problem(p) if !p.errors.is_empty() => errors.set(p.errors.clone()),
        _ => {}
    }
    banner.set(Some(err.message()));
}

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
    let navigate = use_navigate();
    let query = use_query_map();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let errors: FieldErrors = RwSignal::new(BTreeMap::new());
    let banner = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    // Set when the password was right and the account asks for a code.
    let challenge = RwSignal::new(None::<String>);
    let code = RwSignal::new(String::new());
    let finish = move |t: keel_shared::auth::TokenResponse, next: Option<String>, navigate: &dyn Fn(&str)| {
        let to = next_path(next, t.user.role.is_back_office());
        session.set(t);
        navigate(&to);
    };

    let submit = {
        let navigate = navigate.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            banner.set(None);
            let req = LoginRequest { email: email.get_untracked().trim().to_string(), password: password.get_untracked() };
            if !checked(&req, errors) {
                return;
            }
            busy.set(true);
            let navigate = navigate.clone();
            let next = query.with_untracked(|q| q.get("next"));
            spawn_local(async move {
                match api::login(&req).await {
                    Ok(api::LoginResult::SignedIn(t)) => finish(t, next, &|to| navigate(to, Default::default())),
                    Ok(api::LoginResult::NeedsCode(c)) => challenge.set(Some(c.mfa_token)),
                    Err(e) => show_error(e, errors, banner),
                }
                busy.set(false);
            });
        }
    };
    let submit_code = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        banner.set(None);
        let req = MfaLoginRequest { mfa_token: challenge.get_untracked().unwrap_or_default(), code: code.get_untracked().trim().to_string() };
        if !checked(&req, errors) {
            return;
        }
        let navigate = navigate.clone();
        let next = query.with_untracked(|q| q.get("next"));
        spawn_local(async move {
            match api::login_code(&req).await {
                Ok(t) => finish(t, next, &|to| navigate(to, Default::default())),
                Err(e) => show_error(e, errors, banner),
            }
        });
    };

    let code_step = move || {
        view! {
            <form class="card auth-card" on:submit=submit_code.clone() novalidate data-testid="code-step">
                <h1>"Two-factor sign-in"</h1>
                <p class="muted">"Enter the six-digit code from your authenticator app, or one of your recovery codes."</p>
                {move || banner.get().map(|m| view! { <div class="alert alert-error" role="alert">{m}</div> })}
                <Field label="Code" name="code" autocomplete="one-time-code" value=code errors=errors/>
                <button class="btn btn-primary btn-block" type="submit">"Verify"</button>
            </form>
        }
    };

    view! {
        <section class="auth-page">
            <Show when=move || challenge.with(Option::is_none) fallback=code_step>
            <form class="card auth-card" on:submit=submit.clone() novalidate>
                <h1>"Welcome back"</h1>
                <p class="muted">"Log in to manage your hosting, invoices and support."</p>
                {move || query.with(|q| q.get("reset").is_some()).then(|| view! {
                    <div class="alert alert-info" role="status">"Your password was changed. Log in with the new one."</div>
                })}
                {move || banner.get().map(|m| view! { <div class="alert alert-error" role="alert">{m}</div> })}
                <Field label="E-mail" name="email" kind="email" autocomplete="email" value=email errors=errors/>
                <Field label="Password" name="password" kind="password" autocomplete="current-password" value=password errors=errors/>
                <p class="small right"><A href="/forgot-password">"Forgot your password?"</A></p>
                <button class="btn btn-primary btn-block" type="submit" disabled=move || busy.get()>
                    {move || if busy.get() { "Logging in…" } else { "Log in" }}
                </button>
                <p class="muted small center">"New here? " <A href="/register">"Create an account"</A></p>
            </form>
            </Show>
        </section>
    }
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let first_name = RwSignal::new(String::new());
    let last_name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let errors: FieldErrors = RwSignal::new(BTreeMap::new());
    let banner = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        banner.set(None);
        let req = RegisterRequest {
            email: email.get_untracked().trim().to_string(),
            password: password.get_untracked(),
            first_name: first_name.get_untracked().trim().to_string(),
            last_name: last_name.get_untracked().trim().to_string(),
        };
        if !checked(&req, errors) {
            return;
        }
        busy.set(true);
        let navigate = navigate.clone();
        spawn_local(async move {
            match api::register(&req).await {
                Ok(t) => {
                    session.set(t);
                    navigate("/dashboard", Default::default());
                }
                Err(e) => show_error(e, errors, banner),
            }
            busy.set(false);
        });
    };

    view! {
        <section class="auth-page">
            <form class="card auth-card" on:submit=submit novalidate>
                <h1>"Create your account"</h1>
                <p class="muted">"One account for your hosting, domains, invoices and support."</p>
                {move || banner.get().map(|m| view! { <div class="alert alert-error" role="alert">{m}</div> })}
                <NameFields first=first_name last=last_name errors=errors/>
                <Field label="E-mail" name="email" kind="email" autocomplete="email" value=email errors=errors/>
                <Field label="Password" name="password" kind="password" autocomplete="new-password"
                    hint="At least 10 characters." value=password errors=errors/>
                <button class="btn btn-primary btn-block" type="submit" disabled=move || busy.get()>
                    {move || if busy.get() { "Creating account…" } else { "Create account" }}
                </button>
                <p class="muted small center">"Already a customer? " <A href="/login">"Log in"</A></p>
            </form>
        </section>
    }
}
