//! The back office's e-mail use cases: each opens its transaction and writes its audit entry in it.

use chrono::{DateTime, Utc};
use keel_shared::automation::{EmailTemplate, UpdateTemplateRequest};

use super::outbox;
use crate::audit::{self, Actor, Event};
use crate::db::{self, DbConn};
use crate::error::ApiError;

/// Replaces a template's subject and bodies (checked by rendering before saving).
pub fn update_template(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    actor: &Actor,
    key: &str,
    req: &UpdateTemplateRequest,
) -> Result<EmailTemplate, ApiError> {
    db::transaction(conn, |c| {
        let t = outbox::save_template(c, now, key, &req.subject, &req.body_text, &req.body_html)?;
        audit::record(c, now, actor, Event::new("email_template.updated").target("email_template", key))?;
        Ok(t)
    })
}

/// Goes back to the shipped template.
pub fn reset_template(conn: &mut DbConn, now: DateTime<Utc>, actor: &Actor, key: &str) -> Result<EmailTemplate, ApiError> {
    db::transaction(conn, |c| {
        let t = outbox::reset_template(c, key)?;
        audit::record(c, now, actor, Event::new("email_template.reset").target("email_template", key))?;
        Ok(t)
    })
}
