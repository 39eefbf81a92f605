DROP TABLE amendment_rebases;
DROP TABLE provenance;
DROP TABLE consolidations;
DROP TABLE amendment_dispositions;
