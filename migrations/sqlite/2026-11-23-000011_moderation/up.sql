-- Moderation (docs/moderation.md): reports, the state of each reported or moderated
-- item, the public hash-chained decision log, suspensions, appeals, and the shared
-- counters of the rate limits.

-- One report per person and item.
CREATE TABLE reports (
    id INTEGER PRIMARY KEY NOT NULL,
    consultation_id BIGINT NOT NULL REFERENCES consultations (id),
    -- comment | amendment
    target_kind TEXT NOT NULL CHECK (target_kind IN ('comment', 'amendment')),
    target_id BIGINT NOT NULL,
    reporter_id BIGINT NOT NULL REFERENCES accounts (id),
    reporter_level INTEGER NOT NULL CHECK (reporter_level BETWEEN 0 AND 3),
    reason TEXT NOT NULL CHECK (reason IN ('spam', 'offensive', 'off_topic', 'illegal', 'other')),
    detail TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (target_kind, target_id, reporter_id)
);
CREATE INDEX reports_target ON reports (target_kind, target_id);

-- What moderation says of an item that was reported or decided on.
CREATE TABLE moderation_items (
    target_kind TEXT NOT NULL CHECK (target_kind IN ('comment', 'amendment')),
    target_id BIGINT NOT NULL,
    consultation_id BIGINT NOT NULL REFERENCES consultations (id),
    -- visible | hidden_auto (reports reached the threshold) | hidden (a moderator's decision)
    state TEXT NOT NULL CHECK (state IN ('visible', 'hidden_auto', 'hidden')),
    -- the rule of the decision that hid it ('reports' for automatic hiding)
    rule TEXT NOT NULL,
    -- the public reason shown in place of the content
    reason TEXT NOT NULL,
    -- reports not yet looked at by a moderator: the item is in the queue while > 0
    open_reports INTEGER NOT NULL,
    -- when its oldest open report was made (the queue is oldest first)
    queued_at TEXT,
    -- the log entry of the last decision on it
    decision_seq BIGINT,
    PRIMARY KEY (target_kind, target_id)
);
CREATE INDEX moderation_items_queue ON moderation_items (open_reports, queued_at);
CREATE INDEX moderation_items_consultation ON moderation_items (consultation_id, state);

-- The public moderation log: every decision, hash-chained (hash = SHA-256 over the
-- previous hash and the public fields, docs/moderation.md). Append-only.
CREATE TABLE moderation_log (
    seq BIGINT PRIMARY KEY NOT NULL,
    at TEXT NOT NULL,
    -- hide | restore | auto_hide | suspend | appeal_upheld | appeal_overturned
    action TEXT NOT NULL,
    -- comment | amendment | account
    target_kind TEXT NOT NULL,
    -- the public reference of the content (comment id, amendment number); '' for an account
    target_ref TEXT NOT NULL,
    consultation_id BIGINT,
    rule TEXT NOT NULL,
    reason TEXT NOT NULL,
    -- the moderator's public pseudonym ('' for an automatic decision)
    moderator TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);

-- Who made each decision and about whom (private: never exported).
CREATE TABLE moderation_decisions (
    seq BIGINT PRIMARY KEY NOT NULL REFERENCES moderation_log (seq),
    moderator_id BIGINT REFERENCES accounts (id),
    -- the author of the content, or the suspended account
    subject_id BIGINT REFERENCES accounts (id),
    target_id BIGINT
);

-- Moderators' public pseudonyms in the log.
CREATE TABLE moderator_names (
    account_id BIGINT PRIMARY KEY NOT NULL REFERENCES accounts (id),
    pseudonym TEXT NOT NULL UNIQUE
);

CREATE TABLE suspensions (
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    decision_seq BIGINT NOT NULL REFERENCES moderation_log (seq),
    until TEXT NOT NULL,
    -- set when an appeal overturned it
    lifted INTEGER NOT NULL,
    PRIMARY KEY (account_id, decision_seq)
);

-- One appeal per decision, by the person it concerns, decided by another moderator.
CREATE TABLE appeals (
    decision_seq BIGINT PRIMARY KEY NOT NULL REFERENCES moderation_log (seq),
    author_id BIGINT NOT NULL REFERENCES accounts (id),
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    -- pending | upheld | overturned
    status TEXT NOT NULL CHECK (status IN ('pending', 'upheld', 'overturned')),
    decided_by BIGINT REFERENCES accounts (id),
    decided_at TEXT,
    answer TEXT NOT NULL
);
CREATE INDEX appeals_status ON appeals (status, created_at);

-- Fixed-window counters shared by every app server (per account and per address).
CREATE TABLE rate_limits (
    bucket TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    hits INTEGER NOT NULL,
    PRIMARY KEY (bucket, window_start)
);
