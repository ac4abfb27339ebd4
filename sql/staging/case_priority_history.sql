-- group: staging
-- Case-priority history (tbl_CasePriorityHistory): the 2014+ surge-docket priorities (adults with
-- children, unaccompanied children, recent border crossers). These are NOT prosecutorial-
-- discretion markers; `N/A` ("Not Applicable") is a real code here.
SELECT
    release_id,
    eoir_int(IDNCASEPRIHISTORY) AS idncasepriorityhistory,
    eoir_int(IDNCASE) AS idncase,
    eoir_null_keep_na(upper(CASEPRIORITY_CODE)) AS casepriority_code,
    eoir_date(DATCREATEDON) AS created_on,
    eoir_date(DATMODIFIEDON) AS modified_on,
    source_line
FROM raw.tbl_CasePriorityHistory
WHERE release_id = getvariable('release_id')
