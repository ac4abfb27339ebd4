-- group: staging
-- Immigration courts (base cities): code, name, city and state, from the release's tblLookupBaseCity.
-- BASE_CITY_NAME is mostly the office's generic name ("IMMIGRATION COURT", "OFFICE OF THE
-- IMMIGRATION JUDGE": [JG] tblLookupBaseCity rows), so `court_label` is "City, ST" for charts.
SELECT DISTINCT ON (base_city_code)
    release_id,
    upper(trim(BASE_CITY_CODE)) AS base_city_code,
    trim(BASE_CITY_NAME) AS base_city_name,
    trim(BASE_CITY) AS base_city,
    upper(trim(BASE_STATE)) AS base_city_state,
    coalesce(
        nullif(trim(BASE_CITY), '') || coalesce(', ' || nullif(upper(trim(BASE_STATE)), ''), ''),
        trim(BASE_CITY_NAME),
        upper(trim(BASE_CITY_CODE))
    ) AS court_label
FROM raw.tblLookupBaseCity
WHERE release_id = getvariable('release_id') AND eoir_null(BASE_CITY_CODE) IS NOT NULL
ORDER BY base_city_code, source_line
