-- People, their roles and server-side sessions, and the audit log (DESIGN §4).
-- SQLite flavour; see migrations/postgres for the same tables.

CREATE TABLE accounts (
    id INTEGER PRIMARY KEY NOT NULL,
    -- identity provider name from the configuration ("demo" in demo mode)
    provider TEXT NOT NULL,
    -- the provider's stable subject identifier
    subject TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    email TEXT,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    UNIQUE (provider, subject)
);

CREATE TABLE account_roles (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('moderator', 'staff', 'admin')),
    granted_by BIGINT REFERENCES accounts (id),
    granted_at TEXT NOT NULL,
    PRIMARY KEY (account_id, role)
) WITHOUT ROWID;

CREATE TABLE sessions (
    -- SHA-256 (hex) of the token held in the cookie: the table alone cannot sign anyone in
    id TEXT PRIMARY KEY NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- assurance level given by the provider's acr at sign-in (0-3)
    level INTEGER NOT NULL CHECK (level BETWEEN 0 AND 3),
    acr TEXT,
    provider TEXT NOT NULL,
    user_agent TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    ended_at TEXT
) WITHOUT ROWID;

CREATE INDEX sessions_account ON sessions (account_id);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY NOT NULL,
    at TEXT NOT NULL,
    actor_id BIGINT REFERENCES accounts (id),
    action TEXT NOT NULL,
    subject_id BIGINT REFERENCES accounts (id),
    -- JSON object; never personal data beyond account ids
    details TEXT NOT NULL DEFAULT '{}'
);
