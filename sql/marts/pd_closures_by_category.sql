-- group: closures
-- The article's table: PD closures in the window (default 2011-12-01 to 2013-06-30, by
-- completion date) by lead-charge category, as counts and as percent of all PD closures, in the
-- article's row order (total; aggravated felony; other criminal; entry without inspection; other
-- immigration; miscellaneous; national security/terrorism), plus a row for proceedings with no
-- charge recorded when there are any. Unit: a proceeding closed by PD (admin-closed or
-- terminated, both shown). The article counts "cases"; a case with two PD-closed proceedings in
-- the window counts twice here (rare: a PD closure ends the case's active proceedings).
-- `pd_closures` is the strict rule (the default, = marts.proceedings.pd_strict). The PD variants
-- of data/reference/pd_variants.csv stand beside it as labelled bounds, not findings:
-- `pd_closures_with_terminations` adds every termination (DEC_CODE T) of a removal-type case
-- completed in the window, `pd_closures_with_review_terminations` only those of the months of
-- ICE's case review, `pd_closures_with_docket_terminations` only those at a court during
-- its docket review; `terminations_added` = the first minus `pd_closures`. `pd_closures_undated`
-- counts PD closures (strict) of the category with no usable completion date: they belong to no
-- window, so they are outside every count of this table.
WITH p AS (
    SELECT
        coalesce(lead_charge_category, 'no_charge_recorded') AS category,
        pd_kind,
        pd_strict,
        pd_with_terminations,
        pd_with_review_terminations,
        pd_with_docket_terminations,
        comp_date BETWEEN getvariable('window_start') AND getvariable('window_end') AS in_window,
        comp_date IS NULL AS undated
    FROM marts.proceedings
    WHERE release_id = getvariable('release_id') AND pd_with_terminations
),
cats AS (
    SELECT category, label, article_order FROM staging.severity_categories
    WHERE release_id = getvariable('release_id')
    UNION ALL SELECT 'no_charge_recorded', 'No charge recorded', 7
    UNION ALL SELECT 'total', 'Total', 0
),
counts AS (
    SELECT category,
           count(*) FILTER (WHERE in_window AND pd_strict) AS pd_closures,
           count(*) FILTER (WHERE in_window AND pd_kind = 'admin_closed') AS admin_closed,
           count(*) FILTER (WHERE in_window AND pd_kind = 'terminated') AS terminated,
           count(*) FILTER (WHERE in_window AND pd_with_terminations) AS pd_closures_with_terminations,
           count(*) FILTER (WHERE in_window AND pd_with_review_terminations) AS pd_closures_with_review_terminations,
           count(*) FILTER (WHERE in_window AND pd_with_docket_terminations) AS pd_closures_with_docket_terminations,
           count(*) FILTER (WHERE undated AND pd_strict) AS pd_closures_undated
    FROM p GROUP BY ROLLUP (category)
),
tot AS (SELECT * FROM counts WHERE category IS NULL)
SELECT
    getvariable('release_id') AS release_id,
    c.article_order AS row_order,
    c.category AS lead_charge_category,
    c.label AS category_label,
    coalesce(n.pd_closures, 0) AS pd_closures,
    round(100.0 * coalesce(n.pd_closures, 0) / nullif(tot.pd_closures, 0), 2) AS pct_of_pd_closures,
    coalesce(n.admin_closed, 0) AS admin_closed,
    coalesce(n.terminated, 0) AS terminated,
    coalesce(n.pd_closures_with_terminations, 0) AS pd_closures_with_terminations,
    round(100.0 * coalesce(n.pd_closures_with_terminations, 0) / nullif(tot.pd_closures_with_terminations, 0), 2)
        AS pct_with_terminations,
    coalesce(n.pd_closures_with_review_terminations, 0) AS pd_closures_with_review_terminations,
    coalesce(n.pd_closures_with_docket_terminations, 0) AS pd_closures_with_docket_terminations,
    coalesce(n.pd_closures_with_terminations, 0) - coalesce(n.pd_closures, 0) AS terminations_added,
    coalesce(n.pd_closures_undated, 0) AS pd_closures_undated,
    getvariable('window_start') AS window_start,
    getvariable('window_end') AS window_end
FROM cats c
LEFT JOIN counts n ON coalesce(n.category, 'total') = c.category
LEFT JOIN tot ON true
WHERE c.category <> 'no_charge_recorded' OR coalesce(n.pd_closures_with_terminations, 0) + coalesce(n.pd_closures_undated, 0) > 0
ORDER BY row_order
