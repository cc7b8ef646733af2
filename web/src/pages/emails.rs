//! E-mail log (admin and client), and the admin's template editor.

use keel_shared::automation::UpdateTemplateRequest;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::components::when;
use crate::components::feedback::{loaded, Empty, ErrorPanel, Loading, Pager};
use crate::session::use_session;


fn email_table(list: keel_shared::Page<keel_shared::automation::Email>, page: RwSignal<u32>, open: Option<RwSignal<Option<String>>>) -> AnyView {
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
                            <tr class:clickable=open.is_some() on:click=move |_| if let Some(o) = open { o.set(Some(id.clone())) }>
                                <td>{e.to.clone()}</td>
                                <td>{e.subject.clone()}</td>
                                <td><span class=format!("pill pill-{}", e.status)>{e.status.clone()}</span></td>
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

#[component]
pub fn AdminEmailsPage() -> impl IntoView {
    let session = use_session();
    let page = RwSignal::new(1u32);
    let open = RwSignal::new(None::<String>);
    let emails = LocalResource::new(move || api::admin_emails(session, page.get()));
    let detail = LocalResource::new(move || {
        let id = open.get();
        async move {
            match id {
                Some(id) => Some(api::admin_email(session, &id).await),
                None => None,
            }
        }
    });
    view! {
        <header class="page-head"><div><h1>"E-mail log"</h1><p class="muted">"Every e-mail Keel sent or will send, with its delivery status."</p></div></header>
        {loaded(emails, move |list| email_table(list, page, Some(open)))}
        {move || detail.get().flatten().map(|d| match d {
            Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
            Ok(d) => view! {
                <section class="card email-detail" data-testid="email-detail">
                    <div class="page-head">
                        <div><h2>{d.email.subject.clone()}</h2><p class="muted small">{format!("To {} · {} · {} attempt(s)", d.email.to, d.email.status, d.email.attempts)}</p></div>
                        <button class="btn btn-ghost" type="button" on:click=move |_| open.set(None)>"Close"</button>
                    </div>
                    {d.email.last_error.clone().map(|e| view! { <div class="alert alert-error">{e}</div> })}
                    <h3>"HTML"</h3>
                    <iframe class="email-frame" sandbox="" srcdoc=d.body_html.clone() title="HTML part"></iframe>
                    <h3>"Plain text"</h3>
                    <pre class="email-text">{d.body_text.clone()}</pre>
                </section>
            }.into_any(),
        })}
    }
}

#[component]
pub fn MyEmailsPage() -> impl IntoView {
    let session = use_session();
    let page = RwSignal::new(1u32);
    let emails = LocalResource::new(move || api::my_emails(session, page.get()));
    view! {
        <header class="page-head"><div><h1>"E-mails"</h1><p class="muted">"Messages we sent you."</p></div></header>
        {loaded(emails, move |list| email_table(list, page, None))}
    }
}

#[component]
pub fn TemplatesPage() -> impl IntoView {
    let session = use_session();
    let version = RwSignal::new(0u32);
    let selected = RwSignal::new(None::<String>);
    // Kept here so the editor's message survives the list reloading after a save.
    let message = RwSignal::new(None::<(bool, String)>);
    let templates = LocalResource::new(move || {
        version.track();
        api::templates(session)
    });
    view! {
        <header class="page-head"><div><h1>"E-mail templates"</h1><p class="muted">"The text of every e-mail Keel sends. Edit one to replace the shipped text; reset to go back."</p></div></header>
        {move || match templates.get() {
            None => view! { <Loading/> }.into_any(),
            Some(Err(e)) => view! { <ErrorPanel error=e/> }.into_any(),
            Some(Ok(list)) => {
                let current = selected.get().and_then(|k| list.iter().find(|t| t.key == k).cloned());
                view! {
                    <div class="split">
                        <nav class="card list-nav" aria-label="Templates">
                            {list.iter().map(|t| {
                                let key = t.key.clone();
                                let active = selected.get().as_deref() == Some(t.key.as_str());
                                view! {
                                    <button type="button" data-key=t.key.clone() class=if active { "list-item active" } else { "list-item" } on:click=move |_| { message.set(None); selected.set(Some(key.clone())) }>
                                        <span><code>{t.key.clone()}</code>{t.customized.then(|| view! { <span class="pill">"edited"</span> })}</span>
                                        <span class="muted small">{t.description.clone()}</span>
                                    </button>
                                }
                            }).collect_view()}
                        </nav>
                        {match current {
                            None => view! { <div class="card"><Empty title="Pick a template" hint="Choose one on the left to edit it."/></div> }.into_any(),
                            Some(t) => view! { <TemplateEditor template=t version=version message=message/> }.into_any(),
                        }}
                    </div>
                }.into_any()
            }
        }}
    }
}

#[component]
fn TemplateEditor(template: keel_shared::automation::EmailTemplate, version: RwSignal<u32>, message: RwSignal<Option<(bool, String)>>) -> impl IntoView {
    let session = use_session();
    let subject = RwSignal::new(template.subject.clone());
    let text = RwSignal::new(template.body_text.clone());
    let html = RwSignal::new(template.body_html.clone());
    let key = template.key.clone();
    let key2 = template.key.clone();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let key = key.clone();
        let body = UpdateTemplateRequest { subject: subject.get_untracked(), body_text: text.get_untracked(), body_html: html.get_untracked() };
        spawn_local(async move {
            match api::save_template(session, &key, &body).await {
                Ok(_) => {
                    message.set(Some((true, "Saved. New e-mails use this text.".into())));
                    version.update(|v| *v += 1);
                }
                Err(e) => {
                    let m = ["subject", "body_text", "body_html"].iter().find_map(|f| e.field(f)).unwrap_or_else(|| e.message());
                    message.set(Some((false, m)));
                }
            }
        });
    };
    let reset = move |_| {
        let key = key2.clone();
        spawn_local(async move {
            match api::reset_template(session, &key).await {
                Ok(t) => {
                    subject.set(t.subject);
                    text.set(t.body_text);
                    html.set(t.body_html);
                    message.set(Some((true, "Back to the shipped text.".into())));
                    version.update(|v| *v += 1);
                }
                Err(e) => message.set(Some((false, e.message()))),
            }
        });
    };
    view! {
        <form class="card editor" on:submit=save data-testid="template-editor">
            <h2><code>{template.key.clone()}</code></h2>
            <p class="muted small">{format!("Variables: {}", template.variables.iter().map(|v| format!("{{{{ {v} }}}}")).collect::<Vec<_>>().join(", "))}</p>
            <label class="field"><span>"Subject"</span><input id="t-subject" type="text" bind:value=subject/></label>
            <label class="field"><span>"Plain text"</span><textarea id="t-text" rows="8" bind:value=text></textarea></label>
            <label class="field"><span>"HTML"</span><textarea id="t-html" rows="8" bind:value=html></textarea></label>
            {move || message.get().map(|(ok, m)| view! { <div class=if ok { "alert alert-info" } else { "alert alert-error" } role="status">{m}</div> })}
            <div class="row-actions">
                <button class="btn btn-primary" type="submit">"Save template"</button>
                <button class="btn btn-ghost" type="button" on:click=reset>"Reset to shipped"</button>
            </div>
        </form>
    }
}
