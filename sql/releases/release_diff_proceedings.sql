-- marts.release_diff_proceedings: one row per proceeding added, removed, or whose outcome
-- (DEC_CODE, OTHER_COMP, COMP_DATE) or PD status (is_pd_closure, pd_kind) changed.
-- Written by pipelines/releases/diff.py with variables release_id and previous_release_id
-- (NULL when the warehouse holds no earlier release of the same kind).
-- Both releases' proceedings side by side; `cur`/`prev` restrict to one release each.
WITH cur AS (
    SELECT s.idnproceeding, s.idncase, s.dec_code, s.other_comp, s.comp_date,
           m.is_pd_closure, m.pd_kind
    FROM staging.proceedings s
    JOIN marts.proceedings m USING (release_id, idnproceeding)
    WHERE s.release_id = getvariable('release_id')
),
prev AS (
    SELECT s.idnproceeding, s.idncase, s.dec_code, s.other_comp, s.comp_date,
           m.is_pd_closure, m.pd_kind
    FROM staging.proceedings s
    JOIN marts.proceedings m USING (release_id, idnproceeding)
    WHERE s.release_id = getvariable('previous_release_id')
),
joined AS (
    SELECT
        coalesce(cur.idnproceeding, prev.idnproceeding) AS idnproceeding,
        coalesce(cur.idncase, prev.idncase) AS idncase,
        CASE WHEN prev.idnproceeding IS NULL THEN 'added'
             WHEN cur.idnproceeding IS NULL THEN 'removed'
             ELSE 'changed' END AS change,
        cur.idnproceeding IS NOT NULL AND prev.idnproceeding IS NOT NULL
            AND (cur.dec_code, cur.other_comp, cur.comp_date)
                IS DISTINCT FROM (prev.dec_code, prev.other_comp, prev.comp_date)
            AS outcome_changed,
        cur.idnproceeding IS NOT NULL AND prev.idnproceeding IS NOT NULL
            AND (coalesce(cur.is_pd_closure, false), cur.pd_kind)
                IS DISTINCT FROM (coalesce(prev.is_pd_closure, false), prev.pd_kind)
            AS pd_status_changed,
        prev.dec_code AS previous_dec_code, cur.dec_code,
        prev.other_comp AS previous_other_comp, cur.other_comp,
        prev.comp_date AS previous_comp_date, cur.comp_date,
        prev.is_pd_closure AS previous_is_pd_closure, cur.is_pd_closure,
        prev.pd_kind AS previous_pd_kind, cur.pd_kind
    FROM cur FULL OUTER JOIN prev USING (idnproceeding)
)
SELECT
    CAST(getvariable('release_id') AS VARCHAR) AS release_id,
    CAST(getvariable('previous_release_id') AS VARCHAR) AS previous_release_id,
    CAST(idnproceeding AS BIGINT) AS idnproceeding,
    CAST(idncase AS BIGINT) AS idncase,
    CAST(change AS VARCHAR) AS change,
    CAST(outcome_changed AS BOOLEAN) AS outcome_changed,
    CAST(pd_status_changed AS BOOLEAN) AS pd_status_changed,
    CAST(previous_dec_code AS VARCHAR) AS previous_dec_code,
    CAST(dec_code AS VARCHAR) AS dec_code,
    CAST(previous_other_comp AS VARCHAR) AS previous_other_comp,
    CAST(other_comp AS VARCHAR) AS other_comp,
    CAST(previous_comp_date AS DATE) AS previous_comp_date,
    CAST(comp_date AS DATE) AS comp_date,
    CAST(previous_is_pd_closure AS BOOLEAN) AS previous_is_pd_closure,
    CAST(is_pd_closure AS BOOLEAN) AS is_pd_closure,
    CAST(previous_pd_kind AS VARCHAR) AS previous_pd_kind,
    CAST(pd_kind AS VARCHAR) AS pd_kind
FROM joined
WHERE getvariable('previous_release_id') IS NOT NULL
  AND (change <> 'changed' OR outcome_changed OR pd_status_changed)
