//! The automation engine over real databases: the transactional queue, leases, retries, the
//! scheduler across processes, and e-mail delivered to a real SMTP server on loopback.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration as StdDuration, Instant};

use crate::support::{a_client, TestApp};
use actix_web::http::StatusCode;
use chrono::Duration;
use diesel::prelude::*;
use keel_api::automation::queue::{self, NewJob};
use keel_api::automation::scheduler;
use keel_api::clock::Clock;
use keel_api::db::{Backend, DbConn};
use keel_api::notifications::outbox::{self, Category, Outgoing};
use keel_api::schema::{emails, jobs, task_runs};
use serde_json::json;

fn job_states(conn: &mut DbConn) -> Vec<(String, String, i32)> {
    jobs::table.select((jobs::kind, jobs::state, jobs::attempts)).order(jobs::created_at).load(conn).unwrap()
}

both_backends!(enqueue_joins_the_callers_transaction, |app: TestApp| async move {
    let now = app.clock.now();
    let mut conn = app.conn();
    diesel::delete(jobs::table).execute(&mut conn).unwrap();
    let rolled_back: Result<(), diesel::result::Error> = conn.transaction(|c| {
        queue::enqueue(c, now, &NewJob::new("noop", json!({}))).unwrap();
        Err(diesel::result::Error::RollbackTransaction)
    });
    assert!(rolled_back.is_err());
    assert_eq!(jobs::table.count().get_result::<i64>(&mut conn).unwrap(), 0, "rolled back: no job");
    conn.transaction(|c| queue::enqueue(c, now, &NewJob::new("noop", json!({}))).map(|_| ())).unwrap();
    drop(conn);
    assert_eq!(app.drain(), 1);
    assert_eq!(app.drain(), 0);
    assert_eq!(job_states(&mut app.conn()), [("noop".to_string(), "succeeded".to_string(), 1)]);
});

both_backends!(a_unique_key_enqueues_once, |app: TestApp| async move {
    let now = app.clock.now();
    let mut conn = app.conn();
    let job = NewJob::new("noop", json!({})).unique("invoice:1:reminder");
    assert!(queue::enqueue(&mut conn, now, &job).unwrap().is_some());
    assert!(queue::enqueue(&mut conn, now, &job).unwrap().is_none());
    let n: i64 = jobs::table.filter(jobs::unique_key.eq("invoice:1:reminder")).count().get_result(&mut conn).unwrap();
    assert_eq!(n, 1);
});

both_backends!(failures_back_off_then_die_and_admins_retry_or_delete, |app: TestApp| async move {
    let now = app.clock.now();
    let id =
        queue::enqueue(&mut app.conn(), now, &NewJob::new("noop", json!({"fail": "registrar said no"})).max_attempts(3)).unwrap().unwrap();
    assert_eq!(app.drain(), 1);
    let row = queue::find(&mut app.conn(), &id).unwrap();
    assert_eq!((row.state.as_str(), row.attempts), ("failed", 1));
    assert_eq!(row.last_error.as_deref(), Some("registrar said no"));
    let wait = row.run_at.and_utc() - now;
    assert!(wait >= Duration::seconds(10) && wait <= Duration::seconds(15), "first backoff {wait}");
    assert_eq!(app.drain(), 0, "not before its run_at");
    app.clock.advance(Duration::seconds(16));
    assert_eq!(app.drain(), 1);
    let wait = queue::find(&mut app.conn(), &id).unwrap().run_at.and_utc() - app.clock.now();
    assert!(wait >= Duration::seconds(20) && wait <= Duration::seconds(30), "second backoff {wait}");
    app.clock.advance(Duration::seconds(31));
    app.drain();
    assert_eq!(queue::find(&mut app.conn(), &id).unwrap().state.as_str(), "dead");

    let admin = app.admin_token().await;
    let client = a_client().email("nosy@example.com").create(&app).await.token;
    app.get("/api/v1/admin/jobs", Some(&client)).await.problem(403);
    let res = app.get("/api/v1/admin/jobs?state=dead", Some(&admin)).await;
    assert_eq!(res.body["total"], 1, "{}", res.text);
    assert_eq!(res.body["items"][0]["last_error"], "registrar said no");
    let res = app.post_authed(&format!("/api/v1/admin/jobs/{id}/retry"), &admin).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!((res.body["state"].as_str(), res.body["attempts"].as_i64()), (Some("queued"), Some(0)));
    app.post_authed(&format!("/api/v1/admin/jobs/{id}/retry"), &admin).await.problem(409);
    assert_eq!(app.delete_authed(&format!("/api/v1/admin/jobs/{id}"), &admin).await.status, StatusCode::NO_CONTENT);
    app.delete_authed(&format!("/api/v1/admin/jobs/{id}"), &admin).await.problem(404);
    app.get("/api/v1/admin/jobs?state=bogus", Some(&admin)).await.problem(422);
});

both_backends!(a_permanent_failure_or_a_malformed_payload_is_dead_at_once, |app: TestApp| async move {
    let now = app.clock.now();
    let permanent = NewJob::new("noop", json!({"fail": "domain is not registrable", "permanent": true})).max_attempts(10);
    let permanent = queue::enqueue(&mut app.conn(), now, &permanent).unwrap().unwrap();
    // A payload its kind cannot parse can never succeed either.
    let malformed = queue::enqueue(&mut app.conn(), now, &NewJob::new("email.send", json!({"email": 42}))).unwrap().unwrap();
    assert_eq!(app.drain(), 2);
    let row = queue::find(&mut app.conn(), &permanent).unwrap();
    assert_eq!((row.state.as_str(), row.attempts, row.last_error.as_deref()), ("dead", 1, Some("domain is not registrable")));
    let row = queue::find(&mut app.conn(), &malformed).unwrap();
    assert_eq!((row.state.as_str(), row.attempts), ("dead", 1));
    assert!(row.last_error.unwrap().contains("payload of 'email.send' job"));
});

both_backends!(a_lapsed_lease_lets_another_worker_take_the_job, |app: TestApp| async move {
    let now = app.clock.now();
    let mut conn = app.conn();
    diesel::delete(jobs::table).execute(&mut conn).unwrap();
    let id = queue::enqueue(&mut conn, now, &NewJob::new("noop", json!({}))).unwrap().unwrap();
    let a = queue::claim(&mut conn, now, "default", "worker-a", Duration::seconds(30), 10).unwrap();
    assert_eq!(a.len(), 1);
    assert!(queue::claim(&mut conn, now, "default", "worker-b", Duration::seconds(30), 10).unwrap().is_empty(), "leased");
    let later = now + Duration::seconds(31);
    let b = queue::claim(&mut conn, later, "default", "worker-b", Duration::seconds(30), 10).unwrap();
    assert_eq!((b.len(), b[0].attempts), (1, 2));
    assert_eq!(queue::complete(&mut conn, later, "worker-a", std::slice::from_ref(&id)).unwrap(), 0, "a lost its lease");
    assert_eq!(queue::complete(&mut conn, later, "worker-b", std::slice::from_ref(&id)).unwrap(), 1);
});

both_backends!(three_schedulers_for_a_week_run_each_daily_task_seven_times, |app: TestApp| async move {
    let start = app.clock.now().date_naive().and_hms_opt(0, 0, 0).unwrap().and_utc();
    let mut conn = app.conn();
    diesel::delete(task_runs::table).execute(&mut conn).unwrap();
    diesel::delete(jobs::table).execute(&mut conn).unwrap();
    diesel::update(keel_api::schema::scheduled_tasks::table)
        .set(keel_api::schema::scheduled_tasks::created_at.eq(keel_api::db::now_micros(start)))
        .execute(&mut conn)
        .unwrap();
    drop(conn);
    let url = app.state.config.database_url.clone();
    let barrier = Arc::new(Barrier::new(3));
    let started = Arc::new(Mutex::new(0usize));
    let threads: Vec<_> = (0..3)
        .map(|_| {
            // Each "process" has its own pool.
            let pool = keel_api::db::connect(&url, 2).unwrap();
            let (barrier, started) = (barrier.clone(), started.clone());
            std::thread::spawn(move || {
                for hour in 0..(7 * 24) {
                    barrier.wait();
                    let now = start + Duration::hours(hour) + Duration::seconds(5);
                    let mut c = pool.get().unwrap();
                    let n = scheduler::tick(&mut c, now).unwrap().len();
                    *started.lock().unwrap() += n;
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut conn = app.conn();
    let daily: i64 = task_runs::table.filter(task_runs::task.eq("housekeeping")).count().get_result(&mut conn).unwrap();
    assert_eq!(daily, 7, "the daily task ran once a day");
    let hourly: i64 = task_runs::table.filter(task_runs::task.eq("email.retry_failed")).count().get_result(&mut conn).unwrap();
    assert_eq!(hourly, 7 * 24 - 1, "the hourly task ran once an hour (the first tick is before 00:15)");
    let identity: i64 = task_runs::table.filter(task_runs::task.eq("identity.housekeeping")).count().get_result(&mut conn).unwrap();
    assert_eq!(identity, 7, "the accounts domain's daily task too");
    let commerce: i64 = task_runs::table.filter(task_runs::task.eq("commerce.housekeeping")).count().get_result(&mut conn).unwrap();
    assert_eq!(commerce, 7, "and the commerce domain's");
    let rates: i64 = task_runs::table.filter(task_runs::task.eq("commerce.refresh_rates")).count().get_result(&mut conn).unwrap();
    assert_eq!(rates, 5, "the rates on working days");
    let billing: i64 = task_runs::table.filter(task_runs::task.eq("billing.daily")).count().get_result(&mut conn).unwrap();
    assert_eq!(billing, 7, "and billing's");
    let provisioning: i64 = task_runs::table.filter(task_runs::task.eq("provisioning.daily")).count().get_result(&mut conn).unwrap();
    assert_eq!(provisioning, 7, "and provisioning's");
    let renewals: i64 = task_runs::table.filter(task_runs::task.eq("provisioning.renewals")).count().get_result(&mut conn).unwrap();
    assert_eq!(renewals, 7, "and the renewal invoicing");
    let charges: i64 = task_runs::table.filter(task_runs::task.eq("payments.charge_renewals")).count().get_result(&mut conn).unwrap();
    assert_eq!(charges, 7, "and the renewals' card charges");
    // Every five minutes, ticked hourly: one run per tick (a missed period runs once).
    let health: i64 = task_runs::table.filter(task_runs::task.eq("provisioning.health")).count().get_result(&mut conn).unwrap();
    assert_eq!(health, 7 * 24, "the health check once a tick (00:00 is due at the first)");
    let jobs_made: i64 = jobs::table.count().get_result(&mut conn).unwrap();
    assert_eq!(jobs_made as usize, *started.lock().unwrap(), "one job per run, no more");
    assert_eq!(jobs_made, daily + identity + commerce + rates + billing + hourly + provisioning + renewals + charges + health);
});

both_backends!(a_missed_period_runs_once_on_return, |app: TestApp| async move {
    let mut conn = app.conn();
    diesel::delete(task_runs::table).execute(&mut conn).unwrap();
    // Down for five days: one housekeeping run when it comes back, not five.
    let back = app.clock.now() + Duration::days(5);
    let started = scheduler::tick(&mut conn, back).unwrap();
    assert_eq!(started.iter().filter(|d| d.task == "housekeeping").count(), 1);
    assert!(scheduler::tick(&mut conn, back).unwrap().is_empty());
    assert!(scheduler::preview(&mut conn, back).unwrap().is_empty());
});

both_backends!(tasks_are_listed_and_rescheduled_by_admins, |app: TestApp| async move {
    let admin = app.admin_token().await;
    let res = app.get("/api/v1/admin/tasks", Some(&admin)).await;
    let names: Vec<&str> = res.body.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "billing.daily",
            "commerce.housekeeping",
            "commerce.refresh_rates",
            "email.retry_failed",
            "housekeeping",
            "identity.housekeeping",
            "payments.charge_renewals",
            "provisioning.daily",
            "provisioning.health",
            "provisioning.renewals"
        ]
    );
    assert!(res.body[4]["next_run_at"].is_string());
    let res = app.put_json("/api/v1/admin/tasks/housekeeping", &admin, json!({"cron": "30 4 * * 0", "enabled": true})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["cron"], "30 4 * * 0");
    let res = app.put_json("/api/v1/admin/tasks/housekeeping", &admin, json!({"cron": "99 * * * *", "enabled": true})).await;
    assert!(res.problem(422)["errors"]["cron"].is_array());
    app.put_json("/api/v1/admin/tasks/nope", &admin, json!({"cron": "0 0 * * *", "enabled": true})).await.problem(404);
});

/// A small real SMTP server (RFC 5321 subset: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) that
/// records what it receives.
#[derive(Clone, Default)]
struct Received {
    mails: Arc<Mutex<Vec<(Vec<String>, String)>>>,
}

fn smtp_server() -> (u16, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Received::default();
    let store = received.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let store = store.clone();
            std::thread::spawn(move || {
                let mut out = stream.try_clone().unwrap();
                let mut lines = BufReader::new(stream);
                let mut rcpt = Vec::new();
                let _ = out.write_all(b"220 keel-test ESMTP\r\n");
                let mut line = String::new();
                while lines.read_line(&mut line).unwrap_or(0) > 0 {
                    let cmd = line.trim_end().to_string();
                    line.clear();
                    let upper = cmd.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") {
                        b"250-keel-test\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        rcpt.push(cmd[8..].trim().trim_matches(['<', '>']).to_string());
                        b"250 OK\r\n"
                    } else if upper == "DATA" {
                        let _ = out.write_all(b"354 go ahead\r\n");
                        let mut data = String::new();
                        loop {
                            let mut l = String::new();
                            if lines.read_line(&mut l).unwrap_or(0) == 0 || l == ".\r\n" {
                                break;
                            }
                            data.push_str(&l);
                        }
                        store.mails.lock().unwrap().push((std::mem::take(&mut rcpt), data));
                        b"250 queued\r\n"
                    } else if upper == "QUIT" {
                        let _ = out.write_all(b"221 bye\r\n");
                        break;
                    } else {
                        b"250 OK\r\n"
                    };
                    let _ = out.write_all(reply);
                }
            });
        }
    });
    (port, received)
}

both_backends!(welcome_email_reaches_a_real_smtp_server, |app: TestApp| async move {
    let (port, received) = smtp_server();
    let app = TestApp::new_with(app.state.pool.get().unwrap().backend(), |c| c.smtp_url = Some(format!("smtp://127.0.0.1:{port}")))
        .await
        .unwrap();
    let token = a_client().email("ann@example.com").create(&app).await.token;
    // Nothing is sent before a worker runs.
    assert!(received.mails.lock().unwrap().is_empty());
    app.drain();
    let mails = received.mails.lock().unwrap().clone();
    assert_eq!(mails.len(), 1);
    let (rcpt, data) = &mails[0];
    assert_eq!(rcpt, &["ann@example.com"]);
    assert!(data.contains("Subject: Welcome to Keel Hosting, Ann"), "{data}");
    assert!(data.contains("multipart/alternative"));
    assert!(data.contains("Content-Type: text/plain") && data.contains("Content-Type: text/html"));
    assert!(data.contains("Welcome to Keel Hosting! Your account is ready."));
    // Sent once, even if the job ran again.
    app.drain();
    assert_eq!(received.mails.lock().unwrap().len(), 1);
    let res = app.get("/api/v1/me/emails", Some(&token)).await;
    assert_eq!(res.body["total"], 1);
    assert_eq!(res.body["items"][0]["status"], "sent");
    let admin = app.admin_token().await;
    let res = app.get("/api/v1/admin/emails", Some(&admin)).await;
    let id = res.body["items"][0]["id"].as_str().unwrap().to_string();
    let res = app.get(&format!("/api/v1/admin/emails/{id}"), Some(&admin)).await;
    assert!(res.body["body_html"].as_str().unwrap().contains("<p>Hi Ann,</p>"));
    // Another client's history does not include it.
    let other = a_client().email("bob@example.com").create(&app).await.token;
    let res = app.get("/api/v1/me/emails", Some(&other)).await;
    assert_eq!(res.body["items"][0]["to"], "bob@example.com");
    assert_eq!(res.body["total"], 1);
});

both_backends!(without_smtp_mail_is_written_as_eml_files, |app: TestApp| async move {
    a_client().email("files@example.com").create(&app).await;
    app.drain();
    let dir = app.state.config.data_dir.join("mail");
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1);
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(text.contains("To: files@example.com"));
});

both_backends!(an_smtp_outage_retries_then_delivers, |app: TestApp| async move {
    // Nothing listens on this port yet.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = TestApp::new_with(app.state.pool.get().unwrap().backend(), |c| c.smtp_url = Some(format!("smtp://127.0.0.1:{port}")))
        .await
        .unwrap();
    a_client().email("later@example.com").create(&app).await;
    app.drain();
    let status: String = emails::table.select(emails::status).first(&mut app.conn()).unwrap();
    assert_eq!(status, "failed");
    let (kind, state, attempts) = job_states(&mut app.conn()).into_iter().find(|j| j.0 == "email.send").unwrap();
    assert_eq!((kind.as_str(), state.as_str(), attempts), ("email.send", "failed", 1));
});

both_backends!(rate_limit_defers_without_spending_attempts, |app: TestApp| async move {
    let (port, received) = smtp_server();
    let app = TestApp::new_with(app.state.pool.get().unwrap().backend(), |c| {
        c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        c.mail_rate_per_minute = 2;
    })
    .await
    .unwrap();
    for i in 0..3 {
        a_client().email(&format!("r{i}@example.com")).create(&app).await;
    }
    app.drain();
    assert_eq!(received.mails.lock().unwrap().len(), 2);
    let waiting: Vec<(String, i32)> =
        jobs::table.filter(jobs::state.eq("queued")).select((jobs::kind, jobs::attempts)).load(&mut app.conn()).unwrap();
    assert_eq!(waiting, [("email.send".to_string(), 0)]);
    app.clock.advance(Duration::seconds(61));
    app.drain();
    assert_eq!(received.mails.lock().unwrap().len(), 3);
});

both_backends!(admins_edit_templates_and_new_mail_uses_them, |app: TestApp| async move {
    let admin = app.admin_token().await;
    let res = app.get("/api/v1/admin/email-templates", Some(&admin)).await;
    assert!(res.body.as_array().unwrap().len() >= 22);
    let res = app
        .put_json("/api/v1/admin/email-templates/welcome", &admin, json!({"subject": "Hey {{ first_name }}!", "body_text": "Glad you are here, {{ first_name }}.", "body_html": "<p>Glad, {{ first_name }}</p>"}))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["customized"], true);
    let res = app
        .put_json(
            "/api/v1/admin/email-templates/welcome",
            &admin,
            json!({"subject": "Hey {{ first_name", "body_text": "x", "body_html": "y"}),
        )
        .await;
    assert!(res.problem(422)["errors"]["subject"].is_array());
    app.put_json("/api/v1/admin/email-templates/nope", &admin, json!({"subject": "a", "body_text": "b", "body_html": "c"}))
        .await
        .problem(404);
    a_client().email("tpl@example.com").create(&app).await;
    let subject: String =
        emails::table.filter(emails::to_addr.eq("tpl@example.com")).select(emails::subject).first(&mut app.conn()).unwrap();
    assert_eq!(subject, "Hey Ann!");
    let res = app.delete_authed("/api/v1/admin/email-templates/welcome", &admin).await;
    assert_eq!(res.body["customized"], false);
});

both_backends!(unsubscribed_addresses_get_no_marketing_mail, |app: TestApp| async move {
    let mail = app.state.mail();
    let now = app.clock.now();
    let token = outbox::unsubscribe_token(&mail.unsubscribe_key, "promo@example.com");
    let res = app.get(&format!("/api/v1/email/unsubscribe?email=promo%40example.com&token={}", "0".repeat(64)), None).await;
    assert!(res.problem(422)["errors"]["token"].is_array());
    let res = app.get(&format!("/api/v1/email/unsubscribe?email=promo%40example.com&token={token}"), None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let mut conn = app.conn();
    let vars = json!({"first_name": "P"});
    let promo = |conn: &mut DbConn, category| {
        outbox::queue_email(
            conn,
            now,
            &mail,
            Outgoing { to: "promo@example.com", user_id: None, template: "welcome", category, vars: &vars },
        )
        .unwrap()
    };
    let marketing = promo(&mut conn, Category::Marketing);
    let transactional = promo(&mut conn, Category::Transactional);
    assert_eq!(outbox::find(&mut conn, &marketing).unwrap().status.as_str(), "suppressed");
    assert_eq!(outbox::find(&mut conn, &transactional).unwrap().status.as_str(), "queued");
});

fn spawn_worker(app: &TestApp, lease_secs: u32) -> Child {
    Command::new(env!("CARGO_BIN_EXE_keel"))
        .arg("worker")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", app.database_url())
        .env("KEEL_DATA_DIR", app.state.config.data_dir.clone())
        .env("KEEL_SECRET_KEY", app.state.config.secret_key.clone().unwrap())
        .env("KEEL_WORKERS", "2")
        .env("KEEL_JOB_LEASE_SECS", lease_secs.to_string())
        .env("KEEL_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn wait_until(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < StdDuration::from_secs(secs), "timed out waiting for {what}");
        std::thread::sleep(StdDuration::from_millis(100));
    }
}

fn count_state(app: &TestApp, state: &str) -> i64 {
    jobs::table.filter(jobs::kind.eq("noop")).filter(jobs::state.eq(state)).count().get_result(&mut app.conn()).unwrap()
}

/// Two `keel worker` processes drain 1,000 jobs; each runs exactly once.
#[actix_web::test]
async fn two_worker_processes_run_each_job_exactly_once() {
    let Some(app) = TestApp::new_with(Backend::Postgres, |_| {}).await else { return };
    let now = chrono::Utc::now();
    let batch: Vec<NewJob> = (0..1000).map(|_| NewJob::new("noop", json!({})).at(now)).collect();
    queue::enqueue_many(&mut app.conn(), now, &batch).unwrap();
    let mut a = spawn_worker(&app, 300);
    let mut b = spawn_worker(&app, 300);
    wait_until("1,000 jobs", 120, || count_state(&app, "succeeded") == 1000);
    let _ = (a.kill(), b.kill(), a.wait(), b.wait());
    let attempts: Vec<i32> = jobs::table.filter(jobs::kind.eq("noop")).select(jobs::attempts).load(&mut app.conn()).unwrap();
    assert_eq!(attempts.len(), 1000);
    assert!(attempts.iter().all(|a| *a == 1), "a job was claimed twice");
    // Only the noop jobs: the worker processes run the scheduler on the real clock (the app was set up
    // at a fixed past date), so the shipped tasks' jobs are due too and may be mid-run at the kill.
    let owners: i64 =
        jobs::table.filter(jobs::kind.eq("noop")).filter(jobs::lease_owner.is_not_null()).count().get_result(&mut app.conn()).unwrap();
    assert_eq!(owners, 0, "a finished job kept its lease");
}

/// A worker killed with SIGKILL mid-job: after the lease lapses another worker completes it once.
fn killed_worker(backend: Backend) {
    let rt = actix_web::rt::System::new();
    let Some(app) = rt.block_on(TestApp::new_with(backend, |_| {})) else { return };
    let id = queue::enqueue(&mut app.conn(), chrono::Utc::now(), &NewJob::new("noop", json!({"sleep_ms": 4000}))).unwrap().unwrap();
    let mut first = spawn_worker(&app, 2);
    wait_until("the job to start", 30, || queue::find(&mut app.conn(), &id).unwrap().state.as_str() == "running");
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    let mut second = spawn_worker(&app, 2);
    wait_until("the job to finish elsewhere", 60, || queue::find(&mut app.conn(), &id).unwrap().state.as_str() == "succeeded");
    let _ = (second.kill(), second.wait());
    let job = queue::find(&mut app.conn(), &id).unwrap();
    assert_eq!(job.attempts, 2, "ran once more after the kill, and only once");
}

#[test]
fn sigkilled_worker_job_completes_once_sqlite() {
    killed_worker(Backend::Sqlite);
}

#[test]
fn sigkilled_worker_job_completes_once_postgres() {
    killed_worker(Backend::Postgres);
}
