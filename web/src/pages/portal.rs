//! The client portal's overview: the account as `GET /me` reports it.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api;
use crate::components::feedback::{ErrorPanel, Loading};
use crate::session::use_session;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let session = use_session();
    let me = LocalResource::new(move || api::me(session));
    view! {
        <header class="page-head">
            <div>
                <h1>"Overview"</h1>
                <p class="muted">"Your account at a glance."</p>
            </div>
            <A href="/#plans" attr:class="btn btn-primary">"Order hosting"</A>
        </header>
        <crate::pages::account::VerifyBanner/>
        {move || match me.get() {
            None => view! { <Loading/> }.into_any(),
            Some(Err(e)) => view! { <ErrorPanel error=e/> }.into_any(),
            Some(Ok(user)) => view! {
                <div class="grid-2">
                    <section class="card">
                        <h2>{format!("Hello, {}", user.first_name)}</h2>
                        <dl class="details">
                            <dt>"Name"</dt><dd>{format!("{} {}", user.first_name, user.last_name)}</dd>
                            <dt>"E-mail"</dt><dd data-testid="me-email">{user.email.clone()}</dd>
                            <dt>"Account type"</dt><dd><span class="pill">{user.role.as_str()}</span></dd>
                            <dt>"Customer since"</dt><dd>{crate::components::day_in_words(user.created_at)}</dd>
                        </dl>
                    </section>
                    <section class="card card-cta">
                        <h2>"Get your site online"</h2>
                        <p class="muted">"Pick a plan: shared and WordPress hosting, VPS or cloud. Your server is set up as soon as you pay."</p>
                        <A href="/#plans" attr:class="btn btn-outline">"Browse plans"</A>
                    </section>
                </div>
            }.into_any(),
        }}
    }
}
