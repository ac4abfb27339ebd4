-- group: classification
-- The offense families (NCIC code's first two digits, data/reference/ncic_families.csv) of the
-- most serious conviction of convicted removals, ranked within each DHS threat level (1 = most
-- serious; NULL = convicted but no level given by ICE nor derivable). share_of_level is the
-- family's share of the level's convicted removals; derived_level_removals counts those whose
-- level was derived rather than given by ICE. Rows with no offense code have a NULL family.
WITH families AS (
    SELECT
        release_id,
        threat_level,
        ncic_family_code,
        any_value(ncic_family) AS ncic_family,
        count(*) AS removals,
        count(*) FILTER (WHERE threat_level_source = 'derived') AS derived_level_removals,
        count(*) FILTER (WHERE immigration_only_conviction) AS immigration_only_convictions
    FROM marts.removals
    WHERE release_id = getvariable('release_id')
      AND criminality = 'convicted'
    GROUP BY release_id, threat_level, ncic_family_code
)
SELECT
    release_id,
    threat_level,
    row_number() OVER (
        PARTITION BY threat_level ORDER BY removals DESC, ncic_family_code NULLS LAST
    ) AS rank_in_level,
    ncic_family_code,
    ncic_family,
    removals,
    removals / sum(removals) OVER (PARTITION BY threat_level) AS share_of_level,
    derived_level_removals,
    immigration_only_convictions
FROM families
ORDER BY threat_level NULLS LAST, rank_in_level
