//! Tables two pages share: the audit log (the client's activity, the admin's audit log) and the
//! e-mail log (the client's e-mails, the admin's log).

use keel_shared::auth::AuditEntry;
use keel_shared::automation::Email;
use keel_shared::Page;
use leptos::prelude::*;

use super::feedback::{Empty, Pager};
use super::when;

pub fn audit_table(list: Page<AuditEntry>, page: RwSignal<u32>, show_account: bool) -> AnyView {
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
                            {show_account.then(|| view! { <td class="muted small clip">{e.account_id.clone().map(String::from).unwrap_or_default()}</td> })}
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

pub fn email_table(list: Page<Email>, page: RwSignal<u32>, open: Option<RwSignal<Option<String>>>) -> AnyView {
    if list.items.is_empty() {
        return view! { <Empty title="No e-mails yet" hint="E-mails appear here as Keel sends them."/> }.into_any();
    }
    let (current, pages) = (list.page, list.total_pages.max(1));
    view! {
        <div class="card table-card">
            <table class="table" data-testid="emails-table">
                <thead><tr><th>"Sent to"</th><th>"Subject"</th><th>"Status"</th><th>"Created"</th></tr></thead>
                <tbody>
                    {list.items.into_iter().map(|e| {
                        let id = e.id.clone();
                        view! {
                            <tr class:clickable=open.is_some() on:click=move |_| if let Some(o) = open { o.set(Some(id.to_string())) }>
                                <td>{e.to.clone()}</td>
                                <td>{e.subject.clone()}</td>
                                <td><span class=format!("pill pill-{}", e.status)>{e.status.to_string()}</span></td>
                                <td>{when(e.created_at)}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <Pager page=page current=current pages=pages/>
        </div>
    }
    .into_any()
}
