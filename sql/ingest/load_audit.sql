-- raw.load_audit: one row per table of a release; loaded_as_is + repaired + rejected = lines_read,
-- and lines_read should equal the table's row in Count.txt (count_txt_rows).
CREATE TABLE IF NOT EXISTS raw.load_audit (
    release_id VARCHAR, source_table VARCHAR, source_file VARCHAR, count_txt_rows BIGINT,
    lines_read BIGINT, loaded_as_is BIGINT, repaired BIGINT, rejected BIGINT,
    reconciled BOOLEAN, unknown_columns VARCHAR, missing_columns VARCHAR,
    nul_bytes_stripped BIGINT, latin1_fallback_bytes BIGINT, bytes_read BIGINT,
    seconds DOUBLE, loaded_at TIMESTAMP DEFAULT current_timestamp);
