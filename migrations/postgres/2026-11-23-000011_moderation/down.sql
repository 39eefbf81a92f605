DROP TABLE rate_limits;
DROP TABLE appeals;
DROP TABLE suspensions;
DROP TABLE moderator_names;
DROP TABLE moderation_decisions;
DROP TABLE moderation_log;
DROP TABLE moderation_items;
DROP TABLE reports;
