//! Admin: the servers hosting accounts are created on (`servers.manage`): the list with each
//! server's load, status and health, "Add server", and one server with its edit form, "Test
//! connection", its recent health checks and removal (refused while services live on it).
//!
//! A server's API token is write-only: the API never answers it (only `has_credentials`), so the
//! edit form starts empty and an empty token keeps the saved one. The built-in sandbox server
//! talks to a stand-in inside Keel (WHM or Hetzner Cloud): it has no address or token to set.

use keel_shared::provisioning::{ModuleKind, Server, ServerCheck, ServerDetail, ServerInput, ServerStatus};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};
use leptos_router::NavigateOptions;

use crate::api::admin;
use crate::components::feedback::{loaded, Empty, ErrorBanner, Notice};
use crate::components::form::{Field, FieldError, Form, Submit};
use crate::components::{when, when_exact};
use crate::session::use_session;

pub fn server_status_pill(s: ServerStatus) -> impl IntoView {
    view! { <span class=format!("pill pill-server-{}", s.as_str()) data-testid="server-status">{s.as_str()}</span> }
}

/// The badge that tells the built-in sandbox from a real server.
fn sandbox_badge(module: ModuleKind) -> impl IntoView {
    let text = format!("Sandbox — built-in {} stand-in", module.label());
    view! { <span class="pill pill-sandbox" data-testid="sandbox-badge" title="A stand-in inside Keel: nothing real is created">{text}</span> }
}

/// A health dot: green when the last check passed, red when it failed, grey before the first.
fn health(s: &Server) -> impl IntoView {
    let (class, label) = match (s.last_check_at.is_some(), s.healthy) {
        (false, _) => ("dot dot-unknown", "not checked"),
        (true, true) => ("dot dot-up", "up"),
        (true, false) => ("dot dot-down", "down"),
    };
    view! {
        <span class="health" data-testid="server-health" title=s.last_error.clone().unwrap_or_default()>
            <span class=class aria-hidden="true"></span>{label}
        </span>
    }
}

/// `current / max` accounts with a bar.
fn load(s: &Server) -> impl IntoView {
    let percent = if s.max_accounts > 0 { (i64::from(s.current_accounts) * 100 / i64::from(s.max_accounts)).clamp(0, 100) } else { 100 };
    view! {
        <div class="load" title=format!("{percent} % full")>
            <span data-testid="server-load">{format!("{} / {}", s.current_accounts, s.max_accounts)}</span>
            <span class="load-bar" class:full={percent >= 90}><span style=format!("width: {percent}%")></span></span>
        </div>
    }
}

fn latency(ms: Option<i32>) -> String {
    ms.map(|ms| format!("{ms} ms")).unwrap_or_else(|| "—".into())
}

#[component]
pub fn ServersPage() -> impl IntoView {
    let session = use_session();
    let servers = LocalResource::new(move || admin::servers(session));
    let adding = RwSignal::new(false);
    let notice = RwSignal::new(None::<String>);
    let done = Callback::new(move |saved: Option<Server>| {
        adding.set(false);
        if let Some(s) = saved {
            notice.set(Some(format!("{} added.", s.name)));
            servers.refetch();
        }
    });
    view! {
        <header class="page-head">
            <div>
                <h1>"Servers"</h1>
                <p class="muted">"Where hosting accounts are created: each new one goes to an active, healthy server below its maximum."</p>
            </div>
            <div class="row-actions">
                <button class="btn btn-primary" type="button" data-testid="add-server-open" disabled=move || adding.get()
                    on:click=move |_| { notice.set(None); adding.set(true); }>"Add server"</button>
                <button class="btn btn-outline" type="button" on:click=move |_| servers.refetch()>"Refresh"</button>
            </div>
        </header>
        <Notice message=notice/>
        <Show when=move || adding.get()>
            <ServerForm server=None done=done/>
        </Show>
        {loaded(servers, servers_table)}
    }
}

fn servers_table(list: Vec<Server>) -> AnyView {
    if list.is_empty() {
        return view! { <Empty title="No servers" hint="Add the first server to start creating hosting accounts."/> }.into_any();
    }
    view! {
        <div class="card table-card">
            <table class="table" data-testid="servers-table">
                <thead><tr>
                    <th>"Server"</th><th>"Location"</th><th>"Accounts"</th><th>"Status"</th><th>"Health"</th><th>"Last check"</th>
                </tr></thead>
                <tbody>
                    {list.into_iter().map(|s| {
                        let name = s.name.clone();
                        view! {
                        <tr data-server=s.name.clone()>
                            <td>
                                <div class="server-cell">
                                    <A href=format!("/admin/servers/{}", s.id)>{name}</A>
                                    {s.sandbox.then(|| sandbox_badge(s.module))}
                                    <span class="muted small">{format!("{} · {}{}", s.module.label(), s.hostname, s.ip.as_ref().map(|ip| format!(" · {ip}")).unwrap_or_default())}</span>
                                </div>
                            </td>
                            <td>{if s.location.is_empty() { "—".to_string() } else { s.location.clone() }}</td>
                            <td>{load(&s)}</td>
                            <td>{server_status_pill(s.status)}</td>
                            <td>
                                {health(&s)}
                                {s.latency_ms.map(|ms| view! { <div class="muted small" data-testid="server-latency">{format!("{ms} ms")}</div> })}
                            </td>
                            <td>{s.last_check_at.map(when).unwrap_or_else(|| "never".into())}</td>
                        </tr>
                    }}).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
pub fn ServerPage() -> impl IntoView {
    let session = use_session();
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let detail = LocalResource::new(move || {
        let id = id.get();
        async move { admin::server(session, &id).await }
    });
    let notice = RwSignal::new(None::<String>);
    let banner = RwSignal::new(None::<String>);
    let checked = RwSignal::new(None::<ServerCheck>);
    let testing = RwSignal::new(false);
    let test = move |_| {
        banner.set(None);
        notice.set(None);
        checked.set(None);
        testing.set(true);
        spawn_local(async move {
            match admin::check_server(session, &id.get_untracked()).await {
                Ok(c) => checked.set(Some(c)),
                Err(e) => banner.set(Some(e.message())),
            }
            testing.set(false);
            detail.refetch();
        });
    };
    view! {
        <ErrorBanner message=banner/>
        <Notice message=notice/>
        {loaded(detail, move |d: ServerDetail| {
            let s = d.server.clone();
            let done = Callback::new(move |saved: Option<Server>| {
                if let Some(s) = saved {
                    notice.set(Some(format!("{} saved.", s.name)));
                    detail.refetch();
                }
            });
            view! {
                <header class="page-head">
                    <div>
                        <h1 data-testid="server-name">{s.name.clone()}" "{s.sandbox.then(|| sandbox_badge(s.module))}</h1>
                        <p class="muted">{format!("{} · {}", s.hostname, s.module.label())}</p>
                    </div>
                    <div class="row-actions">
                        <button class="btn btn-primary" type="button" data-testid="test-connection" disabled=move || testing.get() on:click=test>
                            {move || if testing.get() { "Testing…" } else { "Test connection" }}
                        </button>
                        <a href="/admin/servers" class="btn btn-outline">"All servers"</a>
                    </div>
                </header>
                {move || checked.get().map(|c| check_result(&c))}
                {s.sandbox.then(|| view! {
                    <div class="alert alert-info" role="status">
                        {format!("This is Keel's built-in sandbox: a {} stand-in inside Keel. What is made here exists in memory only and is forgotten when Keel restarts; nothing is hosted.", s.module.label())}
                    </div>
                })}
                <div class="grid-2 server-layout">
                    {server_summary(&s)}
                    <ServerForm server=Some(s.clone()) done=done/>
                </div>
                {checks_table(&d.checks)}
                <DeleteServer server=s/>
            }
        })}
    }
}

/// What "Test connection" found.
fn check_result(c: &ServerCheck) -> impl IntoView {
    let text = if c.up {
        format!("Connection OK: the panel answered in {}.", latency(c.latency_ms))
    } else {
        format!("Connection failed: {}", c.error.clone().unwrap_or_else(|| "no answer".into()))
    };
    let class = if c.up { "alert alert-success" } else { "alert alert-error" };
    view! {
        <div class=class role="status" data-testid="check-result" data-up=c.up.to_string()>
            <strong>{if c.up { "Up" } else { "Down" }}</strong>" · "{text}
        </div>
    }
}

fn server_summary(s: &Server) -> impl IntoView {
    let services = format!("/admin/services?server_id={}", s.id);
    view! {
        <section class="card" data-testid="server-summary">
            <h2>"Now"</h2>
            <dl class="details">
                <dt>"Status"</dt><dd>{server_status_pill(s.status)}</dd>
                <dt>"Health"</dt><dd>{health(s)}</dd>
                <dt>"Accounts"</dt><dd>{load(s)}</dd>
                <dt>"Last check"</dt><dd>{s.last_check_at.map(when).unwrap_or_else(|| "never".into())}</dd>
                <dt>"Latency"</dt><dd>{latency(s.latency_ms)}</dd>
                {s.last_error.clone().map(|e| view! { <dt>"Last error"</dt><dd class="danger">{e}</dd> })}
                <dt>"Hostname"</dt><dd><code>{s.hostname.clone()}</code></dd>
                {s.ip.clone().map(|ip| view! { <dt>"IP address"</dt><dd><code>{ip}</code></dd> })}
                <dt>"Location"</dt><dd>{if s.location.is_empty() { "—".to_string() } else { s.location.clone() }}</dd>
                {(!s.sandbox).then(|| view! {
                    <dt>"API"</dt><dd><code>{s.api_url.clone()}</code></dd>
                    <dt>"API user"</dt><dd><code>{s.username.clone()}</code></dd>
                    <dt>"API token"</dt><dd>{if s.has_credentials { "saved" } else { "missing" }}</dd>
                })}
                <dt>"Nameservers"</dt><dd>{if s.nameservers.is_empty() { "—".to_string() } else { s.nameservers.join(", ") }}</dd>
                {s.disk_gb.map(|g| view! { <dt>"Disk"</dt><dd>{format!("{g} GB")}</dd> })}
                {s.ram_mb.map(|m| view! { <dt>"RAM"</dt><dd>{format!("{m} MB")}</dd> })}
                <dt>"Added"</dt><dd>{when(s.created_at)}</dd>
            </dl>
            <p class="small"><A href=services>"Services on this server"</A></p>
        </section>
    }
}

fn checks_table(checks: &[ServerCheck]) -> impl IntoView {
    view! {
        <h2 class="section-title">"Recent checks"</h2>
        {if checks.is_empty() {
            view! { <Empty title="No checks yet" hint="Keel checks every server every five minutes; “Test connection” checks now."/> }.into_any()
        } else {
            view! {
                <div class="card table-card">
                    <table class="table" data-testid="checks-table">
                        <thead><tr><th>"When"</th><th>"Result"</th><th class="num">"Latency"</th><th>"Error"</th></tr></thead>
                        <tbody>
                            {checks.iter().map(|c| view! {
                                <tr>
                                    <td class="nowrap">{when_exact(c.at)}</td>
                                    <td><span class=if c.up { "pill pill-succeeded" } else { "pill pill-failed" }>{if c.up { "up" } else { "down" }}</span></td>
                                    <td class="num">{latency(c.latency_ms)}</td>
                                    <td class="muted small clip" title=c.error.clone().unwrap_or_default()>{c.error.clone().unwrap_or_default()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }
            .into_any()
        }}
    }
}

/// The form that adds a server (`server` none) or changes it. `done` gets the saved server, or
/// `None` when adding is given up.
#[component]
fn ServerForm(server: Option<Server>, done: Callback<Option<Server>>) -> impl IntoView {
    let session = use_session();
    let id = server.as_ref().map(|s| s.id.to_string());
    let editing = id.is_some();
    let sandbox = server.as_ref().is_some_and(|s| s.sandbox);
    let text = |f: fn(&Server) -> String| RwSignal::new(server.as_ref().map(f).unwrap_or_default());
    let name = text(|s| s.name.clone());
    let hostname = text(|s| s.hostname.clone());
    let ip = text(|s| s.ip.clone().unwrap_or_default());
    let location = text(|s| s.location.clone());
    let module = RwSignal::new(server.as_ref().map_or(ModuleKind::Cpanel, |s| s.module).as_str().to_string());
    let api_url = text(|s| if s.sandbox { String::new() } else { s.api_url.clone() });
    let username = RwSignal::new(server.as_ref().map_or_else(|| "root".to_string(), |s| s.username.clone()));
    let secret = RwSignal::new(String::new());
    let nameservers = text(|s| s.nameservers.join(", "));
    let max_accounts = RwSignal::new(server.as_ref().map_or_else(|| "200".to_string(), |s| s.max_accounts.to_string()));
    let status = RwSignal::new(server.as_ref().map_or(ServerStatus::Active, |s| s.status).as_str().to_string());
    let disk_gb = text(|s| s.disk_gb.map(|v| v.to_string()).unwrap_or_default());
    let ram_mb = text(|s| s.ram_mb.map(|v| v.to_string()).unwrap_or_default());
    let has_token = server.as_ref().is_some_and(|s| s.has_credentials);

    let form = Form::new();
    let send = form.action(
        move |(id, body): &(Option<String>, ServerInput)| admin::save_server(session, id.clone(), body.clone()),
        move |saved: Server| {
            secret.set(String::new());
            done.run(Some(saved));
        },
    );
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let mut errors = std::collections::BTreeMap::new();
        let mut number = |field: &str, text: String, required: bool| -> Option<i32> {
            let text = text.trim().to_string();
            if text.is_empty() {
                if required {
                    errors.insert(field.to_string(), vec!["a whole number".to_string()]);
                }
                return None;
            }
            text.parse::<i32>().map_err(|_| errors.insert(field.to_string(), vec!["a whole number".to_string()])).ok()
        };
        let max = number("max_accounts", max_accounts.get_untracked(), true);
        let disk = number("disk_gb", disk_gb.get_untracked(), false);
        let ram = number("ram_mb", ram_mb.get_untracked(), false);
        if !errors.is_empty() {
            form.banner.set(None);
            form.errors.set(errors);
            return;
        }
        let some = |s: String| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let body = ServerInput {
            name: name.get_untracked().trim().to_string(),
            hostname: hostname.get_untracked().trim().to_lowercase(),
            ip: some(ip.get_untracked()),
            location: location.get_untracked().trim().to_string(),
            module: ModuleKind::parse(&module.get_untracked()).unwrap_or(ModuleKind::Cpanel),
            api_url: if sandbox { None } else { some(api_url.get_untracked()) },
            username: username.get_untracked().trim().to_string(),
            secret: if sandbox { None } else { some(secret.get_untracked()) },
            nameservers: nameservers
                .get_untracked()
                .split([',', ' ', '\n'])
                .map(|n| n.trim().trim_end_matches('.').to_lowercase())
                .filter(|n| !n.is_empty())
                .collect(),
            max_accounts: max.unwrap_or_default(),
            status: ServerStatus::parse(&status.get_untracked()).unwrap_or(ServerStatus::Active),
            disk_gb: disk,
            ram_mb: ram,
        };
        if !editing && body.secret.is_none() {
            form.banner.set(None);
            form.errors.set([("secret".to_string(), vec!["the module's API token is required".to_string()])].into());
            return;
        }
        if form.check(&body) {
            send.dispatch_local((id.clone(), body));
        }
    };
    let errors = form.errors;
    let submit_label = if editing { "Save server" } else { "Add server" };
    let token_hint = if has_token {
        "Leave empty to keep the saved token."
    } else if editing {
        "No token is saved yet."
    } else {
        "WHM → Development → Manage API Tokens. Stored sealed; never shown again."
    };
    view! {
        <form class="card stack-form server-form" on:submit=submit novalidate data-testid="server-form">
            <h2>{if editing { "Edit server" } else { "Add server" }}</h2>
            <ErrorBanner message=form.banner/>
            <Field label="Name" name="name" value=name errors=errors hint="Shown to staff, e.g. “web-eu-1”."/>
            <div class="field-row">
                <Field label="Hostname" name="hostname" value=hostname errors=errors hint="server1.example.com"/>
                <Field label="IP address" name="ip" value=ip errors=errors hint="Optional: the shared IP new accounts get."/>
            </div>
            <div class="field-row">
                <Field label="Location" name="location" value=location errors=errors hint="Optional, e.g. “Frankfurt”."/>
                <div class="field">
                    <label for="f-module">"Module"</label>
                    <select id="f-module" bind:value=module disabled=sandbox>
                        {ModuleKind::ALL.iter().map(|m| view! { <option value=m.as_str()>{m.label()}</option> }).collect_view()}
                    </select>
                    <FieldError name="module" errors=errors/>
                </div>
            </div>
            <div class="field-row">
                <div class="field">
                    <label for="f-status">"Status"</label>
                    <select id="f-status" bind:value=status>
                        <option value="active">"Active"</option>
                        <option value="maintenance">"Maintenance"</option>
                        <option value="full">"Full"</option>
                    </select>
                    <FieldError name="status" errors=errors/>
                    <p class="field-hint">"Maintenance and full take no new accounts."</p>
                </div>
                <Field label="Max accounts" name="max_accounts" kind="number" value=max_accounts errors=errors/>
            </div>
            {(!sandbox).then(|| view! {
                <div class="field-row">
                    <div class="field" class:has-error=move || errors.with(|e| e.contains_key("api_url"))>
                        <label for="f-api_url">"API URL (optional)"</label>
                        <input id="f-api_url" name="api_url" type="url" placeholder="https://host:2087" autocomplete="off" bind:value=api_url/>
                        <FieldError name="api_url" errors=errors/>
                        <p class="field-hint">"Empty: https://<hostname>:2087 for cPanel/WHM, https://api.hetzner.cloud/v1 for Hetzner Cloud."</p>
                    </div>
                    <Field label="API user" name="username" value=username errors=errors hint="WHM: root or a reseller. Hetzner Cloud: any name (the token is the project's)."/>
                </div>
                <Field label="API token" name="secret" kind="password" autocomplete="new-password" value=secret errors=errors hint=token_hint/>
            })}
            <Field label="Nameservers" name="nameservers" value=nameservers errors=errors hint="Up to four, comma separated: ns1.example.com, ns2.example.com"/>
            <div class="field-row">
                <Field label="Disk (GB)" name="disk_gb" kind="number" value=disk_gb errors=errors hint="Optional."/>
                <Field label="RAM (MB)" name="ram_mb" kind="number" value=ram_mb errors=errors hint="Optional."/>
            </div>
            <div class="row-actions left">
                <Submit pending=send.pending() label=submit_label busy="Saving…"/>
                {(!editing).then(|| view! { <button class="btn btn-ghost" type="button" on:click=move |_| done.run(None)>"Cancel"</button> })}
            </div>
        </form>
    }
}

/// "Remove server", asked twice; refused while services live on it.
#[component]
fn DeleteServer(server: Server) -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let confirm = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let banner = RwSignal::new(None::<String>);
    let id = server.id.to_string();
    let delete = move |_| {
        let (id, navigate) = (id.clone(), navigate.clone());
        busy.set(true);
        banner.set(None);
        spawn_local(async move {
            match admin::delete_server(session, &id).await {
                Ok(()) => navigate("/admin/servers", NavigateOptions::default()),
                Err(e) => {
                    banner.set(Some(e.message()));
                    busy.set(false);
                    confirm.set(false);
                }
            }
        });
    };
    view! {
        <section class="card stack-form danger-zone" data-testid="delete-server">
            <h2>"Remove server"</h2>
            <p class="muted small">"Only a server without live services can be removed: terminate or move them first."</p>
            <ErrorBanner message=banner/>
            <div class="row-actions left">
                <button class="btn btn-outline btn-danger" type="button" data-testid="delete-server-open" class:hidden=move || confirm.get()
                    on:click=move |_| confirm.set(true)>"Remove server"</button>
                <span class="confirm-delete" class:hidden=move || !confirm.get()>
                    <span class="muted small">{format!("Remove {} for good?", server.name)}</span>
                    <button class="btn btn-outline btn-danger btn-sm" type="button" data-testid="delete-server-yes" disabled=move || busy.get() on:click=delete>
                        {move || if busy.get() { "Removing…" } else { "Remove server" }}
                    </button>
                    <button class="btn btn-ghost btn-sm" type="button" on:click=move |_| confirm.set(false)>"Keep it"</button>
                </span>
            </div>
        </section>
    }
}
