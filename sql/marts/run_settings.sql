-- group: closures
-- The settings this release's marts were built with, one row per release: the analysis window,
-- the pending date, the lead-charge rule and the small-cell threshold. Every published output
-- (charts, tables, index.html, appendix, extracts) reads them from here, never from the
-- environment of the process that exports, so a file can only say what the warehouse holds.
-- `proceedings` is the number of rows of marts.proceedings the other marts were computed from.
SELECT
    CAST(getvariable('release_id') AS VARCHAR) AS release_id,
    CAST(getvariable('window_start') AS DATE) AS window_start,
    CAST(getvariable('window_end') AS DATE) AS window_end,
    CAST(getvariable('pending_on') AS DATE) AS pending_on,
    CAST(getvariable('lead_charge_rule') AS VARCHAR) AS lead_charge_rule,
    CAST(getvariable('suppress_below') AS INTEGER) AS suppress_below,
    (SELECT count(*) FROM marts.proceedings WHERE release_id = getvariable('release_id'))::BIGINT AS proceedings,
    current_timestamp::TIMESTAMP AS built_at
