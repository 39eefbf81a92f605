-- The amendments on one article of a consultation, in number order (conflicts and
-- identical amendments, once per row of the list): the filter and the order from one
-- index. It covers the (consultation_id, article_wid) index, which goes.
CREATE INDEX amendments_consultation_article_number ON amendments (consultation_id, article_wid, number);
DROP INDEX amendments_consultation;
