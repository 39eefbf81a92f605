-- Sign-ins sent to an OpenID Connect provider and not yet answered (DESIGN §4). A row is
-- deleted when its answer arrives, so an answer cannot be used twice.
CREATE TABLE oidc_flows (
    -- SHA-256 of the `state` parameter, which the browser also holds in a private cookie
    state_hash TEXT PRIMARY KEY NOT NULL,
    provider TEXT NOT NULL,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    -- the level asked for (acr_values), 0 for none
    level INTEGER NOT NULL,
    next TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE INDEX oidc_flows_created ON oidc_flows (created_at);

-- The ID token of a provider sign-in, sent back as id_token_hint at logout; cleared
-- when the session ends.
ALTER TABLE sessions ADD COLUMN id_token TEXT;
