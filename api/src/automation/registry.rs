//! How domains plug work into the engine. The engine knows no business domain: each domain folder
//! has a `jobs.rs` whose `register` function adds its job kinds (a typed payload and a handler)
//! and its scheduled tasks to a [`Registry`]; the composition root (`crate::compose`) calls every
//! domain's `register`. Handlers receive the dependencies value `C` the root chose (clock, config,
//! mailer and the other adapters), so a test or the sandbox swaps an adapter in one place.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::models::JobRow;
use crate::db::DbConn;

/// What the engine itself needs from the dependencies value.
pub trait JobEnv: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// How an attempt ended, when it did not fail.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Done,
    /// Not now (e.g. a rate limit): try again at this time without spending an attempt.
    Defer(DateTime<Utc>),
}

/// Why an attempt failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JobError {
    /// A passing condition (a server down, a lock, a timeout): back off and try again.
    #[error("{0}")]
    Retryable(String),
    /// Trying again cannot help (a malformed payload, a record that no longer exists, a request the
    /// other side refused for good): the job goes straight to `dead` without burning attempts.
    #[error("{0}")]
    Permanent(String),
}

impl JobError {
    pub fn retryable(cause: impl std::fmt::Display) -> Self {
        JobError::Retryable(cause.to_string())
    }
    pub fn permanent(cause: impl std::fmt::Display) -> Self {
        JobError::Permanent(cause.to_string())
    }
    pub fn is_permanent(&self) -> bool {
        matches!(self, JobError::Permanent(_))
    }
}

/// Database errors are passing conditions unless the handler says otherwise.
impl From<diesel::result::Error> for JobError {
    fn from(e: diesel::result::Error) -> Self {
        JobError::Retryable(e.to_string())
    }
}

impl From<crate::error::ApiError> for JobError {
    fn from(e: crate::error::ApiError) -> Self {
        JobError::Retryable(e.to_string())
    }
}

pub type JobResult = Result<Outcome, JobError>;

/// Which attempt of a job is running (the first is 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    pub number: i32,
    pub max: i32,
}

impl Attempt {
    /// No attempt follows this one if it fails.
    pub fn is_last(self) -> bool {
        self.number >= self.max
    }
}

/// The payload of a scheduled task's job: the period the run is for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskRun {
    pub period: DateTime<Utc>,
}

/// A scheduled task as a domain ships it; admins may change its schedule later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskSpec {
    /// Also the kind of the job each run enqueues.
    pub name: &'static str,
    pub default_cron: &'static str,
    pub description: &'static str,
}

type Erased<C> = Box<dyn Fn(&C, &mut DbConn, &JobRow) -> JobResult + Send + Sync>;

/// The job kinds and scheduled tasks of this build.
pub struct Registry<C> {
    handlers: HashMap<&'static str, Erased<C>>,
    tasks: Vec<TaskSpec>,
}

impl<C> std::fmt::Debug for Registry<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut kinds: Vec<&str> = self.handlers.keys().copied().collect();
        kinds.sort_unstable();
        f.debug_struct("Registry").field("kinds", &kinds).field("tasks", &self.tasks).finish()
    }
}

impl<C: 'static> Default for Registry<C> {
    fn default() -> Self {
        Registry { handlers: HashMap::new(), tasks: Vec::new() }
    }
}

impl<C: 'static> Registry<C> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a job kind. The payload is parsed into `P` before the handler runs; a payload that
    /// does not parse is a permanent failure. Registering a kind twice is a programming error.
    pub fn job<P: DeserializeOwned + 'static>(&mut self, kind: &'static str, handler: fn(&C, &mut DbConn, P) -> JobResult) -> &mut Self {
        let erased: Erased<C> = Box::new(move |ctx, conn, row| {
            let payload: P =
                serde_json::from_str(&row.payload).map_err(|e| JobError::Permanent(format!("payload of '{kind}' job: {e}")))?;
            handler(ctx, conn, payload)
        });
        assert!(self.handlers.insert(kind, erased).is_none(), "job kind '{kind}' is registered twice");
        self
    }

    /// Adds a job kind whose handler also learns which attempt this is, so it can record a
    /// lasting failure on its own records when the last attempt fails.
    pub fn job_with_attempt<P: DeserializeOwned + 'static>(
        &mut self,
        kind: &'static str,
        handler: fn(&C, &mut DbConn, P, Attempt) -> JobResult,
    ) -> &mut Self {
        let erased: Erased<C> = Box::new(move |ctx, conn, row| {
            let payload: P =
                serde_json::from_str(&row.payload).map_err(|e| JobError::Permanent(format!("payload of '{kind}' job: {e}")))?;
            handler(ctx, conn, payload, Attempt { number: row.attempts, max: row.max_attempts })
        });
        assert!(self.handlers.insert(kind, erased).is_none(), "job kind '{kind}' is registered twice");
        self
    }

    /// Adds a scheduled task: a cron schedule (admins can change it) and the handler of the job
    /// each run enqueues, which receives the period it runs for.
    pub fn task(
        &mut self,
        name: &'static str,
        default_cron: &'static str,
        description: &'static str,
        handler: fn(&C, &mut DbConn, TaskRun) -> JobResult,
    ) -> &mut Self {
        debug_assert!(super::cron::Cron::parse(default_cron).is_ok(), "task '{name}': bad cron");
        self.job(name, handler);
        self.tasks.push(TaskSpec { name, default_cron, description });
        self
    }

    /// The shipped tasks, by name.
    pub fn tasks(&self) -> &[TaskSpec] {
        &self.tasks
    }

    pub fn task_description(&self, name: &str) -> &'static str {
        self.tasks.iter().find(|t| t.name == name).map(|t| t.description).unwrap_or("")
    }

    pub fn knows(&self, kind: &str) -> bool {
        self.handlers.contains_key(kind)
    }

    /// Runs the handler of `job`'s kind.
    pub fn run(&self, ctx: &C, conn: &mut DbConn, job: &JobRow) -> JobResult {
        match self.handlers.get(job.kind.as_str()) {
            Some(handler) => handler(ctx, conn, job),
            // A kind this build does not know may be known by a newer worker: try again later.
            None => Err(JobError::Retryable(format!("no handler for job kind '{}'", job.kind))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Greet {
        name: String,
    }

    fn greet(_: &(), _: &mut DbConn, p: Greet) -> JobResult {
        if p.name.is_empty() {
            return Err(JobError::permanent("no name"));
        }
        Ok(Outcome::Done)
    }

    fn row(kind: &str, payload: &str) -> JobRow {
        let at = chrono::NaiveDateTime::default();
        JobRow {
            id: "j".into(),
            kind: kind.into(),
            payload: payload.into(),
            queue: "default".into(),
            state: keel_shared::automation::JobState::Running,
            run_at: at,
            attempts: 1,
            max_attempts: 3,
            last_error: None,
            lease_owner: None,
            lease_expires_at: None,
            unique_key: None,
            created_at: at,
            updated_at: at,
            finished_at: None,
        }
    }

    #[test]
    fn payloads_are_typed_and_a_bad_one_is_permanent() {
        let mut r: Registry<()> = Registry::new();
        r.job("greet", greet);
        // The payload check runs before the handler, so no connection is needed to see it fail.
        let dir = tempfile_dir();
        let pool = crate::db::connect(
            &crate::db::DbUrl::parse(dir.join("t.db").to_str().unwrap_or_default()).unwrap_or_else(|e| panic!("{e}")),
            1,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let mut conn = pool.get().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.run(&(), &mut conn, &row("greet", r#"{"name":"Ann"}"#)), Ok(Outcome::Done));
        assert!(r.run(&(), &mut conn, &row("greet", r#"{"nom":"Ann"}"#)).is_err_and(|e| e.is_permanent()));
        assert!(r.run(&(), &mut conn, &row("greet", r#"{"name":""}"#)).is_err_and(|e| e.is_permanent()));
        assert!(r.run(&(), &mut conn, &row("unknown", "{}")).is_err_and(|e| !e.is_permanent()));
        let _ = std::fs::remove_dir_all(dir);
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("keel-registry-{}", crate::ids::new_id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        dir
    }

    #[test]
    #[should_panic(expected = "registered twice")]
    fn a_kind_is_registered_once() {
        let mut r: Registry<()> = Registry::new();
        r.job("greet", greet).job("greet", greet);
    }
}
