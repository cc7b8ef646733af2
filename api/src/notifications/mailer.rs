//! Delivery: SMTP through lettre when `KEEL_SMTP_URL` is set, else `.eml` files in
//! `<data>/mail/` (the embedded default, so nothing is lost and a person can open them).

use std::path::PathBuf;

use chrono::Duration;
use diesel::prelude::*;
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::{Message, SmtpTransport, Transport};

use super::outbox::{self, EmailRow};
use crate::automation::handlers::{JobContext, Outcome};
use crate::automation::models::JobRow;
use crate::db::{now_micros, DbConn};
use crate::schema::emails;

pub enum Mailer {
    Smtp(SmtpTransport),
    Files(PathBuf),
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mailer::Smtp(_) => f.write_str("Mailer::Smtp"),
            Mailer::Files(p) => write!(f, "Mailer::Files({})", p.display()),
        }
    }
}

impl Mailer {
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS), `smtps://…:465` (implicit TLS) or
    /// `smtp://host:25` (plain, for a local relay).
    pub fn from_config(smtp_url: Option<&str>, data_dir: &std::path::Path) -> Result<Mailer, String> {
        match smtp_url {
            Some(url) => SmtpTransport::from_url(url)
                .map(|b| Mailer::Smtp(b.timeout(Some(std::time::Duration::from_secs(30))).build()))
                .map_err(|e| format!("KEEL_SMTP_URL: {e}")),
            None => Ok(Mailer::Files(data_dir.join("mail"))),
        }
    }

    fn deliver(&self, id: &str, message: &Message) -> Result<(), String> {
        match self {
            Mailer::Smtp(t) => t.send(message).map(|_| ()).map_err(|e| format!("SMTP: {e}")),
            Mailer::Files(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                let path = dir.join(format!("{id}.eml"));
                std::fs::write(&path, message.formatted()).map_err(|e| format!("{}: {e}", path.display()))
            }
        }
    }
}

fn build(from: &str, row: &EmailRow) -> Result<Message, String> {
    let from: Mailbox = from.parse().map_err(|e| format!("KEEL_MAIL_FROM: {e}"))?;
    let to: Mailbox = row.to_addr.parse().map_err(|e| format!("recipient {}: {e}", row.to_addr))?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(row.subject.clone())
        // Stable per e-mail, so a receiver can drop a duplicate of a retried send.
        .message_id(Some(format!("<{}@keel>", row.id)))
        .multipart(
            MultiPart::alternative()
                .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(row.body_text.clone()))
                .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(row.body_html.clone())),
        )
        .map_err(|e| format!("building the message: {e}"))
}

/// The `email.send` job: sends one outbox e-mail unless it already went out.
pub fn send_job(ctx: &JobContext, conn: &mut DbConn, job: &JobRow) -> Result<Outcome, String> {
    let id = job.payload_str("email_id")?;
    let row = outbox::find(conn, &id).map_err(|e| e.to_string())?;
    if row.status == "sent" || row.status == "suppressed" {
        return Ok(Outcome::Done);
    }
    let now = ctx.clock.now();
    if outbox::sent_in_last_minute(conn, now).map_err(|e| e.to_string())? >= i64::from(ctx.config.mail_rate_per_minute) {
        return Ok(Outcome::Defer(now + Duration::seconds(10)));
    }
    let result = build(&ctx.config.mail_from, &row).and_then(|m| ctx.mailer.deliver(&row.id, &m));
    let at = now_micros(ctx.clock.now());
    match result {
        Ok(()) => {
            diesel::update(emails::table.find(&row.id))
                .set((
                    emails::status.eq("sent"),
                    emails::sent_at.eq(Some(at)),
                    emails::attempts.eq(row.attempts + 1),
                    emails::last_error.eq(None::<String>),
                    emails::message_id.eq(Some(format!("<{}@keel>", row.id))),
                ))
                .execute(conn)
                .map_err(|e| e.to_string())?;
            tracing::info!(email = %row.id, to = %row.to_addr, template = %row.template, "e-mail sent");
            Ok(Outcome::Done)
        }
        Err(e) => {
            diesel::update(emails::table.find(&row.id))
                .set((emails::status.eq("failed"), emails::attempts.eq(row.attempts + 1), emails::last_error.eq(Some(e.clone()))))
                .execute(conn)
                .map_err(|e| e.to_string())?;
            Err(e)
        }
    }
}
