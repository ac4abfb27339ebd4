"""The lead-charge rule: most serious, ties to the first charged; the alternative; SQL parity."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from pipelines.classify.lead import (
    lead_charge,
    lead_charge_category,
    lead_charge_index,
    lead_charge_order_sql,
)
from pipelines.classify.severity import charge_code_map


def test_most_serious_charge_leads():
    codes = ["212a06Ai", "237a02Aiii", "212a02Ai  I"]  # EWI, aggravated felony, other criminal
    assert lead_charge(codes) == "237a02Aiii"
    assert lead_charge_category(codes) == "aggravated_felony"


def test_national_security_outranks_aggravated_felony():
    assert lead_charge(["237a02Aiii", "237a04B"]) == "237a04B"


def test_ties_go_to_the_first_charged():
    codes = ["237a02Bi", "237a02Ai", "212a06Ai"]  # two other-criminal charges
    assert lead_charge_index(codes) == 0
    assert lead_charge(list(reversed(codes))) == "237a02Ai"


def test_raw_spellings_are_classified():
    assert lead_charge(["212a06Ai ", "237(a)(02)(A)(i  )(I  )"]) == "237(a)(02)(A)(i  )(I  )"
    assert lead_charge_category(["<A>", "212a06Ai"]) == "entry_without_inspection"


def test_unknown_codes_rank_as_miscellaneous():
    assert lead_charge(["junk", "2153a"]) == "junk"  # both miscellaneous: first charged
    assert lead_charge_category(["junk"]) == "miscellaneous"


def test_first_charged_alternative():
    codes = ["212a06Ai", "237a02Aiii"]
    assert lead_charge(codes, rule="first_charged") == "212a06Ai"
    assert lead_charge_category(codes, rule="first_charged") == "entry_without_inspection"


def test_no_charge_no_lead():
    assert lead_charge([]) is None
    assert lead_charge_category([]) is None


def test_precomputed_ranks_are_used():
    # e.g. a release flag raised 237a01Ci to other_criminal (rank 3)
    assert lead_charge(["212a06Ai", "237a01Ci"], ranks={"237a01Ci": 3}) == "237a01Ci"
    assert lead_charge(["212a06Ai", "237a01Ci"]) == "212a06Ai"


def test_unknown_rule_is_an_error():
    with pytest.raises(ValueError, match="expected one of most_serious, first_charged"):
        lead_charge(["212a06Ai"], rule="worst")


@pytest.mark.parametrize("rule", ["most_serious", "first_charged"])
def test_sql_ordering_picks_the_same_lead(rule):
    charges = pl.DataFrame(
        {
            "idnproceeding": [1, 1, 1, 2, 2, 3, 4, 4],
            "idnprcdchg": [12, 10, 11, 21, 20, 30, 41, 40],
            "charge_raw": [
                "237a02Aiii",
                "212a06Ai",
                "212a02Ai  I",
                "237a02Bi",
                "237a02Ai",
                "zz",
                "237a04B",
                "241a4B",
            ],
        }
    )
    cmap = charge_code_map(charges["charge_raw"].unique().to_list())
    con = duckdb.connect()
    con.register("charges", charges)
    con.register("cmap", cmap)
    got = dict(
        con.sql(
            f"SELECT idnproceeding, first(c.charge_raw ORDER BY {lead_charge_order_sql(rule)}) "
            "FROM charges c JOIN cmap m USING (charge_raw) GROUP BY idnproceeding"
        ).fetchall()
    )
    expected = {}
    for pid, group in charges.sort("idnprcdchg").group_by("idnproceeding"):
        expected[pid[0]] = lead_charge(group["charge_raw"].to_list(), rule=rule)
    assert got == expected
