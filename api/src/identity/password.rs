//! Password hashing with argon2id (the crate's default parameters: 19 MiB, 2 passes).
//!
//! Every hash and check passes one [`Gate`]: at most one per core at a time, at most two per core
//! waiting, each for at most two seconds; anything beyond answers 503 `busy` with `Retry-After`.
//! Six hundred parallel log-ins (each unknown e-mail spends a dummy check) once took the process
//! to 3.4 GB; with the gate the hashing memory is bounded by the cores (`keel bench login-flood`).

use std::sync::{Condvar, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use crate::error::ApiError;

/// An argon2id hash, ready to store. Hashing takes tens of milliseconds of CPU, so callers make
/// one **before** opening a transaction: inside one (on SQLite, `BEGIN IMMEDIATE`) it would hold
/// the database's write lock for every process meanwhile. Functions that write a password take
/// this type, so a hash cannot be computed inside their transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hashed(String);

impl Hashed {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Bounds concurrent argon2 work: `permits` at once, at most `queue` more waiting, each at most
/// `wait`; the rest are refused at once (503 `busy`). A plain mutex and condition variable: the
/// work runs on blocking threads.
#[derive(Debug)]
pub struct Gate {
    permits: usize,
    queue: usize,
    wait: Duration,
    /// (running, waiting)
    state: Mutex<(usize, usize)>,
    freed: Condvar,
    /// argon2's working memory, one buffer per permit, allocated once and reused: a hash
    /// allocating its own 19 MiB on each blocking thread left glibc arenas holding them.
    memory: Mutex<Vec<Vec<Block>>>,
}

static GATE: OnceLock<Gate> = OnceLock::new();

/// One turn through the [`Gate`], with its working memory; the slot frees when it drops.
#[derive(Debug)]
pub struct Turn<'a>(&'a Gate, Vec<Block>);

impl Turn<'_> {
    /// `n` blocks of working memory (grown once when a stored hash asks for more).
    fn blocks(&mut self, n: usize) -> &mut [Block] {
        if self.1.len() < n {
            self.1.resize(n, Block::default());
        }
        &mut self.1[..n]
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let memory = std::mem::take(&mut self.1);
        self.0.memory.lock().unwrap_or_else(PoisonError::into_inner).push(memory);
        self.0.state.lock().unwrap_or_else(PoisonError::into_inner).0 -= 1;
        self.0.freed.notify_one();
    }
}

impl Gate {
    pub fn new(permits: usize, queue: usize, wait: Duration) -> Gate {
        Gate { permits: permits.max(1), queue, wait, state: Mutex::new((0, 0)), freed: Condvar::new(), memory: Mutex::new(Vec::new()) }
    }

    /// The process's gate: one permit per core, two waiting per core, two seconds.
    pub fn global() -> &'static Gate {
        GATE.get_or_init(|| {
            let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
            Gate::new(cores, 2 * cores, Duration::from_secs(2))
        })
    }

    /// Replaces the process's gate before its first use (false when it is already in use). The
    /// integration suite runs many apps in one process at once and gives them a patient gate, so
    /// one test's flood does not answer another's sign-up 503; `keel bench login-flood` measures
    /// the real one.
    pub fn set_global(gate: Gate) -> bool {
        GATE.set(gate).is_ok()
    }

    /// Waits for a turn (boundedly), or answers `busy`.
    pub fn enter(&self) -> Result<Turn<'_>, ApiError> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.0 < self.permits && state.1 == 0 {
            state.0 += 1;
            drop(state);
            return Ok(self.turn());
        }
        if state.1 >= self.queue {
            return Err(busy());
        }
        state.1 += 1;
        let (mut state, _) =
            self.freed.wait_timeout_while(state, self.wait, |s| s.0 >= self.permits).unwrap_or_else(PoisonError::into_inner);
        state.1 -= 1;
        if state.0 >= self.permits {
            return Err(busy());
        }
        state.0 += 1;
        drop(state);
        Ok(self.turn())
    }

    fn turn(&self) -> Turn<'_> {
        let memory = self.memory.lock().unwrap_or_else(PoisonError::into_inner).pop().unwrap_or_default();
        Turn(self, memory)
    }

    /// True when a request would be refused at once (every permit taken, the queue full): a
    /// route checks it before taking a database connection.
    pub fn saturated(&self) -> bool {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.0 >= self.permits && state.1 >= self.queue
    }
}

fn busy() -> ApiError {
    ApiError::Busy("too many sign-ins at once; try again in a moment".into())
}

pub fn hash(password: &str) -> Result<Hashed, ApiError> {
    let mut turn = Gate::global().enter()?;
    let salt = SaltString::generate(&mut OsRng);
    compute(&mut turn, password.as_bytes(), Algorithm::default(), Version::default(), Params::default(), salt.as_salt())
        .map(|h| Hashed(h.to_string()))
        .map_err(|e| ApiError::internal(format!("argon2: {e}")))
}

/// Checks a password against a stored hash. An unparsable hash never matches. `Err` only when
/// the server is too busy to check (503).
pub fn verify(password: &str, stored: &str) -> Result<bool, ApiError> {
    let Ok(parsed) = PasswordHash::new(stored) else { return Ok(false) };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else { return Ok(false) };
    let (Ok(algorithm), Ok(params)) = (Algorithm::try_from(parsed.algorithm), Params::try_from(&parsed)) else { return Ok(false) };
    let Ok(version) = parsed.version.map(Version::try_from).transpose().map(Option::unwrap_or_default) else { return Ok(false) };
    let mut turn = Gate::global().enter()?;
    // `Output`'s equality is constant-time.
    Ok(compute(&mut turn, password.as_bytes(), algorithm, version, params, salt).is_ok_and(|h| h.hash == Some(expected)))
}

/// argon2 in the turn's reused working memory; the same PHC string `Argon2::hash_password` makes.
fn compute<'a>(
    turn: &mut Turn<'_>,
    password: &[u8],
    algorithm: Algorithm,
    version: Version,
    params: Params,
    salt: Salt<'a>,
) -> Result<PasswordHash<'a>, argon2::password_hash::Error> {
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes)?;
    let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let argon = Argon2::new(algorithm, version, params.clone());
    let blocks = turn.blocks(params.block_count());
    let output = Output::init_with(output_len, |out| Ok(argon.hash_password_into_with_memory(password, salt_bytes, out, &mut *blocks)?))?;
    Ok(PasswordHash {
        algorithm: algorithm.ident(),
        version: Some(version.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(salt),
        hash: Some(output),
    })
}

/// Spends the same work as a real check, for logins with an unknown e-mail.
pub fn verify_dummy(password: &str) -> Result<(), ApiError> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let stored = match DUMMY.get() {
        Some(s) => s,
        None => {
            let h = hash("dummy password for timing")?.0;
            DUMMY.get_or_init(|| h)
        }
    };
    verify(password, stored).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let h = hash("correct horse battery").expect("hash");
        assert!(h.as_str().starts_with("$argon2id$"));
        assert!(verify("correct horse battery", h.as_str()).expect("not busy"));
        assert!(!verify("wrong horse battery", h.as_str()).expect("not busy"));
        assert!(!verify("anything", "not a hash").expect("not busy"));
        // Hashes made by the argon2 crate itself (as stored before) still verify, and ours match its format.
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default().hash_password(b"correct horse battery", &salt).expect("hash").to_string();
        assert!(verify("correct horse battery", &theirs).expect("not busy"));
        assert!(!verify("correct horse batterY", &theirs).expect("not busy"));
        let ours = PasswordHash::new(h.as_str()).expect("PHC string");
        Argon2::default().verify_password(b"correct horse battery", &ours).expect("the crate verifies ours");
        // Other parameters (a stored hash from a cheaper setting) verify too.
        let cheap = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(8, 1, 1, None).unwrap());
        let cheap = cheap.hash_password(b"pw-pw-pw-pw", &salt).expect("hash").to_string();
        assert!(verify("pw-pw-pw-pw", &cheap).expect("not busy"));
    }

    #[test]
    fn the_gate_bounds_running_and_waiting_work() {
        let gate = Gate::new(1, 1, Duration::from_millis(300));
        let first = gate.enter().expect("a free permit");
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| gate.enter().map(|_| ()));
            while gate.state.lock().unwrap().1 == 0 {
                std::thread::yield_now();
            }
            assert!(gate.saturated());
            // The queue is full: refused at once.
            assert_eq!(gate.enter().expect_err("queue full").code(), "busy");
            // The waiter gives up after its wait.
            assert_eq!(waiter.join().unwrap().expect_err("timed out").code(), "busy");
            let waiter = scope.spawn(|| gate.enter().map(|_| ()));
            while gate.state.lock().unwrap().1 == 0 {
                std::thread::yield_now();
            }
            drop(first);
            waiter.join().unwrap().expect("a freed permit goes to the waiter");
        });
        assert_eq!(*gate.state.lock().unwrap(), (0, 0));
    }
}
