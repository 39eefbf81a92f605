-- Staff dispositions, consolidation with provenance, rebase outcomes (DESIGN §5).

-- The latest ruling on an amendment (its status is in amendments.status; every act is
-- also in the audit log).
CREATE TABLE amendment_dispositions (
    amendment_id BIGINT PRIMARY KEY NOT NULL REFERENCES amendments (id),
    status TEXT NOT NULL CHECK (status IN ('admissible', 'inadmissible', 'adopted', 'rejected', 'fallen')),
    -- the reason of an inadmissibility, shown publicly ('' otherwise)
    reason TEXT NOT NULL,
    -- for a fallen amendment: the adopted amendment that made it fall
    fallen_by BIGINT REFERENCES amendments (id),
    decided_by BIGINT NOT NULL REFERENCES accounts (id),
    decided_at TEXT NOT NULL
);

-- A version made from the adopted amendments of a consultation (one per consultation).
CREATE TABLE consolidations (
    version_id BIGINT PRIMARY KEY NOT NULL REFERENCES versions (id),
    consultation_id BIGINT NOT NULL UNIQUE REFERENCES consultations (id),
    created_by BIGINT NOT NULL REFERENCES accounts (id),
    created_at TEXT NOT NULL
);

-- Who wrote each changed span of a consolidated version: bytes [start_byte, end_byte)
-- of the version's markdown (empty for words deleted there), inside unit unit_wid.
CREATE TABLE provenance (
    id INTEGER PRIMARY KEY NOT NULL,
    version_id BIGINT NOT NULL REFERENCES versions (id),
    unit_wid TEXT NOT NULL,
    start_byte BIGINT NOT NULL,
    end_byte BIGINT NOT NULL,
    amendment_id BIGINT NOT NULL REFERENCES amendments (id),
    revision INTEGER NOT NULL,
    CHECK (start_byte <= end_byte)
);

CREATE INDEX provenance_version ON provenance (version_id, start_byte);

-- What happened to a pending amendment when its consultation moved to a new version.
CREATE TABLE amendment_rebases (
    amendment_id BIGINT NOT NULL REFERENCES amendments (id),
    from_version_id BIGINT NOT NULL REFERENCES versions (id),
    to_version_id BIGINT NOT NULL REFERENCES versions (id),
    -- carried: re-anchored automatically (a new revision); proposed: a three-way merge
    -- waiting for the author's confirmation; redraft: the author must write it again
    outcome TEXT NOT NULL CHECK (outcome IN ('carried', 'proposed', 'redraft', 'accepted')),
    -- the operations on the new version (carried, proposed, accepted), JSON; '' for redraft
    operations TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (amendment_id, to_version_id)
);
