-- group: closures
-- How likely a proceeding of each lead-charge category was to be closed by PD, against two
-- denominators, so a reader sees not only that few PD closures were criminal but how a criminal
-- case's chance compared with an immigration-only case's:
-- * completions: proceedings completed (COMP_DATE with a decision or other completion) in the
--   window; pd_rate_of_completions = PD closures / completions (TRAC's measure: 4.7% in FY2012).
-- * pending: proceedings pending on `pending_on` (default 2011-11-17, the start of the
--   nationwide case review): received (INPUT_DATE) on or before that day and not completed
--   before it; pd_rate_of_pending = those of them closed by PD from `pending_on` to the window's
--   end / pending.
-- Shares give each category's percent of all completions, of the pending docket, and of PD
-- closures. Rates are percentages.
WITH p AS (
    SELECT
        coalesce(lead_charge_category, 'no_charge_recorded') AS category,
        is_pd_closure,
        is_completed AND comp_date BETWEEN getvariable('window_start') AND getvariable('window_end') AS completed_in_window,
        input_date <= getvariable('pending_on')
            AND (comp_date IS NULL OR comp_date > getvariable('pending_on')) AS pending,
        comp_date
    FROM marts.proceedings
    WHERE release_id = getvariable('release_id')
),
agg AS (
    SELECT
        coalesce(category, 'total') AS category,
        count(*) FILTER (WHERE completed_in_window) AS completions,
        count(*) FILTER (WHERE completed_in_window AND is_pd_closure) AS pd_closures,
        count(*) FILTER (WHERE pending) AS pending,
        count(*) FILTER (WHERE pending AND is_pd_closure
                         AND comp_date BETWEEN getvariable('pending_on') AND getvariable('window_end')) AS pending_pd_closures
    FROM p GROUP BY ROLLUP (category)
),
cats AS (
    SELECT category, label, article_order FROM staging.severity_categories
    WHERE release_id = getvariable('release_id')
    UNION ALL SELECT 'no_charge_recorded', 'No charge recorded', 7
    UNION ALL SELECT 'total', 'Total', 0
),
tot AS (SELECT * FROM agg WHERE category = 'total')
SELECT
    getvariable('release_id') AS release_id,
    c.article_order AS row_order,
    c.category AS lead_charge_category,
    c.label AS category_label,
    coalesce(a.completions, 0) AS completions,
    coalesce(a.pd_closures, 0) AS pd_closures,
    round(100.0 * a.pd_closures / nullif(a.completions, 0), 3) AS pd_rate_of_completions,
    round(100.0 * a.completions / nullif(tot.completions, 0), 3) AS share_of_completions,
    round(100.0 * a.pd_closures / nullif(tot.pd_closures, 0), 3) AS share_of_pd_closures,
    coalesce(a.pending, 0) AS pending,
    coalesce(a.pending_pd_closures, 0) AS pending_pd_closures,
    round(100.0 * a.pending_pd_closures / nullif(a.pending, 0), 3) AS pd_rate_of_pending,
    round(100.0 * a.pending / nullif(tot.pending, 0), 3) AS share_of_pending,
    getvariable('window_start') AS window_start,
    getvariable('window_end') AS window_end,
    getvariable('pending_on') AS pending_on
FROM cats c
LEFT JOIN agg a ON a.category = c.category
CROSS JOIN tot
WHERE c.category <> 'no_charge_recorded' OR coalesce(a.completions, 0) + coalesce(a.pending, 0) > 0
ORDER BY row_order
