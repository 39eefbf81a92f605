-- The ballot log of each consultation (DESIGN §6, docs/ballot-log.md).
CREATE TABLE ballot_logs (
    consultation_id BIGINT PRIMARY KEY REFERENCES consultations (id),
    -- the checkpoint origin line, also the name of the signing key for this log
    origin TEXT NOT NULL,
    -- the consultation key that voter tokens are derived with; NULL once destroyed
    voter_key BYTEA,
    -- entries appended so far: the index of the next one. Appending takes this row's
    -- lock (SELECT … FOR UPDATE), so indices are dense and unique whatever the number
    -- of app servers.
    size BIGINT NOT NULL,
    -- result.csv once closed, and the ballots cast per day (JSON [["2026-12-03", 42], …])
    result_csv TEXT,
    participation TEXT,
    closed_at TEXT,
    -- when the consultation key is destroyed (close + publication window)
    destroy_key_after TEXT,
    key_destroyed_at TEXT,
    created_at TEXT NOT NULL
);

-- The entries themselves: never updated, never deleted (the triggers refuse).
CREATE TABLE ballot_entries (
    consultation_id BIGINT NOT NULL REFERENCES ballot_logs (consultation_id),
    idx BIGINT NOT NULL,
    entry BYTEA NOT NULL,
    leaf_hash BYTEA NOT NULL,
    -- ballots only: the voter token, to find a voter's last ballot
    voter_token BYTEA,
    PRIMARY KEY (consultation_id, idx)
);

CREATE INDEX ballot_entries_token ON ballot_entries (consultation_id, voter_token, idx);

CREATE FUNCTION ballot_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ballot log is append-only';
END;
$$;

CREATE TRIGGER ballot_entries_append_only BEFORE UPDATE OR DELETE ON ballot_entries
    FOR EACH ROW EXECUTE FUNCTION ballot_entries_append_only();

CREATE TRIGGER ballot_entries_no_truncate BEFORE TRUNCATE ON ballot_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ballot_entries_append_only();

-- Checkpoints published while the log grew (at opening, periodically, at close).
CREATE TABLE ballot_checkpoints (
    consultation_id BIGINT NOT NULL REFERENCES ballot_logs (consultation_id),
    size BIGINT NOT NULL,
    note TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (consultation_id, size)
);
