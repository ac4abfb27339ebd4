-- raw.repairs: every line that was loaded after a repair, with the kind of repair.
CREATE TABLE IF NOT EXISTS raw.repairs (
    release_id VARCHAR, source_table VARCHAR, source_line BIGINT, repair VARCHAR);
