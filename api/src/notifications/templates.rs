//! The e-mail templates Keel ships, one per event it sends. Admins may replace a template's
//! subject and bodies (the `email_templates` table); the shipped text is the fallback. Templates
//! are minijinja; HTML bodies are auto-escaped.

use minijinja::Environment;
use serde::Serialize;

use crate::error::ApiError;

pub struct Shipped {
    pub key: &'static str,
    pub description: &'static str,
    pub variables: &'static [&'static str],
    pub subject: &'static str,
    /// Plain-text body; the shipped HTML body is derived from it (paragraphs).
    pub text: &'static str,
}

macro_rules! t {
    ($key:expr, $desc:expr, [$($var:expr),*], $subject:expr, $text:expr) => {
        Shipped { key: $key, description: $desc, variables: &[$($var),*], subject: $subject, text: $text }
    };
}

pub const SHIPPED: &[Shipped] = &[
    t!("welcome", "After registration (with the link to confirm the e-mail address)", ["first_name", "app_url", "verify_url"], "Welcome to {{ company }}, {{ first_name }}",
       "Hi {{ first_name }},\n\nWelcome to {{ company }}! Your account is ready.\n\nPlease confirm your e-mail address by opening this link (it expires in 24 hours):\n{{ verify_url }}\n\nSign in any time at {{ app_url }}/login to order hosting, manage your services and pay invoices.\n\nThanks for choosing us."),
    t!("email_verification", "Confirm an e-mail address", ["first_name", "verify_url"], "Confirm your e-mail address",
       "Hi {{ first_name }},\n\nPlease confirm your e-mail address by opening this link:\n{{ verify_url }}\n\nThe link expires in 24 hours. If you did not create an account, ignore this e-mail."),
    t!("password_reset", "Forgot-password link", ["first_name", "reset_url"], "Reset your password",
       "Hi {{ first_name }},\n\nSomeone asked to reset the password of your account. To choose a new one, open:\n{{ reset_url }}\n\nThe link works once and expires in one hour. If it was not you, ignore this e-mail; your password stays the same."),
    t!("password_changed", "After a password change (lists the API keys that still work)", ["first_name", "api_keys", "revoked_api_keys"], "Your password was changed",
       "Hi {{ first_name }},\n\nThe password of your account was just changed, and all other sessions were signed out.{% if revoked_api_keys %} {{ revoked_api_keys }} API key(s) were revoked with it.{% endif %}\n\n{% if api_keys %}These API keys still work (they do not depend on the password):\n{% for k in api_keys %}- {{ k.name }} ({{ k.prefix }}…)\n{% endfor %}Revoke any you do not recognise under Security.{% else %}Your account has no API keys that work.{% endif %}\n\nIf this was not you, reset your password right away and contact support."),
    t!("new_login", "Sign-in from a new device", ["first_name", "device", "ip", "time"], "New sign-in to your account",
       "Hi {{ first_name }},\n\nYour account was just used to sign in from a new device:\n\nDevice: {{ device }}\nIP address: {{ ip }}\nTime: {{ time }}\n\nIf this was you, there is nothing to do. If not, change your password now."),
    t!("account_locked", "Account locked after failed sign-ins (with a link that lifts the lock)", ["first_name", "minutes", "ip", "unlock_url"], "Your account was locked",
       "Hi {{ first_name }},\n\nAfter five failed sign-in attempts (the last from {{ ip }}), sign-ins to your account from browsers that have not signed in to it before are locked for {{ minutes }} minutes. Browsers you have signed in with before are not affected.\n\nIf it was you, lift the lock now with this link (it works once, for 24 hours):\n{{ unlock_url }}\n\nIf it was not you, someone may be guessing your password: consider changing it and turning on two-factor sign-in."),
    t!("staff_invite", "A back-office account was created (link to choose a password)", ["first_name", "invited_by", "role", "password_url"], "Your {{ company }} staff account",
       "Hi {{ first_name }},\n\n{{ invited_by }} gave you a {{ role }} account in the {{ company }} back office.\n\nChoose your password here (the link works once and expires in 72 hours):\n{{ password_url }}\n\nThen sign in at {{ app_url }}/login."),
    t!("order_confirmation", "After checkout: the order, its lines and total", ["first_name", "order_number", "total", "lines", "order_url"], "Your order {{ order_number }}",
       "Hi {{ first_name }},\n\nThank you for your order {{ order_number }}.\n\n{{ lines }}\n\nTotal: {{ total }}\n\nYou can follow it at {{ order_url }}. We will e-mail you again when your services are ready."),
    t!("team_invite", "A client invited someone to their account", ["inviter", "account_name", "permissions", "accept_url"], "{{ inviter }} invited you to {{ account_name }}",
       "Hello,\n\n{{ inviter }} invited you to help manage the {{ account_name }} account at {{ company }}, with access to: {{ permissions }}.\n\nAccept the invitation here (it expires in 7 days):\n{{ accept_url }}\n\nIf you did not expect this, ignore this e-mail."),
    t!("invoice_created", "A new invoice", ["first_name", "invoice_number", "total", "due_date", "invoice_url"], "Invoice {{ invoice_number }} for {{ total }}",
       "Hi {{ first_name }},\n\nInvoice {{ invoice_number }} for {{ total }} is due on {{ due_date }}.\n\nView and pay it at {{ invoice_url }}"),
    t!("payment_received", "A payment was applied", ["first_name", "invoice_number", "amount"], "Payment received: {{ amount }}",
       "Hi {{ first_name }},\n\nWe received your payment of {{ amount }} for invoice {{ invoice_number }}. Thank you!"),
    t!("payment_failed", "A payment attempt failed", ["first_name", "invoice_number", "amount", "reason"], "Your payment of {{ amount }} failed",
       "Hi {{ first_name }},\n\nWe could not take your payment of {{ amount }} for invoice {{ invoice_number }}: {{ reason }}.\n\nPlease pay the invoice with another method to avoid an interruption."),
    t!("invoice_reminder", "Invoice due soon", ["first_name", "invoice_number", "total", "due_date", "invoice_url"], "Reminder: invoice {{ invoice_number }} is due {{ due_date }}",
       "Hi {{ first_name }},\n\nA friendly reminder that invoice {{ invoice_number }} for {{ total }} is due on {{ due_date }}.\n\nPay it at {{ invoice_url }}"),
    t!("invoice_overdue", "Invoice past due", ["first_name", "invoice_number", "total", "due_date", "invoice_url"], "Overdue: invoice {{ invoice_number }}",
       "Hi {{ first_name }},\n\nInvoice {{ invoice_number }} for {{ total }} was due on {{ due_date }} and is still unpaid. Services on it may be suspended.\n\nPay it at {{ invoice_url }}"),
    t!("service_provisioned", "A service is ready (with credentials)", ["first_name", "service_name", "domain", "username", "password", "panel_url"], "Your {{ service_name }} is ready",
       "Hi {{ first_name }},\n\nYour {{ service_name }} for {{ domain }} is set up.\n\nControl panel: {{ panel_url }}\nUsername: {{ username }}\nPassword: {{ password }}\n\nPlease change the password after your first sign-in."),
    t!("service_provisioning_failed", "To admins: provisioning failed", ["service_name", "client_email", "error"], "Provisioning failed: {{ service_name }}",
       "Provisioning of {{ service_name }} for {{ client_email }} failed:\n\n{{ error }}\n\nThe service is marked failed. Open it under Services in the admin to see its history and provision it again."),
    t!("server_down", "To admins: a server failed its health check", ["server", "hostname", "error"], "Server down: {{ server }}",
       "The server {{ server }} ({{ hostname }}) failed its health check:\n\n{{ error }}\n\nNew accounts are not placed on it until a check passes. See Servers in the admin."),
    t!("service_suspended", "A service was suspended", ["first_name", "service_name", "reason"], "{{ service_name }} is suspended",
       "Hi {{ first_name }},\n\nYour {{ service_name }} has been suspended: {{ reason }}.\n\nPay the outstanding invoice to have it reactivated automatically."),
    t!("service_unsuspended", "A service was reactivated", ["first_name", "service_name"], "{{ service_name }} is active again",
       "Hi {{ first_name }},\n\nYour {{ service_name }} is active again. Thank you."),
    t!("service_terminated", "A service was terminated", ["first_name", "service_name"], "{{ service_name }} was terminated",
       "Hi {{ first_name }},\n\nYour {{ service_name }} has been terminated and its data removed after a final backup.\n\nContact support if you have questions."),
    t!("domain_registered", "A domain was registered", ["first_name", "domain", "expires_on"], "{{ domain }} is registered",
       "Hi {{ first_name }},\n\nThe domain {{ domain }} is now registered to you until {{ expires_on }}."),
    t!("domain_renewal_reminder", "Domain expiring (30, 7 and 1 days before)", ["first_name", "domain", "expires_on", "days_left"], "{{ domain }} expires in {{ days_left }} days",
       "Hi {{ first_name }},\n\nThe domain {{ domain }} expires on {{ expires_on }}, in {{ days_left }} days.\n\nRenew it now to keep it."),
    t!("domain_expired", "A domain expired", ["first_name", "domain"], "{{ domain }} has expired",
       "Hi {{ first_name }},\n\nThe domain {{ domain }} has expired. Renew it quickly before it is released."),
    t!("ticket_opened", "A support ticket was opened", ["first_name", "ticket_number", "subject"], "[{{ ticket_number }}] {{ subject }}",
       "Hi {{ first_name }},\n\nWe received your request \"{{ subject }}\" (ticket {{ ticket_number }}). We will answer soon."),
    t!("ticket_reply", "A reply on a ticket", ["first_name", "ticket_number", "subject", "message"], "Re: [{{ ticket_number }}] {{ subject }}",
       "Hi {{ first_name }},\n\nThere is a new reply on ticket {{ ticket_number }}:\n\n{{ message }}"),
    t!("ticket_closed", "A ticket was closed", ["first_name", "ticket_number", "subject"], "[{{ ticket_number }}] closed",
       "Hi {{ first_name }},\n\nTicket {{ ticket_number }} (\"{{ subject }}\") is now closed. Reply to reopen it."),
];

pub fn shipped(key: &str) -> Option<&'static Shipped> {
    SHIPPED.iter().find(|t| t.key == key)
}

/// The shipped HTML body for a text body: its paragraphs as `<p>`, single line breaks as `<br>`.
pub fn html_from_text(text: &str) -> String {
    text.split("\n\n").map(|p| format!("<p>{}</p>", p.replace('\n', "<br>\n"))).collect::<Vec<_>>().join("\n")
}

/// Subject, text and HTML as rendered for one recipient.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

fn env() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
    env
}

fn render_one(env: &Environment<'_>, name: &str, source: &str, ctx: &serde_json::Value) -> Result<String, ApiError> {
    env.template_from_named_str(name, source)
        .and_then(|t| t.render(ctx))
        .map_err(|e| ApiError::field(name.split('.').next().unwrap_or("template"), format!("template error: {e}")))
}

/// Renders subject, text and HTML (inside the common layout) with `ctx`.
pub fn render(subject: &str, text: &str, html: &str, ctx: &impl Serialize, footer_html: &str) -> Result<Rendered, ApiError> {
    let env = env();
    let ctx = serde_json::to_value(ctx).map_err(ApiError::internal)?;
    let body_html = render_one(&env, "body_html.html", html, &ctx)?;
    Ok(Rendered {
        subject: render_one(&env, "subject.txt", subject, &ctx)?.replace(['\r', '\n'], " "),
        text: render_one(&env, "body_text.txt", text, &ctx)?,
        html: format!(
            "<!doctype html><html><body style=\"margin:0;background:#f7f8fa;font-family:system-ui,Segoe UI,Arial,sans-serif;color:#0f172a\">\
<div style=\"max-width:560px;margin:0 auto;padding:32px 24px\"><div style=\"font-weight:700;font-size:18px;margin-bottom:16px\">{}</div>\
<div style=\"background:#fff;border:1px solid #e3e6ec;border-radius:12px;padding:24px;line-height:1.5\">{body_html}</div>\
<div style=\"color:#5b6475;font-size:12px;margin-top:16px\">{footer_html}</div></div></body></html>",
            minijinja::HtmlEscape(ctx.get("company").and_then(|c| c.as_str()).unwrap_or("Keel"))
        ),
    })
}

/// Checks that an edited template compiles.
pub fn check(subject: &str, text: &str, html: &str) -> Result<(), ApiError> {
    let env = env();
    env.template_from_named_str("subject.txt", subject).map_err(|e| ApiError::field("subject", e.to_string()))?;
    env.template_from_named_str("body_text.txt", text).map_err(|e| ApiError::field("body_text", e.to_string()))?;
    env.template_from_named_str("body_html.html", html).map_err(|e| ApiError::field("body_html", e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_template_renders() {
        for t in SHIPPED {
            let ctx: serde_json::Map<String, serde_json::Value> =
                t.variables.iter().map(|v| (v.to_string(), serde_json::Value::from(format!("<{v}>")))).collect();
            let r = render(t.subject, t.text, &html_from_text(t.text), &ctx, "").expect(t.key);
            assert!(!r.subject.is_empty() && !r.text.is_empty(), "{}", t.key);
            // Variables are escaped in HTML, verbatim in text.
            if let Some(v) = t.variables.first() {
                if t.text.contains(&format!("{{{{ {v} }}}}")) {
                    assert!(r.text.contains(&format!("<{v}>")), "{}", t.key);
                    assert!(r.html.contains(&format!("&lt;{v}&gt;")), "{}", t.key);
                }
            }
        }
        let mut keys: Vec<_> = SHIPPED.iter().map(|t| t.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), SHIPPED.len(), "duplicate keys");
    }

    #[test]
    fn broken_templates_are_refused() {
        assert!(check("Hi {{ name", "x", "y").is_err());
        assert!(check("ok", "ok", "{% if %}").is_err());
        assert!(check("ok {{ a }}", "ok", "<p>{{ b }}</p>").is_ok());
    }
}
