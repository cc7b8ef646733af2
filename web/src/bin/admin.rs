//! The admin bundle (`/admin`, served from `dist/admin/`).

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(keel_web::AdminApp);
}
