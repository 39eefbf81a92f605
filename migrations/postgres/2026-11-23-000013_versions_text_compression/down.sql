DO $$
BEGIN
    EXECUTE 'ALTER TABLE versions ALTER COLUMN markdown SET COMPRESSION default';
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'versions.markdown compression unchanged: %', SQLERRM;
END $$;
