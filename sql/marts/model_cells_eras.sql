-- group: models
-- Cells for the policy-era interaction: every proceeding completed from the first Morton PD
-- memo (2011-06-17) on, by lead-charge category, era of completion (staging.policy_eras:
-- Morton 2011-2014, Johnson 2014-2017, 2017-2021, Mayorkas 2021-), custody, representation,
-- nationality group (the ten most frequent nationalities of these completions, the rest
-- `other`), time from NTA to completion in bands (the main model's controls), court and calendar
-- year of completion, with `n` and `pd_closures`.
WITH p AS (
    SELECT p.*, e.era
    FROM marts.proceedings p
    JOIN staging.policy_eras e
        ON e.release_id = p.release_id AND e.era_start IS NOT NULL
       AND p.comp_date >= e.era_start AND (e.era_end IS NULL OR p.comp_date < e.era_end)
    WHERE p.release_id = getvariable('release_id') AND p.is_completed
      AND p.lead_charge_category IS NOT NULL
),
top_nat AS (
    SELECT nat FROM p WHERE nat IS NOT NULL GROUP BY nat ORDER BY count(*) DESC, nat LIMIT 10
)
SELECT
    p.release_id,
    p.lead_charge_category,
    p.era,
    coalesce(p.custody, 'unknown') AS custody,
    p.represented,
    CASE WHEN p.nat IN (SELECT nat FROM top_nat) THEN p.nat ELSE 'other' END AS nationality_group,
    nta_age_band(p.nta_date, p.comp_date) AS nta_age_band,
    coalesce(p.court, 'unknown') AS court,
    strftime(p.comp_date, '%Y') AS period,
    count(*) AS n,
    count(*) FILTER (WHERE p.is_pd_closure) AS pd_closures
FROM p
GROUP BY ALL
ORDER BY ALL
