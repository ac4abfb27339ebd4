"""Estimators behind the models of docs/DECISIONS.md#models (no Dagster imports): grouped logit with
court-clustered SEs, marginal effects, the era gap, and robustness models, validated against
row-level statsmodels fits.

Typical use on the mart's cells (one row per lead_charge_category, custody, represented,
nationality_group, nta_age_band, court, period with columns n and pd_closures):

    fit = fit_grouped_logit(
        cells,
        outcome_n="n", outcome_y="pd_closures",
        categorical=["lead_charge_category", "custody", "represented",
                     "nationality_group", "nta_age_band"],
        reference={"lead_charge_category": "entry_without_inspection"},
        fixed_effects=["court", "period"],
        cluster="court",
        # engine="sparse_newton" gives the same fit, faster on many cells (see grouped_logit)
    )
    fit.coefficients, fit.odds_ratios, fit.diagnostics
    fit.average_marginal_effects(["lead_charge_category"])
    fit.predicted_probabilities("lead_charge_category")

Module map: design (dummies, rank), covariance (grouped CRV1), grouped_logit, margins, era_gap,
eras (model eras from pipelines.classify.policy), lpm, robustness (random intercepts, leave-one-court-out), cells
(collapse/expand), simulate, bench.
"""

from pipelines.stats.cells import CELL_KEYS, collapse_to_cells, expand_cells
from pipelines.stats.design import DEFAULT_REFERENCE_LEVELS, DesignSpec, make_spec
from pipelines.stats.era_gap import EraGapResult, fit_era_gap
from pipelines.stats.eras import ERA_KEYS, ERA_LABELS, MODEL_ERAS, era_case_sql, era_expr, era_of
from pipelines.stats.grouped_logit import GroupedLogitResult, fit_grouped_logit
from pipelines.stats.lpm import GroupedLPMResult, fit_grouped_lpm
from pipelines.stats.margins import average_marginal_effects, predicted_probabilities
from pipelines.stats.robustness import (
    LeaveOneCourtOutResult,
    RandomInterceptResult,
    fit_court_random_intercepts,
    leave_one_court_out,
)

__all__ = [
    "CELL_KEYS",
    "DEFAULT_REFERENCE_LEVELS",
    "ERA_KEYS",
    "ERA_LABELS",
    "MODEL_ERAS",
    "DesignSpec",
    "EraGapResult",
    "GroupedLPMResult",
    "GroupedLogitResult",
    "LeaveOneCourtOutResult",
    "RandomInterceptResult",
    "average_marginal_effects",
    "collapse_to_cells",
    "era_case_sql",
    "era_expr",
    "era_of",
    "expand_cells",
    "fit_court_random_intercepts",
    "fit_era_gap",
    "fit_grouped_logit",
    "fit_grouped_lpm",
    "leave_one_court_out",
    "make_spec",
    "predicted_probabilities",
]
