-- The versions' texts (0.8 MB each for a code such as the CPI) compressed with lz4
-- rather than the default pglz, several times faster to compress: an import of the CPI's
-- 198 versions went from 10.9 s to 8.9 s (docs/performance.md). Only new values are
-- affected. A server built without lz4 (or older than PostgreSQL 14) keeps the default,
-- with a notice: this is a speed-up, not a requirement.
DO $$
BEGIN
    EXECUTE 'ALTER TABLE versions ALTER COLUMN markdown SET COMPRESSION lz4';
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'versions.markdown keeps the default compression: %', SQLERRM;
END $$;
