//! Admin: the job queue and the scheduled tasks.

use keel_shared::automation::{Job, JobFilter, JobState, ScheduledTask, UpdateTaskRequest};
use keel_shared::Page;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{admin, ClientError};
use crate::components::feedback::{loaded, Empty, ErrorBanner, Notice, Pager};
use crate::components::form::{FieldError, Form, Submit};
use crate::components::when_exact as when;
use crate::session::use_session;

#[component]
pub fn JobsPage() -> impl IntoView {
    let session = use_session();
    let state = RwSignal::new(None::<JobState>);
    let kind = RwSignal::new(String::new());
    let page = RwSignal::new(1u32);
    let notice = RwSignal::new(None::<String>);
    let jobs = LocalResource::new(move || {
        let kind = Some(kind.get().trim().to_string()).filter(|k| !k.is_empty());
        admin::jobs(session, JobFilter { state: state.get(), kind, paging: crate::api::page(page.get()) })
    });
    let act = move |id: String, retry: bool| {
        spawn_local(async move {
            let r = if retry {
                admin::retry_job(session, &id).await.map(|_| "Job queued to run again")
            } else {
                admin::delete_job(session, &id).await.map(|_| "Job deleted")
            };
            notice.set(Some(match r {
                Ok(m) => m.to_string(),
                Err(e) => e.message(),
            }));
            jobs.refetch();
        });
    };
    let states = std::iter::once(None)
        .chain(JobState::ALL.iter().copied().map(Some))
        .map(|s| {
            let label = s.map(|s| s.as_str()).unwrap_or("all states");
            view! { <option value=label selected=move || state.get() == s>{label}</option> }
        })
        .collect_view();
    view! {
        <header class="page-head">
            <div><h1>"Jobs"</h1><p class="muted">"Everything Keel does in the background: e-mails, provisioning, scheduled tasks."</p></div>
            <button class="btn btn-outline" type="button" on:click=move |_| jobs.refetch()>"Refresh"</button>
        </header>
        <div class="toolbar">
            <label class="inline-field">"State "
                <select on:change=move |ev| { state.set(JobState::parse(&event_target_value(&ev))); page.set(1); }>{states}</select>
            </label>
            <label class="inline-field">"Kind "
                <input type="search" placeholder="e.g. email.send" bind:value=kind on:input=move |_| page.set(1)/>
            </label>
        </div>
        <Notice message=notice/>
        {loaded(jobs, move |list: Page<Job>| if list.items.is_empty() {
            view! { <Empty title="No jobs match" hint="Jobs appear as Keel works."/> }.into_any()
        } else {
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
                                                {retryable.then(|| view! { <button class="btn btn-outline btn-sm" type="button" on:click=move |_| act(id1.to_string(), true)>"Retry"</button> })}
                                                {deletable.then(|| view! { <button class="btn btn-ghost btn-sm" type="button" on:click=move |_| act(id2.to_string(), false)>"Delete"</button> })}
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        <Pager page=page current=current pages=pages label=format!("{total} jobs · page {current} of {pages}")/>
                    </div>
                }.into_any()
        })}
    }
}

/// The task list, reloaded (`refetch()`) after a change.
type Tasks = LocalResource<Result<Vec<ScheduledTask>, ClientError>>;

#[component]
pub fn TasksPage() -> impl IntoView {
    let session = use_session();
    let tasks: Tasks = LocalResource::new(move || admin::tasks(session));
    view! {
        <header class="page-head">
            <div><h1>"Scheduled tasks"</h1><p class="muted">"Recurring work, with cron schedules in UTC. Each run happens once per period, however many servers run Keel."</p></div>
        </header>
        {loaded(tasks, move |list: Vec<ScheduledTask>| view! {
            <div class="stack">
                {list.into_iter().map(|t| view! { <TaskCard task=t tasks=tasks/> }).collect_view()}
            </div>
        })}
    }
}

#[component]
fn TaskCard(task: ScheduledTask, tasks: Tasks) -> impl IntoView {
    let session = use_session();
    let cron = RwSignal::new(task.cron.clone());
    let enabled = RwSignal::new(task.enabled);
    let form = Form::new();
    let name = task.name.clone();
    let save_task = form.action(
        move |body: &UpdateTaskRequest| {
            let (name, body) = (name.clone(), body.clone());
            async move { admin::update_task(session, &name, body).await }
        },
        move |_| tasks.refetch(),
    );
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.banner.set(None);
        save_task.dispatch_local(UpdateTaskRequest { cron: cron.get_untracked(), enabled: enabled.get_untracked() });
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
                <div>
                    <label class="field"><span>"Schedule (cron)"</span><input type="text" bind:value=cron/></label>
                    <FieldError name="cron" errors=form.errors/>
                </div>
                <div><span class="muted small">"Last run"</span><p>{task.last_run_at.map(when).unwrap_or_else(|| "never".into())}</p></div>
                <div><span class="muted small">"Next run"</span><p>{task.next_run_at.map(when).unwrap_or_else(|| "—".into())}</p></div>
                <div class="task-save"><Submit pending=save_task.pending() label="Save" busy="Saving…"/></div>
            </div>
            <ErrorBanner message=form.banner/>
        </form>
    }
}
