-- Units stored by reference (issue 17): a unit unchanged from one version to the next is
-- the same row. `unit_revisions` holds each distinct unit of a bill once — what the text
-- engine says of it (kind, work id, citation id, number, heading, depth, length and hash
-- of its text) — and `version_units` places revisions in a version: its document order,
-- its enclosing unit and where its text starts in that version's markdown (which moves
-- whenever an earlier unit changes). The CPI's 198 versions held 1,085,064 unit rows for
-- 12,089 distinct units; the units took 198 MB of a 387 MB database
-- (docs/performance.md).

CREATE TABLE unit_revisions (
    id INTEGER PRIMARY KEY NOT NULL,
    bill_id BIGINT NOT NULL REFERENCES bills (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('division', 'article', 'paragraph')),
    wid TEXT NOT NULL,
    eid TEXT NOT NULL,
    num TEXT,
    heading TEXT,
    depth INTEGER NOT NULL,
    -- bytes of the unit's text (its end is start_byte + length in each version)
    length BIGINT NOT NULL CHECK (length >= 0),
    sha256 TEXT NOT NULL
);

INSERT INTO unit_revisions (bill_id, kind, wid, eid, num, heading, depth, length, sha256)
SELECT DISTINCT v.bill_id, u.kind, u.wid, u.eid, u.num, u.heading, u.depth,
       u.end_byte - u.start_byte, u.sha256
FROM units u JOIN versions v ON v.id = u.version_id;

-- the history of one unit across versions (article pages, permanent links)
CREATE INDEX unit_revisions_wid ON unit_revisions (bill_id, wid);

CREATE TABLE version_units (
    version_id BIGINT NOT NULL REFERENCES versions (id) ON DELETE CASCADE,
    ord INTEGER NOT NULL,
    revision_id BIGINT NOT NULL REFERENCES unit_revisions (id),
    -- ord of the enclosing unit in the same version
    parent INTEGER,
    start_byte BIGINT NOT NULL CHECK (start_byte >= 0),
    PRIMARY KEY (version_id, ord)
) WITHOUT ROWID;

INSERT INTO version_units (version_id, ord, revision_id, parent, start_byte)
SELECT u.version_id, u.ord, r.id, u.parent, u.start_byte
FROM units u
JOIN versions v ON v.id = u.version_id
JOIN unit_revisions r
  ON r.bill_id = v.bill_id AND r.wid = u.wid AND r.sha256 = u.sha256 AND r.kind = u.kind
 AND r.eid = u.eid AND r.num IS u.num AND r.heading IS u.heading AND r.depth = u.depth
 AND r.length = u.end_byte - u.start_byte;

DROP TABLE units;

-- the versions in which a revision stands (a unit's history)
CREATE INDEX version_units_revision ON version_units (revision_id);
