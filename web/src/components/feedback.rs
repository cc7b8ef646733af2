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
    let (title, hint) = if needs_two_factor { ("Two-factor authentication required", "Staff must protect their sign-in with a code before using the back office.") } else { (title, hint) };
    view! {
        <div class="state state-error" role="alert" data-code=code>
            <h2>{title}</h2>
            <p class="muted">{hint}</p>
            <p class="state-detail">{error.message()}</p>
            {needs_two_factor.then(|| view! { <a class="btn btn-primary" href="/dashboard/security">"Set up two-factor authentication"</a> })}
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

/// The usual three states of a loaded resource: loading, the error, or `f` of the value.
pub fn loaded<T: Clone + 'static>(res: LocalResource<Result<T, ClientError>>, f: impl Fn(T) -> AnyView + 'static) -> impl Fn() -> AnyView {
    move || match res.get() {
        None => view! { <Loading/> }.into_any(),
        Some(Err(e)) => view! { <ErrorPanel error=e/> }.into_any(),
        Some(Ok(v)) => f(v),
    }
}
