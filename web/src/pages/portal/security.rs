//! Account security: change password, signed-in devices, two-factor sign-in and API keys.

use keel_shared::auth::{ApiScope, ChangePasswordRequest, CreateApiKeyRequest, SessionInfo};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::portal;
use crate::components::feedback::{loaded, ErrorBanner, Notice};
use crate::components::form::{Field, FieldError, Form, Submit};
use crate::components::when;
use crate::session::use_session;

#[component]
pub fn SecurityPage() -> impl IntoView {
    let session = use_session();
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let revoke_api_keys = RwSignal::new(false);
    let form = Form::new();
    let done = RwSignal::new(None::<String>);
    let sessions = LocalResource::new(move || portal::sessions(session));
    let change = form.action(
        move |req: &ChangePasswordRequest| portal::change_password(session, req.clone()),
        move |()| {
            current.set(String::new());
            new.set(String::new());
            done.set(Some("Password changed. Your other devices were signed out.".into()));
            sessions.refetch();
        },
    );
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        done.set(None);
        let req = ChangePasswordRequest {
            current_password: current.get_untracked(),
            new_password: new.get_untracked(),
            revoke_api_keys: revoke_api_keys.get_untracked(),
        };
        if form.check(&req) {
            change.dispatch_local(req);
        }
    };
    let revoke = move |id: Option<String>| {
        spawn_local(async move {
            let r = match id {
                Some(id) => portal::revoke_session(session, &id).await,
                None => portal::revoke_other_sessions(session).await,
            };
            if let Err(e) = r {
                form.banner.set(Some(e.message()));
            }
            sessions.refetch();
        });
    };
    view! {
        <header class="page-head"><div><h1>"Security"</h1><p class="muted">"Your password and the devices signed in to your account."</p></div></header>
        <div class="grid-2">
            <form class="card stack-form" on:submit=submit novalidate data-testid="change-password">
                <h2>"Change password"</h2>
                <ErrorBanner message=form.banner/>
                <Notice message=done/>
                <Field label="Current password" name="current_password" kind="password" autocomplete="current-password" value=current errors=form.errors/>
                <Field label="New password" name="new_password" kind="password" autocomplete="new-password" hint="At least 10 characters, not a common password." value=new errors=form.errors/>
                <label class="check"><input type="checkbox" name="revoke_api_keys" bind:checked=revoke_api_keys/>" Also revoke my API keys"</label>
                <div><Submit pending=change.pending() label="Change password" busy="Changing…"/></div>
            </form>
            <section class="card" data-testid="sessions">
                <div class="page-head">
                    <h2>"Signed-in devices"</h2>
                    <button class="btn btn-outline btn-sm" type="button" on:click=move |_| revoke(None)>"Sign out all others"</button>
                </div>
                {loaded(sessions, move |list: Vec<SessionInfo>| view! {
                        <ul class="session-list">
                            {list.into_iter().map(|s| {
                                let id = s.id.clone();
                                view! {
                                    <li class="session-item">
                                        <div>
                                            <strong>{format!("{} on {}", s.browser, s.os)}</strong>
                                            {s.current.then(|| view! { <span class="pill">"this device"</span> })}
                                            <p class="muted small">{format!("{} · {} · last active {}", s.device_type, s.ip.clone().unwrap_or_else(|| "unknown IP".into()), when(s.last_seen_at))}</p>
                                        </div>
                                        {(!s.current).then(|| view! { <button class="btn btn-ghost btn-sm" type="button" on:click=move |_| revoke(Some(id.to_string()))>"Sign out"</button> })}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                })}
            </section>
        </div>
        <TwoFactor/>
        <ApiKeys/>
    }
}

#[component]
fn TwoFactor() -> impl IntoView {
    let session = use_session();
    let setup = RwSignal::new(None::<keel_shared::auth::TwoFactorSetup>);
    let recovery = RwSignal::new(None::<Vec<String>>);
    let code = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let form = Form::new();
    let (errors, banner) = (form.errors, form.banner);
    let enabled = move || session.user().is_some_and(|u| u.two_factor);
    let set_enabled = move |on: bool| {
        session.current.update(|s| {
            if let Some(s) = s {
                s.user.two_factor = on
            }
        })
    };
    let start = move |_| {
        banner.set(None);
        spawn_local(async move {
            match portal::two_factor_setup(session).await {
                Ok(s) => setup.set(Some(s)),
                Err(e) => banner.set(Some(e.message())),
            }
        });
    };
    let confirm = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.set(Default::default());
        let c = code.get_untracked().trim().to_string();
        spawn_local(async move {
            match portal::two_factor_enable(session, c).await {
                Ok(r) => {
                    recovery.set(Some(r.codes));
                    setup.set(None);
                    code.set(String::new());
                    set_enabled(true);
                }
                Err(e) => form.fail(e),
            }
        });
    };
    let disable = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.set(Default::default());
        let req = keel_shared::auth::DisableTwoFactorRequest {
            password: password.get_untracked(),
            code: code.get_untracked().trim().to_string(),
        };
        spawn_local(async move {
            match portal::two_factor_disable(session, req).await {
                Ok(()) => {
                    password.set(String::new());
                    code.set(String::new());
                    recovery.set(None);
                    set_enabled(false);
                }
                Err(e) => form.fail(e),
            }
        });
    };
    view! {
        <section class="card two-factor" data-testid="two-factor">
            <h2>"Two-factor sign-in"</h2>
            <ErrorBanner message=banner/>
            {move || recovery.get().map(|codes| view! {
                <div class="alert alert-info" data-testid="recovery-codes">
                    <strong>"Two-factor sign-in is on. Keep these recovery codes somewhere safe; each works once if you lose your phone:"</strong>
                    <ul class="codes">{codes.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}</ul>
                </div>
            })}
            {move || if enabled() {
                view! {
                    <p class="muted small">"Sign-in asks for a code from your authenticator app. To turn it off, confirm with your password and a code."</p>
                    <form class="inline-form" on:submit=disable novalidate>
                        <Field label="Password" name="password" kind="password" autocomplete="current-password" value=password errors=errors/>
                        <Field label="Code" name="code" autocomplete="one-time-code" value=code errors=errors/>
                        <div><button class="btn btn-outline" type="submit">"Turn off"</button></div>
                    </form>
                }.into_any()
            } else {
                match setup.get() {
                    None => view! {
                        <p class="muted small">"Add a second step to signing in: a six-digit code from an app such as Google Authenticator, 1Password or Aegis."</p>
                        <div><button class="btn btn-primary" type="button" on:click=start>"Set up two-factor sign-in"</button></div>
                    }.into_any(),
                    Some(s) => view! {
                        <div class="qr-setup">
                            <div class="qr" inner_html=s.qr_svg.clone() aria-label="QR code to scan"></div>
                            <div class="stack-form">
                                <p class="small">"Scan the code with your authenticator app, or type this key:"</p>
                                <code class="secret-key" data-testid="totp-secret">{s.secret.clone()}</code>
                                <form class="stack-form" on:submit=confirm novalidate>
                                    <Field label="Code from the app" name="code" autocomplete="one-time-code" value=code errors=errors/>
                                    <div><button class="btn btn-primary" type="submit">"Turn on"</button></div>
                                </form>
                            </div>
                        </div>
                    }.into_any(),
                }
            }}
        </section>
    }
}

#[component]
fn ApiKeys() -> impl IntoView {
    let session = use_session();
    let keys = LocalResource::new(move || portal::api_keys(session));
    let name = RwSignal::new(String::new());
    let read = RwSignal::new(true);
    let write = RwSignal::new(false);
    let admin = RwSignal::new(false);
    let days = RwSignal::new(String::from("90"));
    let form = Form::new();
    let (errors, banner) = (form.errors, form.banner);
    let secret = RwSignal::new(None::<String>);
    let create_key = form.action(
        move |req: &CreateApiKeyRequest| portal::create_api_key(session, req.clone()),
        move |k: keel_shared::auth::CreatedApiKey| {
            secret.set(Some(k.secret));
            name.set(String::new());
            keys.refetch();
        },
    );
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let scopes: Vec<ApiScope> = [(read, ApiScope::Read), (write, ApiScope::Write), (admin, ApiScope::Admin)]
            .into_iter()
            .filter(|(on, _)| on.get_untracked())
            .map(|(_, s)| s)
            .collect();
        let expires_at = days.get_untracked().parse::<i64>().ok().map(|d| chrono::Utc::now() + chrono::Duration::days(d));
        let req = CreateApiKeyRequest { name: name.get_untracked().trim().to_string(), scopes, expires_at, allowed_ips: vec![] };
        if form.check(&req) {
            create_key.dispatch_local(req);
        }
    };
    let revoke = move |id: String| {
        spawn_local(async move {
            if let Err(e) = portal::revoke_api_key(session, &id).await {
                banner.set(Some(e.message()));
            }
            keys.refetch();
        });
    };
    view! {
        <section class="card api-keys" data-testid="api-keys">
            <h2>"API keys"</h2>
            <p class="muted small">"Let other programs use the Keel API as you. Send a key as " <code>"Authorization: Bearer keel_…"</code> ". Keys cannot change your password or manage keys."</p>
            <ErrorBanner message=banner/>
            {move || secret.get().map(|s| view! {
                <div class="alert alert-info secret" role="status" data-testid="new-secret">
                    <strong>"Copy your new key now; it will not be shown again:"</strong>
                    <code>{s}</code>
                </div>
            })}
            <form class="key-form" on:submit=create novalidate>
                <Field label="Name" name="name" value=name errors=errors/>
                <fieldset class="scopes">
                    <legend>"Scopes"</legend>
                    <label><input type="checkbox" bind:checked=read/>" read"</label>
                    <label><input type="checkbox" bind:checked=write/>" write"</label>
                    <Show when=move || session.is_back_office()><label><input type="checkbox" bind:checked=admin/>" admin"</label></Show>
                    <FieldError name="scopes" errors=errors/>
                </fieldset>
                <label class="field"><span>"Expires"</span>
                    <select on:change=move |ev| days.set(event_target_value(&ev))>
                        <option value="30">"in 30 days"</option>
                        <option value="90" selected>"in 90 days"</option>
                        <option value="365">"in a year"</option>
                        <option value="never">"never"</option>
                    </select>
                </label>
                <div><Submit pending=create_key.pending() label="Create key" busy="Creating…"/></div>
            </form>
            {loaded(keys, move |list: Vec<keel_shared::auth::ApiKey>| if list.is_empty() {
                view! { <p class="muted small">"No API keys yet."</p> }.into_any()
            } else { view! {
                    <table class="table">
                        <thead><tr><th>"Name"</th><th>"Key"</th><th>"Scopes"</th><th>"Expires"</th><th>"Last used"</th><th></th></tr></thead>
                        <tbody>
                            {list.into_iter().map(|k| {
                                let id = k.id.clone();
                                view! {
                                    <tr>
                                        <td>{k.name.clone()}</td>
                                        <td><code>{format!("{}…", k.prefix)}</code></td>
                                        <td>{k.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")}</td>
                                        <td>{k.expires_at.map(when).unwrap_or_else(|| "never".into())}</td>
                                        <td>{k.last_used_at.map(when).unwrap_or_else(|| "never".into())}</td>
                                        <td class="row-actions"><button class="btn btn-ghost btn-sm" type="button" on:click=move |_| revoke(id.to_string())>"Revoke"</button></td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
            }.into_any() })}
        </section>
    }
}
