//! The admin's e-mail log and template editor.

use keel_shared::automation::{EmailTemplate, UpdateTemplateRequest};
use leptos::prelude::*;

use crate::api::{self, admin, ClientError};
use crate::components::feedback::{loaded, Empty, ErrorBanner, ErrorPanel, Notice};
use crate::components::form::{FieldError, Form, Submit};
use crate::components::tables::email_table;
use crate::session::use_session;

#[component]
pub fn AdminEmailsPage() -> impl IntoView {
    let session = use_session();
    let page = RwSignal::new(1u32);
    let open = RwSignal::new(None::<String>);
    let emails = LocalResource::new(move || admin::emails(session, api::page(page.get())));
    let detail = LocalResource::new(move || {
        let id = open.get();
        async move {
            match id {
                Some(id) => Some(admin::email(session, &id).await),
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
pub fn TemplatesPage() -> impl IntoView {
    let session = use_session();
    let selected = RwSignal::new(None::<String>);
    // Kept here so the editor's confirmation survives the list reloading after a save.
    let notice = RwSignal::new(None::<String>);
    let templates: Templates = LocalResource::new(move || admin::templates(session));
    view! {
        <header class="page-head"><div><h1>"E-mail templates"</h1><p class="muted">"The text of every e-mail Keel sends. Edit one to replace the shipped text; reset to go back."</p></div></header>
        {loaded(templates, move |list: Vec<EmailTemplate>| move || {
                let current = selected.get().and_then(|k| list.iter().find(|t| t.key == k).cloned());
                view! {
                    <div class="split">
                        <nav class="card list-nav" aria-label="Templates">
                            {list.iter().map(|t| {
                                let key = t.key.clone();
                                let active = selected.get().as_deref() == Some(t.key.as_str());
                                view! {
                                    <button type="button" data-key=t.key.clone() class=if active { "list-item active" } else { "list-item" } on:click=move |_| { notice.set(None); selected.set(Some(key.clone())) }>
                                        <span><code>{t.key.clone()}</code>{t.customized.then(|| view! { <span class="pill">"edited"</span> })}</span>
                                        <span class="muted small">{t.description.clone()}</span>
                                    </button>
                                }
                            }).collect_view()}
                        </nav>
                        {match current {
                            None => view! { <div class="card"><Empty title="Pick a template" hint="Choose one on the left to edit it."/></div> }.into_any(),
                            Some(t) => view! { <TemplateEditor template=t templates=templates notice=notice/> }.into_any(),
                        }}
                    </div>
                }
        })}
    }
}

/// The template list, reloaded (`refetch()`) after a save or reset.
type Templates = LocalResource<Result<Vec<EmailTemplate>, ClientError>>;

#[component]
fn TemplateEditor(template: EmailTemplate, templates: Templates, notice: RwSignal<Option<String>>) -> impl IntoView {
    let session = use_session();
    let subject = RwSignal::new(template.subject.clone());
    let text = RwSignal::new(template.body_text.clone());
    let html = RwSignal::new(template.body_html.clone());
    let form = Form::new();
    let key = template.key.clone();
    let save_template = form.action(
        move |body: &UpdateTemplateRequest| {
            let (key, body) = (key.clone(), body.clone());
            async move { admin::save_template(session, &key, body).await }
        },
        move |_| {
            notice.set(Some("Saved. New e-mails use this text.".into()));
            templates.refetch();
        },
    );
    let key = template.key.clone();
    let reset_template = form.action(
        move |()| {
            let key = key.clone();
            async move { admin::reset_template(session, &key).await }
        },
        move |t: EmailTemplate| {
            subject.set(t.subject);
            text.set(t.body_text);
            html.set(t.body_html);
            notice.set(Some("Back to the shipped text.".into()));
            templates.refetch();
        },
    );
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        notice.set(None);
        form.banner.set(None);
        save_template.dispatch_local(UpdateTemplateRequest {
            subject: subject.get_untracked(),
            body_text: text.get_untracked(),
            body_html: html.get_untracked(),
        });
    };
    let reset = move |_| {
        notice.set(None);
        form.banner.set(None);
        reset_template.dispatch_local(());
    };
    view! {
        <form class="card editor" on:submit=save data-testid="template-editor">
            <h2><code>{template.key.clone()}</code></h2>
            <p class="muted small">{format!("Variables: {}", template.variables.iter().map(|v| format!("{{{{ {v} }}}}")).collect::<Vec<_>>().join(", "))}</p>
            <label class="field"><span>"Subject"</span><input id="t-subject" type="text" bind:value=subject/></label>
            <FieldError name="subject" errors=form.errors/>
            <label class="field"><span>"Plain text"</span><textarea id="t-text" rows="8" bind:value=text></textarea></label>
            <FieldError name="body_text" errors=form.errors/>
            <label class="field"><span>"HTML"</span><textarea id="t-html" rows="8" bind:value=html></textarea></label>
            <FieldError name="body_html" errors=form.errors/>
            <ErrorBanner message=form.banner/>
            <Notice message=notice/>
            <div class="row-actions">
                <Submit pending=save_template.pending() label="Save template" busy="Saving…"/>
                <button class="btn btn-ghost" type="button" on:click=reset disabled=move || reset_template.pending().get()>"Reset to shipped"</button>
            </div>
        </form>
    }
}
