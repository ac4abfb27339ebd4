"""Normalize EOIR NTA charge codes (B_TblProceedCharges.CHARGE) to one canonical spelling.

EOIR writes a charge as a compact INA citation in a fixed-width layout
(docs/EOIR_FORMAT.md#charge-codes; the 252 codes of the 2025 tbllookupCharges):

    section(3) subsection(1) paragraph(2) subparagraph(1) clause(3) subclause(3)
    2 1 2      a             0 2          A               i _ _     I _ _        -> "212a02Ai  I  "

The clause and subclause are roman numerals left-justified in 3-character fields. Most lookup
codes are right-trimmed (`212a02Ai  I`, `212a03Bi  IV`, `212a09Aii II`, `212a01AiiiI`), a few keep
the padding (`237a02Ai  I  `, `212a03Eiii   `). The data has about 571 distinct spellings for the
lookup's 252 codes [ED]: padding differences, parenthesized citations (`(212)(a)(06)(i)(   )(   )`,
`212(a)(3)(E)(iii) `), one-digit paragraphs (`212a2G`), case slips.

Canonical rule (checked against every compact lookup code in tests/classify): the fixed-width
layout, right-trimmed; the paragraph always two digits; a clause is padded to three characters
only when a subclause follows. When there is no subparagraph the clause follows the paragraph
directly (`212a06i`, the lookup's own spelling of `(212)(a)(06)(i)(   )(   )`).

Repairs the parser makes, each recorded in `NormalizedCharge.repairs`:
- `paragraph_padded`: a one-digit paragraph (`212a2G` -> `212a02G`). The reference table keeps
  three one-digit 241 codes verbatim (`241a4A`, `241a4B`, `241a9B`): in EOIR's lookup they sit
  beside two-digit codes with another meaning and carry the pre-1991 numbering (see the CSV notes).
- `subsection_case`, `subparagraph_case`, `clause_case`, `subclause_case`: a letter in the wrong
  case (`237a02AIII` -> `237a02Aiii`; docs/EOIR_FORMAT.md#charge-codes says the upper-case form is
  not EOIR's). An upper-case remainder after the subparagraph is read as a clause: `AIII` is
  (A)(iii), not (A)(i)(II).
- `parenthesized`: a citation with parentheses, inner padding removed.

Unparseable strings return None unless the reference table lists them as a known spelling
(`<A>`, EOIR's TEST code; `242fXX`; the keying error `237s02AiI`, read as 237(a)(2)(A)(i)(I) as
deportationdata/eoir also does). Departure-control codes `2153a`..`2153k` are 8 CFR 215.3(a)-(k).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from pipelines.classify import reference

# Roman numerals that occur as INA clauses/subclauses (212(a)(3)(B)(i) runs to IX); the cap keeps
# junk such as "iiii" out.
_ROMANS = "i ii iii iv v vi vii viii ix x xi xii xiii xiv xv xvi xvii xviii xix xx".split()
_VALID_CLAUSES = frozenset(_ROMANS)
_VALID_SUBCLAUSES = frozenset(r.upper() for r in _ROMANS)

_COMPACT = re.compile(
    r"^(?P<section>\d{3})(?:(?P<subsection>[A-Za-z])(?P<paragraph>\d{1,2})?)?(?P<rest>.*)$", re.S
)
_PAREN_HEAD = re.compile(r"^\(?\s*(?P<section>\d{3})\s*\)?\s*\(\s*(?P<subsection>[A-Za-z])\s*\)")
_PAREN_FIELD = re.compile(r"\s*\(([^()]*)\)")
_DEPARTURE_CONTROL = re.compile(r"^2153(?P<letter>[A-Za-z])$")
_CITATION_PREFIX = re.compile(r"^(?:INA\s*)?(?:§+\s*|SEC\.?\s*)?", re.I)

# Sections whose subsection (a) lists grounds of inadmissibility (212) or deportability
# (237; 241 before 1 April 1997). Their only charging subsection is (a).
GROUND_SECTIONS = frozenset({"212", "237", "241"})


class NormalizedCharge(NamedTuple):
    code: str  # canonical EOIR compact spelling, e.g. "212a02Ai  I"
    citation: str  # human citation, e.g. "INA 212(a)(2)(A)(i)(I)"
    section: str | None = None
    subsection: str | None = None
    paragraph: int | None = None
    subparagraph: str | None = None
    clause: str | None = None
    subclause: str | None = None
    form: str = "compact"  # compact | parenthesized | departure_control | reference
    repairs: tuple[str, ...] = ()


def render_code(
    section: str,
    subsection: str | None,
    paragraph: int | None,
    subparagraph: str | None,
    clause: str | None,
    subclause: str | None,
) -> str:
    """EOIR compact spelling of a parsed citation (the canonical padding rule above)."""
    code = section
    if subsection is None:
        return code
    code += subsection
    if paragraph is None:
        return code
    code += f"{paragraph:02d}"
    if subparagraph:
        code += subparagraph
    if clause:
        code += clause.ljust(3) + subclause if subclause else clause
    return code


def render_citation(
    section: str,
    subsection: str | None,
    paragraph: int | None,
    subparagraph: str | None,
    clause: str | None,
    subclause: str | None,
) -> str:
    parts = [p for p in (subsection, paragraph, subparagraph, clause, subclause) if p is not None]
    return "INA " + section + "".join(f"({p})" for p in parts)


def _parse_rest(rest: str, repairs: list[str]) -> tuple[str | None, str | None, str | None] | None:
    """Split what follows the paragraph into (subparagraph, clause, subclause), or None if junk."""
    s = rest.strip()
    i = 0
    sub = clause = subclause = None
    if s and s[0].isalpha():
        if s[0].isupper():
            sub, i = s[0], 1
        elif s[0] not in "ivx":
            # a lower-case subparagraph letter; a lower-case roman letter starts a clause
            # (EOIR's own `212a06i`, with no subparagraph)
            sub, i = s[0].upper(), 1
            repairs.append("subparagraph_case")
    tail = s[i:]
    m = re.match(r"\s*([ivx]+)", tail)
    if m:
        clause, tail = m.group(1), tail[m.end() :]
        m = re.match(r"\s*([IVX]+)\s*$", tail)
        if m:
            subclause, tail = m.group(1), ""
        else:
            m = re.match(r"\s+([ivx]+)\s*$", tail)
            if m:
                subclause, tail = m.group(1).upper(), ""
                repairs.append("subclause_case")
    elif sub is not None:
        m = re.match(r"\s*([IVX]+)\s*$", tail)
        if m:
            # A subclause needs a clause, so an upper-case numeral alone is a clause in the
            # wrong case: 237a02AIII is 237(a)(2)(A)(iii) (docs/EOIR_FORMAT.md#charge-codes).
            clause, tail = m.group(1).lower(), ""
            repairs.append("clause_case")
    if tail.strip():
        return None
    if clause is not None and clause not in _VALID_CLAUSES:
        return None
    if subclause is not None and subclause not in _VALID_SUBCLAUSES:
        return None
    return sub, clause, subclause


def _build(
    section: str,
    subsection: str | None,
    paragraph: str | None,
    rest: str,
    form: str,
    repairs: list[str],
) -> NormalizedCharge | None:
    if subsection is not None and not subsection.islower():
        subsection = subsection.lower()
        repairs.append("subsection_case")
    if section in GROUND_SECTIONS and subsection not in (None, "a"):
        return None  # 212/237/241 charges are all in subsection (a); anything else is junk
    para: int | None = None
    if paragraph is not None:
        para = int(paragraph)
        if para == 0:
            return None
        if form == "compact" and len(paragraph) == 1:
            repairs.append("paragraph_padded")
    elif rest.strip():
        return None  # parts after the subsection but no paragraph
    parts = _parse_rest(rest, repairs) if para is not None else (None, None, None)
    if parts is None:
        return None
    sub, clause, subclause = parts
    return NormalizedCharge(
        code=render_code(section, subsection, para, sub, clause, subclause),
        citation=render_citation(section, subsection, para, sub, clause, subclause),
        section=section,
        subsection=subsection,
        paragraph=para,
        subparagraph=sub,
        clause=clause,
        subclause=subclause,
        form=form,
        repairs=tuple(repairs),
    )


def parse_charge(raw: str | None) -> NormalizedCharge | None:
    """Parse a charge spelling by the grammar alone (no reference table); None if not a citation."""
    if raw is None:
        return None
    s = raw.replace("\x00", "").strip()
    if not s:
        return None
    m = _DEPARTURE_CONTROL.match(s)
    if m:
        letter = m.group("letter")
        repairs = () if letter.islower() else ("paragraph_case",)
        letter = letter.lower()
        return NormalizedCharge(
            code=f"2153{letter}",
            citation=f"8 CFR 215.3({letter})",
            section="215",
            form="departure_control",
            repairs=repairs,
        )
    s = _CITATION_PREFIX.sub("", s, count=1)
    if "(" in s:
        head = _PAREN_HEAD.match(s)
        if not head:
            return None
        fields: list[str] = []
        pos = head.end()
        while pos < len(s):
            f = _PAREN_FIELD.match(s, pos)
            if not f:
                if s[pos:].strip():
                    return None
                break
            fields.append(f.group(1).strip())
            pos = f.end()
        fields = [f for f in fields if f]  # EOIR's empty fixed-width fields: "(   )"
        repairs = ["parenthesized"]
        if not fields:
            return _build(head["section"], head["subsection"], None, "", "parenthesized", repairs)
        if not fields[0].isdigit() or len(fields[0]) > 2:
            return None
        rest = " ".join(fields[1:])
        return _build(
            head["section"], head["subsection"], fields[0], rest, "parenthesized", repairs
        )
    m = _COMPACT.match(s)
    if not m:
        return None
    return _build(m["section"], m["subsection"], m["paragraph"], m["rest"], "compact", [])


def normalize_charge(raw: str | None) -> NormalizedCharge | None:
    """Canonical code and citation for any real spelling of an EOIR charge; None for junk.

    The reference table (data/reference/charge_severity.csv) decides first when the spelling, with
    its spaces removed, is one of its codes or recorded lookup spellings: that keeps the three
    one-digit pre-1991 241 codes apart from their two-digit namesakes and maps the non-citation
    codes (`<A>`, `242fXX`, `237s02AiI`). Every other spelling goes through `parse_charge`.
    """
    if raw is None:
        return None
    cleaned = raw.replace("\x00", "").strip()
    if not cleaned:
        return None
    parsed = parse_charge(cleaned)
    known = reference._default_known_spellings().get(reference.spelling_key(cleaned))
    if known is None or (parsed is not None and parsed.code == known):
        return parsed
    row = reference.charge_severity_table()[known]
    own = parse_charge(known) or NormalizedCharge(code=known, citation=row.citation)
    return own._replace(
        code=known, citation=row.citation, form="reference", repairs=("reference_spelling",)
    )
