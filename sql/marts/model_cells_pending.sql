-- group: models
-- The pending-docket cohort collapsed to covariate cells (as model_cells_completions; `period`
-- is the year the proceeding was received).
SELECT
    release_id,
    lead_charge_category, custody, represented, nationality_group, nta_age_band, court, period,
    count(*) AS n,
    count(*) FILTER (WHERE pd_closure) AS pd_closures
FROM marts.cohort_pending
WHERE release_id = getvariable('release_id') AND lead_charge_category <> 'no_charge_recorded'
GROUP BY ALL
ORDER BY ALL
