-- The filtered list of a consultation's amendments (by status or by author kind, in
-- number order) and its pages.
CREATE INDEX amendments_consultation_number ON amendments (consultation_id, number);
CREATE INDEX amendments_consultation_status ON amendments (consultation_id, status, number);
CREATE INDEX amendments_consultation_disclosure ON amendments (consultation_id, disclosure, number);
