pub mod account;
pub mod admin;
pub mod auth;
pub mod automation;
pub mod emails;
pub mod portal;
pub mod profile;
pub mod staff;
pub mod storefront;
pub mod team;

use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <section class="container narrow center-page">
            <div class="card">
                <p class="eyebrow">"404"</p>
                <h1>"This page does not exist"</h1>
                <p class="muted">"The link may be old, or the address mistyped."</p>
                <A href="/" attr:class="btn btn-primary">"Back to the home page"</A>
            </div>
        </section>
    }
}
