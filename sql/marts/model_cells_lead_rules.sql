-- group: models
-- The completions cohort in covariate cells once per lead-charge rule (marts.lead_charge_variants),
-- for the side-by-side comparison of the main model under each rule. Covariates as in
-- marts.model_cells_completions; proceedings without a charge record are left out under every
-- rule, so the three models share one population.
WITH c AS (
    SELECT c.*, v.most_serious, v.first_charged, v.most_serious_not_withdrawn
    FROM marts.cohort_completions c
    JOIN marts.lead_charge_variants v
        ON v.release_id = c.release_id AND v.idnproceeding = c.idnproceeding
    WHERE c.release_id = getvariable('release_id')
),
long AS (
    SELECT release_id, 'most_serious' AS lead_rule, most_serious AS lead_charge_category,
           custody, represented, nationality_group, nta_age_band, court, period, pd_closure
    FROM c
    UNION ALL
    SELECT release_id, 'first_charged', first_charged,
           custody, represented, nationality_group, nta_age_band, court, period, pd_closure
    FROM c
    UNION ALL
    SELECT release_id, 'most_serious_not_withdrawn', most_serious_not_withdrawn,
           custody, represented, nationality_group, nta_age_band, court, period, pd_closure
    FROM c
)
SELECT
    release_id, lead_rule,
    lead_charge_category, custody, represented, nationality_group, nta_age_band, court, period,
    count(*) AS n,
    count(*) FILTER (WHERE pd_closure) AS pd_closures
FROM long
GROUP BY ALL
ORDER BY ALL
