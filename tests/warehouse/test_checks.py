"""Checks declared beside the SQL models: parsed strictly, described, and each able to fail.

The mutation test breaks a private copy of the sample warehouse in the way each check guards
against (the sidecar's `mutation`, or the generic one for keys and references), inside a
transaction that is rolled back, and asserts the check then fails with more failing rows than on
the clean sample.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.warehouse.checks import Check, CheckDeclarationError, evaluate, load_checks
from pipelines.warehouse.db import connect, load_models, parse_model, run_variables

SQL_CHECKS = [(m, c) for m in load_models() for c in m.checks]


def _write_model(tmp_path: Path, sidecar: str | None, sql: str = "SELECT 1 AS release_id") -> Path:
    d = tmp_path / "marts"
    d.mkdir(exist_ok=True)
    model = d / "thing.sql"
    model.write_text(f"-- group: closures\n-- A thing.\n{sql}\n", encoding="utf-8")
    if sidecar is not None:
        (d / "thing.checks.yaml").write_text(sidecar, encoding="utf-8")
    return model


@pytest.mark.parametrize(
    ("sidecar", "message"),
    [
        ("checks:\n  - name: k\n    unique: [a]\n", "description"),
        ("checks:\n  - name: k\n    description: d\n", "exactly one of"),
        (
            "checks:\n  - name: k\n    description: d\n    unique: [a]\n    severity: fatal\n",
            "severity",
        ),
        (
            "checks:\n  - name: k\n    description: d\n    not_null: a\n    severity: warn\n"
            "    blocking: true\n",
            "blocking check must have severity error",
        ),
        (
            "checks:\n  - name: k\n    description: d\n    not_null: a\n    warn_above: 5\n"
            "    stop_above: 10\n",
            "fraction",
        ),
        (
            "checks:\n  - name: k\n    description: d\n    not_null: a\n    warn_above: 0.2\n"
            "    stop_above: 0.1\n",
            "exceeds",
        ),
        (
            "checks:\n  - name: k\n    description: d\n    not_null: a\n    warn_above: 0.2\n",
            "both",
        ),
        (
            "checks:\n  - name: k\n    description: d\n    not_null: a\n    colour: red\n",
            "unknown key",
        ),
        (
            "checks:\n  - {name: k, description: d, not_null: a}\n"
            "  - {name: k, description: d, not_null: b}\n",
            "declared twice",
        ),
        ("checks: [", "not valid YAML"),
    ],
)
def test_a_sidecar_that_does_not_say_what_a_check_needs_is_refused(tmp_path, sidecar, message):
    model = _write_model(tmp_path, sidecar)
    with pytest.raises(CheckDeclarationError, match=message) as e:
        load_checks(model)
    assert "thing.checks.yaml" in str(e.value) and "\n" not in str(e.value)


def test_check_comments_in_sql_are_refused_with_where_checks_go(tmp_path):
    model = _write_model(tmp_path, None, "-- check: unique(a)\nSELECT 1 AS release_id")
    model.write_text("-- group: closures\n-- check: unique(a)\nSELECT 1 AS release_id\n")
    with pytest.raises(
        ValueError, match=r"thing\.sql:2: checks are declared in thing\.checks\.yaml"
    ):
        parse_model(model)


def _orphans_check(**kw) -> Check:
    return Check(
        name="fk",
        description="d",
        kind="references",
        args=("k", "marts.parent.k"),
        severity="warn",
        **kw,
    )


@pytest.mark.parametrize(
    ("orphans", "passed", "severity"),
    [(0, True, "warn"), (1, False, "warn"), (5, False, "error")],
)
def test_rate_thresholds_pass_warn_and_stop(orphans, passed, severity):
    """100 child rows, `orphans` of them without a parent: warn above 0%, stop above 2%."""
    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE TABLE marts.parent AS SELECT 'r' AS release_id, range AS k FROM range(100)")
    con.execute(
        "CREATE TABLE marts.child AS SELECT 'r' AS release_id, "
        f"CASE WHEN range < {orphans} THEN 1000 + range ELSE range END AS k FROM range(100)"
    )
    out = evaluate(con, "marts.child", _orphans_check(warn_above=0.0, stop_above=0.02), "r")
    assert (out.passed, out.severity) == (passed, severity)
    assert out.metadata["failing"] == orphans and out.metadata["share"] == orphans / 100


def test_sql_checks_read_the_release_through_a_bound_variable():
    """A release id with a quote in it is data, not SQL: the check binds it."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE t AS SELECT * FROM (VALUES ('a''b', NULL), ('c', 1)) v(release_id, x)"
    )
    check = Check(
        name="x_set",
        description="d",
        kind="sql",
        args=("SELECT count(*) FROM t WHERE release_id = getvariable('release_id') AND x IS NULL",),
    )
    assert evaluate(con, "t", check, "a'b").passed is False
    assert evaluate(con, "t", check, "c").passed is True


def _all_check_specs() -> list[tuple[str, dg.AssetCheckSpec]]:
    from pipelines.definitions import defs

    specs = []
    for assets_def in defs.assets:
        for spec in assets_def.check_specs:
            specs.append((f"{spec.asset_key.to_user_string()}:{spec.name}", spec))
    for checks_def in defs.asset_checks or []:
        for spec in checks_def.check_specs:
            specs.append((f"{spec.asset_key.to_user_string()}:{spec.name}", spec))
    return specs


# Checks whose assets other engineers own; each gets its description in its own file. Strict:
# once the description is there the xfail turns into a failure, and the entry must go.
_DESCRIPTION_PENDING: dict[str, str] = {}


@pytest.mark.parametrize(
    "name_spec",
    [
        pytest.param(
            (n, s),
            id=n,
            marks=[
                pytest.mark.xfail(
                    strict=True, reason=f"description due in {_DESCRIPTION_PENDING[n]}"
                )
            ]
            if n in _DESCRIPTION_PENDING
            else [],
        )
        for n, s in _all_check_specs()
    ],
)
def test_every_asset_check_has_a_description(name_spec):
    name, spec = name_spec
    assert spec.description and len(spec.description.strip()) >= 20, name


def test_the_definitions_list_every_declared_sql_check_and_keys_block():
    specs = dict(_all_check_specs())
    for model, check in SQL_CHECKS:
        spec = specs[f"{model.schema}/{model.table}:{check.name}"]
        assert spec.blocking == check.blocking
        if check.kind in ("unique", "not_null"):
            assert spec.blocking, (model.qualified, check.name)
    assert specs["raw/B_TblProceeding:count_txt_reconciled"].blocking
    assert specs["raw/eoir_lookups:lookups_reconciled"].blocking
    for headline in (
        "pd_closures_by_category",
        "pd_rates_by_category",
        "pd_by_month",
        "pd_by_group",
    ):
        mine = [s for n, s in specs.items() if n.startswith(f"marts/{headline}:")]
        assert len(mine) >= 2 and any(s.blocking for s in mine), headline


def _generic_mutation(table: str, check: Check) -> str:
    rid = "getvariable('release_id')"
    if check.kind == "unique":
        return f"INSERT INTO {table} SELECT * FROM {table} WHERE release_id = {rid} LIMIT 1"
    if check.kind == "not_null":
        return (
            f'UPDATE {table} SET "{check.args[0]}" = NULL WHERE rowid = '
            f"(SELECT min(rowid) FROM {table} WHERE release_id = {rid})"
        )
    if check.kind == "references":
        return f'UPDATE {table} SET "{check.args[0]}" = -987654321 WHERE release_id = {rid}'
    raise AssertionError(f"{check.source}, check {check.name}: an sql check declares its mutation")


@pytest.fixture(scope="module")
def writable_sample(sample_warehouse, tmp_path_factory):
    settings = sample_warehouse.copy_to(tmp_path_factory.mktemp("checks_sample"))
    con = connect(settings)
    yield con, settings, sample_warehouse.release_id
    con.close()


@pytest.mark.parametrize(
    ("model", "check"), SQL_CHECKS, ids=[f"{m.qualified}:{c.name}" for m, c in SQL_CHECKS]
)
def test_every_sql_check_fails_on_a_deliberately_broken_table(writable_sample, model, check):
    con, settings, release_id = writable_sample
    from pipelines.warehouse.db import set_variables

    set_variables(con, run_variables(settings, release_id))
    assert (
        con.execute(
            f"SELECT count(*) FROM {model.qualified} WHERE release_id = ?", [release_id]
        ).fetchone()[0]
        > 0
    ), f"{model.qualified} is empty on the sample: the mutation would be vacuous"
    clean = evaluate(con, model.qualified, check, release_id)
    if check.kind == "sql" or check.blocking:
        # Blocking checks and the headline marts' own checks hold on the sample.
        assert clean.passed or check.severity == "warn", (check.name, clean.metadata)
    mutation = check.mutation or _generic_mutation(model.qualified, check)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(mutation)
        broken = evaluate(con, model.qualified, check, release_id)
    finally:
        con.execute("ROLLBACK")
    assert not broken.passed, (check.name, broken.metadata)
    assert broken.metadata["failing"] > clean.metadata["failing"], (clean.metadata, broken.metadata)
    # The rollback restored the table: the check reads as it did.
    assert evaluate(con, model.qualified, check, release_id).metadata == clean.metadata
