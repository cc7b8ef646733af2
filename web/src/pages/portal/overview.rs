//! The client portal's overview: the account as `GET /me` reports it, or, while a team member
//! acts for another account, that account and the access they hold in it.

use leptos::prelude::*;

use crate::api;
use crate::components::banners::VerifyBanner;
use crate::components::feedback::loaded;
use crate::components::layout::Link;
use crate::components::{areas_text, day_in_words};
use crate::session::use_session;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let session = use_session();
    let me = LocalResource::new(move || api::portal::me(session));
    view! {
        <header class="page-head">
            <div>
                <h1>"Overview"</h1>
                <p class="muted">{move || if session.acting.with(Option::is_some) { "The account you are working in." } else { "Your account at a glance." }}</p>
            </div>
            <Link href="/#plans" class="btn btn-primary">"Order hosting"</Link>
        </header>
        <VerifyBanner/>
        {loaded(me, move |user| view! {
                <div class="grid-2">
                    {move || session.acting.get().map(|m| view! {
                        // A team member working in someone else's account: whose, and what they may do.
                        <section class="card" data-testid="acting-card">
                            <h2>{m.account_name.clone()}</h2>
                            <dl class="details">
                                <dt>"Your access"</dt>
                                <dd>{areas_text(&m.permissions)}</dd>
                                <dt>"Member since"</dt><dd>{day_in_words(m.accepted_at)}</dd>
                            </dl>
                        </section>
                    })}
                    <section class="card" class:hidden=move || session.acting.with(Option::is_some)>
                        <h2>{format!("Hello, {}", user.first_name)}</h2>
                        <dl class="details">
                            <dt>"Name"</dt><dd>{format!("{} {}", user.first_name, user.last_name)}</dd>
                            <dt>"E-mail"</dt><dd data-testid="me-email">{user.email.clone()}</dd>
                            <dt>"Account type"</dt><dd><span class="pill">{user.role.as_str()}</span></dd>
                            <dt>"Customer since"</dt><dd>{day_in_words(user.created_at)}</dd>
                        </dl>
                    </section>
                    <section class="card card-cta">
                        <h2>"Get your site online"</h2>
                        <p class="muted">"Pick a plan: shared and WordPress hosting, VPS or cloud. Your server is set up as soon as you pay."</p>
                        <Link href="/#plans" class="btn btn-outline">"Browse plans"</Link>
                    </section>
                </div>
            })}
    }
}
