-- group: closures
-- The article's table: PD closures in the window (default 2011-12-01 to 2013-06-30, by
-- completion date) by lead-charge category, as counts and as percent of all PD closures, in the
-- article's row order (total; aggravated felony; other criminal; entry without inspection; other
-- immigration; miscellaneous; national security/terrorism), plus a row for proceedings with no
-- charge recorded when there are any. Unit: a proceeding closed by PD (admin-closed or
-- terminated, both shown). The article counts "cases"; a case with two PD-closed proceedings in
-- the window counts twice here (rare: a PD closure ends the case's active proceedings).
WITH pd AS (
    SELECT coalesce(lead_charge_category, 'no_charge_recorded') AS category, pd_kind
    FROM marts.proceedings
    WHERE release_id = getvariable('release_id') AND is_pd_closure
      AND comp_date BETWEEN getvariable('window_start') AND getvariable('window_end')
),
cats AS (
    SELECT category, label, article_order FROM staging.severity_categories
    WHERE release_id = getvariable('release_id')
    UNION ALL SELECT 'no_charge_recorded', 'No charge recorded', 7
    UNION ALL SELECT 'total', 'Total', 0
),
counts AS (
    SELECT category, count(*) AS pd_closures,
           count(*) FILTER (WHERE pd_kind = 'admin_closed') AS admin_closed,
           count(*) FILTER (WHERE pd_kind = 'terminated') AS terminated
    FROM pd GROUP BY ROLLUP (category)
)
SELECT
    getvariable('release_id') AS release_id,
    c.article_order AS row_order,
    c.category AS lead_charge_category,
    c.label AS category_label,
    coalesce(n.pd_closures, 0) AS pd_closures,
    round(100.0 * coalesce(n.pd_closures, 0) / nullif((SELECT count(*) FROM pd), 0), 2) AS pct_of_pd_closures,
    coalesce(n.admin_closed, 0) AS admin_closed,
    coalesce(n.terminated, 0) AS terminated,
    getvariable('window_start') AS window_start,
    getvariable('window_end') AS window_end
FROM cats c
LEFT JOIN counts n ON coalesce(n.category, 'total') = c.category
WHERE c.category <> 'no_charge_recorded' OR coalesce(n.pd_closures, 0) > 0
ORDER BY row_order
