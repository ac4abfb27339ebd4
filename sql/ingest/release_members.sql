-- raw.release_members: every member of a release and what was done with it (ingested, read, not
-- used by this pipeline, refused, unreadable), so nothing in a release is skipped without a word.
CREATE TABLE IF NOT EXISTS raw.release_members (
    release_id VARCHAR, member VARCHAR, kind VARCHAR, size_bytes BIGINT,
    compressed_bytes BIGINT, loaded_into VARCHAR, action VARCHAR, detail VARCHAR,
    listed_at TIMESTAMP DEFAULT current_timestamp, PRIMARY KEY (release_id, member));
