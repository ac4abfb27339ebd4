-- group: closures
-- Each published TRAC or article figure on PD closures (data/reference/trac_published_figures.csv,
-- with its source and what difference to expect) beside the same quantity computed from this
-- release with the matching window, court and lead-charge category, the difference (computed
-- minus published) and the difference relative to the published figure. The unit is stated on
-- every row: TRAC and the article count cases; `pd_proceedings` and `completions` rows count
-- proceedings (the unit of marts.pd_closures_by_category, with which the article rows
-- reconcile), `pd_cases` rows count distinct cases (IDNCASE) with a PD closure, rates are
-- proceedings over proceedings. `computed_value` uses the strict PD rule;
-- `computed_with_terminations` the broadest variant (every DEC_CODE T in a removal-type case
-- added), a labelled upper bound. Windows are the published ones, fixed in the reference table,
-- not the run's window settings. The check trac_gap_reported lists every gap and never fails on
-- one: a gap is expected (see `expected_difference`), not an error. On a synthetic release the
-- values are computed (to test the arithmetic) but nothing is compared: `comparison` says
-- "not applicable: synthetic" and the differences are NULL. A rate whose denominator is empty in
-- the release (no completions at the court in the window) has no value, and `comparison` says
-- so rather than "compared".
WITH fig AS (
    SELECT
        figure_id, row_order::INTEGER AS row_order, quantity, published_value::DOUBLE AS published_value,
        value_kind, unit_published, compute, unit_computed,
        window_start::DATE AS window_start, window_end::DATE AS window_end,
        nullif(court, '') AS court, nullif(lead_charge_category, '') AS lead_charge_category,
        source, published_on, expected_difference
    FROM read_csv(getvariable('reference_dir') || '/trac_published_figures.csv', all_varchar = true)
),
-- Completions per day, court and lead-charge category: every proceedings-unit figure is a sum
-- over a window of these, so marts.proceedings is scanned once.
daily AS (
    SELECT
        comp_date, court, lead_charge_category,
        count(*) AS completions,
        count(*) FILTER (WHERE pd_strict) AS pd,
        count(*) FILTER (WHERE pd_with_terminations) AS pd_broad
    FROM marts.proceedings
    WHERE release_id = getvariable('release_id') AND is_completed
    GROUP BY ALL
),
pd_rows AS (
    SELECT idncase, comp_date, court, pd_strict, pd_kind, pd_with_terminations
    FROM marts.proceedings
    WHERE release_id = getvariable('release_id') AND pd_with_terminations AND comp_date IS NOT NULL
),
pending AS (
    SELECT count(DISTINCT idncase) AS cases
    FROM marts.proceedings
    WHERE release_id = getvariable('release_id')
      AND input_date <= (SELECT min(window_end) FROM fig WHERE compute = 'pending_cases')
      AND (comp_date IS NULL OR comp_date > (SELECT min(window_end) FROM fig WHERE compute = 'pending_cases'))
),
sums AS (
    SELECT
        f.figure_id,
        sum(d.completions) AS completions,
        sum(d.pd) AS pd,
        sum(d.pd_broad) AS pd_broad
    FROM fig f
    LEFT JOIN daily d
        ON d.comp_date BETWEEN f.window_start AND f.window_end
       AND (f.court IS NULL OR d.court = f.court)
       AND (f.lead_charge_category IS NULL OR d.lead_charge_category = f.lead_charge_category)
    WHERE f.compute IN ('pd_proceedings', 'completions', 'pd_rate_of_completions')
    GROUP BY f.figure_id
),
cases AS (
    SELECT
        f.figure_id,
        count(DISTINCT r.idncase) FILTER (WHERE r.pd_strict) AS pd_cases,
        count(DISTINCT r.idncase) FILTER (WHERE r.pd_kind = 'terminated') AS pd_terminated_cases,
        count(DISTINCT r.idncase) AS pd_cases_broad,
        count(DISTINCT r.idncase) FILTER (WHERE r.pd_kind = 'terminated' OR (r.pd_with_terminations AND NOT r.pd_strict))
            AS terminated_cases_broad
    FROM fig f
    LEFT JOIN pd_rows r
        ON r.comp_date BETWEEN f.window_start AND f.window_end
       AND (f.court IS NULL OR r.court = f.court)
    WHERE f.compute IN ('pd_cases', 'pd_terminated_cases', 'pd_cases_over_pending')
    GROUP BY f.figure_id
),
computed AS (
    SELECT
        f.*,
        CASE f.compute
            WHEN 'pd_proceedings' THEN coalesce(s.pd, 0)
            WHEN 'completions' THEN coalesce(s.completions, 0)
            WHEN 'pd_rate_of_completions' THEN round(100.0 * s.pd / nullif(s.completions, 0), 1)
            WHEN 'pd_cases' THEN c.pd_cases
            WHEN 'pd_terminated_cases' THEN c.pd_terminated_cases
            WHEN 'pending_cases' THEN (SELECT cases FROM pending)
            WHEN 'pd_cases_over_pending' THEN round(100.0 * c.pd_cases / nullif((SELECT cases FROM pending), 0), 1)
        END::DOUBLE AS computed_value,
        CASE f.compute
            WHEN 'pd_proceedings' THEN coalesce(s.pd_broad, 0)
            WHEN 'pd_rate_of_completions' THEN round(100.0 * s.pd_broad / nullif(s.completions, 0), 1)
            WHEN 'pd_cases' THEN c.pd_cases_broad
            WHEN 'pd_terminated_cases' THEN c.terminated_cases_broad
            WHEN 'pd_cases_over_pending' THEN round(100.0 * c.pd_cases_broad / nullif((SELECT cases FROM pending), 0), 1)
        END::DOUBLE AS computed_with_terminations
    FROM fig f
    LEFT JOIN sums s ON s.figure_id = f.figure_id
    LEFT JOIN cases c ON c.figure_id = f.figure_id
)
SELECT
    getvariable('release_id') AS release_id,
    row_order,
    figure_id,
    quantity,
    value_kind,
    published_value,
    unit_published,
    computed_value,
    computed_with_terminations,
    unit_computed,
    CASE WHEN starts_with(getvariable('release_id'), 'synthetic') THEN NULL
         ELSE round(computed_value - published_value, 1) END AS difference,
    CASE WHEN starts_with(getvariable('release_id'), 'synthetic') THEN NULL
         ELSE round(100.0 * (computed_value - published_value) / nullif(published_value, 0), 1) END
        AS relative_difference_pct,
    CASE WHEN starts_with(getvariable('release_id'), 'synthetic') THEN 'not applicable: synthetic'
         WHEN computed_value IS NULL THEN 'not computable: the release has none in the denominator'
         ELSE 'compared' END AS comparison,
    window_start,
    window_end,
    court,
    lead_charge_category,
    source,
    published_on,
    expected_difference
FROM computed
ORDER BY row_order
