//! Admin: staff and their permissions, and the platform's sign-in rules (administrators only; the
//! API refuses everyone else).

use keel_shared::access::{CreateStaffRequest, Permission, SecuritySettings, StaffMember, UpdateStaffRequest};
use keel_shared::auth::Role;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{admin, ClientError};
use crate::components::checks::Checks;
use crate::components::feedback::{loaded, ErrorBanner, Notice};
use crate::components::form::{Field, FieldError, Form, NameFields, Submit};
use crate::session::use_session;

/// The staff list, reloaded (`refetch()`) after a change.
type Staff = LocalResource<Result<Vec<StaffMember>, ClientError>>;

fn role_from(value: &str) -> Role {
    if value == "admin" {
        Role::Admin
    } else {
        Role::Staff
    }
}

#[component]
pub fn StaffPage() -> impl IntoView {
    let session = use_session();
    let list: Staff = LocalResource::new(move || admin::staff(session));
    view! {
        <header class="page-head">
            <div>
                <h1>"Staff and permissions"</h1>
                <p class="muted">"Who works in the back office and what each person may do. Administrators can do everything."</p>
            </div>
        </header>
        <SecurityRules/>
        <AddStaff list=list/>
        {loaded(list, move |members| view! {
            <section class="card table-card" data-testid="staff-list">
                <table class="table">
                    <thead><tr><th>"Name"</th><th>"Role"</th><th>"Permissions"</th><th>"2FA"</th><th>"Status"</th><th></th></tr></thead>
                    <tbody>{members.into_iter().map(|m| view! { <StaffRow member=m list=list/> }).collect_view()}</tbody>
                </table>
            </section>
        }.into_any())}
    }
}

#[component]
fn SecurityRules() -> impl IntoView {
    let session = use_session();
    let settings = LocalResource::new(move || admin::security_settings(session));
    let note = RwSignal::new(None::<String>);
    view! {
        <section class="card" data-testid="security-rules">
            <h2>"Sign-in rules"</h2>
            {loaded(settings, move |s: SecuritySettings| {
                let required = RwSignal::new(s.require_staff_two_factor);
                let save = move |_| {
                    let body = SecuritySettings { require_staff_two_factor: required.get_untracked() };
                    spawn_local(async move {
                        note.set(Some(match admin::save_security_settings(session, body).await {
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
fn AddStaff(list: Staff) -> impl IntoView {
    let session = use_session();
    let open = RwSignal::new(false);
    let (email, first, last) = (RwSignal::new(String::new()), RwSignal::new(String::new()), RwSignal::new(String::new()));
    let role = RwSignal::new(Role::Staff);
    let granted = Checks::new(&[Permission::ClientsRead, Permission::SupportRead, Permission::SupportReply]);
    let form = Form::new();
    let errors = form.errors;
    let done = RwSignal::new(None::<String>);
    let add = form.action(
        move |req: &CreateStaffRequest| admin::create_staff(session, req.clone()),
        move |m: StaffMember| {
            done.set(Some(format!("{} was added and e-mailed a link to choose a password.", m.email)));
            email.set(String::new());
            first.set(String::new());
            last.set(String::new());
            open.set(false);
            list.refetch();
        },
    );
    let boxes = granted.view(Permission::as_str);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let req = CreateStaffRequest {
            email: email.get_untracked().trim().into(),
            first_name: first.get_untracked().trim().into(),
            last_name: last.get_untracked().trim().into(),
            role: role.get_untracked(),
            permissions: granted.selected(),
        };
        if form.check(&req) {
            add.dispatch_local(req);
        }
    };
    view! {
        <Notice message=done/>
        <Show when=move || !open.get()>
            <div><button class="btn btn-primary" type="button" on:click=move |_| open.set(true)>"Add staff member"</button></div>
        </Show>
        <form class="card staff-form" on:submit=submit novalidate data-testid="add-staff" class:hidden=move || !open.get()>
            <h2>"Add a staff member"</h2>
            <ErrorBanner message=form.banner/>
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
                <FieldError name="permissions" errors=errors/>
            </fieldset>
            <div class="row-actions">
                <Submit pending=add.pending() label="Add and send invitation" busy="Adding…"/>
                <button class="btn btn-ghost" type="button" on:click=move |_| open.set(false)>"Cancel"</button>
            </div>
        </form>
    }
}

#[component]
fn StaffRow(member: StaffMember, list: Staff) -> impl IntoView {
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
            match admin::update_staff(session, &id, req).await {
                Ok(_) => {
                    editing.set(false);
                    list.refetch();
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
