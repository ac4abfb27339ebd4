"""Every citation in pipelines/, sql/, data/ and docs/ resolves inside the repository.

Runs scripts/check_citations.py on the repository itself, and on small trees written here, to show
that each kind of bad citation is caught (so the repository passing is not a check that cannot
fail).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "check_citations.py"

_spec = importlib.util.spec_from_file_location("check_citations", SCRIPT)
check_citations = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_citations)


def test_repository_citations_resolve():
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(ROOT)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "FORMAT.md").write_text(
        "# Format\n\n## Tab-shifted rows\n\ntext\n\n## Count.txt\n", encoding="utf-8"
    )
    (tmp_path / "data" / "reference").mkdir(parents=True)
    (tmp_path / "data" / "reference" / "codes.csv").write_text("code\n", encoding="utf-8")
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return tmp_path


def _messages(root: Path) -> list[str]:
    return [str(p) for p in check_citations.check(root)]


def test_good_citations_pass(tmp_path):
    root = _tree(
        tmp_path,
        {
            "pipelines/a.py": (
                "# repaired as in docs/FORMAT.md#tab-shifted-rows\n"
                "# codes in data/reference/codes.csv\n"
                "# Count.txt: docs/FORMAT.md#counttxt; tables in data/reference/*.csv\n"
                "# source: marrowb/eoir@9c8cedb9 src/eoir/x.json, jgutman/Refugee data/other.csv\n"
                "# written to data/raw/eoir/<release>/ and reports/<release>/ at run time\n"
                "# added by the Anti-Drug Abuse Act of 1988 §7344; 8 U.S.C. §1326\n"
            ),
            "docs/OTHER.md": "See [the format](FORMAT.md#count-txt-missing) later.\n".replace(
                "count-txt-missing", "counttxt"
            )
            + "[web](https://example.org/x.md) and [here](#other)\n\n# Other\n",
        },
    )
    assert _messages(root) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("# see research/eoir_format.md §2\n", "research note"),
        ("# (research §4b)\n", "research note section"),
        ("# the rule of DESIGN §4\n", "DESIGN.md"),
        ("# as DESIGN.md says\n", "DESIGN.md"),
        ("# house style: STYLE.md\n", "STYLE.md"),
        ("# copied from ../shared/reference/eoir/x.csv\n", "../shared/"),
        ("# the truth issue 4 must recover\n", "issue number"),
        ("# §2: cp1252 text\n", "section sign"),
        ("# see docs/MISSING.md\n", "no such file"),
        ("# see docs/FORMAT.md#no-such-heading\n", "no heading with that anchor"),
        ("# in data/reference/gone.csv\n", "no such file"),
        ("# in data/nothing/*.csv\n", "no folder"),
    ],
)
def test_each_kind_of_bad_citation_is_reported(tmp_path, text, expected):
    root = _tree(tmp_path, {"pipelines/a.py": text})
    messages = _messages(root)
    assert len(messages) >= 1, text
    assert all(m.startswith("pipelines/a.py:1: ") for m in messages), messages
    assert any(expected in m for m in messages), messages


def test_markdown_links_resolve_relative_to_the_file(tmp_path):
    root = _tree(
        tmp_path,
        {"docs/OTHER.md": "[x](FORMAT.md#tab-shifted-rows) [y](MISSING.md) [z](#nowhere)\n"},
    )
    messages = _messages(root)
    assert any("MISSING.md: no such file" in m for m in messages), messages
    assert any("#nowhere: no heading" in m for m in messages), messages
    assert len(messages) == 2, messages


def test_csv_evidence_columns_are_checked(tmp_path):
    root = _tree(
        tmp_path,
        {
            "data/reference/x.csv": (
                'code,evidence\nA,"2026-04 header (research/eoir_format.md §3, [DK])"\n'
                'B,"docs/FORMAT.md#tab-shifted-rows"\n'
            )
        },
    )
    messages = _messages(root)
    assert messages and all(m.startswith("data/reference/x.csv:2: ") for m in messages), messages


def test_slug_follows_github_rules():
    assert check_citations.slug("Count.txt") == "counttxt"
    assert check_citations.slug("PD closures in the data") == "pd-closures-in-the-data"
    assert check_citations.slug("2024-ICFO-39357") == "2024-icfo-39357"
    assert check_citations.slug("The `Nacara` column") == "the-nacara-column"


def test_main_exit_code_and_one_line_per_problem(tmp_path, capsys):
    root = _tree(tmp_path, {"sql/m.sql": "-- NULL spellings (research/eoir_format.md §2)\n"})
    assert check_citations.main([str(root)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("sql/m.sql:1: ")
    assert out[-1].endswith("do not resolve inside the repository")


def _readme_layout_entries() -> tuple[set[str], set[str]]:
    """(top-level names, names under pipelines/) in the README's Repository layout block."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Repository layout", 1)[1].split("\n## ", 1)[0]
    block = section.split("```", 2)[1]
    top, inner = set(), set()
    for line in block.splitlines()[1:]:
        indent = len(line) - len(line.lstrip(" "))
        if not line.strip() or indent > 2:
            continue  # a description's continuation
        names = line.strip().split("  ", 1)[0].split()
        for name in names:
            (inner if indent == 2 else top).add(name.rstrip("/"))
    return top, inner


def test_readme_layout_matches_the_tree():
    top, inner = _readme_layout_entries()
    for name in top:
        assert (ROOT / name).exists(), f"README layout names {name}, which is not in the tree"
    for name in inner:
        assert (ROOT / "pipelines" / name).exists(), f"README layout names pipelines/{name}"
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    top_dirs = {p.split("/", 1)[0] for p in tracked if "/" in p and not p.startswith(".")}
    named_tops = {n.split("/", 1)[0] for n in top}
    assert top_dirs <= named_tops, f"not in the README layout: {sorted(top_dirs - named_tops)}"
    packages = {p.parent.name for p in (ROOT / "pipelines").glob("*/__init__.py")}
    assert packages <= inner, f"packages missing from the README layout: {sorted(packages - inner)}"
