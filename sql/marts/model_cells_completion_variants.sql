-- group: models
-- The completions cohort in covariate cells under two population variants, for the
-- side-by-side comparison with the main model: `no_venue_change_or_transfer` leaves out
-- completions by change of venue or transfer (OTHER_COMP C / T: the case goes on elsewhere, so
-- "not PD" is not an outcome), and `case_level` keeps one proceeding per case, its last
-- completion in the window (latest completion date, then highest IDNPROCEEDING), so a case
-- with several proceedings counts once. Proceedings without a charge record are left out as in
-- marts.model_cells_completions.
WITH c AS (
    SELECT c.*, q.outcome_field, q.outcome_code
    FROM marts.cohort_completions c
    JOIN marts.proceedings q ON q.release_id = c.release_id AND q.idnproceeding = c.idnproceeding
    WHERE c.release_id = getvariable('release_id') AND c.lead_charge_category <> 'no_charge_recorded'
),
last_per_case AS (
    SELECT idncase, arg_max(idnproceeding, [epoch(comp_date), idnproceeding]) AS idnproceeding
    FROM c
    GROUP BY idncase
),
long AS (
    SELECT 'no_venue_change_or_transfer' AS variant, *
    FROM c
    WHERE NOT (outcome_field = 'OTHER_COMP' AND outcome_code IN ('C', 'T'))
    UNION ALL BY NAME
    SELECT 'case_level' AS variant, c.*
    FROM c
    JOIN last_per_case l USING (idnproceeding)
)
SELECT
    release_id, variant,
    lead_charge_category, custody, represented, nationality_group, nta_age_band, court, period,
    count(*) AS n,
    count(*) FILTER (WHERE pd_closure) AS pd_closures
FROM long
GROUP BY ALL
ORDER BY ALL
