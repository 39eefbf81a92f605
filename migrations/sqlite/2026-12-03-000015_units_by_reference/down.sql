CREATE TABLE units (
    version_id BIGINT NOT NULL REFERENCES versions (id) ON DELETE CASCADE,
    ord INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('division', 'article', 'paragraph')),
    wid TEXT NOT NULL,
    eid TEXT NOT NULL,
    num TEXT,
    heading TEXT,
    depth INTEGER NOT NULL,
    parent INTEGER,
    start_byte BIGINT NOT NULL,
    end_byte BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (version_id, ord)
) WITHOUT ROWID;

INSERT INTO units
SELECT vu.version_id, vu.ord, r.kind, r.wid, r.eid, r.num, r.heading, r.depth, vu.parent,
       vu.start_byte, vu.start_byte + r.length, r.sha256
FROM version_units vu JOIN unit_revisions r ON r.id = vu.revision_id;

CREATE INDEX units_version_wid ON units (version_id, wid);
CREATE INDEX units_wid ON units (wid, version_id);

DROP TABLE version_units;
DROP TABLE unit_revisions;
