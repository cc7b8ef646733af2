//! Team members: the people a client lets use their account, and the accounts the signed-in user
//! may act for.

use keel_shared::access::{InviteMemberRequest, MemberPermission, MemberStatus, TeamMember, UpdateMemberRequest};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{portal, ClientError};
use crate::components::checks::Checks;
use crate::components::feedback::{loaded, ErrorBanner, Notice};
use crate::components::form::{Field, FieldError, Form, Submit};
use crate::components::{area_label, areas_text};
use crate::routes;
use crate::session::use_session;

/// The member list, reloaded (`refetch()`) after a change.
type Members = LocalResource<Result<Vec<TeamMember>, ClientError>>;

#[component]
pub fn TeamPage() -> impl IntoView {
    let session = use_session();
    let members: Members = LocalResource::new(move || portal::team(session));
    view! {
        <header class="page-head">
            <div>
                <h1>"Team"</h1>
                <p class="muted">"Let colleagues use your account with their own login, limited to the areas you choose."</p>
            </div>
        </header>
        <Memberships/>
        <InviteForm members=members/>
        <section class="card table-card" data-testid="team-list">
            <h2>"People with access"</h2>
            {loaded(members, move |list: Vec<TeamMember>| if list.is_empty() {
                view! { <p class="muted small">"Nobody yet. Invite someone above."</p> }.into_any()
            } else {
                view! {
                    <table class="table">
                        <thead><tr><th>"Person"</th><th>"Access"</th><th>"Status"</th><th></th></tr></thead>
                        <tbody>{list.into_iter().map(|m| view! { <MemberRow member=m members=members/> }).collect_view()}</tbody>
                    </table>
                }.into_any()
            })}
        </section>
    }
}

#[component]
fn InviteForm(members: Members) -> impl IntoView {
    let session = use_session();
    let email = RwSignal::new(String::new());
    let granted = Checks::new(&[MemberPermission::Billing]);
    let form = Form::new();
    let done = RwSignal::new(None::<String>);
    let boxes = granted.view(area_label);
    let invite = form.action(
        move |req: &InviteMemberRequest| portal::invite_member(session, req.clone()),
        move |m: TeamMember| {
            done.set(Some(format!("Invitation sent to {}.", m.email)));
            email.set(String::new());
            members.refetch();
        },
    );
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        done.set(None);
        let req = InviteMemberRequest { email: email.get_untracked().trim().into(), permissions: granted.selected() };
        if form.check(&req) {
            invite.dispatch_local(req);
        }
    };
    view! {
        <form class="card invite-form" on:submit=submit novalidate data-testid="invite-form">
            <h2>"Invite someone"</h2>
            <ErrorBanner message=form.banner/>
            <Notice message=done/>
            <Field label="E-mail" name="email" kind="email" value=email errors=form.errors/>
            <fieldset class="perms">
                <legend>"May use"</legend>
                {boxes}
                <FieldError name="permissions" errors=form.errors/>
            </fieldset>
            <div><Submit pending=invite.pending() label="Send invitation" busy="Sending…"/></div>
        </form>
    }
}

#[component]
fn MemberRow(member: TeamMember, members: Members) -> impl IntoView {
    let session = use_session();
    let editing = RwSignal::new(false);
    let granted = Checks::new(&member.permissions);
    let error = RwSignal::new(None::<String>);
    let boxes = granted.view(area_label);
    let (id, id2) = (member.id.clone(), member.id.clone());
    let save = move |_| {
        let req = UpdateMemberRequest { permissions: granted.selected() };
        let id = id.clone();
        spawn_local(async move {
            match portal::update_member(session, &id, req).await {
                Ok(_) => {
                    editing.set(false);
                    members.refetch();
                }
                Err(e) => error.set(Some(e.message())),
            }
        });
    };
    let remove = move |_| {
        let id = id2.clone();
        spawn_local(async move {
            match portal::remove_member(session, &id).await {
                Ok(()) => members.refetch(),
                Err(e) => error.set(Some(e.message())),
            }
        });
    };
    let status = match member.status {
        MemberStatus::Active => view! { <span class="pill pill-succeeded">"Active"</span> }.into_any(),
        MemberStatus::Invited => view! { <span class="pill pill-queued">"Invited"</span> }.into_any(),
        MemberStatus::Expired => view! { <span class="pill pill-failed">"Invitation expired"</span> }.into_any(),
    };
    let who = match &member.name {
        Some(n) => view! { <strong>{n.clone()}</strong><br/><span class="muted small">{member.email.clone()}</span> }.into_any(),
        None => view! { <strong>{member.email.clone()}</strong> }.into_any(),
    };
    view! {
        <tr data-testid="member-row" data-email=member.email.clone()>
            <td>{who}</td>
            <td>{areas_text(&member.permissions)}</td>
            <td>{status}</td>
            <td class="row-actions">
                <button class="btn btn-ghost btn-sm" type="button" on:click=move |_| editing.update(|e| *e = !*e)>"Change access"</button>
                <button class="btn btn-ghost btn-sm" type="button" on:click=remove>{if member.status == MemberStatus::Active { "Remove" } else { "Withdraw" }}</button>
            </td>
        </tr>
        <tr class="edit-row" class:hidden=move || !editing.get()>
            <td colspan="4">
                <div class="staff-edit">
                    <fieldset class="perms"><legend>"May use"</legend>{boxes}</fieldset>
                    {move || error.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                    <div><button class="btn btn-primary btn-sm" type="button" on:click=save>"Save access"</button></div>
                </div>
            </td>
        </tr>
    }
}

/// The accounts the user is a member of, with a switch to act for one.
#[component]
fn Memberships() -> impl IntoView {
    let session = use_session();
    let list = LocalResource::new(move || portal::memberships(session));
    let go = routes::use_go();
    view! {
        {move || {
            let go = go.clone();
            match list.get() {
                Some(Ok(items)) if !items.is_empty() => view! {
                    <section class="card" data-testid="memberships">
                        <h2>"Accounts you can use"</h2>
                        <ul class="plain-list">
                            {items.into_iter().map(|m| {
                                let (act, leave_id) = (m.clone(), m.account_id.clone());
                                let go = go.clone();
                                view! {
                                    <li class="membership">
                                        <div><strong>{m.account_name.clone()}</strong><br/><span class="muted small">{areas_text(&m.permissions)}</span></div>
                                        <div class="row-actions">
                                            <button class="btn btn-primary btn-sm" type="button" on:click=move |_| {
                                                session.acting.set(Some(act.clone()));
                                                go("/dashboard");
                                            }>{format!("Switch to {}", m.account_name)}</button>
                                            <button class="btn btn-ghost btn-sm" type="button" on:click=move |_| {
                                                let id = leave_id.clone();
                                                spawn_local(async move {
                                                    let _ = portal::leave_account(session, &id).await;
                                                    list.refetch();
                                                });
                                            }>"Leave"</button>
                                        </div>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    </section>
                }.into_any(),
                _ => ().into_any(),
            }
        }}
    }
}
