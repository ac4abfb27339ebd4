-- group: models
-- The completions cohort collapsed to covariate cells: one row per (lead-charge category,
-- custody, representation, nationality group, time-since-NTA band, court, quarter) with `n`
-- proceedings and `pd_closures` among them. With categorical regressors the binomial likelihood
-- depends on the data only through these counts, so the grouped logit fitted to the cells equals
-- the row-level fit (court is in the key, so court-clustered errors are exact too).
SELECT
    release_id,
    lead_charge_category, custody, represented, nationality_group, nta_age_band, court, period,
    count(*) AS n,
    count(*) FILTER (WHERE pd_closure) AS pd_closures
FROM marts.cohort_completions
WHERE release_id = getvariable('release_id') AND lead_charge_category <> 'no_charge_recorded'
GROUP BY ALL
ORDER BY ALL
