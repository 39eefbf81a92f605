DROP TABLE amendment_revisions;
DROP TABLE amendments;
DROP TABLE consultations;
