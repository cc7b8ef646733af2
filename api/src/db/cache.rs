//! In-process caches of what nearly every request reads — whether an access token's session is
//! live, a back-office user's current access, the public catalog's JSON — and the changes that
//! invalidate them, so a request can be answered without the database and a revocation still
//! applies at once.
//!
//! Code that changes one of these facts calls [`publish`] in its transaction: a session ended
//! (sign-out, revocation, a reused refresh token, a password reset or change, a disabled staff
//! member, an anonymised account), a user's role, permissions, disabled flag or two-factor state,
//! the "require 2FA for staff" rule, the catalog. Then:
//! - **this process**: [`super::run`] applies what its closure published as soon as the closure
//!   returns (its transactions have committed), before the answer is sent, so the next request
//!   of any client reads the database again;
//! - **PostgreSQL, every process**: `pg_notify('keel_changes', …)` is sent in the same
//!   transaction (delivered only if it commits); each pool has a listener connection whose
//!   thread applies what arrives, in this and every other replica. While the listener is not
//!   connected the cache is off (every request reads the database), so a lost connection never
//!   means stale access; after it reconnects the caches start empty;
//! - **SQLite, every process on the file**: a process that made a change writes a new random
//!   number into a signal file beside the database (`<file>-changes`) after committing, and
//!   every lookup reads it (one `pread`) and empties its caches when it differs from the last
//!   one seen. A change made through one process is seen by the next request to any other.
//!
//! Races: an answer read from the database is stored only if no change was applied since the
//! read began (a generation counter), so a read that raced a revocation cannot store the stale
//! answer. Entries also expire after [`TTL`], a safety net against writes that bypass
//! [`publish`] (an operator's SQL).

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::DbConn;
use crate::admin::staff::StaffAccess;
use keel_shared::auth::Me;

/// The PostgreSQL notification channel.
pub const CHANNEL: &str = "keel_changes";
/// How long an entry is trusted at most.
pub const TTL: Duration = Duration::from_secs(30);
/// Past this many entries of a kind the kind is emptied (sessions of many idle clients).
const MAX_ENTRIES: usize = 100_000;
/// How often the PostgreSQL listener looks for notifications (a non-blocking read).
const LISTEN_POLL: Duration = Duration::from_millis(1);

/// A change to something the caches hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// This session ended (signed out, revoked, refresh token reused).
    SessionEnded(String),
    /// Every session of this user ended (password reset or change, disabled, anonymised).
    UserSessionsEnded(String),
    /// Something about this user that requests read changed: role, permissions, disabled flag,
    /// two-factor state, names, e-mail address or its verification.
    UserChanged(String),
    /// A rule that applies to every back-office user changed ("require 2FA for staff").
    AllAccessChanged,
    /// Products or prices changed.
    CatalogChanged,
}

impl Change {
    fn encode(&self) -> String {
        match self {
            Change::SessionEnded(id) => format!("s:{id}"),
            Change::UserSessionsEnded(id) => format!("u:{id}"),
            Change::UserChanged(id) => format!("a:{id}"),
            Change::AllAccessChanged => "a*".into(),
            Change::CatalogChanged => "c".into(),
        }
    }

    fn decode(s: &str) -> Option<Change> {
        Some(match s {
            "a*" => Change::AllAccessChanged,
            "c" => Change::CatalogChanged,
            _ => match s.split_once(':')? {
                ("s", id) => Change::SessionEnded(id.into()),
                ("u", id) => Change::UserSessionsEnded(id.into()),
                ("a", id) => Change::UserChanged(id.into()),
                _ => return None,
            },
        })
    }
}

thread_local! {
    /// What the closure [`super::run`] is running has published so far.
    static PENDING: RefCell<Option<Vec<Change>>> = const { RefCell::new(None) };
}

/// Announces a change, inside the transaction that makes it (see the module comment). Outside
/// [`super::run`] only the PostgreSQL notification is sent: code that changes these facts runs
/// through `db::run`.
pub fn publish(conn: &mut DbConn, change: Change) -> Result<(), diesel::result::Error> {
    if let DbConn::Postgresql(c) = conn {
        diesel::sql_query("SELECT pg_notify($1, $2)")
            .bind::<diesel::sql_types::Text, _>(CHANNEL)
            .bind::<diesel::sql_types::Text, _>(change.encode())
            .execute(c)?;
    }
    PENDING.with(|p| {
        if let Some(v) = p.borrow_mut().as_mut() {
            v.push(change);
        }
    });
    Ok(())
}

/// Runs `f` collecting what it publishes.
pub(crate) fn collecting<T>(f: impl FnOnce() -> T) -> (T, Vec<Change>) {
    struct Restore(Option<Vec<Change>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let outer = self.0.take();
            PENDING.with(|p| *p.borrow_mut() = outer);
        }
    }
    let restore = Restore(PENDING.with(|p| p.borrow_mut().replace(Vec::new())));
    let out = f();
    let changes = PENDING.with(|p| p.borrow_mut().take()).unwrap_or_default();
    drop(restore);
    (out, changes)
}

/// Whether a session may be used, as last read.
#[derive(Debug, Clone)]
enum SessionFact {
    Live { user_id: String, expires_at: DateTime<Utc> },
    Ended,
}

/// A JSON body serialised once, with its entity tag.
#[derive(Debug)]
pub struct CachedBody {
    pub body: actix_web::web::Bytes,
    pub etag: String,
}

/// The public catalog: the model quotes price against, and its two JSON answers
/// (`GET /catalog`, `GET /products`).
#[derive(Debug)]
pub struct CachedCatalog {
    pub model: keel_shared::catalog::Catalog,
    pub tax_rules: Vec<keel_shared::commerce::TaxRule>,
    pub settings: keel_shared::commerce::CommerceSettings,
    pub catalog: CachedBody,
    pub products: CachedBody,
}

#[derive(Debug, Default)]
struct Inner {
    sessions: HashMap<String, (SessionFact, Instant)>,
    access: HashMap<String, (StaffAccess, Instant)>,
    /// `GET /me` of a user (without the impersonator, which comes from the token).
    me: HashMap<String, (Arc<Me>, Instant)>,
    catalog: Option<Arc<CachedCatalog>>,
}

impl Inner {
    fn clear(&mut self) {
        self.sessions.clear();
        self.access.clear();
        self.me.clear();
        self.catalog = None;
    }
}

/// The signal file SQLite processes sharing a database use (see the module comment).
#[derive(Debug)]
struct SignalFile {
    file: File,
    seen: AtomicU64,
}

impl SignalFile {
    fn read(&self) -> u64 {
        let mut buf = [0u8; 8];
        match self.file.read_exact_at(&mut buf, 0) {
            Ok(()) => u64::from_le_bytes(buf),
            // Unreadable or empty: treat as "changed" every time rather than "unchanged".
            Err(_) => rand::random(),
        }
    }
}

/// The caches of one pool (one per process, or per `AppState` in tests).
#[derive(Debug)]
pub struct Caches {
    generation: AtomicU64,
    /// Off while invalidations from other processes cannot be received (PostgreSQL listener
    /// not connected).
    enabled: AtomicBool,
    inner: RwLock<Inner>,
    signal: Option<SignalFile>,
}

impl Caches {
    /// Caches for a SQLite database file: on, with the signal file beside it.
    pub(crate) fn for_sqlite(db_path: &str) -> Caches {
        let signal = (db_path != ":memory:" && !db_path.is_empty())
            .then(|| {
                let path = format!("{db_path}-changes");
                let file = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(Path::new(&path));
                match file {
                    Ok(file) => Some(file),
                    Err(e) => {
                        tracing::warn!(%path, error = %e, "cannot open the change signal file; caching is off");
                        None
                    }
                }
            })
            .flatten()
            .map(|file| {
                // A new file holds no number yet: write one, or every read would look like a change.
                let mut buf = [0u8; 8];
                if file.read_exact_at(&mut buf, 0).is_err() {
                    if let Err(e) = file.write_all_at(&rand::random::<u64>().to_le_bytes(), 0) {
                        tracing::warn!(error = %e, "cannot write the change signal file");
                    }
                }
                let s = SignalFile { file, seen: AtomicU64::new(0) };
                s.seen.store(s.read(), Ordering::SeqCst);
                s
            });
        let enabled = signal.is_some() || db_path == ":memory:";
        Caches { generation: AtomicU64::new(0), enabled: AtomicBool::new(enabled), inner: RwLock::default(), signal }
    }

    /// Caches for PostgreSQL: off until [`spawn_listener`] is listening.
    pub(crate) fn for_postgres() -> Caches {
        Caches { generation: AtomicU64::new(0), enabled: AtomicBool::new(false), inner: RwLock::default(), signal: None }
    }

    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether lookups may be answered from memory now (after taking in other processes'
    /// changes on SQLite).
    fn usable(&self) -> bool {
        if let Some(signal) = &self.signal {
            let now = signal.read();
            if now != signal.seen.load(Ordering::SeqCst) {
                self.clear();
                signal.seen.store(now, Ordering::SeqCst);
            }
        }
        self.enabled.load(Ordering::SeqCst)
    }

    /// Whether invalidations are being received (PostgreSQL: the listener is connected).
    pub fn is_on(&self) -> bool {
        self.enabled.load(Ordering::SeqCst)
    }

    /// How many sessions are held (for tests).
    pub fn session_count(&self) -> usize {
        self.read().sessions.len()
    }

    /// Taken before reading what will be stored: a change applied meanwhile voids the store.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// `Some(live)` when known.
    pub fn session(&self, id: &str, now: DateTime<Utc>) -> Option<bool> {
        if !self.usable() {
            return None;
        }
        let inner = self.read();
        let (fact, at) = inner.sessions.get(id)?;
        if at.elapsed() > TTL {
            return None;
        }
        Some(match fact {
            SessionFact::Live { expires_at, .. } => now < *expires_at,
            SessionFact::Ended => false,
        })
    }

    /// Stores what the database said of a session read since `generation`: live with its owner
    /// and expiry, or ended (`None`).
    pub fn remember_session(&self, generation: u64, id: &str, live: Option<(String, DateTime<Utc>)>) {
        self.store(generation, |inner| {
            if inner.sessions.len() >= MAX_ENTRIES {
                inner.sessions.clear();
            }
            let fact = match live {
                Some((user_id, expires_at)) => SessionFact::Live { user_id, expires_at },
                None => SessionFact::Ended,
            };
            inner.sessions.insert(id.to_string(), (fact, Instant::now()));
        });
    }

    pub fn access(&self, user_id: &str) -> Option<StaffAccess> {
        if !self.usable() {
            return None;
        }
        let inner = self.read();
        inner.access.get(user_id).filter(|(_, at)| at.elapsed() <= TTL).map(|(a, _)| a.clone())
    }

    pub fn remember_access(&self, generation: u64, user_id: &str, access: StaffAccess) {
        self.store(generation, |inner| {
            if inner.access.len() >= MAX_ENTRIES {
                inner.access.clear();
            }
            inner.access.insert(user_id.to_string(), (access, Instant::now()));
        });
    }

    pub fn me(&self, user_id: &str) -> Option<Arc<Me>> {
        if !self.usable() {
            return None;
        }
        let inner = self.read();
        inner.me.get(user_id).filter(|(_, at)| at.elapsed() <= TTL).map(|(m, _)| m.clone())
    }

    pub fn remember_me(&self, generation: u64, user_id: &str, me: Arc<Me>) {
        self.store(generation, |inner| {
            if inner.me.len() >= MAX_ENTRIES {
                inner.me.clear();
            }
            inner.me.insert(user_id.to_string(), (me, Instant::now()));
        });
    }

    pub fn catalog(&self) -> Option<Arc<CachedCatalog>> {
        if !self.usable() {
            return None;
        }
        self.read().catalog.clone()
    }

    pub fn remember_catalog(&self, generation: u64, body: Arc<CachedCatalog>) {
        self.store(generation, |inner| inner.catalog = Some(body));
    }

    fn store(&self, generation: u64, f: impl FnOnce(&mut Inner)) {
        if !self.is_on() {
            return;
        }
        let mut inner = self.write();
        // Compared under the write lock, which every invalidation also takes.
        if self.generation.load(Ordering::SeqCst) == generation {
            f(&mut inner);
        }
    }

    /// Drops everything (and voids stores of reads in flight).
    pub fn clear(&self) {
        let mut inner = self.write();
        self.generation.fetch_add(1, Ordering::SeqCst);
        inner.clear();
    }

    /// Drops the entries `changes` make stale.
    pub fn apply(&self, changes: &[Change]) {
        if changes.is_empty() {
            return;
        }
        let mut inner = self.write();
        self.generation.fetch_add(1, Ordering::SeqCst);
        for change in changes {
            match change {
                Change::SessionEnded(id) => {
                    inner.sessions.remove(id);
                }
                Change::UserSessionsEnded(user) => {
                    inner.sessions.retain(|_, (fact, _)| !matches!(fact, SessionFact::Live { user_id, .. } if user_id == user));
                    inner.me.remove(user);
                }
                Change::UserChanged(user) => {
                    inner.access.remove(user);
                    inner.me.remove(user);
                }
                Change::AllAccessChanged => {
                    inner.access.clear();
                    inner.me.clear();
                }
                Change::CatalogChanged => inner.catalog = None,
            }
        }
    }

    /// Applies changes made by this process (after their transaction) and, on SQLite, tells the
    /// other processes on the file.
    pub(crate) fn changed_here(&self, changes: &[Change]) {
        if changes.is_empty() {
            return;
        }
        match &self.signal {
            None => self.apply(changes),
            Some(signal) => {
                let next: u64 = rand::random();
                if let Err(e) = signal.file.write_all_at(&next.to_le_bytes(), 0) {
                    tracing::warn!(error = %e, "cannot write the change signal file; other processes will see the change late");
                }
                signal.seen.store(next, Ordering::SeqCst);
                // Everything, not only `changes`: another process may have signalled between
                // our last read of the file and this write, and its signal is now overwritten.
                self.clear();
            }
        }
    }
}

/// Starts the thread that LISTENs on PostgreSQL for as long as `caches` is alive (the pool),
/// reconnecting after a failure; the caches are on only while it listens.
pub(crate) fn spawn_listener(url: String, caches: Weak<Caches>) {
    let spawned = std::thread::Builder::new().name("keel-changes".into()).spawn(move || {
        let mut backoff = Duration::from_millis(100);
        loop {
            match diesel::PgConnection::establish(&url)
                .map_err(|e| e.to_string())
                .and_then(|mut c| diesel::sql_query(format!("LISTEN {CHANNEL}")).execute(&mut c).map(|_| c).map_err(|e| e.to_string()))
            {
                Ok(mut conn) => {
                    {
                        let Some(caches) = caches.upgrade() else { return };
                        // Changes before LISTEN were not received: start empty.
                        caches.clear();
                        caches.enabled.store(true, Ordering::SeqCst);
                    }
                    backoff = Duration::from_millis(100);
                    let error = loop {
                        let Some(c) = caches.upgrade() else { return };
                        let mut failed = None;
                        let mut changes = Vec::new();
                        for n in conn.notifications_iter() {
                            match n {
                                Ok(n) => match Change::decode(&n.payload) {
                                    Some(change) => changes.push(change),
                                    None => c.clear(),
                                },
                                Err(e) => {
                                    failed = Some(e.to_string());
                                    break;
                                }
                            }
                        }
                        c.apply(&changes);
                        if let Some(e) = failed {
                            c.enabled.store(false, Ordering::SeqCst);
                            c.clear();
                            break e;
                        }
                        drop(c);
                        std::thread::sleep(LISTEN_POLL);
                    };
                    tracing::warn!(error = %error, "lost the database change listener; caching is off until it reconnects");
                }
                Err(e) => {
                    if caches.upgrade().is_none() {
                        return;
                    }
                    tracing::warn!(error = %e, "cannot listen for database changes; caching is off");
                }
            }
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the database change listener; caching is off");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_round_trip_through_their_payload() {
        for c in [
            Change::SessionEnded("01a".into()),
            Change::UserSessionsEnded("01b".into()),
            Change::UserChanged("01c".into()),
            Change::AllAccessChanged,
            Change::CatalogChanged,
        ] {
            assert_eq!(Change::decode(&c.encode()), Some(c));
        }
        assert_eq!(Change::decode("x:1"), None);
    }

    #[test]
    fn a_read_that_raced_a_change_is_not_stored() {
        let dir = tempfile::tempdir().unwrap();
        let caches = Caches::for_sqlite(&dir.path().join("k.db").display().to_string());
        let now = Utc::now();
        let later = now + chrono::Duration::minutes(5);
        let before = caches.generation();
        caches.apply(&[Change::SessionEnded("s1".into())]);
        caches.remember_session(before, "s1", Some(("u1".into(), later)));
        assert_eq!(caches.session("s1", now), None);
        let g = caches.generation();
        caches.remember_session(g, "s1", Some(("u1".into(), later)));
        assert_eq!(caches.session("s1", now), Some(true));
        assert_eq!(caches.session("s1", later), Some(false), "expired by then");
        caches.apply(&[Change::UserSessionsEnded("u1".into())]);
        assert_eq!(caches.session("s1", now), None);
    }

    #[test]
    fn another_process_on_the_same_sqlite_file_empties_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.db").display().to_string();
        let (a, b) = (Caches::for_sqlite(&path), Caches::for_sqlite(&path));
        let later = Utc::now() + chrono::Duration::minutes(5);
        b.remember_session(b.generation(), "s1", Some(("u1".into(), later)));
        assert_eq!(b.session("s1", Utc::now()), Some(true));
        a.changed_here(&[Change::SessionEnded("s1".into())]);
        assert_eq!(b.session("s1", Utc::now()), None, "b must read the database again");
    }
}
