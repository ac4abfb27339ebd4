"""Normalization of EOIR charge spellings: every real lookup code, padding, variants, junk."""

from __future__ import annotations

import pytest

from pipelines.classify.charges import normalize_charge, parse_charge
from pipelines.classify.reference import charge_severity_table

from .lookup_codes import LOOKUP_CODES


def test_fixture_is_the_real_lookup():
    assert len(LOOKUP_CODES) == 252
    assert len(set(LOOKUP_CODES)) == 252


@pytest.mark.parametrize("raw", LOOKUP_CODES)
def test_every_lookup_code_normalizes_to_a_table_code(raw):
    norm = normalize_charge(raw)
    assert norm is not None, raw
    assert norm.code in charge_severity_table(), (raw, norm.code)
    assert norm.code == norm.code.strip()


def test_canonical_padding_rule_reproduces_the_compact_lookup_codes():
    """The fixed-width rule, right-trimmed, gives back EOIR's own compact spellings.

    The only compact codes it does not reproduce are the one-digit paragraphs (padded to two
    digits) and the strings that are not citations.
    """
    not_reproduced = set()
    for raw in LOOKUP_CODES:
        if "(" in raw:
            continue
        parsed = parse_charge(raw)
        if parsed is None or parsed.code != raw.rstrip():
            not_reproduced.add(raw)
    assert not_reproduced == {
        "212a2G",
        "212a5",
        "241a4A",
        "241a4B",
        "241a9B",
        "237s02AiI",
        "242f00",
        "242fXX",
        "<A>",
    }
    # padded ones keep EOIR's inner spacing once right-trimmed
    assert parse_charge("237a02Ai  I  ").code == "237a02Ai  I"
    assert parse_charge("212a03Eiii   ").code == "212a03Eiii"
    assert parse_charge("212a01AiiiI").code == "212a01AiiiI"
    assert parse_charge("212a09Aii II").code == "212a09Aii II"


@pytest.mark.parametrize(
    "raw, code, citation",
    [
        ("212a06Ai", "212a06Ai", "INA 212(a)(6)(A)(i)"),
        ("212a02Ai  I", "212a02Ai  I", "INA 212(a)(2)(A)(i)(I)"),
        ("212a03Bi  IV", "212a03Bi  IV", "INA 212(a)(3)(B)(i)(IV)"),
        ("237a02Aiii", "237a02Aiii", "INA 237(a)(2)(A)(iii)"),
        ("2153k", "2153k", "8 CFR 215.3(k)"),
        ("246", "246", "INA 246"),
    ],
)
def test_code_and_citation(raw, code, citation):
    norm = normalize_charge(raw)
    assert (norm.code, norm.citation) == (code, citation)


@pytest.mark.parametrize(
    "raw, code",
    [
        # padding differences around and inside the code
        ("212a06Ai ", "212a06Ai"),
        ("  212a06Ai", "212a06Ai"),
        ("212a02Ai I", "212a02Ai  I"),
        ("212a02Ai   I   ", "212a02Ai  I"),
        ("212a02AiI", "212a02Ai  I"),
        ("212a09Aii  II", "212a09Aii II"),
        ("212a06Ai\t", "212a06Ai"),
        ("212a06Ai\x00", "212a06Ai"),
        # parenthesized citations, with EOIR's empty fixed-width fields
        ("(212)(a)(06)(A)(i  )(   )", "212a06Ai"),
        ("212(a)(6)(A)(i)", "212a06Ai"),
        ("237(a)(02)(A)(i  )(I  )", "237a02Ai  I"),
        ("237(a)(4)(E) ", "237a04E"),
        ("212(a)(3)(E)(iii) ", "212a03Eiii"),
        ("(212)(a)(06)(i)(   )(   )", "212a06i"),
        ("INA 237(a)(2)(A)(iii)", "237a02Aiii"),
        # one-digit paragraphs
        ("212a6Ai", "212a06Ai"),
        ("212a2G", "212a02G"),
        # case slips
        ("237a02AIII", "237a02Aiii"),
        ("212A06AI", "212a06Ai"),
        ("212a06ai", "212a06Ai"),
        ("212a02ai  i", "212a02Ai  I"),
        # EOIR's keyed typo, read as 237(a)(2)(A)(i)(I)
        ("237s02AiI", "237a02Ai  I"),
    ],
)
def test_real_spelling_variants(raw, code):
    assert normalize_charge(raw).code == code


def test_one_digit_241_codes_keep_their_pre_1991_identity():
    # EOIR's lookup has both 241a4B (no description) and 241a04B ('Terrorist Activities').
    assert normalize_charge("241a4B").code == "241a4B"
    assert normalize_charge("241a4B  ").code == "241a4B"
    assert normalize_charge("241a04B").code == "241a04B"
    assert normalize_charge("241(a)(4)(B)").code == "241a04B"
    assert normalize_charge("241a4B").citation == charge_severity_table()["241a4B"].citation


def test_repairs_are_recorded():
    assert normalize_charge("212a6Ai").repairs == ("paragraph_padded",)
    assert normalize_charge("237a02AIII").repairs == ("clause_case",)
    assert "parenthesized" in normalize_charge("212(a)(6)(A)(i)").repairs
    assert normalize_charge("212a06Ai").repairs == ()
    assert normalize_charge("237s02AiI").form == "reference"


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "   ",
        "\x00",
        "junk",
        "<B>",
        "212b06Ai",
        "237a02Aiiii",
        "212a06Ai  Q",
        "(a)(6)(A)(i)",
        "21a06Ai",
        "212a06Ai)(",
        "242fYY",
    ],
)
def test_junk_is_none(raw):
    assert normalize_charge(raw) is None


@pytest.mark.parametrize("raw, code", [("212", "212"), ("212(a)", "212a"), ("237a", "237a")])
def test_section_without_paragraph_parses_but_has_no_paragraph(raw, code):
    norm = normalize_charge(raw)
    assert (norm.code, norm.paragraph) == (code, None)


def test_test_code_is_kept_verbatim():
    norm = normalize_charge("<A>")
    assert norm.code == "<A>"
    assert norm.form == "reference"


def test_every_parseable_table_code_round_trips():
    for code, row in charge_severity_table().items():
        parsed = parse_charge(code)
        if parsed is not None and parsed.code == code:
            assert parsed.citation == row.citation, code
            assert normalize_charge(code).code == code
