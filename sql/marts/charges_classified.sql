-- group: classification
-- One row per NTA charge with its criminal-severity category. The category comes from
-- data/reference/charge_severity.csv (one row per canonical INA citation, each with its legal
-- basis), from the citation-prefix rule for parseable codes the table lacks (category_source
-- `rule`), or from the release's own tbllookupCharges flags where they change it
-- (`release_lookup`). Spellings that cannot be read as a charge are `miscellaneous` with
-- category_source `unknown`, and are counted by the check on staging.charge_code_map: never
-- silently binned. Categories, most serious first (severity_rank 1..6): national security /
-- terrorism, aggravated felony, other criminal, entry without inspection, other immigration,
-- miscellaneous.
SELECT
    c.release_id,
    c.idnprcdchg,
    c.idncase,
    c.idnproceeding,
    c.charge_raw,
    m.charge_code,
    m.citation,
    m.severity_category,
    m.severity_rank,
    m.legal_basis,
    m.category_source,
    m.is_known_code,
    c.chg_status
FROM staging.charges c
JOIN staging.charge_code_map m
    ON m.release_id = c.release_id AND m.charge_raw IS NOT DISTINCT FROM c.charge_raw
WHERE c.release_id = getvariable('release_id')
