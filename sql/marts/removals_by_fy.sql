-- group: classification
-- ICE removals counted by fiscal year of departure (October to September), criminality
-- (convicted / pending charges / other immigration violator) and DHS threat level (ICE's own
-- level, or a derived lower bound where ICE gave none: see threat_level_source). Each cell also
-- counts the removals whose most serious conviction is an immigration offense (NCIC 03xx:
-- illegal entry, re-entry, false citizenship, alien smuggling), so the convicted share can be
-- shown with and without immigration-only convictions:
-- with = convicted removals / all removals;
-- without = (convicted removals minus immigration_only_convictions) / all removals.
-- likely_duplicates counts rows that repeat a person and departure date (kept, flagged).
-- First and last departure dates let a check tell whether a fiscal year is fully covered.
SELECT
    release_id,
    fiscal_year,
    criminality,
    threat_level,
    threat_level_source,
    count(*) AS removals,
    count(*) FILTER (WHERE immigration_only_conviction) AS immigration_only_convictions,
    count(*) FILTER (WHERE NOT immigration_only_conviction) AS removals_excluding_immigration_only,
    count(*) FILTER (WHERE is_likely_duplicate) AS likely_duplicates,
    min(departed_date) AS first_departed_date,
    max(departed_date) AS last_departed_date
FROM marts.removals
WHERE release_id = getvariable('release_id')
GROUP BY release_id, fiscal_year, criminality, threat_level, threat_level_source
ORDER BY fiscal_year, criminality, threat_level, threat_level_source
