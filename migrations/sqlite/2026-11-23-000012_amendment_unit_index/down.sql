CREATE INDEX amendments_consultation ON amendments (consultation_id, article_wid);
DROP INDEX amendments_consultation_article_number;
