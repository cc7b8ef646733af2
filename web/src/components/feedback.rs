//! Loading, empty and error states, used the same way on every page.

use leptos::prelude::*;

use crate::api::ClientError;

#[component]
pub fn Loading(#[prop(default = "Loading…")] label: &'static str) -> impl IntoView {
    view! {
        <div class="state state-loading" role="status" aria-live="polite">
            <span class="spinner" aria-hidden="true"></span>
            <span>{label}</span>
        </div>
    }
}

#[component]
pub fn ErrorPanel(error: ClientError) -> impl IntoView {
    let (title, hint) = match &error {
        ClientError::Forbidden(_) => ("Access denied", "Your account does not have permission to see this page."),
        ClientError::Unauthorized(_) => ("Please sign in", "Your session has ended."),
        ClientError::NotFound(_) => ("Not found", "It may have been moved or deleted."),
        ClientError::Network(_) => ("Connection problem", "We could not reach the server."),
        ClientError::Problem(_) => ("Something went wrong", "Please try again."),
    };
    let code = match &error {
        ClientError::Forbidden(p) | ClientError::Unauthorized(p) | ClientError::NotFound(p) | ClientError::Problem(p) => p.code.clone(),
        ClientError::Network(_) => "network".to_string(),
    };
    let needs_two_factor = code == "two_factor_required";
    let (title, hint) = if needs_two_factor {
        ("Two-factor authentication required", "Staff must protect their sign-in with a code before using the back office.")
    } else {
        (title, hint)
    };
    view! {
        <div class="state state-error" role="alert" data-code=code>
            <h2>{title}</h2>
            <p class="muted">{hint}</p>
            <p class="state-detail">{error.message()}</p>
            {needs_two_factor.then(|| view! { <a class="btn btn-primary" href="/dashboard/security" rel=crate::routes::rel("/dashboard/security")>"Set up two-factor authentication"</a> })}
        </div>
    }
}

#[component]
pub fn Empty(title: &'static str, #[prop(optional)] hint: Option<&'static str>) -> impl IntoView {
    view! {
        <div class="state state-empty">
            <h2>{title}</h2>
            {hint.map(|h| view! { <p class="muted">{h}</p> })}
        </div>
    }
}

/// Previous/next paging under a table. `page` is the requested page; `current` and `pages` come
/// from the answer.
#[component]
pub fn Pager(page: RwSignal<u32>, current: u32, pages: u32, #[prop(optional)] label: Option<String>) -> impl IntoView {
    let pages = pages.max(1);
    let label = label.unwrap_or_else(|| format!("Page {current} of {pages}"));
    view! {
        <div class="pager">
            <span class="muted small">{label}</span>
            <button class="btn btn-outline" type="button" disabled={current <= 1}
                on:click=move |_| page.update(|p| *p = p.saturating_sub(1).max(1))>"Previous"</button>
            <button class="btn btn-outline" type="button" disabled={current >= pages}
                on:click=move |_| page.update(|p| *p += 1)>"Next"</button>
        </div>
    }
}

/// A form's or page's error message (`role="alert"`), shown while `message` holds one. The one
/// banner every page uses.
#[component]
pub fn ErrorBanner(message: RwSignal<Option<String>>) -> impl IntoView {
    move || message.get().map(|m| view! { <div class="alert alert-error" role="alert">{m}</div> })
}

/// A confirmation (`role="status"`), shown while `message` holds one.
#[component]
pub fn Notice(message: RwSignal<Option<String>>) -> impl IntoView {
    move || message.get().map(|m| view! { <div class="alert alert-info" role="status">{m}</div> })
}

/// What an `ErrorBoundary` shows: the first error, as an [`ErrorPanel`].
fn load_failed(errors: ArcRwSignal<Errors>) -> impl IntoView {
    move || {
        errors.with(|list| {
            list.iter().next().map(|(_, e)| match e.downcast_ref::<ClientError>() {
                Some(e) => view! { <ErrorPanel error=e.clone()/> }.into_any(),
                None => view! { <ErrorPanel error=ClientError::Network(e.to_string())/> }.into_any(),
            })
        })
    }
}

/// The one load idiom: a `Transition` (the spinner on the first load; the old content stays while
/// a `refetch()` or a changed input reloads), an `ErrorBoundary` that shows a failed load as an
/// [`ErrorPanel`], and `f` of the value.
pub fn loaded<T, V>(res: LocalResource<Result<T, ClientError>>, f: impl Fn(T) -> V + Clone + Send + Sync + 'static) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    V: IntoView + Send + 'static,
{
    view! {
        <Transition fallback=|| view! { <Loading/> }>
            <ErrorBoundary fallback=load_failed>
                {move || {
                    let f = f.clone();
                    Suspend::new(async move { res.await.map(f) })
                }}
            </ErrorBoundary>
        </Transition>
    }
}
