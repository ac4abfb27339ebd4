-- group: staging
-- Custody status codes (tblLookupCustodyStatus): N never detained, D detained, R released.
SELECT DISTINCT ON (custody)
    release_id,
    upper(trim(STRCODE)) AS custody,
    trim(STRDESCRIPTION) AS description
FROM raw.tblLookupCustodyStatus
WHERE release_id = getvariable('release_id') AND eoir_null(STRCODE) IS NOT NULL
ORDER BY custody, source_line
