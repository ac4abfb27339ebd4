-- group: staging
-- One row per NTA charge (B_TblProceedCharges). `charge_raw` is the CHARGE value exactly as
-- published; `charge_code` is its canonical EOIR spelling from staging.charge_code_map (space
-- padding and punctuation variants such as `(212)(a)(06)(i)(   )(   )` normalised), NULL when the
-- value cannot be read as a charge. The charges probably reflect the NTA as filed and may not be
-- updated later ([DD] codebook).
SELECT
    c.release_id,
    eoir_int(c.IDNPRCDCHG) AS idnprcdchg,
    eoir_int(c.IDNCASE) AS idncase,
    eoir_int(c.IDNPROCEEDING) AS idnproceeding,
    c.CHARGE AS charge_raw,
    m.charge_code,
    eoir_code(c.CHG_STATUS) AS chg_status,
    c.source_line
FROM raw.B_TblProceedCharges c
LEFT JOIN staging.charge_code_map m
    ON m.release_id = c.release_id AND m.charge_raw IS NOT DISTINCT FROM c.CHARGE
WHERE c.release_id = getvariable('release_id')
