//! A set of check boxes over a named enum (staff permissions, team members' areas): one signal
//! per value, the boxes, and the values ticked.

use keel_shared::access::Named;
use leptos::prelude::*;

/// One box per value of `T`, ticked where `held` has it.
#[derive(Clone)]
pub struct Checks<T: Named>(Vec<(T, RwSignal<bool>)>);

impl<T: Named + Send + Sync> Checks<T> {
    pub fn new(held: &[T]) -> Self {
        Checks(T::ALL.iter().map(|v| (*v, RwSignal::new(held.contains(v)))).collect())
    }

    /// The values ticked now.
    pub fn selected(&self) -> Vec<T> {
        self.0.iter().filter(|(_, on)| on.get_untracked()).map(|(v, _)| *v).collect()
    }

    /// The boxes, labelled by `label`; each input carries `data-value` with the value's name.
    pub fn view(&self, label: fn(T) -> &'static str) -> impl IntoView {
        self.0
            .iter()
            .map(|(v, on)| {
                let on = *on;
                view! { <label class="perm"><input type="checkbox" bind:checked=on data-value=v.name()/>" "{label(*v)}</label> }
            })
            .collect_view()
    }
}

/// A set of check boxes over items named by an id (products, add-ons, billing cycles): one signal
/// per item, the boxes, and the ids ticked, in the items' order.
#[derive(Clone)]
pub struct IdChecks(Vec<(String, String, RwSignal<bool>)>);

impl IdChecks {
    /// One box per `(id, label)`, ticked where `held` has the id.
    pub fn new(items: impl IntoIterator<Item = (String, String)>, held: &[String]) -> Self {
        IdChecks(items.into_iter().map(|(id, label)| (id.clone(), label, RwSignal::new(held.contains(&id)))).collect())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The ids ticked now.
    pub fn selected(&self) -> Vec<String> {
        self.0.iter().filter(|(_, _, on)| on.get_untracked()).map(|(id, _, _)| id.clone()).collect()
    }

    /// The boxes; each input carries `data-value` with its id.
    pub fn view(&self) -> impl IntoView {
        self.0
            .iter()
            .map(|(id, label, on)| {
                let on = *on;
                view! { <label class="perm"><input type="checkbox" bind:checked=on data-value=id.clone()/>" "{label.clone()}</label> }
            })
            .collect_view()
    }
}
