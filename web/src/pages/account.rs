//! Account security: e-mail verification, forgot/reset password, change password, sessions and
//! the account's activity; the admin's audit log.

use std::collections::BTreeMap;

use keel_shared::auth::{ApiScope, AuditEntry, ChangePasswordRequest, CreateApiKeyRequest, ForgotPasswordRequest, ResetPasswordRequest};
use keel_shared::validation::field_messages;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use validator::Validate;

use super::auth::{Field, FieldErrors, checked, show_error};
use crate::api;
use crate::components::when;
use crate::components::feedback::{loaded, Empty, ErrorPanel, Loading, Pager};
use crate::session::use_session;


#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let query = use_query_map();
    let session = use_session();
    let token = query.with_untracked(|q| q.get("token")).unwrap_or_default();
    let result = LocalResource::new(move || api::verify_email(token.clone()));
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
                            <A href="/dashboard" attr:class="btn btn-primary btn-block">"Go to your dashboard"</A>
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
    let errors: FieldErrors = RwSignal::new(BTreeMap::new());
    let banner = RwSignal::new(None::<String>);
    let sent = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        banner.set(None);
        let req = ForgotPasswordRequest { email: email.get_untracked().trim().to_string() };
        if !checked(&req, errors) {
            return;
        }
        spawn_local(async move {
            match api::forgot_password(req.email).await {
                Ok(()) => sent.set(true),
                Err(e) => show_error(e, errors, banner),
            }
        });
    };
    view! {
        <section class="auth-page">
            <Show when=move || !sent.get() fallback=move || view! {
                <div class="card auth-card" data-testid="reset-sent">
                    <h1>"Check your inbox"</h1>
                    <p class="muted">{move || format!("If {} has an account, we sent a link to choose a new password. It works once and expires in an hour.", email.get())}</p>
                    <A href="/login" attr:class="btn btn-outline btn-block">"Back to log in"</A>
                </div>
            }>
                <form class="card auth-card" on:submit=submit novalidate>
                    <h1>"Forgot your password?"</h1>
                    <p class="muted">"Enter your e-mail address and we will send you a link to choose a new one."</p>
                    {move || banner.get().map(|m| view! { <div class="alert alert-error" role="alert">{m}</div> })}
                    <Field label="E-mail" name="email" kind="email" autocomplete="email" value=email errors=errors/>
                    <button class="btn btn-primary btn-block" type="submit">"Send reset link"</button>
                    <p class="muted small center"><A href="/login">"Back to log in"</A></p>
                </form>
            </Show>
        </section>
    }
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let query = use_query_map();
    let navigate = use_navigate();
    let password = RwSignal::new(String::new());
    let errors: FieldErrors = RwSignal::new(BTreeMap::new());
    let banner = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        banner.set(None);
        let req = ResetPasswordRequest { token: query.with_untracked(|q| q.get("token")).unwrap_or_default(), password: password.get_untracked() };
        if let Err(e) = req.validate() {
            let mut m = field_messages(&e);
            if let Some(t) = m.remove("token") {
                banner.set(Some(format!("This link is incomplete: the token {}", t.join(", "))));
            }
            errors.set(m);
            return;
        }
        errors.set(BTreeMap::new());
        let navigate = navigate.clone();
        spawn_local(async move {
            match api::reset_password(&req).await {
                Ok(()) => navigate("/login?reset=1", Default::default()),
                Err(e) => {
                    if let Some(t) = e.field("token") {
                        banner.set(Some(t));
                    } else {
                        show_error(e, errors, banner);
                    }
                }
            }
        });
    };
    view! {
        <section class="auth-page">
            <form class="card auth-card" on:submit=submit novalidate>
                <h1>"Choose a new password"</h1>
                <p class="muted">"Every device signed in to your account will be signed out."</p>
                {move || banner.get().map(|m| view! { <div class="alert alert-error" role="alert">{m}</div> })}
                <Field label="New password" name="password" kind="password" autocomplete="new-password" hint="At least 10 characters, not a common password." value=password errors=errors/>
                <button class="btn btn-primary btn-block" type="submit">"Set new password"</button>
            </form>
        </section>
    }
}

/// The "please confirm your e-mail" banner with a resend button, for the dashboard.
#[component]
pub fn VerifyBanner() -> impl IntoView {
    let session = use_session();
    let note = RwSignal::new(None::<String>);
    let resend = move |_| {
        spawn_local(async move {
            note.set(Some(match api::resend_verification(session).await {
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

#[component]
pub fn SecurityPage() -> impl IntoView {
    let session = use_session();
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let errors: FieldErrors = RwSignal::new(BTreeMap::new());
    let banner = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    let version = RwSignal::new(0u32);
    let sessions = LocalResource::new(move || {
        version.track();
        api::sessions(session)
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        banner.set(None);
        done.set(None);
        let req = ChangePasswordRequest { current_password: current.get_untracked(), new_password: new.get_untracked() };
        if !checked(&req, errors) {
            return;
        }
        spawn_local(async move {
            match api::change_password(session, &req).await {
                Ok(()) => {
                    current.set(String::new());
                    new.set(String::new());
                    done.set(Some("Password changed. Your other devices were signed out.".into()));
                    version.update(|v| *v += 1);
                }
                Err(e) => show_error(e, errors, banner),
            }
        });
    };
    let revoke = move |id: Option<String>| {
        spawn_local(async move {
            let r = match id {
                Some(id) => api::revoke_session(session, &id).await,
                None => api::revoke_other_sessions(session).await,
            };
            if let Err(e) = r {
                banner.set(Some(e.message()));
            }
            version.update(|v| *v += 1);
        });
    };
    view! {
        <header class="page-head"><div><h1>"Security"</h1><p class="muted">"Your password and the devices signed in to your account."</p></div></header>
        <div class="grid-2">
            <form class="card stack-form" on:submit=submit novalidate data-testid="change-password">
                <h2>"Change password"</h2>
                {move || banner.get().map(|m| view! { <div class="alert alert-error" role="alert">{m}</div> })}
                {move || done.get().map(|m| view! { <div class="alert alert-info" role="status">{m}</div> })}
                <Field label="Current password" name="current_password" kind="password" autocomplete="current-password" value=current errors=errors/>
                <Field label="New password" name="new_password" kind="password" autocomplete="new-password" hint="At least 10 characters, not a common password." value=new errors=errors/>
                <div><button class="btn btn-primary" type="submit">"Change password"</button></div>
            </form>
            <section class="card" data-testid="sessions">
                <div class="page-head">
                    <h2>"Signed-in devices"</h2>
                    <button class="btn btn-outline btn-sm" type="button" on:click=move |_| revoke(None)>"Sign out all others"</button>
                </div>
                {move || match sessions.get() {
                    None => view! { <Loading/> }.into_any(),
                    Some(Err(e)) => view! { <ErrorPanel error=e/> }.into_any(),
                    Some(Ok(list)) => view! {
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
                                        {(!s.current).then(|| view! { <button class="btn btn-ghost btn-sm" type="button" on:click=move |_| revoke(Some(id.clone()))>"Sign out"</button> })}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                }}
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
    let errors: FieldErrors = RwSignal::new(BTreeMap::new());
    let banner = RwSignal::new(None::<String>);
    let enabled = move || session.user().is_some_and(|u| u.two_factor);
    let set_enabled = move |on: bool| session.current.update(|s| if let Some(s) = s { s.user.two_factor = on });
    let start = move |_| {
        banner.set(None);
        spawn_local(async move {
            match api::two_factor_setup(session).await {
                Ok(s) => setup.set(Some(s)),
                Err(e) => banner.set(Some(e.message())),
            }
        });
    };
    let confirm = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.set(BTreeMap::new());
        let c = code.get_untracked().trim().to_string();
        spawn_local(async move {
            match api::two_factor_enable(session, c).await {
                Ok(r) => {
                    recovery.set(Some(r.codes));
                    setup.set(None);
                    code.set(String::new());
                    set_enabled(true);
                }
                Err(e) => show_error(e, errors, banner),
            }
        });
    };
    let disable = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.set(BTreeMap::new());
        let req = keel_shared::auth::DisableTwoFactorRequest { password: password.get_untracked(), code: code.get_untracked().trim().to_string() };
        spawn_local(async move {
            match api::two_factor_disable(session, &req).await {
                Ok(()) => {
                    password.set(String::new());
                    code.set(String::new());
                    recovery.set(None);
                    set_enabled(false);
                }
                Err(e) => show_error(e, errors, banner),
            }
        });
    };
    view! {
        <section class="card two-factor" data-testid="two-factor">
            <h2>"Two-factor sign-in"</h2>
            {move || banner.get().map(|m| view! { <div class="alert alert-error" role="alert">{m}</div> })}
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
    let version = RwSignal::new(0u32);
    let keys = LocalResource::new(move || {
        version.track();
        api::api_keys(session)
    });
    let name = RwSignal::new(String::new());
    let read = RwSignal::new(true);
    let write = RwSignal::new(false);
    let admin = RwSignal::new(false);
    let days = RwSignal::new(String::from("90"));
    let errors: FieldErrors = RwSignal::new(BTreeMap::new());
    let banner = RwSignal::new(None::<String>);
    let secret = RwSignal::new(None::<String>);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        banner.set(None);
        let scopes: Vec<ApiScope> = [(read, ApiScope::Read), (write, ApiScope::Write), (admin, ApiScope::Admin)]
            .into_iter()
            .filter(|(on, _)| on.get_untracked())
            .map(|(_, s)| s)
            .collect();
        let expires_at = days.get_untracked().parse::<i64>().ok().map(|d| chrono::Utc::now() + chrono::Duration::days(d));
        let req = CreateApiKeyRequest { name: name.get_untracked().trim().to_string(), scopes, expires_at, allowed_ips: vec![] };
        if !checked(&req, errors) {
            return;
        }
        spawn_local(async move {
            match api::create_api_key(session, &req).await {
                Ok(k) => {
                    secret.set(Some(k.secret));
                    name.set(String::new());
                    version.update(|v| *v += 1);
                }
                Err(e) => show_error(e, errors, banner),
            }
        });
    };
    let revoke = move |id: String| {
        spawn_local(async move {
            if let Err(e) = api::revoke_api_key(session, &id).await {
                banner.set(Some(e.message()));
            }
            version.update(|v| *v += 1);
        });
    };
    view! {
        <section class="card api-keys" data-testid="api-keys">
            <h2>"API keys"</h2>
            <p class="muted small">"Let other programs use the Keel API as you. Send a key as " <code>"Authorization: Bearer keel_…"</code> ". Keys cannot change your password or manage keys."</p>
            {move || banner.get().map(|m| view! { <div class="alert alert-error" role="alert">{m}</div> })}
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
                    {move || errors.with(|e| e.get("scopes").and_then(|v| v.first().cloned())).map(|m| view! { <p class="field-error">{m}</p> })}
                </fieldset>
                <label class="field"><span>"Expires"</span>
                    <select on:change=move |ev| days.set(event_target_value(&ev))>
                        <option value="30">"in 30 days"</option>
                        <option value="90" selected>"in 90 days"</option>
                        <option value="365">"in a year"</option>
                        <option value="never">"never"</option>
                    </select>
                </label>
                <div><button class="btn btn-primary" type="submit">"Create key"</button></div>
            </form>
            {move || match keys.get() {
                None => view! { <Loading/> }.into_any(),
                Some(Err(e)) => view! { <ErrorPanel error=e/> }.into_any(),
                Some(Ok(list)) if list.is_empty() => view! { <p class="muted small">"No API keys yet."</p> }.into_any(),
                Some(Ok(list)) => view! {
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
                                        <td class="row-actions"><button class="btn btn-ghost btn-sm" type="button" on:click=move |_| revoke(id.clone())>"Revoke"</button></td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            }}
        </section>
    }
}

fn audit_table(list: keel_shared::Page<AuditEntry>, page: RwSignal<u32>, show_account: bool) -> AnyView {
    if list.items.is_empty() {
        return view! { <Empty title="Nothing recorded yet"/> }.into_any();
    }
    let (current, pages) = (list.page, list.total_pages.max(1));
    view! {
        <div class="card table-card">
            <table class="table" data-testid="audit-table">
                <thead><tr><th>"When"</th><th>"Action"</th>{show_account.then(|| view! { <th>"Account"</th> })}<th>"IP"</th><th>"Details"</th></tr></thead>
                <tbody>
                    {list.items.into_iter().map(|e| view! {
                        <tr>
                            <td>{when(e.created_at)}</td>
                            <td><code>{e.action.clone()}</code></td>
                            {show_account.then(|| view! { <td class="muted small clip">{e.account_id.clone().unwrap_or_default()}</td> })}
                            <td>{e.ip.clone().unwrap_or_default()}</td>
                            <td class="muted small clip">{if e.details.as_object().is_some_and(|o| o.is_empty()) { String::new() } else { e.details.to_string() }}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <Pager page=page current=current pages=pages/>
        </div>
    }
    .into_any()
}

#[component]
pub fn ActivityPage() -> impl IntoView {
    let session = use_session();
    let page = RwSignal::new(1u32);
    let entries = LocalResource::new(move || api::my_audit(session, page.get()));
    view! {
        <header class="page-head"><div><h1>"Account activity"</h1><p class="muted">"Sign-ins, password changes and other events on your account."</p></div></header>
        {loaded(entries, move |list| audit_table(list, page, false))}
    }
}

#[component]
pub fn AdminAuditPage() -> impl IntoView {
    let session = use_session();
    let page = RwSignal::new(1u32);
    let action = RwSignal::new(String::new());
    let entries = LocalResource::new(move || api::admin_audit(session, action.get(), page.get()));
    view! {
        <header class="page-head"><div><h1>"Audit log"</h1><p class="muted">"Every sign-in, failed sign-in, password change and admin action."</p></div></header>
        <div class="toolbar">
            <label class="inline-field">"Action "
                <input type="search" placeholder="e.g. auth.login_failed" bind:value=action on:input=move |_| page.set(1)/>
            </label>
        </div>
        {loaded(entries, move |list| audit_table(list, page, true))}
    }
}
