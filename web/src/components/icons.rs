//! Inline SVG icons (no icon fonts, nothing from a CDN).

use leptos::prelude::*;

#[component]
pub fn Logo() -> impl IntoView {
    view! {
        <svg class="logo-mark" viewBox="0 0 32 32" width="28" height="28" aria-hidden="true">
            <rect width="32" height="32" rx="8" fill="var(--primary)"/>
            <path d="M9 22 L16 9 L23 22 Z" fill="none" stroke="var(--primary-fg)" stroke-width="2.5" stroke-linejoin="round"/>
            <path d="M7 22 H25" stroke="var(--primary-fg)" stroke-width="2.5" stroke-linecap="round"/>
        </svg>
    }
}

#[component]
pub fn Check() -> impl IntoView {
    view! {
        <svg class="icon icon-check" viewBox="0 0 20 20" width="18" height="18" aria-hidden="true">
            <path d="M5 10.5 L8.5 14 L15 7" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"/>
        </svg>
    }
}

#[component]
pub fn Icon(name: &'static str) -> impl IntoView {
    let d = match name {
        "home" => "M3 10.5 L10 4 L17 10.5 V17 H12 V12 H8 V17 H3 Z",
        "users" => "M7 9a3 3 0 1 0 0-6 3 3 0 0 0 0 6Zm6 0a2.5 2.5 0 1 0 0-5M1.5 17c0-3 2.5-5 5.5-5s5.5 2 5.5 5M13.5 12c2.5 0 5 1.7 5 5",
        "store" => "M3 8 L4.5 3 H15.5 L17 8 M3 8 H17 V17 H3 Z M8 17 V12 H12 V17",
        "user" => "M10 9a3.5 3.5 0 1 0 0-7 3.5 3.5 0 0 0 0 7Zm-6.5 9c0-3.6 2.9-6 6.5-6s6.5 2.4 6.5 6",
        "logout" => "M8 3 H4 V17 H8 M13 6 L17 10 L13 14 M17 10 H8",
        "shield" => "M10 2 L17 5 V10 C17 14 14 17 10 18 C6 17 3 14 3 10 V5 Z",
        "mail" => "M3 5 H17 V15 H3 Z M3 5 L10 11 L17 5",
        "queue" => "M4 5 H16 M4 10 H16 M4 15 H11",
        "clock" => "M10 3a7 7 0 1 0 0 14 7 7 0 0 0 0-14Zm0 3 V10 L13 12",
        "template" => "M4 3 H13 L16 6 V17 H4 Z M7 8 H13 M7 11 H13 M7 14 H11",
        "moon" => "M16 12.5A7 7 0 0 1 7.5 4 7 7 0 1 0 16 12.5Z",
        _ => "M4 10 H16",
    };
    view! {
        <svg class="icon" viewBox="0 0 20 20" width="18" height="18" aria-hidden="true">
            <path d=d fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round"/>
        </svg>
    }
}

/// The sidebars' icons: [`Icon`]'s, and those only the portal's and the back office's menus use
/// (kept out of `Icon`, which the storefront's theme switch carries within its size budget).
#[component]
pub fn NavIcon(name: &'static str) -> impl IntoView {
    let d = match name {
        "server" => "M3 3 H17 V9 H3 Z M3 11 H17 V17 H3 Z M6 6 H8 M6 14 H8",
        "globe" => "M10 3a7 7 0 1 0 0 14 7 7 0 0 0 0-14Zm-7 7 H17 M10 3c-2.5 2-2.5 12 0 14 M10 3c2.5 2 2.5 12 0 14",
        _ => return view! { <Icon name=name/> }.into_any(),
    };
    view! {
        <svg class="icon" viewBox="0 0 20 20" width="18" height="18" aria-hidden="true">
            <path d=d fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round"/>
        </svg>
    }
    .into_any()
}
