//! Delivery: SMTP through lettre when `KEEL_SMTP_URL` is set, else `.eml` files in
//! `<data>/mail/` (the embedded default, so nothing is lost and a person can open them).

use std::path::PathBuf;

use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::{Message, SmtpTransport, Transport};

use super::outbox::EmailRow;

/// Why a delivery failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryError {
    /// The server is down, busy or answered 4xx: try again later.
    Transient(String),
    /// The message can never be delivered as it is (a 5xx answer, an address that does not parse).
    Permanent(String),
}

impl std::fmt::Display for DeliveryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeliveryError::Transient(m) | DeliveryError::Permanent(m) => f.write_str(m),
        }
    }
}

/// Where e-mail goes. Held by the dependencies value (`crate::deps::Deps`) as a trait object, so a
/// test or a sandbox can put another transport there.
pub trait MailTransport: Send + Sync + std::fmt::Debug {
    fn deliver(&self, id: &str, message: &Message) -> Result<(), DeliveryError>;
}

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
}

impl MailTransport for Mailer {
    fn deliver(&self, id: &str, message: &Message) -> Result<(), DeliveryError> {
        match self {
            Mailer::Smtp(t) => t.send(message).map(|_| ()).map_err(|e| {
                let text = format!("SMTP: {e}");
                if e.is_permanent() {
                    DeliveryError::Permanent(text)
                } else {
                    DeliveryError::Transient(text)
                }
            }),
            Mailer::Files(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| DeliveryError::Transient(format!("{}: {e}", dir.display())))?;
                let path = dir.join(format!("{id}.eml"));
                std::fs::write(&path, message.formatted()).map_err(|e| DeliveryError::Transient(format!("{}: {e}", path.display())))
            }
        }
    }
}

/// The MIME message of an outbox row, with its files attached.
pub fn build(from: &str, row: &EmailRow, files: &[super::outbox::Attachment]) -> Result<Message, DeliveryError> {
    let from: Mailbox = from.parse().map_err(|e| DeliveryError::Permanent(format!("KEEL_MAIL_FROM: {e}")))?;
    let to: Mailbox = row.to_addr.parse().map_err(|e| DeliveryError::Permanent(format!("recipient {}: {e}", row.to_addr)))?;
    let text = MultiPart::alternative()
        .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(row.body_text.clone()))
        .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(row.body_html.clone()));
    let body = if files.is_empty() {
        text
    } else {
        let mut mixed = MultiPart::mixed().multipart(text);
        for f in files {
            let kind = ContentType::parse(&f.content_type).map_err(|e| DeliveryError::Permanent(format!("attachment {}: {e}", f.name)))?;
            mixed = mixed.singlepart(lettre::message::Attachment::new(f.name.clone()).body(f.content.clone(), kind));
        }
        mixed
    };
    Message::builder()
        .from(from)
        .to(to)
        .subject(row.subject.clone())
        // Stable per e-mail, so a receiver can drop a duplicate of a retried send.
        .message_id(Some(format!("<{}@keel>", row.id)))
        .multipart(body)
        .map_err(|e| DeliveryError::Permanent(format!("building the message: {e}")))
}
