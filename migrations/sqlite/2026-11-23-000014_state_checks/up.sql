-- The CHECK constraints that the PostgreSQL migration of the same name adds (closed
-- sets of words: docs/ARCHITECTURE.md, "Adding a state"). SQLite cannot add a CHECK to
-- an existing table without rebuilding it, and rebuilding moderation_log (referenced by
-- three tables, and hash-chained) inside a migration's transaction, where foreign keys
-- cannot be switched off, is out of proportion: triggers refuse the same rows instead,
-- with the same message as a CHECK. Every other state column has had its CHECK on both
-- backends since the migration that made it.
CREATE TRIGGER moderation_items_rule_check_insert BEFORE INSERT ON moderation_items
WHEN NEW.rule NOT IN ('', 'reports', 'spam', 'offensive', 'off_topic', 'illegal', 'other')
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: moderation_items.rule');
END;
CREATE TRIGGER moderation_items_rule_check_update BEFORE UPDATE OF rule ON moderation_items
WHEN NEW.rule NOT IN ('', 'reports', 'spam', 'offensive', 'off_topic', 'illegal', 'other')
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: moderation_items.rule');
END;
CREATE TRIGGER moderation_log_check_insert BEFORE INSERT ON moderation_log
WHEN NEW.action NOT IN ('auto_hide', 'hide', 'restore', 'suspend', 'appeal_upheld', 'appeal_overturned')
    OR NEW.target_kind NOT IN ('comment', 'amendment', 'account')
    OR NEW.rule NOT IN ('', 'reports', 'spam', 'offensive', 'off_topic', 'illegal', 'other')
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: moderation_log action, target_kind or rule');
END;
CREATE TRIGGER moderation_log_check_update BEFORE UPDATE OF action, target_kind, rule ON moderation_log
WHEN NEW.action NOT IN ('auto_hide', 'hide', 'restore', 'suspend', 'appeal_upheld', 'appeal_overturned')
    OR NEW.target_kind NOT IN ('comment', 'amendment', 'account')
    OR NEW.rule NOT IN ('', 'reports', 'spam', 'offensive', 'off_topic', 'illegal', 'other')
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: moderation_log action, target_kind or rule');
END;
CREATE TRIGGER vote_settings_check_insert BEFORE INSERT ON vote_settings
WHEN NEW.options NOT IN ('for_against_abstain', 'for_against')
    OR NEW.revote NOT IN ('last_counts', 'single')
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: vote_settings options or revote');
END;
CREATE TRIGGER vote_settings_check_update BEFORE UPDATE OF options, revote ON vote_settings
WHEN NEW.options NOT IN ('for_against_abstain', 'for_against')
    OR NEW.revote NOT IN ('last_counts', 'single')
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: vote_settings options or revote');
END;
