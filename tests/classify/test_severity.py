"""Severity categories: the reference table, the citation rules, unknowns, release flags."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.classify.categories import (
    CATEGORY_NAMES,
    SEVERITY_CATEGORIES,
    rank_of,
)
from pipelines.classify.charges import normalize_charge, parse_charge
from pipelines.classify.reference import (
    CHARGE_PREFIX_RULES_CSV,
    CHARGE_SEVERITY_COLUMNS,
    CHARGE_SEVERITY_CSV,
    PREFIX_RULE_COLUMNS,
    PrefixRule,
    charge_severity_table,
    prefix_rules,
    read_charge_severity,
    read_prefix_rules,
    spelling_key,
)
from pipelines.classify.severity import (
    CHARGE_CODE_MAP_SCHEMA,
    charge_code_map,
    classify_charge,
    match_rule,
    reconcile_with_release_flags,
    release_flag_disagreements,
    severity_of,
)
from pipelines.sample.eoir_format import LOOKUP_HEADERS

from .lookup_codes import LOOKUP_CODES

# --- categories ---------------------------------------------------------------------------


def test_categories_are_the_issue_strings_in_order():
    assert CATEGORY_NAMES == (
        "national_security_terrorism",
        "aggravated_felony",
        "other_criminal",
        "entry_without_inspection",
        "other_immigration",
        "miscellaneous",
    )
    assert [c.rank for c in SEVERITY_CATEGORIES] == [1, 2, 3, 4, 5, 6]
    assert {c.name for c in SEVERITY_CATEGORIES if c.is_criminal} == {
        "aggravated_felony",
        "other_criminal",
    }
    with pytest.raises(KeyError, match="expected one of"):
        rank_of("criminal")


# --- the brief's named cases, with real lookup spellings ------------------------------------


@pytest.mark.parametrize(
    "raw, category",
    [
        ("212a06Ai", "entry_without_inspection"),
        ("237a02Aiii", "aggravated_felony"),
        ("241a02Aiii", "aggravated_felony"),
        ("212a02Ai  I", "other_criminal"),
        ("237a04B", "national_security_terrorism"),
        ("212a03Bi  IV", "national_security_terrorism"),
        ("241a01B", "entry_without_inspection"),
        ("237a01Ci", "other_immigration"),
        ("2153a", "miscellaneous"),
        ("<A>", "miscellaneous"),
        # more real lookup spellings, one or more per category
        ("237a02Ai  I  ", "other_criminal"),
        ("237(a)(02)(A)(i  )(I  )", "other_criminal"),
        ("237s02AiI", "other_criminal"),
        ("212a02Ai  II", "other_criminal"),
        ("237a02Bi", "other_criminal"),
        ("212a2G", "other_criminal"),
        ("212a23", "other_criminal"),
        ("241a04", "other_criminal"),
        ("241a4A", "other_criminal"),
        ("241a4B", "aggravated_felony"),
        ("212(a)(3)(E)(iii) ", "national_security_terrorism"),
        ("(212)(a)(03)(E)(i  )(   )", "national_security_terrorism"),
        ("212a03Eiii   ", "national_security_terrorism"),
        ("237(a)(4)(E) ", "national_security_terrorism"),
        ("237a02Di", "national_security_terrorism"),
        ("237a03Bi", "national_security_terrorism"),
        ("241a04B", "national_security_terrorism"),
        ("212a33", "national_security_terrorism"),
        ("241a02", "entry_without_inspection"),
        ("212a06A", "other_immigration"),
        ("(212)(a)(06)(i)(   )(   )", "other_immigration"),
        ("212a06i      ", "other_immigration"),
        ("212(a)(07)(A)(   )(   )", "other_immigration"),
        ("237a01B", "other_immigration"),
        ("212a5", "other_immigration"),
        ("241a9B", "other_immigration"),
        ("2153k", "miscellaneous"),
        ("242fXX", "miscellaneous"),
        ("246", "miscellaneous"),
    ],
)
def test_category_of_real_spellings(raw, category):
    c = classify_charge(raw)
    assert c.severity_category == category, (raw, c)
    assert c.category_source == "reference"
    assert c.is_known_code is True
    assert severity_of(raw) == (category, rank_of(category), c.legal_basis)


def test_every_lookup_code_has_a_category_and_basis():
    for raw in LOOKUP_CODES:
        c = classify_charge(raw)
        assert c.severity_category in CATEGORY_NAMES
        assert c.category_source == "reference"
        assert c.legal_basis.strip()


def test_table_covers_exactly_the_lookup_spellings():
    table = charge_severity_table()
    listed = {s for row in table.values() for s in row.lookup_spellings}
    assert listed == set(LOOKUP_CODES)
    # each raw spelling sits on the row its normalization points to
    for row in table.values():
        for spelling in row.lookup_spellings:
            assert normalize_charge(spelling).code == row.charge_code


def test_table_agrees_with_the_citation_rules():
    """The rules only extend the table: for every code the grammar parses, same category."""
    checked = 0
    for code, row in charge_severity_table().items():
        parsed = parse_charge(code)
        if parsed is None or parsed.code != code or parsed.paragraph is None:
            continue
        rule = match_rule(parsed.citation)
        assert rule is not None and rule.category == row.category, (code, row.category, rule)
        assert row.legal_basis == rule.legal_basis or code in {"241a4A", "241a4B", "241a9B"}
        checked += 1
    assert checked > 250


# --- codes absent from the table -------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, category",
    [
        ("237a04Cii", "national_security_terrorism"),
        ("237a02Aiii  I", "aggravated_felony"),
        ("241a02Ci", "other_criminal"),
        ("212a02Ai  III", "other_criminal"),
        ("212a06Ai  I", "entry_without_inspection"),
        ("241a01Bi", "entry_without_inspection"),
        ("237a01Hi", "other_immigration"),
        ("215a", "miscellaneous"),
        ("2153z", "miscellaneous"),
    ],
)
def test_unseen_parseable_codes_follow_the_citation_rule(raw, category):
    c = classify_charge(raw)
    assert c.charge_code not in charge_severity_table()
    assert (c.severity_category, c.category_source, c.is_known_code) == (category, "rule", False)
    assert "by citation rule" in c.legal_basis


@pytest.mark.parametrize("raw", ["junk", "<B>", "212b06Ai", "212a99", "237a09", "212", "", None])
def test_unknown_codes_are_miscellaneous_and_marked_unknown(raw):
    c = classify_charge(raw)
    assert c.severity_category == "miscellaneous"
    assert c.category_source == "unknown"
    assert c.is_known_code is False


# --- the SQL-facing map --------------------------------------------------------------------


def test_charge_code_map_over_distinct_raw_codes():
    raws = ["212a06Ai", "212a06Ai ", "212a06Ai", "237a02Aiii", "zz", None, "", "237a04Cii"]
    df = charge_code_map(raws)
    assert df.schema == pl.Schema(CHARGE_CODE_MAP_SCHEMA)
    assert df.height == 7  # the repeated "212a06Ai" appears once
    by_raw = {r["charge_raw"]: r for r in df.iter_rows(named=True)}
    assert by_raw["212a06Ai "]["charge_code"] == "212a06Ai"
    assert by_raw["212a06Ai "]["severity_category"] == "entry_without_inspection"
    assert by_raw["237a02Aiii"]["severity_rank"] == 2
    assert by_raw["237a02Aiii"]["citation"] == "INA 237(a)(2)(A)(iii)"
    assert (by_raw["zz"]["charge_code"], by_raw["zz"]["category_source"]) == (None, "unknown")
    assert by_raw[None]["category_source"] == "unknown"
    assert by_raw["237a04Cii"]["category_source"] == "rule"


def test_charge_code_map_joins_in_duckdb(tmp_path: Path):
    """The map joined to charges in DuckDB classifies each charge row; spaces survive."""
    charges = pl.DataFrame(
        {
            "idnprcdchg": [1, 2, 3, 4],
            "charge_raw": ["212a02Ai  I", "212a02Ai I", "237a02Aiii", "??"],
        }
    )
    cmap = charge_code_map(charges["charge_raw"].unique().to_list())
    con = duckdb.connect()
    con.register("charges", charges)
    con.register("cmap", cmap)
    rows = con.sql(
        "SELECT c.idnprcdchg, m.charge_code, m.severity_category FROM charges c "
        "JOIN cmap m ON m.charge_raw IS NOT DISTINCT FROM c.charge_raw ORDER BY 1"
    ).fetchall()
    assert rows == [
        (1, "212a02Ai  I", "other_criminal"),
        (2, "212a02Ai  I", "other_criminal"),
        (3, "237a02Aiii", "aggravated_felony"),
        (4, None, "miscellaneous"),
    ]


def test_reference_csv_reads_the_same_in_duckdb():
    con = duckdb.connect()
    rows = con.execute(
        "SELECT charge_code, category, lookup_spellings FROM read_csv(?, all_varchar = true)",
        [str(CHARGE_SEVERITY_CSV)],
    ).fetchall()
    table = charge_severity_table()
    assert len(rows) == len(table)
    for code, category, spellings in rows:
        assert table[code].category == category
        assert tuple(s for s in (spellings or "").split("|") if s) == table[code].lookup_spellings


# --- table validation --------------------------------------------------------------------


def _write_table(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=CHARGE_SEVERITY_COLUMNS, quoting=csv.QUOTE_ALL)
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in CHARGE_SEVERITY_COLUMNS})
    return path


def test_table_rejects_unknown_category(tmp_path):
    path = _write_table(
        tmp_path / "t.csv",
        [{"charge_code": "212a06Ai", "category": "ewi", "legal_basis": "x"}],
    )
    with pytest.raises(ValueError, match=r"t\.csv line 2: category 'ewi'"):
        read_charge_severity(path)


def test_table_rejects_a_spelling_on_two_codes(tmp_path):
    path = _write_table(
        tmp_path / "t.csv",
        [
            {"charge_code": "212a06Ai", "category": "entry_without_inspection", "legal_basis": "x"},
            {
                "charge_code": "212a06A",
                "category": "other_immigration",
                "legal_basis": "x",
                "lookup_spellings": "212a06Ai |212a06A",
            },
        ],
    )
    with pytest.raises(ValueError, match="line 3: spelling '212a06Ai ' of '212a06A' collides"):
        read_charge_severity(path)


def test_table_keys_are_unique_without_spaces():
    keys = [spelling_key(code) for code in charge_severity_table()]
    assert len(keys) == len(set(keys))


# --- release lookup flags ------------------------------------------------------------------


@pytest.mark.parametrize(
    "code, crim, agg, category, source, resolution",
    [
        # flags agree with the table: nothing to report
        ("237a02Aiii", 1, 1, "aggravated_felony", "reference", None),
        ("237a02Bi", 1, 0, "other_criminal", "reference", None),
        ("212a06Ai", 0, 0, "entry_without_inspection", "reference", None),
        ("237a04B", 1, 0, "national_security_terrorism", "reference", None),
        ("212a06Ai", None, None, "entry_without_inspection", "reference", None),
        # flags say more serious: applied
        ("237a02Bi", 1, 1, "aggravated_felony", "release_lookup", "release_flag_applied"),
        ("212a06Ai", 1, 0, "other_criminal", "release_lookup", "release_flag_applied"),
        ("237a01Ci", "1", "0", "other_criminal", "release_lookup", "release_flag_applied"),
        ("2153a", 1, None, "other_criminal", "release_lookup", "release_flag_applied"),
        ("212a06Ai", None, 1, "aggravated_felony", "release_lookup", "release_flag_applied"),
        # flags say less serious, or contradict: the table is kept and the disagreement reported
        ("237a02Aiii", 0, 0, "aggravated_felony", "reference", "table_kept"),
        ("237a02Aiii", 1, 0, "aggravated_felony", "reference", "table_kept"),
        ("237a02Bi", 0, 0, "other_criminal", "reference", "table_kept"),
        ("237a04B", 1, 1, "national_security_terrorism", "reference", "table_kept"),
    ],
)
def test_reconcile_with_release_flags(code, crim, agg, category, source, resolution):
    rec = reconcile_with_release_flags(code, crim, agg)
    assert rec.classification.severity_category == category
    assert rec.classification.severity_rank == rank_of(category)
    assert rec.classification.category_source == source
    if resolution is None:
        assert rec.disagreement is None
    else:
        assert rec.disagreement.resolution == resolution
        assert rec.disagreement.resolved_category == category
        assert rec.disagreement.table_category == classify_charge(code).severity_category


def test_contradictory_flags_are_applied_and_reported():
    rec = reconcile_with_release_flags("212a06Ai", 0, 1)
    assert rec.classification.severity_category == "aggravated_felony"
    assert "contradictory flags" in rec.disagreement.reason


def _write_release_lookup(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    """tbllookupCharges.csv in the release layout: tab-delimited, header, no quoting, cp1252."""
    header = list(LOOKUP_HEADERS["tbllookupCharges"])
    lines = ["\t".join(header)]
    for i, (code, desc, crim, agg) in enumerate(rows, start=1):
        lines.append(
            "\t".join(
                [
                    str(i),
                    code,
                    code,
                    desc,
                    "RMV",
                    "",
                    "",
                    crim,
                    agg,
                    "2003-08-07 00:00:00.000",
                    "2003-08-07 00:00:00.000",
                    "1",
                ]
            )
        )
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return path


def test_release_flag_disagreements_from_a_release_lookup(tmp_path):
    path = _write_release_lookup(
        tmp_path / "tbllookupCharges.csv",
        [
            ("212a06Ai", "Alien in U.S. without Admission or Paroled", "0", "0"),
            ("237a02Aiii", "Convicted of Aggravated Felony", "1", "1"),
            ("237a02Bi", "Controlled Substance Conviction", "1", "0"),
            ("237a02Ai  I  ", "None", "0", "0"),  # the table calls it criminal: kept, reported
            ("237s02AiI", "None", "1", "0"),  # same canonical code: any 1 wins
            ("237a01Ci", "Non-immigrant status violators", "1", "0"),  # raised, reported
            ("241a02Aiii", "Convicted of Aggravated Felony", "", ""),  # no flags
        ],
    )
    lookup = pl.read_csv(
        path, separator="\t", quote_char=None, infer_schema=False, encoding="cp1252"
    ).select(
        pl.col("strCode").alias("charge_code"),
        pl.col("criminal_flag"),
        pl.col("aggravate_felon"),
    )
    d = release_flag_disagreements(lookup)
    assert d.select("charge_code", "resolution").rows() == [("237a01Ci", "release_flag_applied")]

    cmap = charge_code_map(["237a01Ci", "237a02Ai  I", "212a06Ai"], release_lookup=lookup)
    got = {
        r["charge_raw"]: (r["severity_category"], r["category_source"])
        for r in cmap.iter_rows(named=True)
    }
    assert got == {
        "237a01Ci": ("other_criminal", "release_lookup"),
        "237a02Ai  I": ("other_criminal", "reference"),
        "212a06Ai": ("entry_without_inspection", "reference"),
    }


def test_release_flag_zero_on_criminal_code_is_reported(tmp_path):
    lookup = pl.DataFrame(
        {"charge_code": ["237a02Ai  I  "], "criminal_flag": ["0"], "aggravate_felon": ["0"]}
    )
    d = release_flag_disagreements(lookup)
    assert d.rows(named=True) == [
        {
            "charge_code": "237a02Ai  I",
            "table_category": "other_criminal",
            "criminal_flag": False,
            "aggravate_felon": False,
            "resolved_category": "other_criminal",
            "resolution": "table_kept",
            "reason": "criminal_flag=0 on a code the table calls other_criminal",
        }
    ]


def test_release_without_flag_columns_changes_nothing():
    lookup = pl.DataFrame({"charge_code": ["212a06Ai", "237a02Bi"]})
    assert release_flag_disagreements(lookup).height == 0
    cmap = charge_code_map(["212a06Ai"], release_lookup=lookup)
    assert cmap["category_source"].to_list() == ["reference"]


# --- the prefix rules as data ------------------------------------------------------------------


def _raw_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_prefix_rules_are_the_reference_table():
    rules = prefix_rules()
    assert len(rules) == 47
    assert len({r.rule_id for r in rules}) == len(rules)
    assert all(r.source.strip() and r.legal_basis.strip() for r in rules)
    by_id = {r.rule_id: r for r in rules}
    assert by_id["237a2Aiii"] == PrefixRule(
        "INA 237(a)(2)(A)(iii)*",
        "aggravated_felony",
        "INA 237(a)(2)(A)(iii) — conviction of an aggravated felony (INA 101(a)(43))",
        "237a2Aiii",
        "INA 237(a), 8 U.S.C. 1227(a)",
    )
    assert match_rule("INA 237(a)(2)(A)(iii)").rule_id == "237a2Aiii"
    assert match_rule("INA 241(a)(2)").rule_id == "241a2-1952"  # exact: 1952 Act numbering
    assert match_rule("INA 241(a)(2)(B)(i)").rule_id == "241a2-sub"


def test_severity_rows_reference_their_rule_instead_of_copying_it():
    """No row repeats its rule's text: it names the rule, and the loader supplies the basis."""
    rules = {r.rule_id: r for r in prefix_rules()}
    raw = _raw_rows(CHARGE_SEVERITY_CSV)
    table = charge_severity_table()
    referencing = 0
    for row in raw:
        rule = rules.get(row["rule_id"])
        assert row["rule_id"] == "" or rule is not None, row["charge_code"]
        if rule is None:
            assert row["legal_basis"].strip(), row["charge_code"]
            continue
        assert row["legal_basis"] != rule.legal_basis, row["charge_code"]
        assert row["category"] == rule.category, row["charge_code"]
        if not row["legal_basis"]:
            referencing += 1
            assert table[row["charge_code"]].legal_basis == rule.legal_basis
    assert referencing == 277


def test_a_code_classified_through_its_rule_reference_gets_the_rule_basis():
    rule = next(r for r in prefix_rules() if r.rule_id == "212a6Ai")
    c = classify_charge("212a06Ai")
    assert (c.severity_category, c.legal_basis) == ("entry_without_inspection", rule.legal_basis)


def _write_rules(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=PREFIX_RULE_COLUMNS, quoting=csv.QUOTE_ALL)
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in PREFIX_RULE_COLUMNS})
    return path


_RULE = {
    "rule_id": "212a",
    "pattern": "INA 212(a)*",
    "category": "other_immigration",
    "legal_basis": "b",
    "source": "s",
}


@pytest.mark.parametrize(
    ("second", "message"),
    [
        (
            {**_RULE, "pattern": "INA 237(a)*"},
            r"line 3: rule_id '212a' is empty, padded or repeated",
        ),
        ({**_RULE, "rule_id": "x"}, r"line 3: pattern 'INA 212\(a\)\*' is empty or repeated"),
        (
            {**_RULE, "rule_id": "x", "pattern": "INA 2*", "category": "crime"},
            r"line 3: category 'crime' of rule 'x'",
        ),
        ({**_RULE, "rule_id": "x", "pattern": "INA 2*", "source": ""}, r"line 3: rule 'x' needs"),
    ],
)
def test_rules_table_rejects_bad_rows(tmp_path, second, message):
    path = _write_rules(tmp_path / "r.csv", [_RULE, second])
    with pytest.raises(ValueError, match=message):
        read_prefix_rules(path)


def test_severity_table_rejects_an_unknown_rule_or_a_row_without_basis(tmp_path):
    rules = (PrefixRule("INA 212(a)*", "other_immigration", "basis", "212a", "src"),)
    ok = _write_table(
        tmp_path / "ok.csv",
        [{"charge_code": "212a01", "category": "other_immigration", "rule_id": "212a"}],
    )
    assert read_charge_severity(ok, rules)["212a01"].legal_basis == "basis"
    bad = _write_table(
        tmp_path / "bad.csv",
        [{"charge_code": "212a01", "category": "other_immigration", "rule_id": "nope"}],
    )
    with pytest.raises(ValueError, match=r"bad\.csv line 2: rule_id 'nope' of '212a01' is not in"):
        read_charge_severity(bad, rules)
    none = _write_table(
        tmp_path / "none.csv", [{"charge_code": "212a01", "category": "other_immigration"}]
    )
    with pytest.raises(ValueError, match="line 2: '212a01' has no legal_basis and no rule_id"):
        read_charge_severity(none, rules)


def test_rules_file_is_the_one_the_classifier_reads():
    assert read_prefix_rules(CHARGE_PREFIX_RULES_CSV) == prefix_rules()
