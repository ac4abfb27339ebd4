"""Reference lists that live in Python modules, written into the warehouse so SQL can join them.

One source of truth each: the severity categories (pipelines.classify.categories) and the policy
dates and eras (pipelines.classify.policy). They are written per release like every other table.
"""

import dagster as dg
import polars as pl

from pipelines.assets.common import (
    WAREHOUSE_POOL,
    release_partitions,
    schema_metadata,
    warehouse_session,
)
from pipelines.classify.policy import POLICY_DATES, POLICY_ERAS
from pipelines.resources import PipelineSettings, Warehouse

# The article's table lists PD closures as: total; aggravated felony; other criminal; entry
# without inspection; other immigration; miscellaneous; national security/terrorism (the mission
# statement's figures: 21,648 = 31 + 218 + 14,813 + 6,479 + 103 + 4). `article_order` keeps it.
ARTICLE_ORDER = (
    "aggravated_felony",
    "other_criminal",
    "entry_without_inspection",
    "other_immigration",
    "miscellaneous",
    "national_security_terrorism",
)


def categories_frame(release_id: str) -> pl.DataFrame:
    from pipelines.classify.categories import SEVERITY_CATEGORIES

    return pl.DataFrame(
        {
            "release_id": release_id,
            "category": [c.name for c in SEVERITY_CATEGORIES],
            "severity_rank": [c.rank for c in SEVERITY_CATEGORIES],
            "label": [c.label for c in SEVERITY_CATEGORIES],
            "is_criminal": [c.is_criminal for c in SEVERITY_CATEGORIES],
            "article_order": [ARTICLE_ORDER.index(c.name) + 1 for c in SEVERITY_CATEGORIES],
        }
    )


def policy_frames(release_id: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    dates = pl.DataFrame(
        {
            "release_id": release_id,
            "policy_date": [p.on for p in POLICY_DATES],
            "short_label": [p.short_label for p in POLICY_DATES],
            "description": [p.description for p in POLICY_DATES],
            "opens_era": [p.opens_era for p in POLICY_DATES],
        }
    )
    starts = [s for _, s in POLICY_ERAS]
    eras = pl.DataFrame(
        {
            "release_id": release_id,
            "era": [e for e, _ in POLICY_ERAS],
            "era_start": [None if s.year == 1 else s for s in starts],
            "era_end": [
                None if i + 1 == len(starts) else starts[i + 1] for i in range(len(starts))
            ],
        }
    )
    return dates, eras


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["staging", "severity_categories"],
            group_name="classification",
            metadata=schema_metadata("staging.severity_categories"),
            description="The severity categories, ranks, labels and the article's row order.",
        ),
        dg.AssetSpec(
            ["staging", "policy_dates"],
            group_name="classification",
            metadata=schema_metadata("staging.policy_dates"),
            description="Enforcement-policy dates (Morton memos, case review, Johnson, rescission, Mayorkas).",
        ),
        dg.AssetSpec(
            ["staging", "policy_eras"],
            group_name="classification",
            metadata=schema_metadata("staging.policy_eras"),
            description="Policy eras [era_start, era_end) derived from the policy dates.",
        ),
    ],
    partitions_def=release_partitions,
    pool=WAREHOUSE_POOL,
)
def reference_tables(
    context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: Warehouse
):
    with warehouse_session(context, settings, warehouse) as wh:
        dates, eras = policy_frames(wh.release_id)
        n1 = wh.write("staging.severity_categories", categories_frame(wh.release_id))
        n2 = wh.write("staging.policy_dates", dates)
        n3 = wh.write("staging.policy_eras", eras)
    for key, n in (
        (["staging", "severity_categories"], n1),
        (["staging", "policy_dates"], n2),
        (["staging", "policy_eras"], n3),
    ):
        yield dg.MaterializeResult(asset_key=dg.AssetKey(key), metadata={"dagster/row_count": n})
