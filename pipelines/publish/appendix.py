"""The data appendix of a release: ``appendix.md``, ``appendix.tex`` and ``appendix.pdf``.

What an article cites as its methods appendix: the flow of counts from the release's rows to
each analysis population, every definition and rule with the file in this repository that
implements it, the settings the marts were built with (marts.run_settings) and the code
version. Counts obey the report's suppression: a count the tables suppress is suppressed here
with the same marker, and any other count from 1 to threshold - 1 prints as ``<threshold``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.charts.provenance import SYNTHETIC_MARK, Provenance
from pipelines.publish.appendix_models import model_paragraphs, pd_bounds_note
from pipelines.publish.disclosure import PRIMARY, Key
from pipelines.publish.latex import LatexError, article, compile_document, engine
from pipelines.publish.stored import ReleaseSettings
from pipelines.tables.export import latex_escape, md_escape
from pipelines.tables.suppression import SECONDARY_MARKER, marker
from pipelines.warehouse.db import table_exists


@dataclass(frozen=True)
class FlowStep:
    population: str
    definition: str
    source: str  # the file in this repository that defines it
    count: int | None
    key: Key | None = None  # the report cell it equals, if the report prints it


def _count(con, sql: str, release_id: str) -> int | None:
    tables = [
        w for w in sql.split() if w.count(".") == 1 and w.split(".")[0] in ("staging", "marts")
    ]
    if any(not table_exists(con, t) for t in tables):
        return None
    return int(con.execute(sql, [release_id] * sql.count("?")).fetchall()[0][0])


def flow(con: duckdb.DuckDBPyConnection, stored: ReleaseSettings) -> list[FlowStep]:
    rid, ws, we, po = stored.release_id, stored.window_start, stored.window_end, stored.pending_on
    q = lambda sql: _count(con, sql, rid)  # noqa: E731
    return [
        FlowStep(
            "Cases",
            "Charging documents (NTAs) in A_TblCase after repair and quarantine, one per IDNCASE",
            "sql/staging/cases.sql",
            q("SELECT count(*) FROM staging.cases WHERE release_id = ?"),
        ),
        FlowStep(
            "Proceedings",
            "B_TblProceeding rows after repair, one per IDNPROCEEDING, with PD flag and lead charge",
            "sql/marts/proceedings.sql",
            q("SELECT count(*) FROM marts.proceedings WHERE release_id = ?"),
        ),
        FlowStep(
            "With a charge recorded",
            "Proceedings with at least one NTA charge in B_TblProceedCharges",
            "sql/marts/proceedings.sql",
            q("SELECT count(*) FROM marts.proceedings WHERE release_id = ? AND n_charges > 0"),
        ),
        FlowStep(
            "Completed in the window",
            f"Proceedings completed (decision or other completion) from {ws} to {we}",
            "sql/marts/pd_rates_by_category.sql",
            q(
                f"SELECT count(*) FROM marts.proceedings WHERE release_id = ? AND is_completed "
                f"AND comp_date BETWEEN DATE '{ws}' AND DATE '{we}'"
            ),
            ("completions", "category", "Total"),
        ),
        FlowStep(
            "PD closures in the window",
            "Completed in the window and closed by prosecutorial discretion (admin-closed: "
            "OTHER_COMP Y or M; terminated: DEC_CODE I in RMV/DEP/EXC/REC cases)",
            "pipelines/classify/pd.py",
            q(
                f"SELECT count(*) FROM marts.proceedings WHERE release_id = ? AND is_pd_closure "
                f"AND comp_date BETWEEN DATE '{ws}' AND DATE '{we}'"
            ),
            ("pd_closures", "category", "Total"),
        ),
        FlowStep(
            "Pending on the pending date",
            f"Received on or before {po} and not completed before it",
            "sql/marts/pd_rates_by_category.sql",
            q(
                f"SELECT count(*) FROM marts.proceedings WHERE release_id = ? AND "
                f"input_date <= DATE '{po}' AND (comp_date IS NULL OR comp_date > DATE '{po}')"
            ),
            ("pending", "category", "Total"),
        ),
        FlowStep(
            "Model rows: completions cohort",
            "Proceedings of the completions cohort entering the logit",
            "sql/marts/cohort_completions.sql",
            q("SELECT count(*) FROM marts.cohort_completions WHERE release_id = ?"),
        ),
        FlowStep(
            "Model rows: pending cohort",
            "Proceedings of the pending-docket cohort entering the logit",
            "sql/marts/cohort_pending.sql",
            q("SELECT count(*) FROM marts.cohort_pending WHERE release_id = ?"),
        ),
        FlowStep(
            "Model cells: completions",
            "Covariate cells (n, PD closures) the grouped logit is fitted on",
            "sql/marts/model_cells_completions.sql",
            q("SELECT count(*) FROM marts.model_cells_completions WHERE release_id = ?"),
        ),
        FlowStep(
            "Model cells: pending",
            "Covariate cells of the pending cohort",
            "sql/marts/model_cells_pending.sql",
            q("SELECT count(*) FROM marts.model_cells_pending WHERE release_id = ?"),
        ),
    ]


LEAD_RULES = {
    "most_serious": "most_serious: the most serious NTA charge of the proceeding (ties: first charged)",
    "first_charged": "first_charged: the first NTA charge of the proceeding (lowest IDNPRCDCHG)",
}


def rules(stored: ReleaseSettings) -> list[tuple[str, str, str]]:
    """(rule, what it says, the file that implements it)."""
    return [
        ("Analysis window", f"{stored.window_start} to {stored.window_end}, by completion date (COMP_DATE)", "pipelines/settings.py"),
        ("Pending date", f"{stored.pending_on}: the docket is counted on this day", "pipelines/settings.py"),
        ("PD closure", "OTHER_COMP Y or M (admin-closed), or DEC_CODE I in RMV/DEP/EXC/REC cases (terminated)", "data/reference/pd_codes.csv"),
        ("PD variants (bounds)", "strict is the rule above; the broader readings add plain terminations (DEC_CODE T) of removal-type cases, over all dates, in ICE's case-review months, or at a court during its docket review: upper bounds for the terminations a current release cannot show, not findings", "data/reference/pd_variants.csv"),
        ("Charge severity", "Each NTA charge's INA citation mapped to a category with its legal basis", "data/reference/charge_severity.csv"),
        ("Lead charge", LEAD_RULES.get(stored.lead_charge_rule, stored.lead_charge_rule), "sql/marts/proceedings.sql"),
        ("Model", "Grouped binomial logit, court-clustered standard errors, average marginal effects by the delta method", "pipelines/stats/grouped_logit.py"),
        ("Small cells", f"Counts from 1 to {stored.suppress_below - 1} suppressed; complementary cells chosen jointly across every published file so none can be recovered", "pipelines/publish/disclosure.py"),
    ]  # fmt: skip


def _shown(n: int | None, threshold: int) -> str:
    """A count as published: suppressed from 1 to threshold - 1."""
    if n is None:
        return "not built"
    return marker(threshold) if 1 <= n < threshold else f"{n:,}"


def code_notes(con: duckdb.DuckDBPyConnection, stored: ReleaseSettings) -> list[str]:
    """What the release's own codes can and cannot show, in sentences (no small cells)."""
    rid, t = stored.release_id, stored.suppress_below
    notes: list[str] = []
    try:
        codes = con.execute(
            "SELECT field, code, sum(proceedings) AS n, "
            "max(fiscal_year) FILTER (WHERE proceedings > 0) AS last_fy "
            "FROM marts.pd_code_frequencies WHERE release_id = ? AND counted_by_pd_rule "
            "GROUP BY ALL ORDER BY field, code",
            [rid],
        ).fetchall()
        last = con.execute(
            "SELECT max(fiscal_year) FROM marts.pd_code_frequencies WHERE release_id = ?", [rid]
        ).fetchone()[0]
    except duckdb.Error:
        return [
            "The code-frequency mart (marts.pd_code_frequencies) was not built for this release."
        ]
    for field, code, n, last_fy in codes:
        if not n:
            what = f"{field} {code}, a code the PD rule counts, never occurs in this release"
            if field == "DEC_CODE" and code == "I":
                what += (
                    ": the strict rule finds no PD terminations here, although TRAC reported about"
                    " one in four early PD closures as a termination. The bounds in"
                    " marts.pd_closures_by_category (pd_closures_with_terminations and the review"
                    " variants) add plain terminations (DEC_CODE T) and are upper bounds, not findings"
                )
            notes.append(what + ".")
        elif last is not None and last_fy is not None and last_fy < last - 1:
            notes.append(
                f"{field} {code} last occurs in fiscal year {last_fy}; the release has completions"
                f" to fiscal year {last}."
            )
    if codes and not notes:
        notes.append("Every code the PD rule counts occurs in this release.")
    try:
        row = con.execute(
            "SELECT pd_closures, pd_closures_with_terminations, pd_closures_with_review_terminations, "
            "pd_closures_with_docket_terminations, pd_closures_undated "
            "FROM marts.pd_closures_by_category WHERE release_id = ? AND lead_charge_category = 'total'",
            [rid],
        ).fetchone()
    except duckdb.Error:
        row = None
    if row:
        strict, wt, review, docket, undated = row

        def bound(n: int | None) -> str:
            # A bound minus the strict total is a count of its own (the terminations it adds):
            # a bound is not printed when that difference is a small cell.
            if n is not None and strict is not None and 1 <= n - strict < t:
                return f"{marker(t)} more than the strict count"
            return _shown(n, t)

        notes.append(
            f"PD closures in the window: {_shown(strict, t)} under the strict rule; bounds with"
            f" terminations: {bound(wt)} (all dates), {bound(review)} (ICE's case-review"
            f" months), {bound(docket)} (court docket reviews)."
        )
        models = pd_bounds_note(con, stored)
        if models:
            notes.append(models)
        notes.append(
            f"PD closures whose completion date is missing or a placeholder, so that no window can"
            f" hold them: {_shown(undated, t)} (the check pd_closures_undated warns above 0.1% of"
            " all PD closures and stops the run above 1%)."
        )
    return notes


def _cell(step: FlowStep, kinds: dict, threshold: int) -> str:
    if step.count is None:
        return "not built"
    kind = kinds.get(step.key) if step.key else None
    if kind:
        return marker(threshold) if kind == PRIMARY else SECONDARY_MARKER
    if 1 <= step.count < threshold:
        return marker(threshold)
    return f"{step.count:,}"


def appendix_markdown(
    steps,
    stored: ReleaseSettings,
    prov: Provenance,
    kinds: dict,
    notes: list[str] = (),
    models: list[tuple[str, str]] = (),
) -> str:
    t = stored.suppress_below
    out = [f"# Data appendix: release {md_escape(stored.release_id)}", ""]
    if prov.synthetic:
        out += [f"**{SYNTHETIC_MARK}**", ""]
    out += ["## Flow of counts", "", "| Population | Count | Definition | Defined in |", "| :--- | ---: | :--- | :--- |"]  # fmt: skip
    for s in steps:
        out.append(f"| {md_escape(s.population)} | {md_escape(_cell(s, kinds, t))} | {md_escape(s.definition)} | `{s.source}` |")  # fmt: skip
    out += ["", "## Definitions and rules", "", "| Rule | What it says | Defined in |", "| :--- | :--- | :--- |"]  # fmt: skip
    for name, text, src in rules(stored):
        out.append(f"| {md_escape(name)} | {md_escape(text)} | `{src}` |")
    out += ["", "## What this release's codes can show", ""]
    out += [f"- {md_escape(n)}" for n in notes]
    if models:
        out += ["", "## Robustness and further analyses", ""]
        for heading, text in models:
            out += [f"**{md_escape(heading)}.** {md_escape(text)}", ""]
        out.pop()
    out += [
        "",
        "## Settings and code",
        "",
        f"- Settings the marts were built with (marts.run_settings): {md_escape(stored.describe())}.",
        f"- Code: {md_escape(prov.code_version)}.",
        f"- {md_escape(prov.footnote())}",
        "",
    ]
    return "\n".join(out)


def _path_tex(path: str) -> str:
    """A repository path in typewriter type that may break after / and _ inside a column."""
    return (
        r"\texttt{"
        + latex_escape(path).replace("/", "/\\allowbreak{}").replace("\\_", "\\_\\allowbreak{}")
        + "}"
    )


def appendix_latex(
    steps,
    stored: ReleaseSettings,
    prov: Provenance,
    kinds: dict,
    notes: list[str] = (),
    models: list[tuple[str, str]] = (),
) -> str:
    t = stored.suppress_below
    e = latex_escape
    rows = [
        f"{e(s.population)} & {e(_cell(s, kinds, t))} & {e(s.definition)} & {_path_tex(s.source)} \\\\"
        for s in steps
    ]
    rule_rows = [f"{e(n)} & {e(x)} & {_path_tex(src)} \\\\" for n, x, src in rules(stored)]
    body = [
        r"\section*{Data appendix: release " + e(stored.release_id) + "}",
        (r"\noindent\textbf{" + e(SYNTHETIC_MARK) + r"}\par\medskip") if prov.synthetic else "",
        r"\subsection*{Flow of counts}",
        r"{\small\begin{longtable}{@{}>{\raggedright\arraybackslash}p{3.2cm}r>{\raggedright\arraybackslash}p{6.2cm}>{\raggedright\arraybackslash}p{3.6cm}@{}}",
        r"\toprule Population & Count & Definition & Defined in \\ \midrule\endhead",
        *rows,
        r"\bottomrule\end{longtable}}",
        r"\subsection*{Definitions and rules}",
        r"{\small\begin{longtable}{@{}>{\raggedright\arraybackslash}p{2.8cm}>{\raggedright\arraybackslash}p{8.2cm}>{\raggedright\arraybackslash}p{4.2cm}@{}}",
        r"\toprule Rule & What it says & Defined in \\ \midrule\endhead",
        *rule_rows,
        r"\bottomrule\end{longtable}}",
        r"\subsection*{What this release's codes can show}",
        r"\begin{itemize}",
        *[r"\item " + e(n) for n in notes],
        r"\end{itemize}" if notes else r"\item (nothing to report)\end{itemize}",
        r"\subsection*{Robustness and further analyses}" if models else "",
        *[r"\paragraph{" + e(h) + ".} " + e(text) for h, text in models],
        r"\subsection*{Settings and code}",
        r"{\raggedright",
        "Settings the marts were built with (marts.run\\_settings): "
        + e(stored.describe())
        + ".\\par",
        "Code: " + e(prov.code_version) + ".\\par",
        e(prov.footnote()) + "\\par}",
    ]
    return article("\n".join(b for b in body if b))


def write_appendix(
    con: duckdb.DuckDBPyConnection,
    stored: ReleaseSettings,
    prov: Provenance,
    kinds: dict,
    out_dir: Path,
) -> tuple[dict[str, Path], str]:
    """Write appendix.md and appendix.tex, and appendix.pdf when pdflatex is installed; returns
    the paths and a note saying why there is no PDF (empty when there is one)."""
    steps = flow(con, stored)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"md": out_dir / "appendix.md", "tex": out_dir / "appendix.tex"}
    notes = code_notes(con, stored)
    models = model_paragraphs(con, stored, kinds)
    paths["md"].write_text(
        appendix_markdown(steps, stored, prov, kinds, notes, models), encoding="utf-8"
    )
    tex = appendix_latex(steps, stored, prov, kinds, notes, models)
    paths["tex"].write_text(tex, encoding="utf-8")
    if engine() is None:
        return paths, "No appendix.pdf: pdflatex is not installed (scripts/ci_system_deps.sh)."
    try:
        compile_document(tex, out_dir / "appendix.pdf", "appendix")
    except LatexError as exc:
        return paths, f"No appendix.pdf: {exc}"
    paths["pdf"] = out_dir / "appendix.pdf"
    return paths, ""
