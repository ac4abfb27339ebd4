"""Classification: criminality with its source, threat levels (ICE / derived), NCIC families."""

from __future__ import annotations

import csv
from datetime import date

import polars as pl

from pipelines.ice.classify import (
    CLASSIFICATION_COLUMNS,
    NCIC_FAMILIES_CSV,
    classify_removals,
    load_ncic_families,
    threat_level_agreement,
)
from pipelines.ice.clean import clean_removals


def cleaned(rows: list[dict]) -> pl.DataFrame:
    """Cleaned removals built from partial rows (text as the reader gives it)."""
    keys = sorted({k for r in rows for k in r} | {"departed_date", "anonymized_identifier"})
    data = {k: [r.get(k) for r in rows] for k in keys}
    data["departed_date"] = [v or "2012-05-01" for v in data["departed_date"]]
    data["anonymized_identifier"] = [f"{i:040x}" for i in range(len(rows))]
    n = len(rows)
    df = pl.DataFrame(
        {
            "source_file": ["f.xlsx"] * n,
            "source_sheet": ["Removals"] * n,
            "source_row": list(range(8, 8 + n)),
            **data,
        },
        schema_overrides={k: pl.String for k in keys},
    )
    out, _ = clean_removals(df, date(2026, 3, 11))
    return out


def test_criminality_from_case_criminality_when_present_else_derived():
    df = classify_removals(
        cleaned(
            [
                {"case_criminality": "1 Convicted Criminal", "msc_charge_code": "5404"},
                {"case_criminality": "2 Pending Criminal Charges", "msc_charge_code": "5404"},
                {"case_criminality": "3 Other Immigration Violator"},
                # older releases: no Case Criminality, derived from the MSC fields
                {"msc_criminal_charge_status": "Convicted", "msc_charge_code": "1313"},
                {"msc_criminal_charge_status": "Pending", "msc_charge_code": "1313"},
                {"msc_conviction_date": "2010-01-01 00:00:00", "msc_charge_code": "2399"},
                {"case_threat_level": "3"},
                {},
                # an unrecognisable label falls back to the MSC fields
                {"case_criminality": "(b)(7)(e)", "msc_criminal_charge_status": "Convicted"},
            ]
        )
    )
    assert df["criminality"].to_list() == [
        "convicted",
        "pending_charges",
        "other_immigration_violator",
        "convicted",
        "pending_charges",
        "convicted",
        "convicted",
        "other_immigration_violator",
        "convicted",
    ]
    assert df["criminality_source"].to_list() == ["case_criminality"] * 3 + ["msc_fields"] * 6


def test_threat_level_ice_kept_and_derived_only_where_missing():
    df = classify_removals(
        cleaned(
            [
                # ICE's level is kept even where a rule would say otherwise
                {"case_criminality": "1 Convicted Criminal", "msc_charge_code": "1299",
                 "case_threat_level": "1"},
                # missing level, aggravated-felon flag -> derived Level 1
                {"case_criminality": "1 Convicted Criminal", "msc_charge_code": "3599",
                 "aggravated_felon": "Drugs"},
                # missing level, robbery (felony by nature) -> derived Level 2
                {"case_criminality": "1 Convicted Criminal", "msc_charge_code": "1299",
                 "aggravated_felon": "Not an Aggravated Felon"},
                # false imprisonment is excepted from the kidnapping family
                {"case_criminality": "1 Convicted Criminal", "msc_charge_code": "1020"},
                # DUI: neither rule applies, no Level 3 is ever derived
                {"case_criminality": "1 Convicted Criminal", "msc_charge_code": "5404"},
                # not convicted: nothing derived
                {"case_criminality": "2 Pending Criminal Charges", "msc_charge_code": "1299",
                 "aggravated_felon": "YES"},
            ]
        )
    )  # fmt: skip
    assert df["threat_level_ice"].to_list() == [1, None, None, None, None, None]
    assert df["threat_level_rule"].to_list() == [
        "felony_offense_family",
        "aggravated_felon_flag",
        "felony_offense_family",
        "not_derivable",
        "not_derivable",
        None,
    ]
    assert df["threat_level"].to_list() == [1, 1, 2, None, None, None]
    assert df["threat_level_source"].to_list() == ["ice", "derived", "derived", None, None, None]
    agreement = threat_level_agreement(df)
    assert agreement.rows() == [("felony_offense_family", 2, 1, 1)]


def test_ncic_family_and_immigration_only_conviction():
    df = classify_removals(
        cleaned(
            [
                {"case_criminality": "1 Convicted Criminal", "msc_charge_code": "0301"},
                {"case_criminality": "1 Convicted Criminal", "msc_charge_code": "70AA"},
                {"case_criminality": "1 Convicted Criminal", "msc_charge_code": "93AA"},
                {"case_criminality": "1 Convicted Criminal", "msc_charge_code": "7399"},
                {"case_criminality": "2 Pending Criminal Charges", "msc_charge_code": "0303"},
                {"case_criminality": "1 Convicted Criminal",
                 "msc_charge": "Illegal Re-Entry (INA SEC.101(a)(43)(O), 8USC1326 only)"},
                {"case_criminality": "1 Convicted Criminal", "msc_charge": "Burglary"},
                {"case_criminality": "3 Other Immigration Violator"},
            ]
        )
    )  # fmt: skip
    assert df["ncic_family_code"].to_list() == ["03", "70", "93", "73", "03", None, None, None]
    assert (
        df["ncic_family"].to_list()
        == [
            "Immigration",
            "Crimes Against Person",
            "Unlisted NCIC family 93",
            "Public Order Crimes",  # 73xx is public order, not immigration (docs/ICE_FORMAT.md#ncic-offense-codes)
            "Immigration",
            None,
            None,
            None,
        ]
    )
    assert df["immigration_only_conviction"].to_list() == [
        True,
        False,
        False,
        False,
        False,  # pending, not a conviction
        True,  # no code, ICE's 8 USC 1326 label
        False,
        False,
    ]


def test_classification_columns_appended_in_order():
    base = cleaned([{"case_criminality": "1 Convicted Criminal", "msc_charge_code": "5404"}])
    out = classify_removals(base)
    assert out.columns == [*base.columns, *CLASSIFICATION_COLUMNS]
    assert out.height == base.height


def test_ncic_family_reference_table_is_well_formed():
    with open(NCIC_FAMILIES_CSV, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    codes = [r["family_code"] for r in rows]
    assert len(codes) == len(set(codes))
    assert all(len(c) == 2 and c.isdigit() for c in codes)
    assert all(r["source"].strip() and r["family_name"].strip() for r in rows)
    assert [r["family_code"] for r in rows if r["is_immigration"] == "Y"] == ["03"]
    fam = load_ncic_families()
    assert fam.filter(pl.col("family_code") == "54")["family_name"].item() == "Traffic Offenses"
    assert fam.filter(pl.col("family_code") == "35")["family_name"].item() == "Dangerous Drugs"
