//! Admin: staff and their permissions, and the platform's sign-in rules (administrators only; the
//! API refuses everyone else).

use std::collections::BTreeMap;

use keel_shared::access::{CreateStaffRequest, Permission, SecuritySettings, StaffMember, UpdateStaffRequest};
use keel_shared::auth::Role;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::auth::{Field, FieldErrors, NameFields, checked, show_error};
use crate::api;
use crate::components::checks::Checks;
use crate::components::feedback::loaded;
use crate::session::use_session;

fn role_from(value: &str) -> Role {
    if value == "admin" { Role::Admin } else { Role::Staff }
}

#[component]
pub fn StaffPage() -> impl IntoView {
    let session = use_session();
    let version = RwSignal::new(0u32);
    let list = LocalResource::new(move || {
        version.track();
        api::staff(session)
    });
    view! {
        <header class="page-head">
            <div>
                <h1>"Staff and permissions"</h1>
                <p class="muted">"Who works in the back office and what each person may do. Administrators can do everything."</p>
            </div>
        </header>
        {loaded(list, move |members| view! {
            <SecurityRules/>
            <AddStaff version=version/>
            <section class="card table-card" data-testid="staff-list">
                <table class="table">
                    <thead><tr><th>"Name"</th><th>"Role"</th><th>"Permissions"</th><th>"2FA"</th><th>"Status"</th><th></th></tr></thead>
                    <tbody>{members.into_iter().map(|m| view! { <StaffRow member=m version=version/> }).collect_view()}</tbody>
                </table>
            </section>
        }.into_any())}
    }
}

#[component]
fn SecurityRules() -> impl IntoView {
    let session = use_session();
    let settings = LocalResource::new(move || api::security_settings(session));
    let note = RwSignal::new(None::<String>);
    view! {
        <section class="card" data-testid="security-rules">
            <h2>"Sign-in rules"</h2>
            {loaded(settings, move |s: SecuritySettings| {
                let required = RwSignal::new(s.require_staff_two_factor);
                let save = move |_| {
                    let body = SecuritySettings { require_staff_two_factor: required.get_untracked() };
                    spawn_local(async move {
                        note.set(Some(match api::save_security_settings(session, &body).await {
                            Ok(s) if s.require_staff_two_factor => "Staff now need two-factor authentication to use the back office.".into(),
                            Ok(_) => "Two-factor authentication is optional for staff.".into(),
                            Err(e) => e.message(),
                        }));
                    });
                };
                view! {
                    <label class="check">
                        <input type="checkbox" bind:checked=required on:change=save name="require_staff_two_factor"/>
                        " Require two-factor authentication for staff"
                    </label>
                    <p class="muted small">"Staff without it are sent to their Security page until they turn it on."</p>
                }.into_any()
            })}
            {move || note.get().map(|m| view! { <p class="alert alert-info" role="status">{m}</p> })}
        </section>
    }
}

#[component]
fn AddStaff(version: RwSignal<u32>) -> impl IntoView {
    let session = use_session();
    let open = RwSignal::new(false);
    let (email, first, last) = (RwSignal::new(String::new()), RwSignal::new(String::new()), RwSignal::new(String::new()));
    let role = RwSignal::new(Role::Staff);
    let granted = Checks::new(&[Permission::ClientsRead, Permission::SupportRead, Permission::SupportReply]);
    let errors: FieldErrors = RwSignal::new(BTreeMap::new());
    let banner = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    let boxes = granted.view(Permission::as_str);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        banner.set(None);
        let req = CreateStaffRequest {
            email: email.get_untracked().trim().into(),
            first_name: first.get_untracked().trim().into(),
            last_name: last.get_untracked().trim().into(),
            role: role.get_untracked(),
            permissions: granted.selected(),
        };
        if !checked(&req, errors) {
            return;
        }
        spawn_local(async move {
            match api::create_staff(session, &req).await {
                Ok(m) => {
                    done.set(Some(format!("{} was added and e-mailed a link to choose a password.", m.email)));
                    email.set(String::new());
                    first.set(String::new());
                    last.set(String::new());
                    open.set(false);
                    version.update(|v| *v += 1);
                }
                Err(e) => show_error(e, errors, banner),
            }
        });
    };
    view! {
        {move || done.get().map(|m| view! { <div class="alert alert-info" role="status">{m}</div> })}
        <Show when=move || !open.get() fallback=move || view! {}>
            <div><button class="btn btn-primary" type="button" on:click=move |_| open.set(true)>"Add staff member"</button></div>
        </Show>
        <form class="card staff-form" on:submit=submit novalidate data-testid="add-staff" class:hidden=move || !open.get()>
            <h2>"Add a staff member"</h2>
            {move || banner.get().map(|m| view! { <div class="alert alert-error" role="alert">{m}</div> })}
            <Field label="E-mail" name="email" kind="email" value=email errors=errors/>
            <NameFields first=first last=last errors=errors own=false/>
            <label class="field"><span>"Role"</span>
                <select name="role" on:change=move |ev| role.set(role_from(&event_target_value(&ev)))>
                    <option value="staff" selected>"Staff (chosen permissions)"</option>
                    <option value="admin">"Administrator (everything)"</option>
                </select>
            </label>
            <fieldset class="perms" class:hidden=move || role.get() == Role::Admin>
                <legend>"Permissions"</legend>
                {boxes}
                {move || errors.with(|e| e.get("permissions").and_then(|v| v.first().cloned())).map(|m| view! { <p class="field-error">{m}</p> })}
            </fieldset>
            <div class="row-actions">
                <button class="btn btn-primary" type="submit">"Add and send invitation"</button>
                <button class="btn btn-ghost" type="button" on:click=move |_| open.set(false)>"Cancel"</button>
            </div>
        </form>
    }
}

#[component]
fn StaffRow(member: StaffMember, version: RwSignal<u32>) -> impl IntoView {
    let session = use_session();
    let editing = RwSignal::new(false);
    let me = session.user().map(|u| u.id) == Some(member.id.clone());
    let role = RwSignal::new(member.role);
    let disabled = RwSignal::new(member.disabled);
    let granted = Checks::new(&member.permissions);
    let error = RwSignal::new(None::<String>);
    let id = member.id.clone();
    let boxes = granted.view(Permission::as_str);
    let save = move |_| {
        let req = UpdateStaffRequest { role: role.get_untracked(), permissions: granted.selected(), disabled: disabled.get_untracked() };
        let id = id.clone();
        spawn_local(async move {
            match api::update_staff(session, &id, &req).await {
                Ok(_) => {
                    editing.set(false);
                    version.update(|v| *v += 1);
                }
                Err(e) => error.set(Some(e.message())),
            }
        });
    };
    let perms_text = if member.role == Role::Admin {
        "All permissions".to_string()
    } else if member.permissions.is_empty() {
        "None".to_string()
    } else {
        member.permissions.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ")
    };
    view! {
        <tr data-testid="staff-row" data-email=member.email.clone()>
            <td><strong>{format!("{} {}", member.first_name, member.last_name)}</strong><br/><span class="muted small">{member.email.clone()}</span></td>
            <td><span class="pill pill-queued">{member.role.as_str()}</span></td>
            <td class="small perms-cell">{perms_text}</td>
            <td>{if member.two_factor { "On" } else { "Off" }}</td>
            <td>{if member.disabled { view! { <span class="pill pill-failed">"Disabled"</span> }.into_any() } else { view! { <span class="pill pill-succeeded">"Active"</span> }.into_any() }}</td>
            <td class="row-actions">
                {(!me).then(|| view! { <button class="btn btn-ghost btn-sm" type="button" on:click=move |_| editing.update(|e| *e = !*e)>"Edit"</button> })}
            </td>
        </tr>
        <tr class="edit-row" class:hidden=move || !editing.get()>
            <td colspan="6">
                <div class="staff-edit" data-testid="staff-edit">
                    <label class="field"><span>"Role"</span>
                        <select on:change=move |ev| role.set(role_from(&event_target_value(&ev)))>
                            <option value="staff" selected=member.role == Role::Staff>"Staff"</option>
                            <option value="admin" selected=member.role == Role::Admin>"Administrator"</option>
                        </select>
                    </label>
                    <fieldset class="perms" class:hidden=move || role.get() == Role::Admin><legend>"Permissions"</legend>{boxes}</fieldset>
                    <label class="check" class:hidden=move || role.get() == Role::Admin><input type="checkbox" bind:checked=disabled/>" Disabled (cannot sign in)"</label>
                    {move || error.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                    <div><button class="btn btn-primary btn-sm" type="button" on:click=save>"Save"</button></div>
                </div>
            </td>
        </tr>
    }
}
