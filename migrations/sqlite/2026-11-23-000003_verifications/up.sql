-- Identity verifications by moderators, which raise a person's assurance level (DESIGN §4).
CREATE TABLE verifications (
    id INTEGER PRIMARY KEY NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 3),
    method TEXT NOT NULL CHECK (method IN ('document', 'in_person')),
    -- ISO 8601 dates
    verified_on TEXT NOT NULL,
    expires_on TEXT NOT NULL,
    recorded_by BIGINT NOT NULL REFERENCES accounts (id),
    -- level 3 needs a second moderator
    confirmed_by BIGINT REFERENCES accounts (id),
    confirmed_at TEXT,
    revoked_by BIGINT REFERENCES accounts (id),
    revoked_at TEXT,
    revoke_reason TEXT,
    created_at TEXT NOT NULL
);

CREATE INDEX verifications_account ON verifications (account_id);
