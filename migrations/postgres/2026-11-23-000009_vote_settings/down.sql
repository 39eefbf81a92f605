DROP TABLE public_voters;
DROP TABLE vote_settings;
