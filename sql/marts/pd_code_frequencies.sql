-- group: closures
-- Every value of B_TblProceeding.DEC_CODE and OTHER_COMP in the release, by case type and by
-- fiscal year of completion (October to September; NULL when the proceeding has no usable
-- COMP_DATE), with the number of proceedings, the decoded label (staging.lookup_court_decision
-- on case type, field and code: the release's own lookup first, then
-- data/reference/court_decisions.csv; NULL when neither defines it) and whether the PD rule
-- counts it (`counted_by_pd_rule`, `pd_kind`, strict rule of data/reference/pd_codes.csv) or only
-- the broader variants do (`counted_by_variants`). Codes the PD rule relies on that never occur
-- in a (field, code, case type) get a row with 0 proceedings, so their absence is visible here.
-- The check pd_rule_codes_occur warns, naming the code, when a code the rule relies on never
-- occurs in the release, or stops occurring: its last fiscal year is more than one year before
-- the release's last fiscal year with completions. A code that never occurs means that kind of
-- PD closure is empty in every table of this release: on the release EOIR published in October
-- 2025, DEC_CODE I (PD terminations) never occurs, so `terminated` is 0 everywhere and the
-- broader variants of marts.pd_closures_by_category are the only way to bound those closures.
WITH pd AS (
    SELECT field, code, case_type, pd_kind
    FROM read_csv(getvariable('reference_dir') || '/pd_codes.csv', all_varchar = true)
),
broad AS (
    SELECT DISTINCT extra_field AS field, extra_code AS code, unnest(string_split(extra_case_types, ' ')) AS case_type,
           variant
    FROM read_csv(getvariable('reference_dir') || '/pd_variants.csv', all_varchar = true)
    WHERE extra_code IS NOT NULL
),
p AS (
    SELECT
        case_type,
        CASE WHEN comp_date IS NULL THEN NULL
             ELSE year(comp_date) + CASE WHEN month(comp_date) >= 10 THEN 1 ELSE 0 END END AS fiscal_year,
        dec_code,
        other_comp
    FROM staging.proceedings
    WHERE release_id = getvariable('release_id')
),
observed AS (
    SELECT 'DEC_CODE' AS field, dec_code AS code, case_type, fiscal_year, count(*) AS proceedings
    FROM p WHERE dec_code IS NOT NULL GROUP BY ALL
    UNION ALL
    SELECT 'OTHER_COMP' AS field, other_comp AS code, case_type, fiscal_year, count(*) AS proceedings
    FROM p WHERE other_comp IS NOT NULL GROUP BY ALL
),
absent_rule_codes AS (
    SELECT pd.field, pd.code, pd.case_type, NULL::INTEGER AS fiscal_year, 0 AS proceedings
    FROM pd
    WHERE NOT EXISTS (
        SELECT 1 FROM observed o
        WHERE o.field = pd.field AND o.code = pd.code AND (pd.case_type = '*' OR o.case_type = pd.case_type)
    )
),
rows_ AS (
    SELECT * FROM observed
    UNION ALL
    SELECT * FROM absent_rule_codes
)
SELECT
    getvariable('release_id') AS release_id,
    r.field,
    r.code,
    r.case_type,
    r.fiscal_year,
    r.proceedings,
    d.description AS label,
    d.source AS label_source,
    rule.pd_kind IS NOT NULL AS counted_by_pd_rule,
    rule.pd_kind,
    (SELECT string_agg(variant, ', ' ORDER BY variant) FROM broad
     WHERE broad.field = r.field AND broad.code = r.code AND broad.case_type = r.case_type) AS counted_by_variants
FROM rows_ r
LEFT JOIN staging.lookup_court_decision d
    ON d.release_id = getvariable('release_id') AND d.case_type = r.case_type
   AND d.field = r.field AND d.code = r.code
LEFT JOIN LATERAL (
    SELECT min(pd.pd_kind) AS pd_kind FROM pd
    WHERE pd.field = r.field AND pd.code = r.code AND (pd.case_type = '*' OR pd.case_type = r.case_type)
) rule ON true
ORDER BY r.field, r.code, r.case_type, r.fiscal_year
