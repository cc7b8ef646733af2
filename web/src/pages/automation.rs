//! Admin: the job queue and the scheduled tasks.

use keel_shared::automation::{JobState, UpdateTaskRequest};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::components::when_exact as when;
use crate::components::feedback::{Empty, ErrorPanel, Loading, Pager};
use crate::session::use_session;


#[component]
pub fn JobsPage() -> impl IntoView {
    let session = use_session();
    let state = RwSignal::new(None::<JobState>);
    let kind = RwSignal::new(String::new());
    let page = RwSignal::new(1u32);
    let version = RwSignal::new(0u32);
    let notice = RwSignal::new(None::<String>);
    let jobs = LocalResource::new(move || {
        version.track();
        api::admin_jobs(session, state.get(), kind.get(), page.get())
    });
    let act = move |id: String, retry: bool| {
        spawn_local(async move {
            let r = if retry { api::retry_job(session, &id).await.map(|_| "Job queued to run again") } else { api::delete_job(session, &id).await.map(|_| "Job deleted") };
            notice.set(Some(match r {
                Ok(m) => m.to_string(),
                Err(e) => e.message(),
            }));
            version.update(|v| *v += 1);
        });
    };
    let states = std::iter::once(None).chain(JobState::ALL.into_iter().map(Some)).map(|s| {
        let label = s.map(|s| s.as_str()).unwrap_or("all states");
        view! { <option value=label selected=move || state.get() == s>{label}</option> }
    }).collect_view();
    view! {
        <header class="page-head">
            <div><h1>"Jobs"</h1><p class="muted">"Everything Keel does in the background: e-mails, provisioning, scheduled tasks."</p></div>
            <button class="btn btn-outline" type="button" on:click=move |_| version.update(|v| *v += 1)>"Refresh"</button>
        </header>
        <div class="toolbar">
            <label class="inline-field">"State "
                <select on:change=move |ev| { state.set(JobState::parse(&event_target_value(&ev))); page.set(1); }>{states}</select>
            </label>
            <label class="inline-field">"Kind "
                <input type="search" placeholder="e.g. email.send" bind:value=kind on:input=move |_| page.set(1)/>
            </label>
        </div>
        {move || notice.get().map(|m| view! { <div class="alert alert-info" role="status">{m}</div> })}
        {move || match jobs.get() {
            None => view! { <Loading label="Loading jobs…"/> }.into_any(),
            Some(Err(e)) => view! { <ErrorPanel error=e/> }.into_any(),
            Some(Ok(list)) if list.items.is_empty() => view! { <Empty title="No jobs match" hint="Jobs appear as Keel works."/> }.into_any(),
            Some(Ok(list)) => {
                let (current, pages, total) = (list.page, list.total_pages.max(1), list.total);
                view! {
                    <div class="card table-card">
                        <table class="table" data-testid="jobs-table">
                            <thead><tr><th>"Kind"</th><th>"State"</th><th>"Attempts"</th><th>"Run at"</th><th>"Last error"</th><th></th></tr></thead>
                            <tbody>
                                {list.items.into_iter().map(|j| {
                                    let (id1, id2) = (j.id.clone(), j.id.clone());
                                    let retryable = matches!(j.state, JobState::Failed | JobState::Dead);
                                    let deletable = j.state != JobState::Running;
                                    view! {
                                        <tr>
                                            <td><code>{j.kind.clone()}</code></td>
                                            <td><span class=format!("pill pill-{}", j.state.as_str())>{j.state.as_str()}</span></td>
                                            <td>{format!("{}/{}", j.attempts, j.max_attempts)}</td>
                                            <td>{when(j.run_at)}</td>
                                            <td class="muted small clip">{j.last_error.clone().unwrap_or_default()}</td>
                                            <td class="row-actions">
                                                {retryable.then(|| view! { <button class="btn btn-outline btn-sm" type="button" on:click=move |_| act(id1.clone(), true)>"Retry"</button> })}
                                                {deletable.then(|| view! { <button class="btn btn-ghost btn-sm" type="button" on:click=move |_| act(id2.clone(), false)>"Delete"</button> })}
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        <Pager page=page current=current pages=pages label=format!("{total} jobs · page {current} of {pages}")/>
                    </div>
                }.into_any()
            }
        }}
    }
}

#[component]
pub fn TasksPage() -> impl IntoView {
    let session = use_session();
    let version = RwSignal::new(0u32);
    let tasks = LocalResource::new(move || {
        version.track();
        api::admin_tasks(session)
    });
    view! {
        <header class="page-head">
            <div><h1>"Scheduled tasks"</h1><p class="muted">"Recurring work, with cron schedules in UTC. Each run happens once per period, however many servers run Keel."</p></div>
        </header>
        {move || match tasks.get() {
            None => view! { <Loading/> }.into_any(),
            Some(Err(e)) => view! { <ErrorPanel error=e/> }.into_any(),
            Some(Ok(list)) => view! {
                <div class="stack">
                    {list.into_iter().map(|t| view! { <TaskCard task=t version=version/> }).collect_view()}
                </div>
            }.into_any(),
        }}
    }
}

#[component]
fn TaskCard(task: keel_shared::automation::ScheduledTask, version: RwSignal<u32>) -> impl IntoView {
    let session = use_session();
    let cron = RwSignal::new(task.cron.clone());
    let enabled = RwSignal::new(task.enabled);
    let message = RwSignal::new(None::<(bool, String)>);
    let name = task.name.clone();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let name = name.clone();
        let body = UpdateTaskRequest { cron: cron.get_untracked(), enabled: enabled.get_untracked() };
        spawn_local(async move {
            match api::update_task(session, &name, &body).await {
                Ok(_) => {
                    message.set(Some((true, "Saved".into())));
                    version.update(|v| *v += 1);
                }
                Err(e) => message.set(Some((false, e.field("cron").unwrap_or_else(|| e.message())))),
            }
        });
    };
    view! {
        <form class="card task-card" on:submit=save data-task=task.name.clone()>
            <div class="task-head">
                <div>
                    <h2><code>{task.name.clone()}</code></h2>
                    <p class="muted small">{task.description.clone()}</p>
                </div>
                <label class="switch"><input type="checkbox" bind:checked=enabled/>" Enabled"</label>
            </div>
            <div class="task-grid">
                <label class="field"><span>"Schedule (cron)"</span><input type="text" bind:value=cron/></label>
                <div><span class="muted small">"Last run"</span><p>{task.last_run_at.map(when).unwrap_or_else(|| "never".into())}</p></div>
                <div><span class="muted small">"Next run"</span><p>{task.next_run_at.map(when).unwrap_or_else(|| "—".into())}</p></div>
                <div class="task-save"><button class="btn btn-primary" type="submit">"Save"</button></div>
            </div>
            {move || message.get().map(|(ok, m)| view! { <p class=if ok { "field-hint" } else { "field-error" }>{m}</p> })}
        </form>
    }
}
