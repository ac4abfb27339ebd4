-- group: models
-- The completions cohort in covariate cells under other populations and other PD outcomes,
-- for the side-by-side comparison with the main model (marts.model_cells_completions).
-- * kind `population`, the same outcome on another population: `no_venue_change_or_transfer`
--   leaves out completions by change of venue or transfer (OTHER_COMP C / T: the case goes on
--   elsewhere, so "not PD" is not an outcome), and `case_level` keeps one proceeding per case,
--   its last completion in the window (latest completion date, then highest IDNPROCEEDING), so
--   a case with several proceedings counts once.
-- * kind `outcome`, the main model's cells with another PD outcome: one variant per PD bound of
--   data/reference/pd_variants.csv (`outcome_<id>`: `outcome_with_terminations`,
--   `outcome_with_review_terminations`, `outcome_with_docket_terminations`), where
--   `pd_closures` counts that bound's flag of marts.proceedings (`pd_with_terminations`, ...)
--   instead of the strict rule. The cells and their `n` are those of
--   marts.model_cells_completions; a bound's `pd_closures` is never below the strict one. The
--   bounds add plain terminations (DEC_CODE T) that a current release no longer codes as PD:
--   labelled bounds, not findings.
-- Proceedings without a charge record are left out as in marts.model_cells_completions.
WITH c AS (
    SELECT c.*, q.outcome_field, q.outcome_code
    FROM marts.cohort_completions c
    JOIN marts.proceedings q ON q.release_id = c.release_id AND q.idnproceeding = c.idnproceeding
    WHERE c.release_id = getvariable('release_id') AND c.lead_charge_category <> 'no_charge_recorded'
),
last_per_case AS (
    SELECT idncase, arg_max(idnproceeding, [epoch(comp_date), idnproceeding]) AS idnproceeding
    FROM c
    GROUP BY idncase
),
-- The bounds, one row a (proceeding, bound): the PD-variant columns of marts.proceedings
-- unpivoted and named by their row of pd_variants.csv, so a bound added there is modelled too.
bounds AS (
    SELECT 'outcome_' || v.variant AS variant, f.idnproceeding, f.counted
    FROM (
        UNPIVOT (
            -- the cohort's proceedings only (a few million of a release's 15 million)
            SELECT idnproceeding, COLUMNS('^pd_(strict|with_.*)$')
            FROM marts.proceedings q
            WHERE release_id = getvariable('release_id')
              AND idnproceeding IN (SELECT idnproceeding FROM c)
        )
        ON COLUMNS('^pd_(strict|with_.*)$') INTO NAME column_name VALUE counted
    ) f
    JOIN read_csv(getvariable('reference_dir') || '/pd_variants.csv', all_varchar = true) v
      ON v.column_name = f.column_name
    WHERE lower(v.is_default) <> 'true'
),
long AS (
    SELECT 'population' AS kind, 'no_venue_change_or_transfer' AS variant, *, pd_closure AS counted
    FROM c
    WHERE NOT (outcome_field = 'OTHER_COMP' AND outcome_code IN ('C', 'T'))
    UNION ALL BY NAME
    SELECT 'population' AS kind, 'case_level' AS variant, c.*, c.pd_closure AS counted
    FROM c
    JOIN last_per_case l USING (idnproceeding)
    UNION ALL BY NAME
    SELECT 'outcome' AS kind, b.variant, c.*, b.counted
    FROM c
    JOIN bounds b USING (idnproceeding)
)
SELECT
    release_id, kind, variant,
    lead_charge_category, custody, represented, nationality_group, nta_age_band, court, period,
    count(*) AS n,
    count(*) FILTER (WHERE counted) AS pd_closures
FROM long
GROUP BY ALL
ORDER BY ALL
