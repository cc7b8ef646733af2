-- Provisioning: the servers accounts are created on, where each service lives and its login
-- (sealed), its due dates, and what happened to it. Keep in step with migrations/sqlite.

CREATE TABLE servers (
    id               TEXT PRIMARY KEY NOT NULL,
    name             TEXT NOT NULL UNIQUE,
    hostname         TEXT NOT NULL,
    ip               TEXT,
    location         TEXT NOT NULL,
    module           TEXT NOT NULL,
    sandbox          BOOLEAN NOT NULL,            -- Keel's in-process stand-in
    api_url          TEXT NOT NULL,
    username         TEXT NOT NULL,
    secret_sealed    TEXT,                        -- AES-256-GCM, never answered back
    nameservers      TEXT NOT NULL,               -- JSON [string]
    max_accounts     INTEGER NOT NULL CHECK (max_accounts >= 1),
    current_accounts INTEGER NOT NULL CHECK (current_accounts >= 0),
    status           TEXT NOT NULL,
    disk_gb          INTEGER,
    ram_mb           INTEGER,
    healthy          BOOLEAN NOT NULL,
    last_check_at    TIMESTAMP,
    latency_ms       INTEGER,
    last_error       TEXT,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);
CREATE INDEX servers_module ON servers (module, location);

CREATE TABLE server_checks (
    id         TEXT PRIMARY KEY NOT NULL,
    server_id  TEXT NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    at         TIMESTAMP NOT NULL,
    up         BOOLEAN NOT NULL,
    latency_ms INTEGER,
    error      TEXT
);
CREATE INDEX server_checks_server_at ON server_checks (server_id, at);

ALTER TABLE services ADD COLUMN server_id TEXT REFERENCES servers (id);
ALTER TABLE services ADD COLUMN package TEXT;
ALTER TABLE services ADD COLUMN username TEXT;
ALTER TABLE services ADD COLUMN secret_sealed TEXT;
ALTER TABLE services ADD COLUMN ip TEXT;
ALTER TABLE services ADD COLUMN anchor_on DATE;
ALTER TABLE services ADD COLUMN next_due_on DATE;
ALTER TABLE services ADD COLUMN suspend_reason TEXT;
ALTER TABLE services ADD COLUMN last_error TEXT;
ALTER TABLE services ADD COLUMN cancel_when TEXT;
ALTER TABLE services ADD COLUMN cancel_reason TEXT;
ALTER TABLE services ADD COLUMN activated_at TIMESTAMP;
ALTER TABLE services ADD COLUMN terminated_at TIMESTAMP;
CREATE INDEX services_server ON services (server_id, username);
CREATE INDEX services_status_created ON services (status, created_at, id);
CREATE INDEX services_created ON services (created_at, id);

-- What happened to a service, for the back office: each provisioning step and its outcome.
CREATE TABLE service_events (
    id         TEXT PRIMARY KEY NOT NULL,
    service_id TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    at         TIMESTAMP NOT NULL,
    action     TEXT NOT NULL,
    ok         BOOLEAN NOT NULL,
    detail     TEXT NOT NULL
);
CREATE INDEX service_events_service_at ON service_events (service_id, at);

-- Daily disk and bandwidth use, from the usage sync task.
CREATE TABLE service_usage (
    service_id   TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    day          DATE NOT NULL,
    disk_mb      BIGINT NOT NULL,
    bandwidth_mb BIGINT NOT NULL,
    PRIMARY KEY (service_id, day)
);
