-- group: models
-- Competing risks for the pending docket (marts.cohort_pending), following each case through all
-- of its proceedings (a change of venue or a transfer closes one proceeding and opens another; a
-- PD closure in the new one counts). At each horizon after `pending_on` (6 and 12 months, and the
-- window's end) a pending proceeding's case is in one of three states: `pd` (some proceeding of
-- the case was closed by PD after `pending_on` and by the horizon), `other_completion` (no PD
-- closure, and every proceeding of the case received by the horizon was completed by it), or
-- `still_pending`. With censoring only at the fixed horizon, the cumulative incidence of each
-- state is its share of the cohort (the Aalen-Johansen estimator reduces to these proportions).
-- By lead-charge category of the pending proceeding, and `all`.
WITH base AS (
    SELECT idnproceeding, idncase, lead_charge_category
    FROM marts.cohort_pending
    WHERE release_id = getvariable('release_id')
),
horizons AS (
    SELECT * FROM (VALUES
        (6, (getvariable('pending_on')::DATE + INTERVAL 6 MONTH)::DATE),
        (12, (getvariable('pending_on')::DATE + INTERVAL 12 MONTH)::DATE),
        (datediff('month', getvariable('pending_on')::DATE, getvariable('window_end')::DATE),
         getvariable('window_end')::DATE)
    ) AS h(horizon_months, horizon_date)
),
case_state AS (
    SELECT
        b.idnproceeding,
        b.lead_charge_category,
        h.horizon_months,
        h.horizon_date,
        bool_or(q.is_pd_closure AND q.comp_date > getvariable('pending_on')
                AND q.comp_date <= h.horizon_date) AS any_pd,
        bool_and(q.comp_date IS NOT NULL AND q.comp_date <= h.horizon_date)
            FILTER (WHERE q.input_date <= h.horizon_date) AS all_completed
    FROM base b
    CROSS JOIN horizons h
    JOIN marts.proceedings q
        ON q.release_id = getvariable('release_id') AND q.idncase = b.idncase
    GROUP BY ALL
),
states AS (
    SELECT lead_charge_category, horizon_months, horizon_date,
           CASE WHEN any_pd THEN 'pd'
                WHEN all_completed THEN 'other_completion'
                ELSE 'still_pending' END AS state
    FROM case_state
)
SELECT
    getvariable('release_id') AS release_id,
    coalesce(lead_charge_category, 'all') AS lead_charge_category,
    horizon_months,
    any_value(horizon_date) AS horizon_date,
    count(*) AS proceedings,
    count(*) FILTER (WHERE state = 'pd') AS pd,
    count(*) FILTER (WHERE state = 'other_completion') AS other_completion,
    count(*) FILTER (WHERE state = 'still_pending') AS still_pending,
    count(*) FILTER (WHERE state = 'pd') / count(*) AS cumulative_incidence_pd,
    count(*) FILTER (WHERE state = 'other_completion') / count(*) AS cumulative_incidence_other
FROM states
GROUP BY GROUPING SETS ((lead_charge_category, horizon_months), (horizon_months))
ORDER BY ALL
