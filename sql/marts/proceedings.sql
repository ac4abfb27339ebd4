-- group: closures
-- One row per proceeding, ready for analysis.
-- * Outcome: DEC_CODE (a merits decision) or, when it is empty, OTHER_COMP (an administrative
--   completion), decoded on (case type, field, code) with staging.lookup_court_decision, because
--   the same letter means different things by case type and by field.
-- * PD closure (`is_pd_closure`, `pd_kind`): OTHER_COMP `Y` ("Prosecutorial Discretion - Admin
--   Close") or `M` ("In Court Prosecutorial Discretion - Admin Closure") is an admin-closed PD
--   closure; DEC_CODE `I` ("Prosecutorial Discretion - Terminated") is a terminated PD closure in
--   RMV, DEP, EXC and REC cases only. The rule is data/reference/pd_codes.csv. A closure is dated
--   by COMP_DATE. A PD closure without a usable COMP_DATE (missing, or a 1900-era placeholder)
--   cannot be placed in any window: the checks pd_closures_undated_warn / _stop count it and
--   warn above 0.1% and stop the run above 1% of all PD closures (the fractions are in their
--   metadata).
-- * PD variants (data/reference/pd_variants.csv), bounds for PD terminations the codes no longer
--   show, side by side; labelled bounds, not findings. `pd_strict` (= is_pd_closure, the
--   default); `pd_with_terminations` adds every termination (DEC_CODE T) in a removal-type case
--   (RMV, DEP, EXC, REC; `is_removal_type_termination`); `pd_with_review_terminations` adds
--   those completed in the months of ICE's case review; `pd_with_docket_terminations`
--   those completed at a court during its docket review (data/reference/pd_review_periods.csv).
-- * Charges: every charge of the proceeding (`charges`, in charging order), the lead charge
--   (`lead_charge_code`, `lead_charge_category`) = the most serious charge, ties broken by the
--   first charged (lowest IDNPRCDCHG); with the setting lead_charge_rule = 'first_charged' the
--   lead charge is simply the first charged. NULL only when the proceeding has no charge.
--   `any_criminal`: at least one charge in a criminal category (aggravated felony, other criminal).
-- * Representation (`represented`): the case has an attorney appearance (EOIR-28) in
--   tbl_RepsAssigned dated on or before the proceeding's completion (any date, if pending).
-- * Custody: the proceeding's CUSTODY, else the case's; `detained` = custody D.
WITH pd AS (
    SELECT field, code, case_type, pd_kind
    FROM read_csv(getvariable('reference_dir') || '/pd_codes.csv', all_varchar = true)
),
-- The codes the broader PD variants add (DEC_CODE T in RMV, DEP, EXC, REC), one row a case type.
broad AS (
    SELECT DISTINCT extra_field AS field, extra_code AS code, unnest(string_split(extra_case_types, ' ')) AS case_type
    FROM read_csv(getvariable('reference_dir') || '/pd_variants.csv', all_varchar = true)
    WHERE extra_code IS NOT NULL
),
review AS (
    SELECT period_kind, court, start_date::DATE AS start_date, end_date::DATE AS end_date
    FROM read_csv(getvariable('reference_dir') || '/pd_review_periods.csv', all_varchar = true)
),
charges AS (
    -- One hash aggregation over the charges. The list is built unordered and sorted once per
    -- proceeding (list(... ORDER BY ...) sorts inside the aggregate, about twice the cost at full
    -- size), and the lead charge is three arg_min on one integer key: severity rank (1..6; a
    -- missing rank, which charge_code_map never gives, last), then IDNPRCDCHG (below 2^40). A
    -- struct-valued arg_min, or a list per charge row, cost more memory than the 3GB limit
    -- holds at full size.
    SELECT
        idnproceeding,
        list_transform(
            list_sort(list({'k': idnprcdchg, 'c': charge_code}) FILTER (WHERE charge_code IS NOT NULL)),
            lambda x: x.c
        ) AS charges,
        count(*) AS n_charges,
        arg_min(coalesce(charge_code, charge_raw), lead_key) AS lead_charge_code,
        arg_min(severity_category, lead_key) AS lead_charge_category,
        -- The rank of the lead charge itself (under first_charged it need not be the most serious).
        arg_min(severity_rank, lead_key) AS lead_charge_rank,
        bool_or(severity_category IN ('aggravated_felony', 'other_criminal')) AS any_criminal
    FROM (
        SELECT
            *,
            CASE WHEN getvariable('lead_charge_rule') = 'first_charged' THEN idnprcdchg::BIGINT
                 ELSE coalesce(severity_rank, 1000)::BIGINT * 1099511627776 + idnprcdchg END AS lead_key
        FROM marts.charges_classified
        WHERE release_id = getvariable('release_id')
    )
    GROUP BY idnproceeding
),
reps AS (
    SELECT idncase, min(e_28_date) AS first_e28
    FROM staging.reps_assigned
    WHERE release_id = getvariable('release_id') AND e_28_date IS NOT NULL
    GROUP BY idncase
),
base AS (
    SELECT
        p.*,
        CASE WHEN p.dec_code IS NOT NULL THEN 'DEC_CODE'
             WHEN p.other_comp IS NOT NULL THEN 'OTHER_COMP' END AS outcome_field,
        coalesce(p.dec_code, p.other_comp) AS outcome_code,
        coalesce(p.custody, c.custody) AS custody_any,
        c.nat AS case_nat
    FROM staging.proceedings p
    LEFT JOIN staging.cases c ON c.release_id = p.release_id AND c.idncase = p.idncase
    WHERE p.release_id = getvariable('release_id')
),
-- Each outcome the release holds (case type, DEC_CODE, OTHER_COMP: a few hundred combinations),
-- decoded once: its PD kind (both fields carrying a PD code: the merits decision, DEC_CODE I,
-- wins, as in pipelines.classify.pd.pd_kind) and whether a broader PD variant adds it. Every
-- proceeding then takes its outcome's row in one equi-join on the three codes (NULL matches NULL),
-- where a correlated lookup per proceeding made DuckDB copy every proceeding row once more.
outcomes AS (
    SELECT
        o.case_type, o.dec_code, o.other_comp,
        (SELECT arg_min(pd.pd_kind, CASE pd.field WHEN 'DEC_CODE' THEN 0 ELSE 1 END)
         FROM pd
         WHERE ((pd.field = 'OTHER_COMP' AND pd.code = o.other_comp)
                OR (pd.field = 'DEC_CODE' AND pd.code = o.dec_code))
           AND (pd.case_type = '*' OR pd.case_type = o.case_type)) AS pd_kind,
        EXISTS (
            SELECT 1 FROM broad
            WHERE broad.case_type = o.case_type
              AND ((broad.field = 'DEC_CODE' AND broad.code = o.dec_code)
                   OR (broad.field = 'OTHER_COMP' AND broad.code = o.other_comp))
        ) AS is_broad
    FROM (
        SELECT DISTINCT case_type, dec_code, other_comp
        FROM staging.proceedings
        WHERE release_id = getvariable('release_id')
    ) o
),
-- The proceedings a broader variant adds (few: the plain terminations of removal-type cases),
-- with the review periods their completion falls in; the range join runs on these rows only.
broad_rows AS (
    SELECT
        p.idnproceeding,
        coalesce(bool_or(rv.period_kind = 'case_review'), false) AS in_case_review,
        coalesce(bool_or(rv.period_kind = 'docket_review'), false) AS in_docket_review
    FROM staging.proceedings p
    JOIN (SELECT * FROM outcomes WHERE is_broad) o
      ON o.case_type = p.case_type
     AND o.dec_code IS NOT DISTINCT FROM p.dec_code
     AND o.other_comp IS NOT DISTINCT FROM p.other_comp
    LEFT JOIN review rv
      ON rv.court IN ('*', p.base_city_code) AND p.comp_date BETWEEN rv.start_date AND rv.end_date
    WHERE p.release_id = getvariable('release_id')
    GROUP BY p.idnproceeding
)
SELECT
    b.release_id,
    b.idnproceeding,
    b.idncase,
    b.base_city_code AS court,
    bc.court_label AS court_name,
    b.hearing_loc_code,
    b.case_type,
    b.custody_any AS custody,
    b.custody_any = 'D' AS detained,
    coalesce(b.nat, b.case_nat) AS nat,
    n.nat_name,
    b.osc_date AS nta_date,
    b.input_date,
    b.comp_date,
    b.comp_date IS NOT NULL AND b.outcome_code IS NOT NULL AS is_completed,
    b.outcome_field,
    b.outcome_code,
    d.description AS outcome_description,
    coalesce(pk.pd_kind IS NOT NULL, false) AS is_pd_closure,
    pk.pd_kind,
    coalesce(pk.pd_kind IS NOT NULL, false) AS pd_strict,
    coalesce(pk.pd_kind IS NOT NULL, false) OR br.idnproceeding IS NOT NULL AS pd_with_terminations,
    coalesce(pk.pd_kind IS NOT NULL, false) OR coalesce(br.in_case_review, false) AS pd_with_review_terminations,
    coalesce(pk.pd_kind IS NOT NULL, false) OR coalesce(br.in_docket_review, false) AS pd_with_docket_terminations,
    br.idnproceeding IS NOT NULL AS is_removal_type_termination,
    ch.charges,
    coalesce(ch.n_charges, 0) AS n_charges,
    ch.lead_charge_code,
    ch.lead_charge_category,
    ch.lead_charge_rank,
    coalesce(ch.any_criminal, false) AS any_criminal,
    b.crim_ind,
    b.aggravate_felon,
    r.first_e28 IS NOT NULL AND (b.comp_date IS NULL OR r.first_e28 <= b.comp_date) AS represented,
    b.absentia
FROM base b
LEFT JOIN charges ch ON ch.idnproceeding = b.idnproceeding
LEFT JOIN reps r ON r.idncase = b.idncase
LEFT JOIN staging.lookup_court_decision d
    ON d.release_id = b.release_id AND d.case_type = b.case_type
   AND d.field = b.outcome_field AND d.code = b.outcome_code
LEFT JOIN staging.lookup_base_city bc ON bc.release_id = b.release_id AND bc.base_city_code = b.base_city_code
LEFT JOIN staging.lookup_nationality n ON n.release_id = b.release_id AND n.nat_code = coalesce(b.nat, b.case_nat)
LEFT JOIN outcomes pk
    ON pk.case_type IS NOT DISTINCT FROM b.case_type
   AND pk.dec_code IS NOT DISTINCT FROM b.dec_code
   AND pk.other_comp IS NOT DISTINCT FROM b.other_comp
LEFT JOIN broad_rows br ON br.idnproceeding = b.idnproceeding
