-- group: staging
-- One row per case (IDNCASE): one charging document (NTA) per case type. Typed from
-- raw.A_TblCase: dates parsed (1900-era placeholders to NULL), NULL spellings cleaned, `N/A` kept
-- as a real case-priority code. Birth month/year is reduced to the year (no finer detail is
-- needed and it lowers re-identification risk).
SELECT
    release_id,
    eoir_int(IDNCASE) AS idncase,
    eoir_code(CASE_TYPE) AS case_type,
    eoir_code(NAT) AS nat,
    eoir_code(LANG) AS lang,
    eoir_code(CUSTODY) AS custody,
    eoir_code(SEX) AS sex,
    eoir_bool(LPR) AS lpr,
    eoir_date(DATE_OF_ENTRY) AS date_of_entry,
    eoir_date(DATE_DETAINED) AS date_detained,
    eoir_date(DATE_RELEASED) AS date_released,
    eoir_date(E_28_DATE) AS e_28_date,
    eoir_date(LATEST_HEARING) AS latest_hearing,
    eoir_null_keep_na(upper(CASEPRIORITY_CODE)) AS casepriority_code,
    eoir_code(ALIEN_STATE) AS alien_state,
    try_cast(split_part(eoir_null(C_BIRTHDATE), '/', 2) AS INTEGER) AS birth_year,
    source_line
FROM raw.A_TblCase
WHERE release_id = getvariable('release_id')
