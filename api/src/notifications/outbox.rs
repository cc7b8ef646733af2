//! Writing e-mails into the outbox, and the log queries.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use keel_shared::automation::{Email, EmailDetail, EmailStatus, EmailTemplate};
use keel_shared::{Page, PageQuery};
use serde::Serialize;
use sha2::Sha256;

use super::templates::{self, html_from_text};
use crate::automation::queue;
use crate::db::paging::{Cursor, Paging};
use crate::db::{now_micros, DbConn};
use crate::error::ApiError;
use crate::ids;
use crate::schema::{email_attachments, email_templates, email_unsubscribes, emails};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// Account, billing and service mail: always sent.
    Transactional,
    /// Announcements and offers: not sent to unsubscribed addresses, and carry an unsubscribe link.
    Marketing,
}

impl Category {
    fn as_str(self) -> &'static str {
        match self {
            Category::Transactional => "transactional",
            Category::Marketing => "marketing",
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = emails)]
pub struct EmailRow {
    pub id: String,
    pub user_id: Option<String>,
    pub to_addr: String,
    pub template: String,
    pub category: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub status: EmailStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub message_id: Option<String>,
    pub created_at: chrono::NaiveDateTime,
    pub sent_at: Option<chrono::NaiveDateTime>,
    /// An e-mail carrying a secret: the full text and HTML, sealed until sent (then erased).
    pub sealed_body: Option<String>,
}

/// The full bodies of an e-mail that carries a secret, as sealed in `sealed_body`.
#[derive(Debug, Serialize, serde::Deserialize)]
pub struct SealedBody {
    pub text: String,
    pub html: String,
}

/// What an e-mail log shows instead of a secret.
pub const MASKED: &str = "•••••••• (shown once, in the e-mail as sent)";

impl EmailRow {
    pub fn to_dto(&self) -> Email {
        Email {
            id: self.id.clone().into(),
            to: self.to_addr.clone(),
            template: self.template.clone(),
            subject: self.subject.clone(),
            status: self.status,
            attempts: self.attempts,
            last_error: self.last_error.clone(),
            created_at: self.created_at.and_utc(),
            sent_at: self.sent_at.map(|t| t.and_utc()),
        }
    }
    pub fn to_detail(&self) -> EmailDetail {
        EmailDetail { email: self.to_dto(), body_text: self.body_text.clone(), body_html: self.body_html.clone() }
    }
}

/// What the outbox needs besides the message: branding and the unsubscribe secret.
#[derive(Debug, Clone)]
pub struct MailContext {
    pub company: String,
    pub public_url: String,
    pub unsubscribe_key: Vec<u8>,
}

/// The unsubscribe token for an address (HMAC-SHA256 with the server secret).
pub fn unsubscribe_token(key: &[u8], email: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(email.trim().to_lowercase().as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The template to use for `key`: the admin's edit if any, else the shipped one.
pub fn template(conn: &mut DbConn, key: &str) -> Result<EmailTemplate, ApiError> {
    let shipped = templates::shipped(key).ok_or_else(|| ApiError::not_found("e-mail template"))?;
    let custom: Option<(String, String, String)> = email_templates::table
        .find(key)
        .select((email_templates::subject, email_templates::body_text, email_templates::body_html))
        .first(conn)
        .optional()?;
    let (subject, body_text, body_html, customized) = match custom {
        Some((s, t, h)) => (s, t, h, true),
        None => (shipped.subject.to_string(), shipped.text.to_string(), html_from_text(shipped.text), false),
    };
    Ok(EmailTemplate {
        key: key.to_string(),
        description: shipped.description.to_string(),
        variables: shipped.variables.iter().map(|v| v.to_string()).collect(),
        subject,
        body_text,
        body_html,
        customized,
    })
}

pub fn all_templates(conn: &mut DbConn) -> Result<Vec<EmailTemplate>, ApiError> {
    templates::SHIPPED.iter().map(|t| template(conn, t.key)).collect()
}

pub fn save_template(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    key: &str,
    subject: &str,
    text: &str,
    html: &str,
) -> Result<EmailTemplate, ApiError> {
    templates::shipped(key).ok_or_else(|| ApiError::not_found("e-mail template"))?;
    templates::check(subject, text, html)?;
    let at = now_micros(now);
    let n = diesel::update(email_templates::table.find(key))
        .set((
            email_templates::subject.eq(subject),
            email_templates::body_text.eq(text),
            email_templates::body_html.eq(html),
            email_templates::updated_at.eq(at),
        ))
        .execute(conn)?;
    if n == 0 {
        diesel::insert_into(email_templates::table)
            .values((
                email_templates::key.eq(key),
                email_templates::subject.eq(subject),
                email_templates::body_text.eq(text),
                email_templates::body_html.eq(html),
                email_templates::updated_at.eq(at),
            ))
            .execute(conn)?;
    }
    template(conn, key)
}

pub fn reset_template(conn: &mut DbConn, key: &str) -> Result<EmailTemplate, ApiError> {
    templates::shipped(key).ok_or_else(|| ApiError::not_found("e-mail template"))?;
    diesel::delete(email_templates::table.find(key)).execute(conn)?;
    template(conn, key)
}

/// An e-mail to send.
#[derive(Debug, Clone)]
pub struct Outgoing<'a, C: Serialize> {
    pub to: &'a str,
    pub user_id: Option<&'a str>,
    pub template: &'a str,
    pub category: Category,
    pub vars: &'a C,
}

/// A file sent with an e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub name: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// Renders and writes an e-mail and its send job, on the caller's connection and transaction.
/// Returns the e-mail's id.
pub fn queue_email<C: Serialize>(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    mail: &MailContext,
    out: Outgoing<'_, C>,
) -> Result<String, ApiError> {
    queue_email_with(conn, now, mail, out, &[])
}

/// The files an e-mail carries, in order.
pub fn attachments(conn: &mut DbConn, email_id: &str) -> Result<Vec<Attachment>, ApiError> {
    let rows: Vec<(String, String, Vec<u8>)> = email_attachments::table
        .filter(email_attachments::email_id.eq(email_id))
        .order(email_attachments::line_no.asc())
        .select((email_attachments::name, email_attachments::content_type, email_attachments::content))
        .load(conn)?;
    Ok(rows.into_iter().map(|(name, content_type, content)| Attachment { name, content_type, content }).collect())
}

/// [`queue_email`] with files attached (stored with the e-mail, sent as `multipart/mixed`).
pub fn queue_email_with<C: Serialize>(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    mail: &MailContext,
    out: Outgoing<'_, C>,
    files: &[Attachment],
) -> Result<String, ApiError> {
    queue(conn, now, mail, out, files, None)
}

/// Queues an e-mail that carries secrets (a new account's password, `secret_vars` of its
/// variables): the outbox and every e-mail log keep it with those masked, and the full message
/// is sealed with AES-256-GCM under `secret` until it is sent, then erased.
pub fn queue_email_sealed<C: Serialize>(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    mail: &MailContext,
    secret: &[u8],
    out: Outgoing<'_, C>,
    secret_vars: &[&str],
) -> Result<String, ApiError> {
    queue(conn, now, mail, out, &[], Some((secret, secret_vars)))
}

fn queue<C: Serialize>(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    mail: &MailContext,
    out: Outgoing<'_, C>,
    files: &[Attachment],
    sealed: Option<(&[u8], &[&str])>,
) -> Result<String, ApiError> {
    let t = template(conn, out.template)?;
    let mut vars = serde_json::to_value(out.vars).map_err(ApiError::internal)?;
    if let Some(map) = vars.as_object_mut() {
        map.entry("company").or_insert_with(|| mail.company.clone().into());
        map.entry("app_url").or_insert_with(|| mail.public_url.clone().into());
    }
    let unsubscribed = out.category == Category::Marketing
        && email_unsubscribes::table.find(out.to.trim().to_lowercase()).count().get_result::<i64>(conn)? > 0;
    let footer = match out.category {
        Category::Transactional => {
            format!("You receive this e-mail because you have an account with {}.", minijinja::HtmlEscape(&mail.company))
        }
        Category::Marketing => format!(
            "<a href=\"{}/api/v1/email/unsubscribe?email={}&amp;token={}\">Unsubscribe</a> from these e-mails.",
            mail.public_url,
            url::form_urlencoded::byte_serialize(out.to.as_bytes()).collect::<String>(),
            unsubscribe_token(&mail.unsubscribe_key, out.to)
        ),
    };
    let mut sealed_body = None;
    if let Some((secret, names)) = sealed {
        let full = templates::render(&t.subject, &t.body_text, &t.body_html, &vars, &footer)?;
        let body = serde_json::to_vec(&SealedBody { text: full.text, html: full.html }).map_err(ApiError::internal)?;
        sealed_body = Some(crate::crypto::seal(secret, &body)?);
        if let Some(map) = vars.as_object_mut() {
            for name in names {
                if let Some(v) = map.get_mut(*name) {
                    *v = MASKED.into();
                }
            }
        }
    }
    let r = templates::render(&t.subject, &t.body_text, &t.body_html, &vars, &footer)?;
    let row = EmailRow {
        id: ids::new_id(),
        user_id: out.user_id.map(str::to_string),
        to_addr: out.to.trim().to_string(),
        template: out.template.to_string(),
        category: out.category.as_str().into(),
        subject: r.subject,
        body_text: r.text,
        body_html: r.html,
        status: if unsubscribed { EmailStatus::Suppressed } else { EmailStatus::Queued },
        attempts: 0,
        last_error: None,
        message_id: None,
        created_at: now_micros(now),
        sent_at: None,
        sealed_body,
    };
    diesel::insert_into(emails::table).values(&row).execute(conn)?;
    for (i, f) in files.iter().enumerate() {
        diesel::insert_into(email_attachments::table)
            .values((
                email_attachments::email_id.eq(&row.id),
                email_attachments::line_no.eq(i as i32),
                email_attachments::name.eq(&f.name),
                email_attachments::content_type.eq(&f.content_type),
                email_attachments::content.eq(&f.content),
            ))
            .execute(conn)?;
    }
    if !unsubscribed {
        queue::enqueue(conn, now, &super::jobs::SendEmail::job(&row.id).unique(format!("email:{}", row.id)))?;
    }
    Ok(row.id)
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<EmailRow, ApiError> {
    emails::table.find(id).select(EmailRow::as_select()).first(conn).optional()?.ok_or_else(|| ApiError::not_found("e-mail"))
}

/// The e-mail log, newest first: all of it, or one user's.
pub fn list(conn: &mut DbConn, user_id: Option<&str>, page: PageQuery) -> Result<Page<EmailRow>, ApiError> {
    let paging = Paging::new(page)?;
    macro_rules! base {
        () => {{
            let mut q = emails::table.into_boxed();
            if let Some(u) = user_id {
                q = q.filter(emails::user_id.eq(u.to_string()));
            }
            q
        }};
    }
    let total = crate::count_capped!(conn, base!(), emails::created_at, emails::id);
    let rows = crate::keyset!(base!(), emails::created_at, emails::id, &paging).select(EmailRow::as_select()).load(conn)?;
    Ok(paging.finish(rows, total, |e: &EmailRow| Cursor { at: e.created_at, id: e.id.clone() }))
}

/// How many e-mails were accepted by the server in the last minute (for the rate limit).
pub fn sent_in_last_minute(conn: &mut DbConn, now: DateTime<Utc>) -> Result<i64, ApiError> {
    Ok(emails::table
        .filter(emails::status.eq(EmailStatus::Sent))
        .filter(emails::sent_at.gt(now_micros(now - Duration::minutes(1))))
        .count()
        .get_result(conn)?)
}

pub fn unsubscribe(conn: &mut DbConn, now: DateTime<Utc>, key: &[u8], email: &str, token: &str) -> Result<(), ApiError> {
    let expected = unsubscribe_token(key, email);
    if !constant_time_eq(expected.as_bytes(), token.as_bytes()) {
        return Err(ApiError::field("token", "this unsubscribe link is not valid"));
    }
    let email = email.trim().to_lowercase();
    let exists: i64 = email_unsubscribes::table.find(&email).count().get_result(conn)?;
    if exists == 0 {
        diesel::insert_into(email_unsubscribes::table)
            .values((email_unsubscribes::email.eq(&email), email_unsubscribes::created_at.eq(now_micros(now))))
            .execute(conn)?;
    }
    Ok(())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
