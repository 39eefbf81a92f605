DROP TABLE ballot_checkpoints;
DROP TABLE ballot_entries;
DROP FUNCTION ballot_entries_append_only();
DROP TABLE ballot_logs;
