DROP TABLE units;
DROP TABLE versions;
DROP TABLE bills;
