DROP TABLE audit_log;
DROP TABLE sessions;
DROP TABLE account_roles;
DROP TABLE accounts;
