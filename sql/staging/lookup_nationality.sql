-- group: staging
-- Nationality codes and names (tblLookupNationality). `??` is "UNKNOWN NATIONALITY" and is kept
-- as a code here (it is a real row of the lookup, [JG]).
SELECT DISTINCT ON (nat_code)
    release_id,
    upper(trim(NAT_CODE)) AS nat_code,
    trim(NAT_NAME) AS nat_name
FROM raw.tblLookupNationality
WHERE release_id = getvariable('release_id') AND trim(coalesce(NAT_CODE, '')) <> ''
ORDER BY nat_code, source_line
