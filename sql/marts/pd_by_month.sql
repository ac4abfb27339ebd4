-- group: closures
-- Completions and PD closures per calendar month of completion, from 2010-01 to the release,
-- overall (`lead_charge_category` = 'all') and by lead-charge category, with the PD rate
-- (percent of completions) and the policy events of the month (Morton memos 2010-06-30,
-- 2011-03-02, 2011-06-17; case review 2011-11-17; Johnson memo 2014-11-20; rescission
-- 2017-02-20; Mayorkas memo 2021-09-30) so a chart can mark them.
WITH p AS (
    SELECT date_trunc('month', comp_date)::DATE AS month,
           coalesce(lead_charge_category, 'no_charge_recorded') AS category,
           is_pd_closure
    FROM marts.proceedings
    WHERE release_id = getvariable('release_id') AND is_completed AND comp_date >= DATE '2010-01-01'
),
agg AS (
    SELECT month, coalesce(category, 'all') AS lead_charge_category,
           count(*) AS completions, count(*) FILTER (WHERE is_pd_closure) AS pd_closures
    FROM p GROUP BY GROUPING SETS ((month, category), (month))
),
events AS (
    SELECT date_trunc('month', policy_date)::DATE AS month, string_agg(short_label, '; ' ORDER BY policy_date) AS policy_events
    FROM staging.policy_dates WHERE release_id = getvariable('release_id')
    GROUP BY 1
)
SELECT
    getvariable('release_id') AS release_id,
    a.month,
    a.lead_charge_category,
    a.completions,
    a.pd_closures,
    round(100.0 * a.pd_closures / nullif(a.completions, 0), 3) AS pd_rate,
    e.policy_events
FROM agg a
LEFT JOIN events e ON e.month = a.month
ORDER BY a.month, a.lead_charge_category
