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
