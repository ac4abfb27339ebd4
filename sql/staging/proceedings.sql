-- group: staging
-- One row per proceeding (IDNPROCEEDING). A case gets a new proceeding after a change of venue,
-- a reopening after administrative closure, or a remand; each ends with DEC_CODE (a merits
-- decision) or OTHER_COMP (an administrative completion) on COMP_DATE. OSC_DATE is the date of
-- the charging document (NTA). Codes are kept raw here; they are decoded on
-- (CASE_TYPE, field, code) in the marts because the same letter means different things.
SELECT
    release_id,
    eoir_int(IDNPROCEEDING) AS idnproceeding,
    eoir_int(IDNCASE) AS idncase,
    eoir_date(OSC_DATE) AS osc_date,
    eoir_date(INPUT_DATE) AS input_date,
    eoir_date(COMP_DATE) AS comp_date,
    eoir_code(BASE_CITY_CODE) AS base_city_code,
    eoir_code(HEARING_LOC_CODE) AS hearing_loc_code,
    eoir_code(IJ_CODE) AS ij_code,
    eoir_code(CASE_TYPE) AS case_type,
    eoir_code(CUSTODY) AS custody,
    eoir_code(NAT) AS nat,
    eoir_code(LANG) AS lang,
    eoir_code(DEC_TYPE) AS dec_type,
    eoir_code(DEC_CODE) AS dec_code,
    eoir_code(OTHER_COMP) AS other_comp,
    eoir_code(ABSENTIA) AS absentia,
    eoir_code(TRANSFER_STATUS) AS transfer_status,
    eoir_bool(CRIM_IND) AS crim_ind,
    eoir_bool(AGGRAVATE_FELON) AS aggravate_felon,
    eoir_date(DATE_DETAINED) AS date_detained,
    eoir_date(DATE_RELEASED) AS date_released,
    eoir_code(IHP) AS ihp,
    source_line
FROM raw.B_TblProceeding
WHERE release_id = getvariable('release_id')
