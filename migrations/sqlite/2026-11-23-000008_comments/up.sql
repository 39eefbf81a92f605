-- Comments and staff answers on a consultation's text or amendments (DESIGN §5).
CREATE TABLE comments (
    id INTEGER PRIMARY KEY NOT NULL,
    consultation_id BIGINT NOT NULL REFERENCES consultations (id),
    -- the version the comment was made on (comments follow their unit's wid into later
    -- versions; the quote tells whether the text they speak of is still there)
    version_id BIGINT NOT NULL REFERENCES versions (id),
    -- the article the comment is about (for a paragraph: its article; for an
    -- amendment: the amendment's article), and the unit itself (article or paragraph)
    article_wid TEXT NOT NULL,
    unit_wid TEXT NOT NULL,
    -- a comment on an amendment (NULL: on the text)
    amendment_id BIGINT REFERENCES amendments (id),
    -- a reply: the top comment it answers (one level deep)
    parent_id BIGINT REFERENCES comments (id),
    -- the quoted span of the unit's text ('' for none)
    quote TEXT NOT NULL,
    -- markdown, rendered sanitized
    body TEXT NOT NULL,
    -- comment: by a person; answer: the institution's public answer (staff)
    kind TEXT NOT NULL CHECK (kind IN ('comment', 'answer')),
    author_id BIGINT NOT NULL REFERENCES accounts (id),
    disclosure TEXT NOT NULL CHECK (disclosure IN ('name', 'pseudonym')),
    author_label TEXT NOT NULL,
    author_level INTEGER NOT NULL CHECK (author_level BETWEEN 0 AND 3),
    -- the form's one-time token: a form submitted twice makes one comment
    form_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (author_id, form_token)
);

CREATE INDEX comments_article ON comments (consultation_id, article_wid);
CREATE INDEX comments_amendment ON comments (amendment_id);
CREATE INDEX comments_parent ON comments (parent_id);
