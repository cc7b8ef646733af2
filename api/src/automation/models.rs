use chrono::NaiveDateTime;
use diesel::prelude::*;
use keel_shared::automation::{Job, JobState, ScheduledTask};

use crate::schema::{jobs, scheduled_tasks};

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = jobs)]
pub struct JobRow {
    pub id: String,
    pub kind: String,
    pub payload: String,
    pub queue: String,
    pub state: JobState,
    pub run_at: NaiveDateTime,
    pub attempts: i32,
    pub max_attempts: i32,
    pub last_error: Option<String>,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<NaiveDateTime>,
    pub unique_key: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
}

impl JobRow {
    pub fn to_dto(&self) -> Job {
        Job {
            id: self.id.clone().into(),
            kind: self.kind.clone(),
            queue: self.queue.clone(),
            state: self.state,
            payload: serde_json::from_str(&self.payload).unwrap_or(serde_json::Value::Null),
            run_at: self.run_at.and_utc(),
            attempts: self.attempts,
            max_attempts: self.max_attempts,
            last_error: self.last_error.clone(),
            unique_key: self.unique_key.clone(),
            created_at: self.created_at.and_utc(),
            finished_at: self.finished_at.map(|t| t.and_utc()),
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = scheduled_tasks)]
pub struct TaskRow {
    pub name: String,
    pub cron: String,
    pub enabled: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl TaskRow {
    pub fn to_dto(&self, description: &str, last_run: Option<NaiveDateTime>, next_run: Option<NaiveDateTime>) -> ScheduledTask {
        ScheduledTask {
            name: self.name.clone(),
            description: description.to_string(),
            cron: self.cron.clone(),
            enabled: self.enabled,
            last_run_at: last_run.map(|t| t.and_utc()),
            next_run_at: next_run.map(|t| t.and_utc()),
        }
    }
}
