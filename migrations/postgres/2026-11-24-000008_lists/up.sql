-- Every list is read newest first by (created_at, id), filtered by the columns before them: one
-- index per list and filter serves both the numbered pages and the keyset (cursor) pages.
DROP INDEX users_role_created;
CREATE INDEX users_role_list ON users (role, created_at, id);
DROP INDEX jobs_state;
CREATE INDEX jobs_list ON jobs (created_at, id);
CREATE INDEX jobs_state_list ON jobs (state, created_at, id);
CREATE INDEX jobs_kind_list ON jobs (kind, created_at, id);
DROP INDEX emails_user;
CREATE INDEX emails_list ON emails (created_at, id);
CREATE INDEX emails_user_list ON emails (user_id, created_at, id);
DROP INDEX audit_log_created;
DROP INDEX audit_log_account;
DROP INDEX audit_log_action;
CREATE INDEX audit_log_list ON audit_log (created_at, id);
CREATE INDEX audit_log_account_list ON audit_log (account_id, created_at, id);
CREATE INDEX audit_log_action_list ON audit_log (action, created_at, id);

-- "C": terms compare byte by byte, so a prefix is a plain range, as on SQLite.
CREATE TABLE client_search (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    term    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (user_id, term)
);

-- The back office's client search: one row per word a client is found by (e-mail, first name,
-- last name, company), lower-cased, kept by accounts::users::index_search. A prefix search is a
-- range scan of client_search_term.
INSERT INTO client_search (user_id, term)
    SELECT id, lower(email) FROM users WHERE role = 'client'
    UNION SELECT id, lower(first_name) FROM users WHERE role = 'client' AND first_name <> ''
    UNION SELECT id, lower(last_name) FROM users WHERE role = 'client' AND last_name <> ''
    UNION SELECT p.user_id, lower(p.company) FROM client_profiles p JOIN users u ON u.id = p.user_id
        WHERE u.role = 'client' AND p.company IS NOT NULL AND p.company <> '';
CREATE INDEX client_search_term ON client_search (term, user_id);
