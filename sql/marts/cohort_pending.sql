-- group: models
-- Analysis cohort (b): the docket pending on `pending_on` (default 2011-11-17, the start of the
-- nationwide case review): proceedings received (INPUT_DATE) on or before that day and not
-- completed before it. Outcome `pd_closure`: closed by PD between `pending_on` and the window's
-- end (default 2013-06-30, a 19-month horizon), following the case: a PD closure of any
-- proceeding of the same case completed after `pending_on` and by the horizon counts (a change of
-- venue or a transfer closes the pending proceeding and opens another one, which may then be
-- closed by PD). Covariates are measured at the baseline: representation is an attorney
-- appearance (EOIR-28) on or before `pending_on` (not later: a later appearance can be a
-- consequence of the case's course), time since NTA on `pending_on`, and `period` = the year the
-- proceeding was received (a pending docket has no completion period). Competing outcomes (PD,
-- other completion, still pending) by horizon: marts.pending_competing_risks.
WITH p AS (
    SELECT *
    FROM marts.proceedings
    WHERE release_id = getvariable('release_id')
      AND input_date <= getvariable('pending_on')
      AND (comp_date IS NULL OR comp_date > getvariable('pending_on'))
),
reps AS (
    SELECT idncase, min(e_28_date) AS first_e28
    FROM staging.reps_assigned
    WHERE release_id = getvariable('release_id') AND e_28_date IS NOT NULL
    GROUP BY idncase
),
case_pd AS (
    SELECT p.idnproceeding, bool_or(q.is_pd_closure) AS pd_in_case
    FROM p
    JOIN marts.proceedings q
        ON q.release_id = p.release_id AND q.idncase = p.idncase
       AND q.comp_date > getvariable('pending_on') AND q.comp_date <= getvariable('window_end')
    GROUP BY p.idnproceeding
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
    coalesce(r.first_e28 <= getvariable('pending_on'), false) AS represented,
    CASE WHEN p.nat IN (SELECT nat FROM top_nat) THEN p.nat ELSE 'other' END AS nationality_group,
    nta_age_band(p.nta_date, getvariable('pending_on')) AS nta_age_band,
    strftime(p.input_date, '%Y') AS period,
    p.comp_date,
    p.crim_ind,
    p.aggravate_felon,
    coalesce(cp.pd_in_case, false) AS pd_closure,
    p.pd_kind
FROM p
LEFT JOIN reps r ON r.idncase = p.idncase
LEFT JOIN case_pd cp ON cp.idnproceeding = p.idnproceeding
