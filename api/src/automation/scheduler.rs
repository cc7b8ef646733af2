//! The scheduler: recurring tasks with cron schedules. A tick looks, for each enabled task, at the
//! latest fire time at or before now; if no run exists for that period it inserts the run row and
//! enqueues the task's job in one transaction. The (task, period) unique key makes the run happen
//! once however many processes tick; a server that was down runs a task once when it comes back
//! (the latest period only), not once per missed period.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use keel_shared::automation::ScheduledTask;

use super::cron::Cron;
use super::models::TaskRow;
use super::queue::{self, NewJob};
use super::registry::{TaskRun, TaskSpec};
use crate::db::{now_micros, DbConn};
use crate::error::ApiError;
use crate::ids;
use crate::schema::{scheduled_tasks, task_runs};

/// Creates the shipped tasks that do not exist yet (admins' schedule changes are kept).
pub fn install(conn: &mut DbConn, now: DateTime<Utc>, tasks: &[TaskSpec]) -> Result<(), ApiError> {
    let at = now_micros(now);
    for TaskSpec { name, default_cron: cron, .. } in tasks {
        let exists: i64 = scheduled_tasks::table.find(name).count().get_result(conn)?;
        if exists == 0 {
            let row = TaskRow { name: name.to_string(), cron: cron.to_string(), enabled: true, created_at: at, updated_at: at };
            match conn {
                crate::db::DbConn::Postgresql(c) => {
                    diesel::insert_into(scheduled_tasks::table).values(&row).on_conflict_do_nothing().execute(c)?
                }
                crate::db::DbConn::Sqlite(c) => {
                    diesel::insert_into(scheduled_tasks::table).values(&row).on_conflict_do_nothing().execute(c)?
                }
            };
        }
    }
    Ok(())
}

/// A task that is due, as a tick or a dry run reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub task: String,
    pub period: DateTime<Utc>,
}

fn due_tasks(conn: &mut DbConn, now: DateTime<Utc>) -> Result<Vec<Due>, ApiError> {
    let tasks: Vec<TaskRow> = scheduled_tasks::table.filter(scheduled_tasks::enabled.eq(true)).select(TaskRow::as_select()).load(conn)?;
    let mut due = Vec::new();
    for t in tasks {
        let Ok(cron) = Cron::parse(&t.cron) else {
            tracing::warn!(task = %t.name, cron = %t.cron, "invalid cron expression; task skipped");
            continue;
        };
        let Some(period) = cron.prev(now) else { continue };
        // Periods before the task existed are not owed.
        if now_micros(period) < t.created_at.with_second0() {
            continue;
        }
        let ran: i64 = task_runs::table
            .filter(task_runs::task.eq(&t.name))
            .filter(task_runs::period.eq(now_micros(period)))
            .count()
            .get_result(conn)?;
        if ran == 0 {
            due.push(Due { task: t.name, period });
        }
    }
    Ok(due)
}

trait Second0 {
    fn with_second0(self) -> Self;
}
impl Second0 for chrono::NaiveDateTime {
    fn with_second0(self) -> Self {
        use chrono::Timelike;
        self.with_second(0).and_then(|t| t.with_nanosecond(0)).unwrap_or(self)
    }
}

/// What a tick would start now, changing nothing (`keel automation run --dry-run`).
pub fn preview(conn: &mut DbConn, now: DateTime<Utc>) -> Result<Vec<Due>, ApiError> {
    due_tasks(conn, now)
}

/// Starts every due task's run: returns the runs this call started (another process may have
/// started the others).
pub fn tick(conn: &mut DbConn, now: DateTime<Utc>) -> Result<Vec<Due>, ApiError> {
    let mut started = Vec::new();
    for due in due_tasks(conn, now)? {
        let won = crate::db::transaction(conn, |conn| {
            let run_id = ids::new_id();
            let inserted = {
                let values = (
                    task_runs::id.eq(&run_id),
                    task_runs::task.eq(&due.task),
                    task_runs::period.eq(now_micros(due.period)),
                    task_runs::created_at.eq(now_micros(now)),
                );
                match conn {
                    crate::db::DbConn::Postgresql(c) => {
                        diesel::insert_into(task_runs::table).values(values).on_conflict_do_nothing().execute(c)?
                    }
                    crate::db::DbConn::Sqlite(c) => {
                        diesel::insert_into(task_runs::table).values(values).on_conflict_do_nothing().execute(c)?
                    }
                }
            };
            if inserted == 0 {
                return Ok::<_, ApiError>(false);
            }
            let job = NewJob::new(&due.task, TaskRun { period: due.period })
                .unique(format!("task:{}:{}", due.task, due.period.to_rfc3339()))
                .max_attempts(5);
            let job_id = queue::enqueue(conn, now, &job)?;
            diesel::update(task_runs::table.find(&run_id)).set(task_runs::job_id.eq(job_id)).execute(conn)?;
            Ok(true)
        })?;
        if won {
            started.push(due);
        }
    }
    Ok(started)
}

/// Every task with its schedule, last and next run; `shipped` gives the descriptions.
pub fn list(conn: &mut DbConn, now: DateTime<Utc>, shipped: &[TaskSpec]) -> Result<Vec<ScheduledTask>, ApiError> {
    let description = |name: &str| shipped.iter().find(|t| t.name == name).map(|t| t.description).unwrap_or("");
    let tasks: Vec<TaskRow> = scheduled_tasks::table.order(scheduled_tasks::name.asc()).select(TaskRow::as_select()).load(conn)?;
    tasks
        .iter()
        .map(|t| {
            let last: Option<chrono::NaiveDateTime> =
                task_runs::table.filter(task_runs::task.eq(&t.name)).select(diesel::dsl::max(task_runs::created_at)).first(conn)?;
            let next = if t.enabled { Cron::parse(&t.cron).ok().and_then(|c| c.next(now)).map(now_micros) } else { None };
            Ok(t.to_dto(description(&t.name), last, next))
        })
        .collect()
}

pub fn update(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    shipped: &[TaskSpec],
    name: &str,
    cron: &str,
    enabled: bool,
) -> Result<ScheduledTask, ApiError> {
    Cron::parse(cron).map_err(|e| ApiError::field("cron", e))?;
    let n = diesel::update(scheduled_tasks::table.find(name))
        .set((scheduled_tasks::cron.eq(cron.trim()), scheduled_tasks::enabled.eq(enabled), scheduled_tasks::updated_at.eq(now_micros(now))))
        .execute(conn)?;
    if n == 0 {
        return Err(ApiError::not_found("scheduled task"));
    }
    list(conn, now, shipped)?.into_iter().find(|t| t.name == name).ok_or_else(|| ApiError::not_found("scheduled task"))
}
