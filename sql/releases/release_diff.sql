-- marts.release_diff: the summary (section, item, previous and current value, difference).
-- Written by pipelines/releases/diff.py with variables release_id and previous_release_id
-- (NULL when the warehouse holds no earlier release of the same kind).
-- Reads the two detail tables, so it runs after them.
SELECT
    CAST(getvariable('release_id') AS VARCHAR) AS release_id,
    CAST(getvariable('previous_release_id') AS VARCHAR) AS previous_release_id,
    CAST(section AS VARCHAR) AS section,
    CAST(item AS VARCHAR) AS item,
    CAST(previous_value AS BIGINT) AS previous_value,
    CAST(current_value AS BIGINT) AS current_value,
    CAST(current_value - previous_value AS BIGINT) AS difference,
    CAST(ord AS INTEGER) AS row_order
FROM (
    -- Loaded rows per source table (as-is + repaired), this release against the previous one.
    SELECT * FROM (
        WITH cur AS (
            SELECT source_table, sum(loaded_as_is + repaired) AS n FROM raw.load_audit
            WHERE release_id = getvariable('release_id') GROUP BY ALL
        ),
        prev AS (
            SELECT source_table, sum(loaded_as_is + repaired) AS n FROM raw.load_audit
            WHERE release_id = getvariable('previous_release_id') GROUP BY ALL
        )
        SELECT 'table_rows' AS section, coalesce(cur.source_table, prev.source_table) AS item,
               prev.n AS previous_value, cur.n AS current_value, 0 AS ord
        FROM cur FULL OUTER JOIN prev ON lower(cur.source_table) = lower(prev.source_table)
    )
    UNION ALL
    -- Proceedings and charges: totals, and the changes counted from the two detail tables.
    SELECT * FROM (
        WITH d AS (SELECT * FROM marts.release_diff_proceedings WHERE release_id = getvariable('release_id')),
        c AS (SELECT * FROM marts.release_diff_charges WHERE release_id = getvariable('release_id')),
        has_prev AS (SELECT getvariable('previous_release_id') IS NOT NULL AS yes),
        totals AS (
            SELECT
                (SELECT count(*) FROM marts.proceedings WHERE release_id = getvariable('release_id')) AS p_cur,
                (SELECT count(*) FROM marts.proceedings
                    WHERE release_id = getvariable('previous_release_id')) AS p_prev,
                (SELECT count(*) FILTER (WHERE is_pd_closure) FROM marts.proceedings
                    WHERE release_id = getvariable('release_id')) AS pd_cur,
                (SELECT count(*) FILTER (WHERE is_pd_closure) FROM marts.proceedings
                    WHERE release_id = getvariable('previous_release_id')) AS pd_prev,
                (SELECT count(*) FROM marts.charges_classified
                    WHERE release_id = getvariable('release_id')) AS c_cur,
                (SELECT count(*) FROM marts.charges_classified
                    WHERE release_id = getvariable('previous_release_id')) AS c_prev
        )
        SELECT * FROM (
            SELECT 'proceedings' AS section, 'total' AS item,
                   CASE WHEN (SELECT yes FROM has_prev) THEN p_prev END AS previous_value,
                   p_cur AS current_value, 1 AS ord FROM totals
            UNION ALL
            SELECT 'proceedings', 'pd_closures',
                   CASE WHEN (SELECT yes FROM has_prev) THEN pd_prev END, pd_cur, 2 FROM totals
            UNION ALL
            SELECT 'charges', 'total',
                   CASE WHEN (SELECT yes FROM has_prev) THEN c_prev END, c_cur, 10 FROM totals
        )
        UNION ALL
        SELECT * FROM (
            SELECT 'proceedings', 'added', NULL, count(*) FILTER (WHERE change = 'added'), 3 FROM d
            UNION ALL
            SELECT 'proceedings', 'removed', NULL, count(*) FILTER (WHERE change = 'removed'), 4 FROM d
            UNION ALL
            SELECT 'proceedings', 'outcome_changed', NULL, count(*) FILTER (WHERE outcome_changed), 5 FROM d
            UNION ALL
            SELECT 'proceedings', 'pd_status_changed', NULL,
                   count(*) FILTER (WHERE pd_status_changed), 6 FROM d
            UNION ALL
            SELECT 'proceedings', 'became_pd_closure', NULL,
                   count(*) FILTER (WHERE pd_status_changed AND is_pd_closure
                                    AND NOT coalesce(previous_is_pd_closure, false)), 7 FROM d
            UNION ALL
            SELECT 'proceedings', 'no_longer_pd_closure', NULL,
                   count(*) FILTER (WHERE pd_status_changed AND previous_is_pd_closure
                                    AND NOT coalesce(is_pd_closure, false)), 8 FROM d
            UNION ALL
            SELECT 'charges', 'added', NULL, count(*) FILTER (WHERE change = 'added'), 11 FROM c
            UNION ALL
            SELECT 'charges', 'removed', NULL, count(*) FILTER (WHERE change = 'removed'), 12 FROM c
            UNION ALL
            SELECT 'charges', 'code_changed', NULL, count(*) FILTER (WHERE change = 'code_changed'), 13
            FROM c
            UNION ALL
            SELECT 'charges', 'category_changed', NULL,
                   count(*) FILTER (WHERE change = 'code_changed'
                                    AND severity_category IS DISTINCT FROM previous_severity_category), 14
            FROM c
        ) WHERE (SELECT yes FROM has_prev)
    )
)
ORDER BY row_order, item
