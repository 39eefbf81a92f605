-- What staff put to the vote, set before the voting phase opens (docs/ballot-log.md):
-- read once, when the manifest is written. No row means the defaults: every amendment
-- still standing, the bill as a whole, for / against / abstain, the last ballot counts.
CREATE TABLE vote_settings (
    consultation_id BIGINT PRIMARY KEY NOT NULL REFERENCES consultations (id),
    -- JSON list of amendment numbers put to the vote; NULL: every one still standing
    amendments TEXT,
    -- 1: an item on the bill as a whole
    bill_item INTEGER NOT NULL,
    -- for_against_abstain | for_against
    options TEXT NOT NULL,
    -- last_counts | single
    revote TEXT NOT NULL,
    updated_by BIGINT REFERENCES accounts (id),
    updated_at TEXT NOT NULL
);

-- The voters who chose public disclosure: their name is listed beside their counted
-- ballot once the vote is closed. Pseudonymous voters never appear here.
CREATE TABLE public_voters (
    consultation_id BIGINT NOT NULL REFERENCES ballot_logs (consultation_id),
    voter_token bytea NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    PRIMARY KEY (consultation_id, voter_token)
);
