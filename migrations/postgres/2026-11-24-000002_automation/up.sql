-- Automation engine: the job queue, the scheduler's tasks and runs, and the e-mail outbox.
-- Keep in step with the other backend's tree (PostgreSQL).

CREATE TABLE jobs (
    id               TEXT PRIMARY KEY NOT NULL,
    kind             TEXT NOT NULL,
    payload          TEXT NOT NULL,               -- JSON
    queue            TEXT NOT NULL DEFAULT 'default',
    state            TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'dead')),
    run_at           TIMESTAMP NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL DEFAULT 10,
    last_error       TEXT,
    lease_owner      TEXT,
    lease_expires_at TIMESTAMP,
    unique_key       TEXT UNIQUE,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    finished_at      TIMESTAMP
);
-- What workers scan: runnable jobs in run_at order, and running jobs whose lease may have lapsed.
-- Partial indexes keep both scans small however many finished jobs the table holds.
CREATE INDEX jobs_runnable ON jobs (queue, run_at) WHERE state IN ('queued', 'failed');
CREATE INDEX jobs_leased ON jobs (queue, lease_expires_at) WHERE state = 'running';
CREATE INDEX jobs_state ON jobs (state, created_at);
CREATE INDEX jobs_kind ON jobs (kind, state);

CREATE TABLE scheduled_tasks (
    name        TEXT PRIMARY KEY NOT NULL,
    cron        TEXT NOT NULL,                   -- five fields, UTC
    enabled     BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

-- One row per task and period: the unique key is what makes a run happen once across processes.
CREATE TABLE task_runs (
    id           TEXT PRIMARY KEY NOT NULL,
    task         TEXT NOT NULL REFERENCES scheduled_tasks (name) ON DELETE CASCADE,
    period       TIMESTAMP NOT NULL,             -- the scheduled fire time this run stands for
    job_id       TEXT,
    created_at   TIMESTAMP NOT NULL,
    UNIQUE (task, period)
);

CREATE TABLE emails (
    id           TEXT PRIMARY KEY NOT NULL,
    user_id      TEXT REFERENCES users (id) ON DELETE SET NULL,
    to_addr      TEXT NOT NULL,
    template     TEXT NOT NULL,
    category     TEXT NOT NULL CHECK (category IN ('transactional', 'marketing')),
    subject      TEXT NOT NULL,
    body_text    TEXT NOT NULL,
    body_html    TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed', 'suppressed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    message_id   TEXT,
    created_at   TIMESTAMP NOT NULL,
    sent_at      TIMESTAMP
);
CREATE INDEX emails_user ON emails (user_id, created_at);
CREATE INDEX emails_sent ON emails (status, sent_at);

-- Admin edits of the shipped templates; a missing row means the shipped one.
CREATE TABLE email_templates (
    key        TEXT PRIMARY KEY NOT NULL,
    subject    TEXT NOT NULL,
    body_text  TEXT NOT NULL,
    body_html  TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE email_unsubscribes (
    email      TEXT PRIMARY KEY NOT NULL,
    created_at TIMESTAMP NOT NULL
);
