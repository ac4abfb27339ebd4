"""Classify cleaned ICE removals: criminality, DHS threat level, NCIC offense family.

Criminality (docs/ICE_FORMAT.md#criminality). ICE's three-way label `Case Criminality`
(`1 Convicted Criminal`, `2 Pending Criminal Charges`, `3 Other Immigration Violator`) exists
only from the Aug-2025 release on. Where a row has no recognizable value it is derived from the
most-serious-conviction (MSC) fields, first rule that applies:
  1. MSC Criminal Charge Status says convicted -> convicted; says pending -> pending charges
     ("nearly always 'Convicted', otherwise 'Pending'", docs/ICE_FORMAT.md#field-meanings);
  2. an MSC conviction date, an ICE threat level (ICE levels only convictions,
     docs/ICE_FORMAT.md#field-meanings) or an MSC charge / code (the MSC fields hold the most
     serious *conviction*; the 2003-2013 release names them so) -> convicted;
  3. otherwise -> other immigration violator.
`criminality_source` says which: 'case_criminality' or 'msc_fields'.

Threat level (docs/DECISIONS.md#threat-levels; docs/ICE_FORMAT.md#field-meanings,
docs/ICE_FORMAT.md#threat-levels). ICE's `Case Threat Level` is kept as given (`threat_level_ice`).
Its rules: Level 1 = aggravated felony (INA 101(a)(43)) or two or more crimes each punishable by
more than a year; Level 2 = any other felony or three or more crimes each punishable by less than a
year; Level 3 = crimes punishable by less than a year. The removals tables carry one conviction (the
most serious), no sentence and no conviction count, so from them one can derive only:
  - Level 1 when ICE's aggravated-felon flag says so ('Drugs', 'Other', 'Both ...', 'YES'),
    rule 'aggravated_felon_flag';
  - Level 2 when the offense family is a felony by nature (homicide, kidnapping except false
    imprisonment, sexual assault, robbery, arson, sovereignty: `felony_by_nature` in
    data/reference/ncic_families.csv), rule 'felony_offense_family';
  - nothing else ('not_derivable'): "two or more felonies" and "three or more misdemeanours" need
    the conviction count, and felony vs misdemeanour for the other families needs the sentence,
    which removals tables lack (docs/ICE_FORMAT.md#other-tables: only detainer/detention tables have
    MSC Sentence fields). Level 3 is never derived. A derived level is a lower bound on seriousness
    (another conviction could raise it) and is computed for every convicted row so that it can be
    validated against ICE's own level (`threat_level_agreement`). `threat_level` is ICE's level
    where present, else the derived one for convicted rows; `threat_level_source` is 'ice' |
    'derived' | NULL.

NCIC family (docs/ICE_FORMAT.md#ncic-offense-codes): the first two characters of the MSC code when
they are digits (ICE's own alphanumeric codes such as `70AA` fall in their numeric family). A family
missing from the reference table is named 'Unlisted NCIC family NN', never silently binned.
`immigration_only_conviction`: convicted and the most serious conviction is an immigration offense
(NCIC 03xx: illegal entry, re-entry, false citizenship, alien smuggling), or, when the code is
missing, the MSC label names one of those. Because it is the *most serious* conviction, any other
conviction on record is no more serious.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import polars as pl

from pipelines.settings import REFERENCE_DIR

NCIC_FAMILIES_CSV = REFERENCE_DIR / "ncic_families.csv"

CRIMINALITY = ("convicted", "pending_charges", "other_immigration_violator")

# ICE's Case Criminality labels lead with their number (docs/ICE_FORMAT.md#criminality).
_CASE_CRIMINALITY = {"1": "convicted", "2": "pending_charges", "3": "other_immigration_violator"}
# Aggravated-felon flag values: 'Not an Aggravated Felon' 97%, 'Other', 'Drugs', 'Both (drug and
# other agg felon' (docs/ICE_FORMAT.md#other-tables); YES/NO in the 2026 `Aggravated Felon Yes No`.
_AGG_FELON_YES = r"^(yes|y|true|1|drugs?|other|both)\b"
# ICE's immigration labels when the code is missing (docs/ICE_FORMAT.md#ncic-offense-codes: 'Illegal
# Entry (INA SEC.101(a)(43)(O), 8USC1325 only)', 'Illegal Re-Entry ...', NCIC 0302 / 0303 names).
_IMMIGRATION_LABEL = (
    r"(?i)illegal\s+(re-?\s*)?entry|false\s+citizenship|smuggling\s+aliens|alien\s+smuggling"
    r"|8\s*usc\s*132[56]"
)

CLASSIFICATION_COLUMNS = (
    "criminality",
    "criminality_source",
    "threat_level_ice",
    "threat_level_derived",
    "threat_level_rule",
    "threat_level",
    "threat_level_source",
    "ncic_family_code",
    "ncic_family",
    "immigration_only_conviction",
)


@lru_cache(maxsize=2)
def load_ncic_families(path: Path = NCIC_FAMILIES_CSV) -> pl.DataFrame:
    fam = pl.read_csv(path, schema_overrides={"family_code": pl.String}, infer_schema_length=0)
    if fam["family_code"].n_unique() != fam.height:
        raise ValueError(f"{path}: family_code must be unique")
    return fam.with_columns(
        pl.col("is_immigration") == "Y",
        pl.col("felony_by_nature") == "Y",
        pl.col("felony_exceptions").fill_null("").str.split(";"),
    )


def classify_removals(df: pl.DataFrame) -> pl.DataFrame:
    """Add the classification columns (CLASSIFICATION_COLUMNS) to a cleaned removals frame."""
    fam = load_ncic_families()
    code = pl.col("msc_charge_code").str.strip_chars().str.to_uppercase()
    family_code = pl.when(code.str.contains(r"^\d{2}")).then(code.str.slice(0, 2))

    status = pl.col("msc_criminal_charge_status").str.to_lowercase()
    case_crim_digit = pl.col("case_criminality").str.extract(r"^\s*([123])\b", 1)
    case_crim_word = (
        pl.when(pl.col("case_criminality").str.contains(r"(?i)convicted"))
        .then(pl.lit("1"))
        .when(pl.col("case_criminality").str.contains(r"(?i)pending"))
        .then(pl.lit("2"))
        .when(pl.col("case_criminality").str.contains(r"(?i)immigration\s+violator"))
        .then(pl.lit("3"))
    )
    ice_crim = pl.coalesce(case_crim_digit, case_crim_word).replace_strict(
        _CASE_CRIMINALITY, default=None, return_dtype=pl.String
    )
    derived_crim = (
        pl.when(status.str.contains("convict"))
        .then(pl.lit("convicted"))
        .when(status.str.contains("pending"))
        .then(pl.lit("pending_charges"))
        .when(
            pl.col("msc_conviction_date").is_not_null()
            | pl.col("case_threat_level").is_not_null()
            | pl.col("msc_charge_code").is_not_null()
            | pl.col("msc_charge").is_not_null()
        )
        .then(pl.lit("convicted"))
        .otherwise(pl.lit("other_immigration_violator"))
    )
    out = df.with_columns(
        pl.coalesce(ice_crim, derived_crim).alias("criminality"),
        pl.when(ice_crim.is_not_null())
        .then(pl.lit("case_criminality"))
        .otherwise(pl.lit("msc_fields"))
        .alias("criminality_source"),
        pl.col("case_threat_level").cast(pl.Int8, strict=False).alias("threat_level_ice"),
        family_code.alias("ncic_family_code"),
    )

    out = out.join(
        fam.select(
            pl.col("family_code").alias("ncic_family_code"),
            pl.col("family_name").alias("_family_name"),
            pl.col("is_immigration").alias("_is_immigration"),
            pl.col("felony_by_nature").alias("_felony_family"),
            pl.col("felony_exceptions").alias("_felony_exceptions"),
        ),
        on="ncic_family_code",
        how="left",
        maintain_order="left",
    )
    convicted = pl.col("criminality") == "convicted"
    agg_felon = pl.col("aggravated_felon").str.to_lowercase().str.contains(_AGG_FELON_YES)
    felony_family = pl.col("_felony_family").fill_null(False) & ~(
        pl.col("_felony_exceptions").list.contains(code).fill_null(False)
    )
    rule = (
        pl.when(~convicted)
        .then(None)
        .when(agg_felon.fill_null(False))
        .then(pl.lit("aggravated_felon_flag"))
        .when(felony_family)
        .then(pl.lit("felony_offense_family"))
        .otherwise(pl.lit("not_derivable"))
    )
    out = out.with_columns(rule.alias("threat_level_rule"))
    derived = (
        pl.when(pl.col("threat_level_rule") == "aggravated_felon_flag")
        .then(pl.lit(1, dtype=pl.Int8))
        .when(pl.col("threat_level_rule") == "felony_offense_family")
        .then(pl.lit(2, dtype=pl.Int8))
    )
    label_immigration = pl.col("msc_charge").str.contains(_IMMIGRATION_LABEL).fill_null(False)
    out = out.with_columns(
        derived.alias("threat_level_derived"),
        pl.when(pl.col("ncic_family_code").is_null())
        .then(None)
        .otherwise(
            pl.coalesce(
                pl.col("_family_name"),
                pl.lit("Unlisted NCIC family ") + pl.col("ncic_family_code"),
            )
        )
        .alias("ncic_family"),
        (
            convicted
            & (
                pl.col("_is_immigration").fill_null(False)
                | (pl.col("msc_charge_code").is_null() & label_immigration)
            )
        )
        .fill_null(False)
        .alias("immigration_only_conviction"),
    )
    out = out.with_columns(
        pl.coalesce("threat_level_ice", pl.when(convicted).then(pl.col("threat_level_derived")))
        .cast(pl.Int8)
        .alias("threat_level"),
        pl.when(pl.col("threat_level_ice").is_not_null())
        .then(pl.lit("ice"))
        .when(convicted & pl.col("threat_level_derived").is_not_null())
        .then(pl.lit("derived"))
        .alias("threat_level_source"),
    )
    base = [c for c in df.columns if c not in CLASSIFICATION_COLUMNS]
    return out.select([*base, *CLASSIFICATION_COLUMNS])


def threat_level_agreement(classified: pl.DataFrame) -> pl.DataFrame:
    """Crosstab of ICE's level against the derived one where both exist (validates the rules)."""
    both = classified.filter(
        pl.col("threat_level_ice").is_not_null() & pl.col("threat_level_derived").is_not_null()
    )
    return (
        both.group_by("threat_level_rule", "threat_level_derived", "threat_level_ice")
        .len("removals")
        .sort("threat_level_rule", "threat_level_derived", "threat_level_ice")
    )
