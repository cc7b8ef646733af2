//! Jobs, scheduled tasks and e-mails as the admin API shows them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use validator::Validate;

crate::text_enum! {
    /// Where a job is in its life.
    pub enum JobState {
        /// Waiting for its `run_at`.
        Queued = "queued",
        /// Claimed by a worker that holds its lease.
        Running = "running",
        Succeeded = "succeeded",
        /// The last attempt failed; it will be retried at `run_at`.
        Failed = "failed",
        /// Gave up after `max_attempts` (or at once on a permanent failure); retry or delete it.
        Dead = "dead",
    }
}

crate::text_enum! {
    /// Where an e-mail is in the outbox.
    pub enum EmailStatus {
        /// Written with its send job; not sent yet.
        Queued = "queued",
        /// Accepted by the SMTP server (or written as an .eml file).
        Sent = "sent",
        /// The last attempt failed; the send job retries it.
        Failed = "failed",
        /// Not sent: the address unsubscribed from marketing mail.
        Suppressed = "suppressed",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Job {
    pub id: crate::ids::JobId,
    /// What the job does, e.g. `email.send`.
    pub kind: String,
    pub queue: String,
    pub state: JobState,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub payload: serde_json::Value,
    /// When it runs (or ran, or will be retried).
    pub run_at: DateTime<Utc>,
    pub attempts: i32,
    pub max_attempts: i32,
    pub last_error: Option<String>,
    pub unique_key: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// Filters for the job list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct JobFilter {
    /// Only jobs in this state.
    pub state: Option<JobState>,
    /// Only jobs of this kind.
    #[validate(length(max = 100))]
    #[cfg_attr(feature = "openapi", param(max_length = 100))]
    pub kind: Option<String>,
    /// The page (`page`, `per_page`, `cursor`); listed in the document as `PageQuery`'s parameters.
    #[serde(flatten)]
    #[cfg_attr(feature = "openapi", param(ignore))]
    #[validate(nested)]
    pub paging: crate::PageQuery,
}

/// A recurring task of the scheduler.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScheduledTask {
    pub name: String,
    pub description: String,
    /// Five-field cron expression, UTC (`minute hour day-of-month month day-of-week`).
    pub cron: String,
    pub enabled: bool,
    pub last_run_at: Option<DateTime<Utc>>,
    pub next_run_at: Option<DateTime<Utc>>,
}

/// Changes a task's schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateTaskRequest {
    #[validate(length(min = 9, max = 100))]
    #[cfg_attr(feature = "openapi", schema(min_length = 9, max_length = 100))]
    pub cron: String,
    pub enabled: bool,
}

/// An e-mail in the outbox or the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Email {
    pub id: crate::ids::EmailId,
    pub to: String,
    pub template: String,
    pub subject: String,
    pub status: EmailStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// An e-mail with its bodies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmailDetail {
    #[serde(flatten)]
    pub email: Email,
    pub body_text: String,
    pub body_html: String,
}

/// A template as shipped or as edited by an admin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmailTemplate {
    pub key: String,
    pub description: String,
    /// Variables the template can use.
    pub variables: Vec<String>,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    /// True when an admin edit replaces the shipped text.
    pub customized: bool,
}

/// An admin's edit of a template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateTemplateRequest {
    #[validate(length(min = 1, max = 200))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub subject: String,
    #[validate(length(min = 1, max = 20000))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 20000))]
    pub body_text: String,
    #[validate(length(min = 1, max = 50000))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 50000))]
    pub body_html: String,
}
