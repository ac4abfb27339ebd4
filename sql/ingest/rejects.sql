-- raw.rejects: every line of a release that was not loaded, with its line number, reason and text.
CREATE TABLE IF NOT EXISTS raw.rejects (
    release_id VARCHAR, source_table VARCHAR, source_file VARCHAR, source_line BIGINT,
    reason VARCHAR, raw_text VARCHAR);
