//! The e-mail jobs: sending one outbox e-mail, and the hourly task that gives e-mails whose
//! sending gave up another chance.

use chrono::Duration;
use diesel::prelude::*;
use keel_shared::automation::{EmailStatus, JobState};
use serde::{Deserialize, Serialize};

use super::mailer::{self, DeliveryError};
use super::outbox;
use crate::automation::queue::{self, NewJob};
use crate::automation::registry::{JobError, JobResult, Outcome, Registry, TaskRun};
use crate::db::{now_micros, DbConn};
use crate::deps::Deps;
use crate::error::ApiError;
use crate::schema::{emails, jobs};

pub const SEND: &str = "email.send";

pub fn register(r: &mut Registry<Deps>) {
    r.job(SEND, send);
    r.task("email.retry_failed", "15 * * * *", "Send again e-mails whose delivery gave up in the last three days", retry_failed);
}

/// The `email.send` job's payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendEmail {
    pub email_id: String,
}

impl SendEmail {
    pub fn job(email_id: &str) -> NewJob {
        NewJob::new(SEND, SendEmail { email_id: email_id.to_string() })
    }
}

/// Sends one outbox e-mail unless it already went out.
fn send(ctx: &Deps, conn: &mut DbConn, p: SendEmail) -> JobResult {
    let row = match outbox::find(conn, &p.email_id) {
        Ok(row) => row,
        Err(ApiError::NotFound(_)) => return Err(JobError::permanent(format!("e-mail {} no longer exists", p.email_id))),
        Err(e) => return Err(e.into()),
    };
    if matches!(row.status, EmailStatus::Sent | EmailStatus::Suppressed) {
        return Ok(Outcome::Done);
    }
    let now = ctx.clock.now();
    if outbox::sent_in_last_minute(conn, now)? >= i64::from(ctx.config.mail_rate_per_minute) {
        return Ok(Outcome::Defer(now + Duration::seconds(10)));
    }
    let files = outbox::attachments(conn, &row.id)?;
    // A secret it carries is in the sealed copy only: that is what goes out.
    let message = match &row.sealed_body {
        Some(sealed) => {
            let full: outbox::SealedBody = serde_json::from_slice(&crate::crypto::open(&ctx.secret, sealed)?)
                .map_err(|e| JobError::permanent(format!("e-mail {}: sealed body: {e}", row.id)))?;
            std::borrow::Cow::Owned(outbox::EmailRow { body_text: full.text, body_html: full.html, ..row.clone() })
        }
        None => std::borrow::Cow::Borrowed(&row),
    };
    let result = mailer::build(&ctx.config.mail_from, &message, &files).and_then(|m| ctx.mailer.deliver(&row.id, &m));
    let at = now_micros(ctx.clock.now());
    match result {
        Ok(()) => {
            diesel::update(emails::table.find(&row.id))
                .set((
                    emails::status.eq(EmailStatus::Sent),
                    emails::sent_at.eq(Some(at)),
                    emails::attempts.eq(row.attempts + 1),
                    emails::last_error.eq(None::<String>),
                    emails::message_id.eq(Some(format!("<{}@keel>", row.id))),
                    // Sent: the secret is no longer kept, sealed or not.
                    emails::sealed_body.eq(None::<String>),
                ))
                .execute(conn)?;
            tracing::info!(email = %row.id, to = %row.to_addr, template = %row.template, "e-mail sent");
            Ok(Outcome::Done)
        }
        Err(e) => {
            diesel::update(emails::table.find(&row.id))
                .set((
                    emails::status.eq(EmailStatus::Failed),
                    emails::attempts.eq(row.attempts + 1),
                    emails::last_error.eq(Some(e.to_string())),
                ))
                .execute(conn)?;
            Err(match e {
                DeliveryError::Transient(m) => JobError::Retryable(m),
                DeliveryError::Permanent(m) => JobError::Permanent(m),
            })
        }
    }
}

/// Hourly: e-mails whose sending gave up (e.g. SMTP was down for hours) in the last three days
/// get one fresh send job per run.
fn retry_failed(ctx: &Deps, conn: &mut DbConn, run: TaskRun) -> JobResult {
    let now = ctx.clock.now();
    let ids: Vec<String> = emails::table
        .filter(emails::status.eq(EmailStatus::Failed))
        .filter(emails::created_at.gt(now_micros(now - Duration::days(3))))
        .select(emails::id)
        .load(conn)?;
    for id in &ids {
        let still_running: i64 = jobs::table
            .filter(jobs::unique_key.eq(format!("email:{id}")))
            .filter(jobs::state.eq_any([JobState::Queued, JobState::Running, JobState::Failed]))
            .count()
            .get_result(conn)?;
        if still_running == 0 {
            queue::enqueue(conn, now, &SendEmail::job(id).unique(format!("email:{id}:retry:{}", run.period.to_rfc3339())))?;
        }
    }
    Ok(Outcome::Done)
}
