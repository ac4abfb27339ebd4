"""Check that every citation in pipelines/, sql/, data/ and docs/ resolves inside the repository.

A citation is
- a repository path such as `docs/EOIR_FORMAT.md#tab-shifted-rows` or `data/reference/pd_codes.csv`
  (a path starting with one of the repository's top-level folders): the file must exist, and a
  `#anchor` after a Markdown file must be one of its headings;
- a Markdown link `[text](target)` in a `.md` file, resolved against that file's folder.

Forbidden outright, because a reader of the repository cannot follow them: the team's notes
outside the repository (`research/*.md`, `DESIGN.md`, `STYLE.md`, `../shared/...`), a bare
section sign pointing into one of them (`research §4b`, `DESIGN §5`, `§2` with no document), and
issue numbers (`issue 4`).

A path that follows another repository's name (`marrowb/eoir@9c8cedb9 src/...`,
`jgutman/Refugee data/master_decision_on_proceeding.csv`) names that project's file as a source;
it is not a citation of ours and is not checked.

Usage: python scripts/check_citations.py [ROOT]. Prints one line per problem,
`path:line: what is wrong`, and exits 1 if there is any.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import NamedTuple

SCANNED = ("pipelines", "sql", "data", "docs")
TEXT_SUFFIXES = {".py", ".sql", ".csv", ".md", ".txt", ".json", ".yaml", ".yml", ".toml"}
# Where releases and the warehouse land at run time (a user's unpacked release is gigabytes of
# CSV); of data/raw only the embedded sample's notes belong to the repository.
SKIPPED_DIRS = ("data/raw/", "data/derived/")
KEPT_UNDER_SKIPPED = ("data/raw/sample/",)
MAX_BYTES = 5_000_000
TOP_LEVEL = ("docs", "pipelines", "sql", "data", "tests", "scripts", "benchmarks", "reports")
# Where a user's releases, the warehouse and the reports go at run time: a path there names a
# location, not a file of the repository.
RUNTIME_PREFIXES = ("data/raw/", "data/derived/", "reports/")

# A repository path: a top-level folder, then path characters; an optional #anchor.
_PATH = re.compile(r"(?<![\w./-])((?:" + "|".join(TOP_LEVEL) + r")/[\w./*<>{}-]*[\w*>}])(#[\w-]+)?")
_MD_LINK = re.compile(r"\]\(([^)\s]+)\)")
# `owner/name`, optionally `@commit` and a trailing `:`: the token before another repo's path.
_REPO_TOKEN = re.compile(r"[\w.-]+/[\w.-]+(?:@[0-9a-f]{6,40})?:?")

_FORBIDDEN = (
    (
        re.compile(r"(?<![\w/])(?:\.\./)*shared/"),
        "cites the team folder ../shared/, not in the repository",
    ),
    (re.compile(r"\bresearch/[\w.-]*"), "cites a research note that is not in the repository"),
    (
        re.compile(r"\bresearch\s*(?:note\s*)?§"),
        "cites a research note section that is not in the repository",
    ),
    (
        re.compile(r"\bDESIGN(?:\.md)?\s*§|\bDESIGN\.md\b"),
        "cites DESIGN.md, which is not in the repository",
    ),
    (re.compile(r"\bSTYLE\.md\b"), "cites STYLE.md, which is not in the repository"),
    (re.compile(r"\b[Ii]ssues?\s+#?\d+"), "names an issue number"),
)
# A section sign followed by a number is a citation of some document's section unless a statute
# is named just before it (`Act of 1988 §7344`, `8 U.S.C. §1326`, `INA §212`).
_SECTION = re.compile(r"§+\s*\d")
_LEGAL_CONTEXT = re.compile(
    r"(Act|Code|INA|MPC|U\.?S\.?C\.?|C\.?F\.?R\.?|Stat\.|Pub\.\s*L\.)[^§]{0,25}$"
)


class Problem(NamedTuple):
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to `-`."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


@cache
def anchors(md: Path) -> frozenset[str]:
    seen: dict[str, int] = {}
    out = set()
    in_fence = False
    for line in md.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        m = None if in_fence else re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m:
            base = slug(m.group(1))
            n = seen.get(base, 0)
            seen[base] = n + 1
            out.add(base if n == 0 else f"{base}-{n}")
    return frozenset(out)


def _files(root: Path) -> Iterator[Path]:
    for top in SCANNED:
        for p in sorted((root / top).rglob("*")):
            rel = p.relative_to(root).as_posix()
            if (
                p.is_file()
                and p.suffix.lower() in TEXT_SUFFIXES
                and (not rel.startswith(SKIPPED_DIRS) or rel.startswith(KEPT_UNDER_SKIPPED))
                and p.stat().st_size <= MAX_BYTES
                and "__pycache__" not in p.parts
            ):
                yield p


def _target_problem(root: Path, base: Path, target: str, anchor: str | None) -> str | None:
    """Why `target` (relative to `base`) does not resolve, or None if it does."""
    if any(c in target for c in "*<>{}"):
        # A pattern (`data/reference/*.csv`, `reports/<release>/`): its fixed leading folder
        # must exist.
        fixed = re.split(r"[*<>{}]", target, maxsplit=1)[0].rsplit("/", 1)[0]
        return None if (base / fixed).exists() else f"{target}: no folder {fixed}"
    path = (base / target.rstrip("/")).resolve()
    try:
        path.relative_to(root.resolve())
    except ValueError:
        return f"{target}: points outside the repository"
    if not path.exists():
        return f"{target}: no such file in the repository"
    if anchor:
        if path.suffix.lower() != ".md":
            return f"{target}#{anchor}: anchors are only checked in Markdown files"
        if anchor not in anchors(path):
            return f"{target}#{anchor}: no heading with that anchor"
    return None


def _preceded_by_repo(line: str, start: int) -> bool:
    token = re.search(r"[\w.@:/-]*$", line[:start].rstrip(" `'\"(")).group(0)
    return bool(_REPO_TOKEN.fullmatch(token))


def check_file(root: Path, path: Path) -> list[Problem]:
    rel = path.relative_to(root).as_posix()
    problems: list[Problem] = []
    text = path.read_text(encoding="utf-8", errors="replace")
    for n, line in enumerate(text.splitlines(), start=1):
        for pattern, message in _FORBIDDEN:
            for m in pattern.finditer(line):
                problems.append(Problem(rel, n, f"{message}: {m.group(0)!r}"))
        for m in _SECTION.finditer(line):
            if not _LEGAL_CONTEXT.search(line[: m.start()]):
                problems.append(
                    Problem(
                        rel,
                        n,
                        "section sign without a document in the repository: "
                        f"{line[m.start() : m.end() + 3]!r}",
                    )
                )
        for m in _PATH.finditer(line):
            if _preceded_by_repo(line, m.start()) or m.group(1).startswith(RUNTIME_PREFIXES):
                continue
            why = _target_problem(root, root, m.group(1), (m.group(2) or "")[1:] or None)
            if why:
                problems.append(Problem(rel, n, why))
        if path.suffix.lower() == ".md":
            for m in _MD_LINK.finditer(line):
                target = m.group(1)
                if re.match(r"^[a-z]+:", target):
                    continue  # a URL
                file_part, _, anchor = target.partition("#")
                if not file_part:
                    if anchor not in anchors(path):
                        problems.append(Problem(rel, n, f"#{anchor}: no heading with that anchor"))
                    continue
                why = _target_problem(root, path.parent, file_part, anchor or None)
                if why:
                    problems.append(Problem(rel, n, why))
    return problems


def check(root: Path) -> list[Problem]:
    root = Path(root)
    return [p for f in _files(root) for p in check_file(root, f)]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0]) if args else Path(__file__).resolve().parent.parent
    problems = check(root)
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} citation(s) do not resolve inside the repository")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
