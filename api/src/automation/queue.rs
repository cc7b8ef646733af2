//! The job queue's storage operations. Claiming differs per backend: PostgreSQL locks candidate
//! rows with `FOR UPDATE SKIP LOCKED`, so many workers claim disjoint batches at once; SQLite has
//! one writer, so a claim is one `BEGIN IMMEDIATE` transaction.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use keel_shared::automation::{JobFilter, JobState};
use keel_shared::Page;
use rand::Rng;
use serde::Serialize;

use super::models::JobRow;
use crate::db::paging::{Cursor, Paging};
use crate::db::{now_micros, DbConn};
use crate::error::ApiError;
use crate::ids;
use crate::schema::jobs;

pub const DEFAULT_QUEUE: &str = "default";
pub const DEFAULT_MAX_ATTEMPTS: i32 = 10;

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: String,
    pub payload: serde_json::Value,
    pub queue: String,
    pub run_at: Option<DateTime<Utc>>,
    pub max_attempts: i32,
    pub unique_key: Option<String>,
}

impl NewJob {
    pub fn new(kind: &str, payload: impl Serialize) -> NewJob {
        NewJob {
            kind: kind.to_string(),
            payload: serde_json::to_value(payload).unwrap_or(serde_json::Value::Null),
            queue: DEFAULT_QUEUE.into(),
            run_at: None,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            unique_key: None,
        }
    }
    pub fn unique(mut self, key: impl Into<String>) -> Self {
        self.unique_key = Some(key.into());
        self
    }
    pub fn at(mut self, when: DateTime<Utc>) -> Self {
        self.run_at = Some(when);
        self
    }
    pub fn max_attempts(mut self, n: i32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    fn row(&self, now: DateTime<Utc>) -> JobRow {
        let at = now_micros(now);
        JobRow {
            id: ids::new_id(),
            kind: self.kind.clone(),
            payload: self.payload.to_string(),
            queue: self.queue.clone(),
            state: JobState::Queued,
            run_at: self.run_at.map(now_micros).unwrap_or(at),
            attempts: 0,
            max_attempts: self.max_attempts,
            last_error: None,
            lease_owner: None,
            lease_expires_at: None,
            unique_key: self.unique_key.clone(),
            created_at: at,
            updated_at: at,
            finished_at: None,
        }
    }
}

/// Writes a job on the caller's connection (and so in the caller's transaction). Returns the new
/// job's id, or `None` when a job with the same unique key already exists.
pub fn enqueue(conn: &mut DbConn, now: DateTime<Utc>, job: &NewJob) -> Result<Option<String>, ApiError> {
    let row = job.row(now);
    let inserted = crate::each_backend!(conn, c => diesel::insert_into(jobs::table).values(&row).on_conflict_do_nothing().execute(c))?;
    Ok((inserted == 1).then_some(row.id))
}

/// Writes many jobs at once (multi-row insert); unique-key duplicates are skipped.
pub fn enqueue_many(conn: &mut DbConn, now: DateTime<Utc>, batch: &[NewJob]) -> Result<usize, ApiError> {
    let rows: Vec<JobRow> = batch.iter().map(|j| j.row(now)).collect();
    let mut total = 0;
    // Stay under SQLite's bound-parameter limit (15 columns per row).
    for chunk in rows.chunks(500) {
        total += match conn {
            DbConn::Postgresql(c) => diesel::insert_into(jobs::table).values(chunk).on_conflict_do_nothing().execute(c)?,
            DbConn::Sqlite(c) => diesel::insert_or_ignore_into(jobs::table).values(chunk).execute(c)?,
        };
    }
    Ok(total)
}

/// Claims up to `limit` runnable jobs of `queue` for `owner` until `now + lease`: jobs queued or
/// failed whose `run_at` has come, and running jobs whose lease has lapsed.
pub fn claim(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    queue: &str,
    owner: &str,
    lease: Duration,
    limit: i64,
) -> Result<Vec<JobRow>, ApiError> {
    let at = now_micros(now);
    let until = now_micros(now + lease);
    // Two scans, each served by a partial index: runnable jobs in order, then lapsed leases.
    // (The literal state values let SQLite match its partial indexes.)
    macro_rules! runnable {
        () => {
            jobs::table
                .filter(jobs::queue.eq(queue))
                .filter(diesel::dsl::sql::<diesel::sql_types::Bool>("state IN ('queued', 'failed')"))
                .filter(jobs::run_at.le(at))
                .order(jobs::run_at.asc())
                .limit(limit)
                .select(jobs::id)
        };
    }
    macro_rules! lapsed {
        () => {
            jobs::table
                .filter(jobs::queue.eq(queue))
                .filter(diesel::dsl::sql::<diesel::sql_types::Bool>("state = 'running'"))
                .filter(jobs::lease_expires_at.lt(at))
                .limit(limit)
                .select(jobs::id)
        };
    }
    macro_rules! take {
        ($c:expr, $ids:expr) => {
            diesel::update(jobs::table.filter(jobs::id.eq_any($ids)))
                .set((
                    jobs::state.eq(JobState::Running),
                    jobs::attempts.eq(jobs::attempts + 1),
                    jobs::lease_owner.eq(owner),
                    jobs::lease_expires_at.eq(until),
                    jobs::updated_at.eq(at),
                ))
                .returning(JobRow::as_returning())
                .get_results::<JobRow>($c)
        };
    }
    let rows = match conn {
        DbConn::Postgresql(c) => {
            // One statement: lock runnable rows other workers have not locked, and take them.
            use diesel::sql_types::{BigInt, Text, Timestamp};
            diesel::sql_query(
                "WITH ready AS (SELECT id FROM jobs WHERE queue = $4 AND state IN ('queued', 'failed') AND run_at <= $3 \
                   ORDER BY run_at LIMIT $5 FOR UPDATE SKIP LOCKED), \
                 lapsed AS (SELECT id FROM jobs WHERE queue = $4 AND state = 'running' AND lease_expires_at < $3 \
                   LIMIT $5 FOR UPDATE SKIP LOCKED) \
                 UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = $1, \
                 lease_expires_at = $2, updated_at = $3 \
                 WHERE id IN (SELECT id FROM ready UNION ALL SELECT id FROM lapsed) \
                 RETURNING *",
            )
            .bind::<Text, _>(owner)
            .bind::<Timestamp, _>(until)
            .bind::<Timestamp, _>(at)
            .bind::<Text, _>(queue)
            .bind::<BigInt, _>(limit)
            .load::<JobRow>(c)?
        }
        DbConn::Sqlite(c) => c.immediate_transaction(|c| {
            let mut ids: Vec<String> = runnable!().load(c)?;
            if (ids.len() as i64) < limit {
                ids.extend(lapsed!().load::<String>(c)?);
            }
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            take!(c, ids)
        })?,
    };
    Ok(rows)
}

/// Marks jobs done, but only those `owner` still holds.
pub fn complete(conn: &mut DbConn, now: DateTime<Utc>, owner: &str, ids: &[String]) -> Result<usize, ApiError> {
    if ids.is_empty() {
        return Ok(0);
    }
    let at = now_micros(now);
    Ok(diesel::update(jobs::table.filter(jobs::id.eq_any(ids)).filter(jobs::lease_owner.eq(owner)))
        .set((
            jobs::state.eq(JobState::Succeeded),
            jobs::lease_owner.eq(None::<String>),
            jobs::lease_expires_at.eq(None::<chrono::NaiveDateTime>),
            jobs::last_error.eq(None::<String>),
            jobs::updated_at.eq(at),
            jobs::finished_at.eq(Some(at)),
        ))
        .execute(conn)?)
}

/// Exponential backoff with jitter: 10 s, 20 s, 40 s … capped at one hour, plus up to half again.
pub fn backoff(attempts: i32) -> Duration {
    let exp = attempts.clamp(1, 20) - 1;
    let base = (10i64 << exp).min(3600);
    let jitter = rand::rng().random_range(0..=base / 2);
    Duration::seconds(base + jitter)
}

/// Records a failed attempt: back to `failed` with a later `run_at`, or `dead` when out of attempts
/// or when the failure is `permanent` (trying again cannot help).
pub fn fail(conn: &mut DbConn, now: DateTime<Utc>, owner: &str, job: &JobRow, error: &str, permanent: bool) -> Result<JobState, ApiError> {
    let at = now_micros(now);
    let dead = permanent || job.attempts >= job.max_attempts;
    let state = if dead { JobState::Dead } else { JobState::Failed };
    let run_at = if dead { job.run_at } else { now_micros(now + backoff(job.attempts)) };
    let error: String = error.chars().take(2000).collect();
    diesel::update(jobs::table.find(&job.id).filter(jobs::lease_owner.eq(owner)))
        .set((
            jobs::state.eq(state.as_str()),
            jobs::run_at.eq(run_at),
            jobs::last_error.eq(Some(error)),
            jobs::lease_owner.eq(None::<String>),
            jobs::lease_expires_at.eq(None::<chrono::NaiveDateTime>),
            jobs::updated_at.eq(at),
            jobs::finished_at.eq(dead.then_some(at)),
        ))
        .execute(conn)?;
    Ok(state)
}

/// Puts a job back to wait until `when` without spending an attempt (e.g. a rate limit).
pub fn defer(conn: &mut DbConn, now: DateTime<Utc>, owner: &str, job: &JobRow, when: DateTime<Utc>) -> Result<(), ApiError> {
    diesel::update(jobs::table.find(&job.id).filter(jobs::lease_owner.eq(owner)))
        .set((
            jobs::state.eq(JobState::Queued),
            jobs::run_at.eq(now_micros(when)),
            jobs::attempts.eq((job.attempts - 1).max(0)),
            jobs::lease_owner.eq(None::<String>),
            jobs::lease_expires_at.eq(None::<chrono::NaiveDateTime>),
            jobs::updated_at.eq(now_micros(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Extends the leases `owner` holds on these jobs (while their handlers are still running).
pub fn heartbeat(conn: &mut DbConn, now: DateTime<Utc>, owner: &str, ids: &[String], lease: Duration) -> Result<usize, ApiError> {
    Ok(diesel::update(
        jobs::table.filter(jobs::id.eq_any(ids)).filter(jobs::lease_owner.eq(owner)).filter(jobs::state.eq(JobState::Running)),
    )
    .set(jobs::lease_expires_at.eq(Some(now_micros(now + lease))))
    .execute(conn)?)
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<JobRow, ApiError> {
    jobs::table.find(id).select(JobRow::as_select()).first(conn).optional()?.ok_or_else(|| ApiError::not_found("job"))
}

/// Admin: run a failed or dead job again now, with a fresh set of attempts.
pub fn retry(conn: &mut DbConn, now: DateTime<Utc>, id: &str) -> Result<JobRow, ApiError> {
    crate::db::transaction(conn, |conn| {
        let job = find(conn, id)?;
        if !matches!(job.state, JobState::Failed | JobState::Dead) {
            return Err(ApiError::Conflict {
                code: "job_not_retryable",
                detail: format!("only failed or dead jobs can be retried; this one is {}", job.state),
                field: None,
            });
        }
        let at = now_micros(now);
        diesel::update(jobs::table.find(id))
            .set((
                jobs::state.eq(JobState::Queued),
                jobs::run_at.eq(at),
                jobs::attempts.eq(0),
                jobs::finished_at.eq(None::<chrono::NaiveDateTime>),
                jobs::updated_at.eq(at),
            ))
            .execute(conn)?;
        find(conn, id)
    })
}

/// Admin: delete a job that is not running.
pub fn delete(conn: &mut DbConn, id: &str) -> Result<(), ApiError> {
    crate::db::transaction(conn, |conn| {
        let job = find(conn, id)?;
        if job.state == JobState::Running {
            return Err(ApiError::Conflict { code: "job_running", detail: "a running job cannot be deleted".into(), field: None });
        }
        diesel::delete(jobs::table.find(id)).execute(conn)?;
        Ok(())
    })
}

pub fn list(conn: &mut DbConn, filter: &JobFilter) -> Result<Page<JobRow>, ApiError> {
    let paging = Paging::new(filter.paging.clone())?;
    macro_rules! filtered {
        () => {{
            let mut q = jobs::table.into_boxed();
            if let Some(s) = filter.state {
                q = q.filter(jobs::state.eq(s.as_str()));
            }
            if let Some(k) = &filter.kind {
                q = q.filter(jobs::kind.eq(k.clone()));
            }
            q
        }};
    }
    let total = crate::count_capped!(conn, filtered!(), jobs::created_at, jobs::id);
    let rows = crate::keyset!(filtered!(), jobs::created_at, jobs::id, &paging).select(JobRow::as_select()).load(conn)?;
    Ok(paging.finish(rows, total, |j: &JobRow| Cursor { at: j.created_at, id: j.id.clone() }))
}

/// Deletes succeeded jobs finished before `before` (housekeeping).
pub fn purge_succeeded(conn: &mut DbConn, before: DateTime<Utc>) -> Result<usize, ApiError> {
    Ok(diesel::delete(
        jobs::table
            .filter(jobs::state.eq(JobState::Succeeded))
            .filter(jobs::finished_at.lt(now_micros(before)))
            .filter(jobs::unique_key.is_null()),
    )
    .execute(conn)?)
}
