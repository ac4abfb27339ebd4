-- group: staging
-- The release's charge lookup (tbllookupCharges): EOIR's code, its description, and the
-- `criminal_flag` / `aggravate_felon` flags where the release carries them (1/0 in current
-- files [DK]). The code is kept as published (space padding included); staging.charge_code_map
-- normalises it. The lookup has 252 codes while the data has about 571 spellings ([ED]).
SELECT DISTINCT ON (charge_code_raw)
    release_id,
    STRCODE AS charge_code_raw,
    trim(STRCODEDESCRIPTION) AS description,
    eoir_bool(CRIMINAL_FLAG) AS criminal_flag,
    eoir_bool(AGGRAVATE_FELON) AS aggravate_felon
FROM raw.tbllookupCharges
WHERE release_id = getvariable('release_id') AND eoir_null(STRCODE) IS NOT NULL
ORDER BY charge_code_raw, source_line
