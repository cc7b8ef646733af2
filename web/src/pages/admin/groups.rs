//! Admin: product groups (add, edit, delete) — `catalog.manage`. Add-ons have their own page
//! (`addons.rs`).

use keel_shared::catalog::{AdminGroup, GroupInput};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::web_sys::SubmitEvent;

use crate::api::admin;
use crate::components::feedback::{loaded, Empty, ErrorBanner};
use crate::components::form::{Field, Form, Submit};
use crate::session::use_session;

#[component]
pub fn GroupsPage() -> impl IntoView {
    let session = use_session();
    let data = LocalResource::new(move || async move { admin::groups(session).await });
    let editing = RwSignal::new(None::<String>);
    let slug = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let visible = RwSignal::new(true);
    let sort = RwSignal::new(0i32);
    let banner = RwSignal::new(None::<String>);
    let clear = move || {
        editing.set(None);
        slug.set(String::new());
        name.set(String::new());
        description.set(String::new());
        visible.set(true);
        sort.set(0);
    };
    let form = Form::new();
    let send = form.action(
        move |(id, body): &(Option<String>, GroupInput)| admin::save_group(session, id.clone(), body.clone()),
        move |_: AdminGroup| {
            clear();
            data.refetch();
        },
    );
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let body = GroupInput {
            slug: slug.get_untracked().trim().to_string(),
            name: name.get_untracked().trim().to_string(),
            description: description.get_untracked(),
            visible: visible.get_untracked(),
            sort_order: sort.get_untracked(),
        };
        if form.check(&body) {
            send.dispatch_local((editing.get_untracked(), body));
        }
    };
    let errors = form.errors;
    view! {
        <header class="page-head">
            <div><h1>"Groups"</h1><p class="muted">"Groups order the storefront's plans."</p></div>
        </header>
        <ErrorBanner message=banner/>
        {loaded(data, move |groups: Vec<AdminGroup>| view! {
            {if groups.is_empty() {
                view! { <Empty title="No groups yet"/> }.into_any()
            } else {
                view! {
                    <div class="card table-card">
                        <table class="table" data-testid="groups-table">
                            <thead><tr><th>"Name"</th><th>"Slug"</th><th>"Visible"</th><th>"Order"</th><th></th></tr></thead>
                            <tbody>
                                {groups.into_iter().map(|g| {
                                    let g2 = g.clone();
                                    let id = g.id.to_string();
                                    view! {
                                        <tr>
                                            <td>{g.group.name.clone()}</td>
                                            <td><code>{g.group.slug.clone()}</code></td>
                                            <td>{if g.group.visible { "yes" } else { "no" }}</td>
                                            <td>{g.group.sort_order}</td>
                                            <td>
                                                <button class="btn btn-ghost btn-sm" type="button" on:click=move |_| {
                                                    editing.set(Some(g2.id.to_string()));
                                                    slug.set(g2.group.slug.clone());
                                                    name.set(g2.group.name.clone());
                                                    description.set(g2.group.description.clone());
                                                    visible.set(g2.group.visible);
                                                    sort.set(g2.group.sort_order);
                                                }>"Edit"</button>
                                                <button class="btn btn-ghost btn-sm" type="button" on:click=move |_| {
                                                    let id = id.clone();
                                                    spawn_local(async move {
                                                        match admin::delete_group(session, &id).await {
                                                            Ok(()) => data.refetch(),
                                                            Err(e) => banner.set(Some(e.message())),
                                                        }
                                                    });
                                                }>"Delete"</button>
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        })}
        <form class="card staff-form" on:submit=submit novalidate data-testid="group-form">
            <h2>{move || if editing.with(Option::is_some) { "Edit group" } else { "Add a group" }}</h2>
            <ErrorBanner message=form.banner/>
            <div class="field-row">
                <Field label="Name" name="name" value=name errors=errors/>
                <Field label="Slug" name="slug" value=slug errors=errors/>
            </div>
            <Field label="Description" name="description" value=description errors=errors/>
            <label class="check"><input type="checkbox" bind:checked=visible/>" Shown in the storefront"</label>
            <label class="field"><span>"Sort order"</span>
                <input type="number" min="0" prop:value=move || sort.get().to_string()
                    on:input=move |ev| sort.set(event_target_value(&ev).parse().unwrap_or(0))/>
            </label>
            <div class="row-actions">
                <Submit pending=send.pending() label="Save group" busy="Saving…"/>
                <button class="btn btn-ghost" type="button" on:click=move |_| clear()>"Clear"</button>
            </div>
        </form>
    }
}
