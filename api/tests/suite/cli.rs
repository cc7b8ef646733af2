//! The `keel` binary as a person runs it: first start prints the admin password once, a restart
//! keeps the data and prints none, and a bad setting stops start-up with one line naming it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn keel() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_keel"));
    c.env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).env("KEEL_LOG", "warn");
    c
}

/// Starts `keel serve` on port 0, returns its stdout lines up to the "running" line, then stops it.
fn start_and_stop(data: &std::path::Path) -> Vec<String> {
    let mut child = keel()
        .env("KEEL_DATA_DIR", data)
        .env("KEEL_BIND", "127.0.0.1:0")
        .env("KEEL_WEB_DIR", data.join("no-dist"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = Vec::new();
    let reader = BufReader::new(child.stdout.take().unwrap());
    let start = Instant::now();
    for line in reader.lines() {
        let line = line.unwrap();
        let done = line.contains("Keel is running at");
        lines.push(line);
        if done || start.elapsed() > Duration::from_secs(60) {
            break;
        }
    }
    // SIGTERM: graceful shutdown.
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let status = child.wait().unwrap();
    assert!(lines.iter().any(|l| l.contains("Keel is running at")), "{lines:?}");
    assert!(status.success() || status.code().is_none(), "exit: {status:?}");
    lines
}

#[test]
fn first_start_prints_the_admin_password_once() {
    let data = tempfile::tempdir().unwrap();
    let first = start_and_stop(data.path());
    assert!(first.iter().any(|l| l.contains("e-mail:   admin@keel.local")), "{first:?}");
    let pw_line = first.iter().find(|l| l.contains("password:")).unwrap();
    let password = pw_line.split_whitespace().nth(1).unwrap();
    assert_eq!(password.len(), 20);
    assert!(data.path().join("keel.db").exists());
    assert!(data.path().join("secret.key").exists());

    let second = start_and_stop(data.path());
    assert!(!second.iter().any(|l| l.contains("password")), "{second:?}");
}

#[test]
fn bad_settings_stop_start_up_naming_the_variable() {
    for (var, value) in [("KEEL_BIND", "not-an-address"), ("DATABASE_URL", "mysql://x/y"), ("KEEL_ADMIN_EMAIL", "nope")] {
        let out = keel().env(var, value).env("KEEL_DATA_DIR", "/nonexistent/should-not-be-created").output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{var}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with(&format!("keel: {var}")), "{err}");
    }
}

#[test]
fn unreachable_postgres_is_one_clear_line() {
    let out = keel().env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none").arg("migrate").output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("DATABASE_URL") && err.contains("postgres"), "{err}");
}

#[test]
fn openapi_subcommand_prints_the_committed_spec() {
    let out = keel().arg("openapi").output().unwrap();
    assert!(out.status.success());
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/openapi.json")).unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), committed);
}

#[test]
fn create_admin_then_log_in() {
    let data = tempfile::tempdir().unwrap();
    let out = keel()
        .env("KEEL_DATA_DIR", data.path())
        .args(["create-admin", "--email", "ops@example.com", "--password", "ops password 1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let again = keel().env("KEEL_DATA_DIR", data.path()).args(["create-admin", "--email", "OPS@example.com"]).output().unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}

#[test]
fn automation_run_previews_then_runs_as_of_a_date() {
    let data = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = keel().env("KEEL_DATA_DIR", data.path()).args(args).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // The tasks exist from first start; as of a later date the daily one is due.
    run(&["migrate"]);
    run(&["automation", "run", "--as-of", "2026-01-01", "--dry-run"]);
    let preview = run(&["automation", "run", "--as-of", "2099-06-15", "--dry-run"]);
    assert!(preview.contains("would start task housekeeping (period 2099-06-15T03:00:00+00:00)"), "{preview}");
    assert!(preview.contains("dry run"), "{preview}");
    // Nothing changed: the same preview again.
    assert_eq!(run(&["automation", "run", "--as-of", "2099-06-15", "--dry-run"]), preview);
    let ran = run(&["automation", "run", "--as-of", "2099-06-15"]);
    assert!(ran.contains("started task housekeeping"), "{ran}");
    assert!(ran.contains("job(s) run"), "{ran}");
    let again = run(&["automation", "run", "--as-of", "2099-06-15"]);
    assert!(again.contains("0 task(s) started"), "{again}");
    let bad = keel().env("KEEL_DATA_DIR", data.path()).args(["automation", "run", "--as-of", "soon"]).output().unwrap();
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--as-of"));
}

/// Three `keel automation run` processes started together each simulated day for a week: the
/// daily task starts exactly once per day, whichever process wins.
#[test]
fn three_processes_for_a_week_start_the_daily_task_seven_times() {
    let data = tempfile::tempdir().unwrap();
    let status = keel().env("KEEL_DATA_DIR", data.path()).arg("migrate").status().unwrap();
    assert!(status.success());
    let mut started = 0;
    for day in 1..=7 {
        let as_of = format!("2099-03-{:02}T03:30:00Z", day);
        let procs: Vec<_> = (0..3)
            .map(|_| {
                keel()
                    .env("KEEL_DATA_DIR", data.path())
                    .args(["automation", "run", "--as-of", &as_of])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for p in procs {
            let out = p.wait_with_output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            started += String::from_utf8_lossy(&out.stdout).matches("started task housekeeping").count();
        }
    }
    assert_eq!(started, 7);
}

/// Six hundred parallel log-ins for unknown e-mails (each a dummy argon2id check, 19 MiB) through
/// the app in one process, on each database: every answer is 401, 429 or 503 (`busy`, the
/// hashing gate), none lost, and the process stays under 300 MB (it reached 3.4 GB before).
#[test]
fn a_login_flood_is_answered_within_bounded_memory() {
    for backend in [keel_api::db::Backend::Sqlite, keel_api::db::Backend::Postgres] {
        let Some((db, url)) = crate::support::fresh_db(backend) else { continue };
        let url = match backend {
            keel_api::db::Backend::Sqlite => format!("sqlite://{}", url.target),
            keel_api::db::Backend::Postgres => url.target.clone(),
        };
        let out = keel()
            .env("KEEL_DATA_DIR", db.dir())
            .env("DATABASE_URL", &url)
            .args(["bench", "login-flood", "--parallel", "600"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{}: {text}\n{}", backend.name(), String::from_utf8_lossy(&out.stderr));
        let answers = text.lines().find(|l| l.contains("answers in")).unwrap_or_else(|| panic!("{text}"));
        let mut total = 0;
        for pair in answers.split(": ").nth(1).unwrap().split_whitespace() {
            let (status, n) = pair.split_once('=').unwrap();
            assert!(["401", "429", "503"].contains(&status), "{}: {answers}", backend.name());
            total += n.parse::<usize>().unwrap();
        }
        assert_eq!(total, 600, "{answers}");
        let peak = text.split("rss_peak=").nth(1).and_then(|r| r.split("MiB").next()).and_then(|n| n.parse::<f64>().ok()).unwrap();
        assert!(peak < 300.0, "{}: peak RSS {peak} MiB\n{text}", backend.name());
        println!("{}: {text}", backend.name());
    }
}
