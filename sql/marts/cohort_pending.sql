-- group: models
-- Analysis cohort (b): the docket pending on `pending_on` (default 2011-11-17, the start of the
-- nationwide case review): proceedings received (INPUT_DATE) on or before that day and not
-- completed before it. Outcome `pd_closure`: closed by PD between `pending_on` and the window's
-- end (default 2013-06-30, a 19-month horizon). Regressors as in cohort (a), with time since NTA
-- measured on `pending_on` and `period` = the year the proceeding was received (a pending docket
-- has no completion period).
WITH p AS (
    SELECT *
    FROM marts.proceedings
    WHERE release_id = getvariable('release_id')
      AND input_date <= getvariable('pending_on')
      AND (comp_date IS NULL OR comp_date > getvariable('pending_on'))
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
    nta_age_band(p.nta_date, getvariable('pending_on')) AS nta_age_band,
    strftime(p.input_date, '%Y') AS period,
    p.comp_date,
    p.crim_ind,
    p.aggravate_felon,
    coalesce(p.is_pd_closure AND p.comp_date <= getvariable('window_end'), false) AS pd_closure,
    p.pd_kind
FROM p
