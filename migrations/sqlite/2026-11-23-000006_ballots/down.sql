DROP TABLE ballot_checkpoints;
DROP TRIGGER ballot_entries_no_delete;
DROP TRIGGER ballot_entries_no_update;
DROP TABLE ballot_entries;
DROP TABLE ballot_logs;
