-- marts.release_diff_charges: one row per charge added, removed, or whose charge code changed.
-- Written by pipelines/releases/diff.py with variables release_id and previous_release_id
-- (NULL when the warehouse holds no earlier release of the same kind).
WITH cur AS (
    SELECT idnprcdchg, idnproceeding, charge_code, severity_category
    FROM marts.charges_classified WHERE release_id = getvariable('release_id')
),
prev AS (
    SELECT idnprcdchg, idnproceeding, charge_code, severity_category
    FROM marts.charges_classified WHERE release_id = getvariable('previous_release_id')
),
joined AS (
    SELECT
        coalesce(cur.idnprcdchg, prev.idnprcdchg) AS idnprcdchg,
        coalesce(cur.idnproceeding, prev.idnproceeding) AS idnproceeding,
        CASE WHEN prev.idnprcdchg IS NULL THEN 'added'
             WHEN cur.idnprcdchg IS NULL THEN 'removed'
             WHEN cur.charge_code IS DISTINCT FROM prev.charge_code THEN 'code_changed'
             END AS change,
        prev.charge_code AS previous_charge_code, cur.charge_code,
        prev.severity_category AS previous_severity_category, cur.severity_category
    FROM cur FULL OUTER JOIN prev USING (idnprcdchg)
)
SELECT
    CAST(getvariable('release_id') AS VARCHAR) AS release_id,
    CAST(getvariable('previous_release_id') AS VARCHAR) AS previous_release_id,
    CAST(idnprcdchg AS BIGINT) AS idnprcdchg,
    CAST(idnproceeding AS BIGINT) AS idnproceeding,
    CAST(change AS VARCHAR) AS change,
    CAST(previous_charge_code AS VARCHAR) AS previous_charge_code,
    CAST(charge_code AS VARCHAR) AS charge_code,
    CAST(previous_severity_category AS VARCHAR) AS previous_severity_category,
    CAST(severity_category AS VARCHAR) AS severity_category
FROM joined
WHERE getvariable('previous_release_id') IS NOT NULL AND change IS NOT NULL
