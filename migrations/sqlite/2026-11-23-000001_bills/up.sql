-- Bills, their immutable versions and the units of each version (DESIGN §3).
-- SQLite flavour: `INTEGER PRIMARY KEY` is the 64-bit rowid; other 64-bit columns are
-- declared BIGINT (same storage) so that the schema test can tell them from 32-bit ones.
-- Times are RFC 3339 text.

CREATE TABLE bills (
    id INTEGER PRIMARY KEY NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    language TEXT NOT NULL DEFAULT '',
    jurisdiction TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    licence TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL DEFAULT '',
    -- next number used to mint work ids of new units in this bill
    next_wid BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);

CREATE TABLE versions (
    id INTEGER PRIMARY KEY NOT NULL,
    bill_id BIGINT NOT NULL REFERENCES bills (id) ON DELETE CASCADE,
    number INTEGER NOT NULL CHECK (number >= 1),
    parent_number INTEGER,
    sha256 TEXT NOT NULL,
    date TEXT NOT NULL,
    author TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    -- where the version came from, e.g. the git commit it was imported from
    source_ref TEXT,
    -- JSON array of strings (parser warnings)
    warnings TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL,
    -- last, and large: SQLite stores it in overflow pages, which a read of the columns
    -- before it (every listing of versions) then never touches
    markdown TEXT NOT NULL,
    UNIQUE (bill_id, number),
    -- NULLs are distinct, so only set references must be unique
    UNIQUE (bill_id, source_ref)
);

CREATE INDEX versions_bill_sha256 ON versions (bill_id, sha256);

CREATE TABLE units (
    version_id BIGINT NOT NULL REFERENCES versions (id) ON DELETE CASCADE,
    ord INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('division', 'article', 'paragraph')),
    wid TEXT NOT NULL,
    eid TEXT NOT NULL,
    num TEXT,
    heading TEXT,
    depth INTEGER NOT NULL,
    -- ord of the enclosing unit in the same version
    parent INTEGER,
    start_byte BIGINT NOT NULL,
    end_byte BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (version_id, ord)
) WITHOUT ROWID;

CREATE INDEX units_version_wid ON units (version_id, wid);
-- the history of one unit across versions (article pages, permanent links)
CREATE INDEX units_wid ON units (wid, version_id);
