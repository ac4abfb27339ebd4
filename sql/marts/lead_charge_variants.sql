-- group: models
-- The lead charge of every proceeding with a charge record under three rules, side by side, for
-- the lead-charge rule comparison of the models: `most_serious` (the rule of marts.proceedings by
-- default: lowest severity rank, ties to the first charged), `first_charged` (lowest
-- IDNPRCDCHG), and `most_serious_not_withdrawn` (the most serious among charges whose
-- CHG_STATUS is not 'W', withdrawn; 'all_charges_withdrawn' when every charge was withdrawn).
-- "Most serious, then first charged" is one integer key, severity rank then IDNPRCDCHG (below
-- 2^40), as in marts.proceedings: no list built per charge row.
SELECT
    release_id,
    idnproceeding,
    arg_min(severity_category, coalesce(severity_rank, 1000)::BIGINT * 1099511627776 + idnprcdchg) AS most_serious,
    arg_min(severity_category, idnprcdchg) AS first_charged,
    coalesce(
        arg_min(severity_category, coalesce(severity_rank, 1000)::BIGINT * 1099511627776 + idnprcdchg)
            FILTER (WHERE chg_status IS DISTINCT FROM 'W'),
        'all_charges_withdrawn'
    ) AS most_serious_not_withdrawn
FROM marts.charges_classified
WHERE release_id = getvariable('release_id')
GROUP BY release_id, idnproceeding
