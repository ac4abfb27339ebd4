-- group: staging
-- Representation: one row per attorney assignment (tbl_RepsAssigned). An EOIR-28 date is the
-- date a representative entered an appearance before the immigration court; EOIR-27 is for the BIA.
SELECT
    release_id,
    eoir_int(IDNREPSASSIGNED) AS idnrepsassigned,
    eoir_int(IDNCASE) AS idncase,
    eoir_code(STRATTYLEVEL) AS attorney_level,
    eoir_code(STRATTYTYPE) AS attorney_type,
    eoir_code(PARENT_TABLE) AS parent_table,
    eoir_int(PARENT_IDN) AS parent_idn,
    eoir_date(E_27_DATE) AS e_27_date,
    eoir_date(E_28_DATE) AS e_28_date,
    eoir_date(INS_TA_DATE_ASSIGNED) AS ins_ta_date_assigned,
    eoir_bool(BLNPRIMEATTY) AS is_prime_attorney,
    source_line
FROM raw.tbl_RepsAssigned
WHERE release_id = getvariable('release_id')
