//! The portal bundle (`/dashboard`, `/team/accept`; served from `dist/portal/`).

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(keel_web::PortalApp);
}
