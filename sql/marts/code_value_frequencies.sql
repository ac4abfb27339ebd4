-- group: closures
-- Every value of the coded fields a reader relies on, as published (raw text), with the number of
-- rows, the code the pipeline reads from it and what became of it: B_TblProceeding CASE_TYPE,
-- CUSTODY, DEC_CODE and OTHER_COMP; A_TblCase CASE_TYPE and CUSTODY; B_TblProceedCharges
-- CHG_STATUS. `status` is `decoded` (the release's lookup, or for court decisions
-- data/reference/court_decisions.csv, defines it: tblLookupCaseType, tblLookupCustodyStatus,
-- tblLookupCourtDecision on case type, field and code), `unknown` (a lookup exists but does not
-- define the value: junk such as CASE_TYPE `D` or `AOL`, a CUSTODY holding a language code, a
-- DEC_CODE holding a date after a tab shift), `no_lookup` (the release has no lookup for the
-- field: CHG_STATUS never has one, whose meanings EOIR does not publish) or `read_as_missing`
-- (a NULL spelling such as `0`, `00` or blanks, read as missing by the staging models). Nothing is
-- dropped: the check coded_values_known warns with every unknown value, and lists the values
-- without a lookup and those read as missing; control characters are shown as bytes.
WITH raw_values AS (
    SELECT 'B_TblProceeding' AS source_table, 'CASE_TYPE' AS field, CASE_TYPE AS raw_value, NULL AS case_type, count(*) AS rows
    FROM raw.B_TblProceeding WHERE release_id = getvariable('release_id') AND CASE_TYPE IS NOT NULL AND CASE_TYPE <> '' GROUP BY ALL
    UNION ALL
    SELECT 'B_TblProceeding', 'CUSTODY', CUSTODY, NULL, count(*)
    FROM raw.B_TblProceeding WHERE release_id = getvariable('release_id') AND CUSTODY IS NOT NULL AND CUSTODY <> '' GROUP BY ALL
    UNION ALL
    SELECT 'B_TblProceeding', 'DEC_CODE', DEC_CODE, eoir_code(CASE_TYPE), count(*)
    FROM raw.B_TblProceeding WHERE release_id = getvariable('release_id') AND DEC_CODE IS NOT NULL AND DEC_CODE <> '' GROUP BY ALL
    UNION ALL
    SELECT 'B_TblProceeding', 'OTHER_COMP', OTHER_COMP, eoir_code(CASE_TYPE), count(*)
    FROM raw.B_TblProceeding WHERE release_id = getvariable('release_id') AND OTHER_COMP IS NOT NULL AND OTHER_COMP <> '' GROUP BY ALL
    UNION ALL
    SELECT 'A_TblCase', 'CASE_TYPE', CASE_TYPE, NULL, count(*)
    FROM raw.A_TblCase WHERE release_id = getvariable('release_id') AND CASE_TYPE IS NOT NULL AND CASE_TYPE <> '' GROUP BY ALL
    UNION ALL
    SELECT 'A_TblCase', 'CUSTODY', CUSTODY, NULL, count(*)
    FROM raw.A_TblCase WHERE release_id = getvariable('release_id') AND CUSTODY IS NOT NULL AND CUSTODY <> '' GROUP BY ALL
    UNION ALL
    SELECT 'B_TblProceedCharges', 'CHG_STATUS', CHG_STATUS, NULL, count(*)
    FROM raw.B_TblProceedCharges WHERE release_id = getvariable('release_id') AND CHG_STATUS IS NOT NULL AND CHG_STATUS <> '' GROUP BY ALL
),
v AS (
    SELECT *, eoir_code(raw_value) AS code FROM raw_values
),
decoded AS (
    SELECT
        v.*,
        CASE v.field
            WHEN 'CASE_TYPE' THEN (SELECT any_value(description) FROM staging.lookup_case_type l
                                   WHERE l.release_id = getvariable('release_id') AND l.case_type = v.code)
            WHEN 'CUSTODY' THEN (SELECT any_value(description) FROM staging.lookup_custody l
                                 WHERE l.release_id = getvariable('release_id') AND l.custody = v.code)
            WHEN 'DEC_CODE' THEN (SELECT any_value(description) FROM staging.lookup_court_decision l
                                  WHERE l.release_id = getvariable('release_id') AND l.field = 'DEC_CODE'
                                    AND l.code = v.code AND l.case_type = v.case_type)
            WHEN 'OTHER_COMP' THEN (SELECT any_value(description) FROM staging.lookup_court_decision l
                                    WHERE l.release_id = getvariable('release_id') AND l.field = 'OTHER_COMP'
                                      AND l.code = v.code AND l.case_type = v.case_type)
        END AS label,
        CASE v.field
            WHEN 'CASE_TYPE' THEN (SELECT count(*) FROM staging.lookup_case_type l WHERE l.release_id = getvariable('release_id'))
            WHEN 'CUSTODY' THEN (SELECT count(*) FROM staging.lookup_custody l WHERE l.release_id = getvariable('release_id'))
            WHEN 'CHG_STATUS' THEN 0
            ELSE (SELECT count(*) FROM staging.lookup_court_decision l WHERE l.release_id = getvariable('release_id'))
        END AS lookup_rows
    FROM v
)
SELECT
    getvariable('release_id') AS release_id,
    source_table,
    field,
    raw_value,
    code,
    case_type,
    sum(rows) AS rows,
    label,
    CASE WHEN code IS NULL THEN 'read_as_missing'
         WHEN label IS NOT NULL THEN 'decoded'
         WHEN lookup_rows = 0 THEN 'no_lookup'
         ELSE 'unknown' END AS status
FROM decoded
GROUP BY ALL
ORDER BY source_table, field, raw_value, case_type
