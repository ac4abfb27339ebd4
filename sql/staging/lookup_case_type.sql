-- group: staging
-- Case types (tblLookupCaseType): RMV removal, DEP deportation, EXC exclusion, AOC asylum only, ...
SELECT DISTINCT ON (case_type)
    release_id,
    upper(trim(STRCODE)) AS case_type,
    trim(STRDESCRIPTION) AS description
FROM raw.tblLookupCaseType
WHERE release_id = getvariable('release_id') AND eoir_null(STRCODE) IS NOT NULL
ORDER BY case_type, source_line
