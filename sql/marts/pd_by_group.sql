-- group: closures
-- PD closures and rates in the window by court (base city), nationality and custody: for each
-- value, completions in the window, PD closures among them, the PD rate (percent), and the same
-- for proceedings with a criminal lead charge (aggravated felony or other criminal) and for
-- immigration-only ones (entry without inspection or other immigration), so a reader can compare
-- criminal and non-criminal cases within a court, nationality or custody status.
WITH p AS (
    SELECT *,
           lead_charge_category IN ('aggravated_felony', 'other_criminal') AS criminal_lead,
           lead_charge_category IN ('entry_without_inspection', 'other_immigration') AS immigration_lead
    FROM marts.proceedings
    WHERE release_id = getvariable('release_id') AND is_completed
      AND comp_date BETWEEN getvariable('window_start') AND getvariable('window_end')
),
long AS (
    SELECT 'court' AS dimension, court AS value, any_value(court_name) OVER (PARTITION BY court) AS value_label,
           is_pd_closure, criminal_lead, immigration_lead FROM p
    UNION ALL
    SELECT 'nationality', nat, any_value(nat_name) OVER (PARTITION BY nat), is_pd_closure, criminal_lead, immigration_lead FROM p
    UNION ALL
    SELECT 'custody', custody, CASE custody WHEN 'D' THEN 'Detained' WHEN 'R' THEN 'Released' WHEN 'N' THEN 'Never detained' END,
           is_pd_closure, criminal_lead, immigration_lead FROM p
)
SELECT
    getvariable('release_id') AS release_id,
    dimension,
    coalesce(value, 'unknown') AS value,
    coalesce(any_value(value_label), coalesce(value, 'unknown')) AS value_label,
    count(*) AS completions,
    count(*) FILTER (WHERE is_pd_closure) AS pd_closures,
    round(100.0 * count(*) FILTER (WHERE is_pd_closure) / count(*), 3) AS pd_rate,
    count(*) FILTER (WHERE criminal_lead) AS criminal_completions,
    count(*) FILTER (WHERE criminal_lead AND is_pd_closure) AS criminal_pd_closures,
    count(*) FILTER (WHERE immigration_lead) AS immigration_completions,
    count(*) FILTER (WHERE immigration_lead AND is_pd_closure) AS immigration_pd_closures,
    getvariable('window_start') AS window_start,
    getvariable('window_end') AS window_end
FROM long
GROUP BY dimension, coalesce(value, 'unknown')
ORDER BY dimension, completions DESC
