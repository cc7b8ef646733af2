//! Database access: one binary, two backends. `DATABASE_URL` picks SQLite (the embedded default)
//! or PostgreSQL at run time; [`DbConn`] is diesel's multi-backend connection over both, pooled by
//! r2d2. Migrations are embedded, one tree per backend, and applied on start.
//!
//! Handlers never hold a connection across an `.await`: they call [`run`], which takes a pooled
//! connection on a blocking thread, so sync diesel never stalls the async workers. Requests wait
//! for a connection in a first-come, first-served queue (an async semaphore with one permit per
//! connection), not parked on blocking threads that r2d2 wakes in no particular order.
//!
//! Each pool carries the [`cache::Caches`] of what most requests read (session liveness,
//! back-office access, the catalog) and applies the changes a [`run`] closure published.

pub mod cache;
pub mod paging;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::ApiError;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

/// Runs one diesel statement on the concrete connection of either backend, for shapes the
/// multi-backend connection cannot express (upserts: `ON CONFLICT … DO UPDATE / DO NOTHING`):
/// `each_backend!(conn, c => diesel::insert_into(t).values(v).on_conflict_do_nothing().execute(c))`.
#[macro_export]
macro_rules! each_backend {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::DbConn::Postgresql($c) => $body,
            $crate::db::DbConn::Sqlite($c) => $body,
        }
    };
}

/// A connection to whichever backend `DATABASE_URL` names.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// The connection pool (r2d2, which it dereferences to) with its request queue and caches.
#[derive(Debug, Clone)]
pub struct Pool {
    inner: r2d2::Pool<Manager>,
    /// One permit per connection: [`run`] waits here, in arrival order, before it takes a thread.
    permits: Arc<tokio::sync::Semaphore>,
    caches: Arc<cache::Caches>,
}

impl std::ops::Deref for Pool {
    type Target = r2d2::Pool<Manager>;
    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl Pool {
    /// What requests read from memory instead of the database (see [`cache`]).
    pub fn caches(&self) -> &Arc<cache::Caches> {
        &self.caches
    }
}

pub type PooledConn = r2d2::PooledConnection<Manager>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A parsed `DATABASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbUrl {
    pub backend: Backend,
    /// What the driver is given: a file path for SQLite, the URL itself for PostgreSQL.
    pub target: String,
}

impl DbUrl {
    /// Accepts `postgres://…`, `postgresql://…`, `sqlite://PATH`, `sqlite:PATH` or a bare path.
    pub fn parse(url: &str) -> Result<DbUrl, String> {
        let url = url.trim();
        if url.is_empty() {
            return Err("is empty".into());
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DbUrl { backend: Backend::Postgres, target: url.to_string() });
        }
        let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
        if path.contains("://") {
            return Err(format!("unsupported scheme in '{url}' (use sqlite:// or postgres://)"));
        }
        if path.is_empty() {
            return Err("has no SQLite file path".into());
        }
        Ok(DbUrl { backend: Backend::Sqlite, target: path.to_string() })
    }
}

/// r2d2 manager that establishes the right backend itself (diesel's multi-connection `establish`
/// hides the real error) and sets SQLite's pragmas on every new connection.
#[derive(Debug, Clone)]
pub struct Manager {
    url: DbUrl,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    #[error(transparent)]
    Connection(#[from] diesel::ConnectionError),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = ConnError;

    fn connect(&self) -> Result<DbConn, ConnError> {
        match self.url.backend {
            Backend::Postgres => Ok(DbConn::Postgresql(diesel::PgConnection::establish(&self.url.target)?)),
            Backend::Sqlite => {
                let mut conn = diesel::SqliteConnection::establish(&self.url.target)?;
                // WAL lets readers run beside the one writer; busy_timeout makes writers queue
                // instead of failing with SQLITE_BUSY.
                // busy_timeout first: switching to WAL itself needs a lock another process may hold.
                conn.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                )?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), ConnError> {
        conn.batch_execute("SELECT 1").map_err(ConnError::from)
    }

    fn has_broken(&self, _conn: &mut DbConn) -> bool {
        false
    }
}

/// Opens a pool, creating the SQLite file's folder when needed, and applies pending migrations.
pub fn connect(url: &DbUrl, max_size: u32) -> Result<Pool, String> {
    if url.backend == Backend::Sqlite {
        if let Some(dir) = Path::new(&url.target).parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
    }
    let manager = Manager { url: url.clone() };
    // Fail fast with the driver's own message rather than r2d2's generic timeout.
    let mut first = manager.connect().map_err(|e| format!("cannot connect to the {} database: {e}", url.backend.name()))?;
    migrate(&mut first).map_err(|e| format!("migrations failed: {e}"))?;
    drop(first);
    let inner = r2d2::Pool::builder()
        .max_size(max_size)
        .min_idle(Some(1))
        .connection_timeout(CONNECTION_TIMEOUT)
        .test_on_check_out(false)
        .build(manager)
        .map_err(|e| format!("cannot open the connection pool: {e}"))?;
    let caches = Arc::new(match url.backend {
        Backend::Sqlite => cache::Caches::for_sqlite(&url.target),
        Backend::Postgres => cache::Caches::for_postgres(),
    });
    if url.backend == Backend::Postgres {
        cache::spawn_listener(url.target.clone(), Arc::downgrade(&caches));
    }
    Ok(Pool { inner, permits: Arc::new(tokio::sync::Semaphore::new(max_size as usize)), caches })
}

/// How long a request waits for a connection before it is answered 503.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);

/// Applies the embedded migrations for the connection's backend.
pub fn migrate(conn: &mut DbConn) -> Result<usize, String> {
    let applied = match conn {
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
        DbConn::Postgresql(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.len()),
    };
    applied.map_err(|e| e.to_string())
}

impl DbConn {
    pub fn backend(&self) -> Backend {
        match self {
            DbConn::Postgresql(_) => Backend::Postgres,
            DbConn::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// Runs `f` with a pooled connection on a blocking thread, after waiting its turn for one (first
/// come, first served). A pool that cannot hand out a connection in time answers 503. What `f`
/// published ([`cache::publish`]) is applied to the caches when it returns, before the answer.
pub async fn run<T, F>(pool: &Pool, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let unavailable = || ApiError::Unavailable("database pool: timed out waiting for a connection".into());
    let permit = tokio::time::timeout(CONNECTION_TIMEOUT, pool.permits.clone().acquire_owned())
        .await
        .map_err(|_| unavailable())?
        .map_err(|_| unavailable())?;
    let pool = pool.clone();
    actix_web::web::block(move || {
        let _permit = permit;
        let mut conn = pool.inner.get().map_err(|e| ApiError::Unavailable(format!("database pool: {e}")))?;
        let (out, changes) = cache::collecting(|| f(&mut conn));
        drop(conn);
        pool.caches.changed_here(&changes);
        out
    })
    .await
    .map_err(|e| ApiError::internal(format!("blocking task failed: {e}")))?
}

/// Runs `f` in a transaction; every transaction in Keel goes through here.
///
/// On SQLite it begins with `BEGIN IMMEDIATE`, taking the write lock up front. A plain (deferred)
/// transaction that reads and then writes cannot wait for that lock: when another connection is
/// writing, SQLite answers "database is locked" at once instead of using `busy_timeout`, because
/// waiting could deadlock. Taking the lock first makes such transactions queue like single writes.
/// On PostgreSQL, and when already inside a transaction (a savepoint), it is diesel's `transaction`.
pub fn transaction<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let outermost_sqlite = match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth()?.is_none(),
        DbConn::Postgresql(_) => false,
    };
    if !outermost_sqlite {
        return conn.transaction(f);
    }
    if let DbConn::Sqlite(c) = conn {
        AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
    }
    let outcome = f(conn);
    let DbConn::Sqlite(c) = conn else { return outcome };
    match outcome {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(c)?;
            Ok(value)
        }
        Err(e) => {
            AnsiTransactionManager::rollback_transaction(c)?;
            Err(e)
        }
    }
}

/// Cuts a timestamp to whole microseconds, the precision both backends keep.
pub fn now_micros(t: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDateTime {
    use chrono::{SubsecRound, Timelike};
    let t = t.naive_utc();
    t.with_nanosecond(t.nanosecond() / 1000 * 1000).unwrap_or_else(|| t.trunc_subsecs(6))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        assert_eq!(DbUrl::parse("postgres://u@h/db").map(|u| u.backend), Ok(Backend::Postgres));
        assert_eq!(DbUrl::parse("sqlite://data/keel.db").map(|u| u.target), Ok("data/keel.db".into()));
        assert_eq!(DbUrl::parse("sqlite:/tmp/x.db").map(|u| u.target), Ok("/tmp/x.db".into()));
        assert_eq!(DbUrl::parse("./keel.db").map(|u| u.backend), Ok(Backend::Sqlite));
        assert!(DbUrl::parse("mysql://x").is_err());
        assert!(DbUrl::parse("  ").is_err());
    }

    /// Many connections running read-then-write transactions at once on one SQLite file: each one
    /// waits its turn. With deferred transactions some fail with "database is locked" (CI saw it).
    #[test]
    fn sqlite_transactions_that_read_then_write_queue_instead_of_failing() {
        let dir = tempfile::tempdir().unwrap();
        let url = DbUrl::parse(&dir.path().join("t.db").display().to_string()).unwrap();
        let pool = connect(&url, 4).unwrap();
        pool.get().unwrap().batch_execute("CREATE TABLE t (n INTEGER NOT NULL)").unwrap();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let pool = pool.clone();
                std::thread::spawn(move || {
                    let mut conn = pool.get().unwrap();
                    (0..25)
                        .map(|_| {
                            transaction(&mut conn, |c| {
                                c.batch_execute("SELECT count(*) FROM t")?;
                                std::thread::sleep(Duration::from_millis(1));
                                // Nested: a savepoint inside the immediate transaction.
                                transaction(c, |c| c.batch_execute("INSERT INTO t (n) VALUES (1)"))
                            })
                        })
                        .collect::<Result<Vec<()>, diesel::result::Error>>()
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap().unwrap();
        }
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let DbConn::Sqlite(c) = &mut *pool.get().unwrap() else { panic!("not sqlite") };
        let count: Count = diesel::sql_query("SELECT count(*) AS n FROM t").get_result(c).unwrap();
        assert_eq!(count.n, 100);
    }
}
