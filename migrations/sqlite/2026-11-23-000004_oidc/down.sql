ALTER TABLE sessions DROP COLUMN id_token;
DROP TABLE oidc_flows;
