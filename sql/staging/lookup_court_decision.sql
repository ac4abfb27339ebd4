-- group: staging
-- Court decision codes keyed on (case type, field, code): the same letter means different things
-- by case type and by field (DEC_CODE for merits decisions, OTHER_COMP for administrative
-- completions; TRAC: "decision type is determined by whether the outcome value is recorded in
-- other_comp (=O) or dec_code (=C)"). The release's own tblLookupCourtDecision wins; codes it does
-- not define come from data/reference/court_decisions.csv (source = 'reference').
WITH release_rows AS (
    SELECT DISTINCT ON (case_type, field, code) *
    FROM (
        SELECT
            upper(trim(STRCASETYPE)) AS case_type,
            CASE upper(trim(STRDECTYPE)) WHEN 'C' THEN 'DEC_CODE' WHEN 'O' THEN 'OTHER_COMP' END AS field,
            upper(trim(STRDECCODE)) AS code,
            trim(STRDECDESCRIPTION) AS description,
            'release' AS source
        FROM raw.tblLookupCourtDecision
        WHERE release_id = getvariable('release_id')
    )
    WHERE field IS NOT NULL AND code <> ''
    ORDER BY case_type, field, code
),
reference_rows AS (
    SELECT case_type, field, code, description, 'reference' AS source
    FROM read_csv(getvariable('reference_dir') || '/court_decisions.csv', all_varchar = true)
)
SELECT getvariable('release_id') AS release_id, * FROM release_rows
UNION ALL
SELECT getvariable('release_id') AS release_id, r.*
FROM reference_rows r
WHERE NOT EXISTS (
    SELECT 1 FROM release_rows x
    WHERE x.case_type = r.case_type AND x.field = r.field AND x.code = r.code
)
