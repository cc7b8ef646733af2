//! The storefront bundle (the public site and sign-in pages); everything else lives in the
//! library so it can be tested.

fn main() {
    console_error_panic_hook::set_once();
    // index.html's static first paint goes as the app mounts, in the same task: no frame shows
    // both or neither.
    if let Some(shell) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id("shell")) {
        shell.remove();
    }
    leptos::mount::mount_to_body(keel_web::StorefrontApp);
}
