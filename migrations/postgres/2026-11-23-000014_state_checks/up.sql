-- Closed sets of words (docs/ARCHITECTURE.md, "Adding a state"): every state column
-- already had its CHECK in the migration that made it, except these, whose words are
-- now fixed by enums too (`domain::moderation::{Rule, Action}`, `service::voting`'s
-- `OptionSet` and the ledger's `RevotePolicy`). The moderation log keeps its fields as
-- text (the hash chain covers them as written), but only these words are ever written.
ALTER TABLE moderation_items ADD CONSTRAINT moderation_items_rule_check
    CHECK (rule IN ('', 'reports', 'spam', 'offensive', 'off_topic', 'illegal', 'other'));
ALTER TABLE moderation_log ADD CONSTRAINT moderation_log_action_check
    CHECK (action IN ('auto_hide', 'hide', 'restore', 'suspend', 'appeal_upheld', 'appeal_overturned'));
ALTER TABLE moderation_log ADD CONSTRAINT moderation_log_target_kind_check
    CHECK (target_kind IN ('comment', 'amendment', 'account'));
ALTER TABLE moderation_log ADD CONSTRAINT moderation_log_rule_check
    CHECK (rule IN ('', 'reports', 'spam', 'offensive', 'off_topic', 'illegal', 'other'));
ALTER TABLE vote_settings ADD CONSTRAINT vote_settings_options_check
    CHECK (options IN ('for_against_abstain', 'for_against'));
ALTER TABLE vote_settings ADD CONSTRAINT vote_settings_revote_check
    CHECK (revote IN ('last_counts', 'single'));
