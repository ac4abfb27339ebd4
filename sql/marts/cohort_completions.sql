-- group: models
-- Analysis cohort (a): every proceeding completed in the window (default 2011-12-01 to
-- 2013-06-30), outcome `pd_closure` (closed by prosecutorial discretion, admin-closed or
-- terminated). Regressors: lead-charge category (and the proceeding's own CRIM_IND /
-- AGGRAVATE_FELON flags, rarely filled), custody (D detained, R released, N never detained),
-- representation (an EOIR-28 on or before completion), nationality group (the ten most frequent
-- nationalities of the cohort, the rest `other`), time from NTA to completion in bands, court
-- (base city) and period (calendar quarter of completion). Proceedings without a charge record
-- are kept with lead_charge_category `no_charge_recorded` so the cohort reconciles with the
-- completion counts of marts.pd_rates_by_category.
WITH p AS (
    SELECT *
    FROM marts.proceedings
    WHERE release_id = getvariable('release_id') AND is_completed
      AND comp_date BETWEEN getvariable('window_start') AND getvariable('window_end')
),
top_nat AS (
    SELECT nat FROM p WHERE nat IS NOT NULL GROUP BY nat ORDER BY count(*) DESC, nat LIMIT 10
)
SELECT
    p.release_id,
    p.idnproceeding,
    p.idncase,
    coalesce(p.court, 'unknown') AS court,
    coalesce(p.lead_charge_category, 'no_charge_recorded') AS lead_charge_category,
    p.any_criminal,
    coalesce(p.custody, 'unknown') AS custody,
    p.represented,
    CASE WHEN p.nat IN (SELECT nat FROM top_nat) THEN p.nat ELSE 'other' END AS nationality_group,
    nta_age_band(p.nta_date, p.comp_date) AS nta_age_band,
    strftime(p.comp_date, '%Y') || 'Q' || quarter(p.comp_date) AS period,
    p.comp_date,
    p.crim_ind,
    p.aggravate_felon,
    p.is_pd_closure AS pd_closure,
    p.pd_kind
FROM p
