//! Team members: the people a client lets use their account, the accounts the signed-in user may
//! act for, and the page an invitation link opens.

use std::collections::BTreeMap;

use keel_shared::access::{AcceptInvitationRequest, Invitation, InviteMemberRequest, MemberPermission, MemberStatus, Membership, TeamMember, UpdateMemberRequest};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};

use super::auth::{Field, FieldErrors, NameFields, checked, show_error};
use crate::api;
use crate::components::checks::Checks;
use crate::components::feedback::{loaded, ErrorPanel, Loading};
use crate::session::use_session;

fn area_label(p: MemberPermission) -> &'static str {
    match p {
        MemberPermission::Billing => "Billing",
        MemberPermission::Services => "Services",
        MemberPermission::Domains => "Domains",
        MemberPermission::Support => "Support",
    }
}

pub(crate) fn areas_text(perms: &[MemberPermission]) -> String {
    perms.iter().map(|p| area_label(*p)).collect::<Vec<_>>().join(", ")
}

#[component]
pub fn TeamPage() -> impl IntoView {
    let session = use_session();
    let version = RwSignal::new(0u32);
    let members = LocalResource::new(move || {
        version.track();
        api::team(session)
    });
    view! {
        <header class="page-head">
            <div>
                <h1>"Team"</h1>
                <p class="muted">"Let colleagues use your account with their own login, limited to the areas you choose."</p>
            </div>
        </header>
        <Memberships/>
        <InviteForm version=version/>
        <section class="card table-card" data-testid="team-list">
            <h2>"People with access"</h2>
            {loaded(members, move |list: Vec<TeamMember>| if list.is_empty() {
                view! { <p class="muted small">"Nobody yet. Invite someone above."</p> }.into_any()
            } else {
                view! {
                    <table class="table">
                        <thead><tr><th>"Person"</th><th>"Access"</th><th>"Status"</th><th></th></tr></thead>
                        <tbody>{list.into_iter().map(|m| view! { <MemberRow member=m version=version/> }).collect_view()}</tbody>
                    </table>
                }.into_any()
            })}
        </section>
    }
}

#[component]
fn InviteForm(version: RwSignal<u32>) -> impl IntoView {
    let session = use_session();
    let email = RwSignal::new(String::new());
    let granted = Checks::new(&[MemberPermission::Billing]);
    let errors: FieldErrors = RwSignal::new(BTreeMap::new());
    let banner = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    let boxes = granted.view(area_label);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        banner.set(None);
        done.set(None);
        let req = InviteMemberRequest { email: email.get_untracked().trim().into(), permissions: granted.selected() };
        if !checked(&req, errors) {
            return;
        }
        spawn_local(async move {
            match api::invite_member(session, &req).await {
                Ok(m) => {
                    done.set(Some(format!("Invitation sent to {}.", m.email)));
                    email.set(String::new());
                    version.update(|v| *v += 1);
                }
                Err(e) => show_error(e, errors, banner),
            }
        });
    };
    view! {
        <form class="card invite-form" on:submit=submit novalidate data-testid="invite-form">
            <h2>"Invite someone"</h2>
            {move || banner.get().map(|m| view! { <div class="alert alert-error" role="alert">{m}</div> })}
            {move || done.get().map(|m| view! { <div class="alert alert-info" role="status">{m}</div> })}
            <Field label="E-mail" name="email" kind="email" value=email errors=errors/>
            <fieldset class="perms">
                <legend>"May use"</legend>
                {boxes}
                {move || errors.with(|e| e.get("permissions").and_then(|v| v.first().cloned())).map(|m| view! { <p class="field-error">{m}</p> })}
            </fieldset>
            <div><button class="btn btn-primary" type="submit">"Send invitation"</button></div>
        </form>
    }
}

#[component]
fn MemberRow(member: TeamMember, version: RwSignal<u32>) -> impl IntoView {
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
            match api::update_member(session, &id, &req).await {
                Ok(_) => {
                    editing.set(false);
                    version.update(|v| *v += 1);
                }
                Err(e) => error.set(Some(e.message())),
            }
        });
    };
    let remove = move |_| {
        let id = id2.clone();
        spawn_local(async move {
            match api::remove_member(session, &id).await {
                Ok(()) => version.update(|v| *v += 1),
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
    let version = RwSignal::new(0u32);
    let list = LocalResource::new(move || {
        version.track();
        api::memberships(session)
    });
    let navigate = use_navigate();
    view! {
        {move || {
            let navigate = navigate.clone();
            match list.get() {
                Some(Ok(items)) if !items.is_empty() => view! {
                    <section class="card" data-testid="memberships">
                        <h2>"Accounts you can use"</h2>
                        <ul class="plain-list">
                            {items.into_iter().map(|m| {
                                let (act, leave_id) = (m.clone(), m.account_id.clone());
                                let navigate = navigate.clone();
                                view! {
                                    <li class="membership">
                                        <div><strong>{m.account_name.clone()}</strong><br/><span class="muted small">{areas_text(&m.permissions)}</span></div>
                                        <div class="row-actions">
                                            <button class="btn btn-primary btn-sm" type="button" on:click=move |_| {
                                                session.acting.set(Some(act.clone()));
                                                navigate("/dashboard", Default::default());
                                            }>{format!("Switch to {}", m.account_name)}</button>
                                            <button class="btn btn-ghost btn-sm" type="button" on:click=move |_| {
                                                let id = leave_id.clone();
                                                spawn_local(async move {
                                                    let _ = api::leave_account(session, &id).await;
                                                    version.update(|v| *v += 1);
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

/// Shown while a team member acts for another account.
#[component]
pub fn ActingBanner() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    view! {
        {move || session.acting.get().map(|m: Membership| {
            let navigate = navigate.clone();
            view! {
                <div class="alert alert-info banner" role="status" data-testid="acting-banner">
                    <span>{format!("You are working in {}'s account ({}).", m.account_name, areas_text(&m.permissions))}</span>
                    <button class="btn btn-outline btn-sm" type="button" on:click=move |_| {
                        session.acting.set(None);
                        navigate("/dashboard", Default::default());
                    }>"Back to my account"</button>
                </div>
            }
        })}
    }
}

/// `/team/accept?token=…`: what the invitation offers, then a new login or the current one.
#[component]
pub fn AcceptInvitationPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.with(|q| q.get("token").unwrap_or_default());
    let invitation = LocalResource::new(move || {
        let t = token();
        async move { api::invitation(&t).await }
    });
    view! {
        <div class="auth-page">
            <div class="card auth-card">
                <h1>"Join a team"</h1>
                {move || match invitation.get() {
                    None => view! { <Loading/> }.into_any(),
                    Some(Err(e)) => view! { <ErrorPanel error=e/> }.into_any(),
                    Some(Ok(inv)) => view! { <Offer invitation=inv token=token()/> }.into_any(),
                }}
            </div>
        </div>
    }
}

#[component]
fn Offer(invitation: Invitation, token: String) -> impl IntoView {
    let summary = format!("{} invited {} to help manage their account, with access to: {}.", invitation.account_name, invitation.email, areas_text(&invitation.permissions));
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
    let navigate = use_navigate();
    let error = RwSignal::new(None::<String>);
    let next = format!("/login?next=/team/accept?token={token}");
    let email = invitation.email.clone();
    let accept = move |_| {
        let (token, navigate) = (token.clone(), navigate.clone());
        spawn_local(async move {
            match api::join_account(session, token).await {
                Ok(m) => {
                    session.acting.set(Some(m));
                    navigate("/dashboard", Default::default());
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
                    <A href=next.clone() attr:class="btn btn-primary btn-block">"Log in to accept"</A>
                }.into_any()
            }
        }}
        {move || error.get().map(|m| view! { <div class="alert alert-error" role="alert">{m}</div> })}
    }
}

#[component]
fn NewLogin(token: String) -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let (first, last, password) = (RwSignal::new(String::new()), RwSignal::new(String::new()), RwSignal::new(String::new()));
    let errors: FieldErrors = RwSignal::new(BTreeMap::new());
    let banner = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        banner.set(None);
        let req = AcceptInvitationRequest { first_name: first.get_untracked().trim().into(), last_name: last.get_untracked().trim().into(), password: password.get_untracked() };
        if !checked(&req, errors) {
            return;
        }
        let (token, navigate) = (token.clone(), navigate.clone());
        spawn_local(async move {
            match api::accept_invitation(&token, &req).await {
                Ok(t) => {
                    session.set(t);
                    if let Ok(list) = api::memberships(session).await {
                        session.acting.set(list.into_iter().last());
                    }
                    navigate("/dashboard", Default::default());
                }
                Err(e) => show_error(e, errors, banner),
            }
        });
    };
    view! {
        <form on:submit=submit novalidate data-testid="accept-form">
            <p class="muted">"Choose your name and a password for your own login."</p>
            {move || banner.get().map(|m| view! { <div class="alert alert-error" role="alert">{m}</div> })}
            <NameFields first=first last=last errors=errors/>
            <Field label="Password" name="password" kind="password" autocomplete="new-password" hint="At least 10 characters" value=password errors=errors/>
            <button class="btn btn-primary btn-block" type="submit">"Accept and create login"</button>
        </form>
    }
}
