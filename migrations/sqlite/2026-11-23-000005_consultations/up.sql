-- Consultations and amendments (DESIGN §5).
CREATE TABLE consultations (
    id INTEGER PRIMARY KEY NOT NULL,
    bill_id BIGINT NOT NULL REFERENCES bills (id),
    -- the bill version opened to the public
    version_id BIGINT NOT NULL REFERENCES versions (id),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    -- ISO 8601 days
    opens_on TEXT NOT NULL,
    closes_on TEXT NOT NULL,
    level_comment INTEGER NOT NULL CHECK (level_comment BETWEEN 0 AND 3),
    level_amend INTEGER NOT NULL CHECK (level_amend BETWEEN 0 AND 3),
    level_vote INTEGER NOT NULL CHECK (level_vote BETWEEN 0 AND 3),
    phase TEXT NOT NULL CHECK (phase IN ('draft', 'amendments', 'voting', 'closed', 'published')),
    created_by BIGINT NOT NULL REFERENCES accounts (id),
    created_at TEXT NOT NULL
);

CREATE INDEX consultations_bill ON consultations (bill_id);

CREATE TABLE amendments (
    id INTEGER PRIMARY KEY NOT NULL,
    bill_id BIGINT NOT NULL REFERENCES bills (id),
    -- AM-<bill>-<number>, never reused within a bill
    number INTEGER NOT NULL,
    consultation_id BIGINT NOT NULL REFERENCES consultations (id),
    version_id BIGINT NOT NULL REFERENCES versions (id),
    article_wid TEXT NOT NULL,
    author_id BIGINT NOT NULL REFERENCES accounts (id),
    -- how the author chose to appear, and what was shown (name or pseudonym) at filing
    disclosure TEXT NOT NULL CHECK (disclosure IN ('name', 'pseudonym')),
    author_label TEXT NOT NULL,
    author_level INTEGER NOT NULL CHECK (author_level BETWEEN 0 AND 3),
    status TEXT NOT NULL CHECK (status IN ('filed', 'withdrawn', 'admissible', 'inadmissible', 'adopted', 'rejected', 'fallen')),
    -- the current revision (1, then 2 for "rectifié"…)
    revision INTEGER NOT NULL,
    -- the filing form's one-time token: a form submitted twice files one amendment
    form_token TEXT NOT NULL,
    filed_at TEXT NOT NULL,
    UNIQUE (bill_id, number),
    UNIQUE (author_id, form_token)
);

CREATE INDEX amendments_consultation ON amendments (consultation_id, article_wid);

-- Every revision is kept.
CREATE TABLE amendment_revisions (
    amendment_id BIGINT NOT NULL REFERENCES amendments (id),
    revision INTEGER NOT NULL,
    -- the operations (docs/amendments.md), JSON
    operations TEXT NOT NULL,
    justification TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (amendment_id, revision)
);
