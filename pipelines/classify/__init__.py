"""Charge severity, PD closures and the lead charge, with their reference tables.

Public API (Dagster-free, pure functions over strings and polars frames):
- `normalize_charge(raw)` -> NormalizedCharge | None        (pipelines.classify.charges)
- `severity_of(code)`, `classify_charge(raw)`, `charge_code_map(raw_codes, release_lookup)`,
  `reconcile_with_release_flags(code, criminal_flag, aggravate_felon)`,
  `release_flag_disagreements(release_lookup)`                 (pipelines.classify.severity)
- `lead_charge(codes, rule)`, `lead_charge_order_sql(rule)`    (pipelines.classify.lead)
- `pd_kind(case_type, dec_code, other_comp)`, `pd_kind_sql(...)` (pipelines.classify.pd)
- `SEVERITY_CATEGORIES`                                        (pipelines.classify.categories)
"""
