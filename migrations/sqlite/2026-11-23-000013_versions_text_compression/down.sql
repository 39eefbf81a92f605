-- Nothing on SQLite: the PostgreSQL migration of the same name chooses how the versions'
-- texts are compressed there (SQLite stores them as they are). Kept so that both
-- backends have the same list of migrations.
SELECT 1;
