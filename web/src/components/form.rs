//! The form kit: a [`Form`] holds a form's field errors and its error banner; [`Form::action`]
//! makes the submit a Leptos `Action` (with its `pending()` state for the button); [`Field`] shows
//! one input with its error under it. The same `shared` validation rules the API runs are checked
//! before anything is sent ([`Form::check`]), and a problem+json answer puts the server's
//! per-field messages under their fields ([`Form::fail`]).
//!
//! ```ignore
//! let form = Form::new();
//! let send = form.action(|req: &LoginRequest| api::auth::login(req.clone()), move |t| session.set(t));
//! let submit = move |ev: SubmitEvent| {
//!     ev.prevent_default();
//!     let req = LoginRequest { … };
//!     if form.check(&req) { send.dispatch_local(req); }
//! };
//! view! { <form on:submit=submit novalidate> <ErrorBanner message=form.banner/> <Field … errors=form.errors/>
//!         <Submit pending=send.pending() label="Log in" busy="Logging in…"/> </form> }
//! ```

use std::collections::BTreeMap;
use std::future::Future;

use keel_shared::validation::field_messages;
use leptos::prelude::*;
use validator::Validate;

use crate::api::ClientError;

/// Field name → messages, as the API's problem+json `errors` and `shared`'s validation name them.
pub type FieldErrors = RwSignal<BTreeMap<String, Vec<String>>>;

/// One form's error state: messages per field, and the banner above the fields.
#[derive(Clone, Copy)]
pub struct Form {
    pub errors: FieldErrors,
    pub banner: RwSignal<Option<String>>,
}

impl Default for Form {
    fn default() -> Self {
        Self::new()
    }
}

impl Form {
    pub fn new() -> Self {
        Form { errors: RwSignal::new(BTreeMap::new()), banner: RwSignal::new(None) }
    }

    /// Runs the shared validation rules before a form is sent: shows the per-field messages and
    /// answers false when something is wrong; clears earlier messages and answers true otherwise.
    pub fn check<T: Validate>(&self, req: &T) -> bool {
        self.banner.set(None);
        match req.validate() {
            Err(e) => {
                self.errors.set(field_messages(&e));
                false
            }
            Ok(()) => {
                self.errors.set(BTreeMap::new());
                true
            }
        }
    }

    /// Shows a failed call: field errors under their fields, the message in the banner.
    pub fn fail(&self, err: ClientError) {
        if let ClientError::Problem(p) = &err {
            if !p.errors.is_empty() {
                self.errors.set(p.errors.clone());
            }
        }
        self.banner.set(Some(err.message()));
    }

    /// The first message for `name`, if any.
    pub fn error(&self, name: &str) -> Option<String> {
        self.errors.with(|e| e.get(name).and_then(|v| v.first().cloned()))
    }

    /// The form's submit as an `Action`: runs `call`; on success hands the answer to `done`, on
    /// failure shows it with [`Form::fail`]. The action's value is whether the call succeeded.
    pub fn action<I, O, Fut>(self, call: impl Fn(&I) -> Fut + 'static, done: impl Fn(O) + Clone + 'static) -> Action<I, bool>
    where
        I: 'static,
        O: 'static,
        Fut: Future<Output = Result<O, ClientError>> + 'static,
    {
        Action::new_local(move |input: &I| {
            let fut = call(input);
            let done = done.clone();
            async move {
                match fut.await {
                    Ok(v) => {
                        done(v);
                        true
                    }
                    Err(e) => {
                        self.fail(e);
                        false
                    }
                }
            }
        })
    }
}

#[component]
pub fn Field(
    label: &'static str,
    name: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "")] autocomplete: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    value: RwSignal<String>,
    errors: FieldErrors,
) -> impl IntoView {
    let id = format!("f-{name}");
    let err_id = format!("{id}-error");
    let error = move || errors.with(|e| e.get(name).and_then(|v| v.first().cloned()));
    view! {
        <div class="field" class:has-error=move || error().is_some()>
            <label for=id.clone()>{label}</label>
            <input id=id name=name type=kind autocomplete=autocomplete bind:value=value
                aria-invalid=move || error().is_some().to_string()
                aria-describedby=err_id.clone()/>
            {move || match error() {
                Some(e) => view! { <p class="field-error" id=err_id.clone()>{e}</p> }.into_any(),
                None => hint.map(|h| view! { <p class="field-hint">{h}</p> }).into_any(),
            }}
        </div>
    }
}

/// A [`Field`] of one item of a list, named by its path as the API names it (`options[0].name`);
/// its input's id is the path with `-` for the punctuation (`f-options-0-name`).
#[component]
pub fn ListField(
    label: &'static str,
    name: String,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    value: RwSignal<String>,
    errors: FieldErrors,
) -> impl IntoView {
    let id: String = format!("f-{name}").chars().filter(|c| *c != ']').map(|c| if c == '[' || c == '.' { '-' } else { c }).collect();
    let err_id = format!("{id}-error");
    let error = move || errors.with(|e| e.get(&name).and_then(|v| v.first().cloned()));
    let (error2, error3) = (error.clone(), error.clone());
    view! {
        <div class="field" class:has-error=move || error().is_some()>
            <label for=id.clone()>{label}</label>
            <input id=id type=kind bind:value=value aria-invalid=move || error3().is_some().to_string() aria-describedby=err_id.clone()/>
            {move || match error2() {
                Some(e) => view! { <p class="field-error" id=err_id.clone()>{e}</p> }.into_any(),
                None => hint.map(|h| view! { <p class="field-hint">{h}</p> }).into_any(),
            }}
        </div>
    }
}

/// The error for a field that is not one input (a group of check boxes), placed where it is used.
#[component]
pub fn FieldError(name: &'static str, errors: FieldErrors) -> impl IntoView {
    move || errors.with(|e| e.get(name).and_then(|v| v.first().cloned())).map(|m| view! { <p class="field-error">{m}</p> })
}

/// Every message about one item of a list and its fields, for placing under the item: with
/// `prefix` `lines[2]`, those of `lines[2]`, `lines[2].cycle`, `lines[2].options[0].value_id`…,
/// except the field `except` (shown by its own input, e.g. `quantity`).
pub fn messages_under(errors: &BTreeMap<String, Vec<String>>, prefix: &str, except: &str) -> Vec<String> {
    errors
        .iter()
        .filter(|(k, _)| {
            k.strip_prefix(prefix)
                .is_some_and(|rest| (rest.is_empty() || rest.starts_with(['.', '['])) && rest.strip_prefix('.') != Some(except))
        })
        .flat_map(|(_, v)| v.iter().cloned())
        .collect()
}

/// A person's first and last name side by side, as every form that asks for one shows them.
/// `own`: the name is the user's own, so the browser may fill it in (not when an admin adds staff).
#[component]
pub fn NameFields(
    first: RwSignal<String>,
    last: RwSignal<String>,
    errors: FieldErrors,
    #[prop(default = true)] own: bool,
) -> impl IntoView {
    let (given, family) = if own { ("given-name", "family-name") } else { ("off", "off") };
    view! {
        <div class="field-row">
            <Field label="First name" name="first_name" autocomplete=given value=first errors=errors/>
            <Field label="Last name" name="last_name" autocomplete=family value=last errors=errors/>
        </div>
    }
}

/// A form's submit button, disabled and relabelled while the action runs.
#[component]
pub fn Submit(
    pending: Memo<bool>,
    label: &'static str,
    #[prop(optional)] busy: Option<&'static str>,
    #[prop(default = "btn btn-primary")] class: &'static str,
) -> impl IntoView {
    view! {
        <button class=class type="submit" disabled=move || pending.get()>
            {move || if pending.get() { busy.unwrap_or(label) } else { label }}
        </button>
    }
}
