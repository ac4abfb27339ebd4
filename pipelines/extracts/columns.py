"""Every column of every analysis extract, defined once: the codebook and the Stata writer read this.

An extract is one mart of one release, written for people who work in Stata, R or Python rather
than in the warehouse. Each `Column` says what the column is in plain words, where it comes from
(EOIR / ICE table and field, or the derivation), its type, and, for categorical columns, the
labels of its values. Value labels come from three places, in this order (which is also the order
of the integer codes in the Stata files):

1. `labels`: a fixed list owned by the pipeline (severity categories from
   pipelines.classify.categories, PD kinds from pipelines.classify.pd, custody D/R/N, ...);
2. `lookup`: a query over the release's own lookup tables (courts, nationalities, case types,
   outcome codes), so a label is what EOIR itself calls the code;
3. `extra_labels`: special values a mart adds after the lookup ('unknown', 'other');
then any value seen in the data and labelled nowhere, labelled by itself.

Privacy (docs/DECISIONS.md#small-cells). The extracts are row-level records of real people. The EOIR
marts hold no names, birth dates or addresses, and the extracts add none: no free-text city
(A_TblCase ALIEN_CITY is never carried past staging), no birth date finer than the year. From the
ICE removals only the fields the analysis uses are kept (`REMOVALS.excluded_reason`): person and
case identifiers, the exact birth date, the county of arrest, the MSC conviction and entry dates and
the unmapped free-text columns are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from pipelines.classify.categories import CATEGORY_SOURCES, SEVERITY_CATEGORIES
from pipelines.classify.pd import ADMIN_CLOSED, PD_KINDS, TERMINATED
from pipelines.ice.classify import CRIMINALITY

INTEGER = "integer"
TEXT = "text"
BOOLEAN = "boolean"
DATE = "date"
TEXT_LIST = "list of text"
LOGICAL_TYPES = (INTEGER, TEXT, BOOLEAN, DATE, TEXT_LIST)

# DuckDB types each logical type accepts in a mart (checked before writing).
DUCKDB_TYPES: dict[str, frozenset[str]] = {
    INTEGER: frozenset({"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT",
                        "USMALLINT", "UINTEGER", "UBIGINT"}),
    TEXT: frozenset({"VARCHAR"}),
    BOOLEAN: frozenset({"BOOLEAN"}),
    DATE: frozenset({"DATE"}),
    TEXT_LIST: frozenset({"VARCHAR[]"}),
}  # fmt: skip

# A list column becomes one delimited string in CSV and Stata. Canonical EOIR charge codes
# hold letters, digits and spaces (`212a02Ai  I`), never this character.
LIST_SEPARATOR = "|"

STATA_LABEL_MAX = 80
BOOLEAN_LABELS = ((0, "No"), (1, "Yes"))

Label = tuple[str | int, str]


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    label: str  # short, <= 80 characters: the Stata variable label
    definition: str  # plain words
    source: str  # EOIR/ICE table.field, or the derivation
    categorical: bool = False
    labels: tuple[Label, ...] = ()
    lookup: str | None = None  # key of LOOKUP_LABELS
    extra_labels: tuple[Label, ...] = ()

    def __post_init__(self) -> None:
        if self.type not in LOGICAL_TYPES:
            raise ValueError(f"column {self.name}: unknown type {self.type!r}")
        if len(self.label) > STATA_LABEL_MAX:
            raise ValueError(
                f"column {self.name}: label has {len(self.label)} characters, Stata allows "
                f"{STATA_LABEL_MAX}; shorten it in pipelines/extracts/columns.py"
            )
        if (self.labels or self.lookup or self.extra_labels) and not self.categorical:
            raise ValueError(f"column {self.name}: value labels on a non-categorical column")


@dataclass(frozen=True)
class ExtractTable:
    name: str  # file stem: proceedings.parquet, proceedings.dta, ...
    mart: str  # warehouse table
    title: str
    description: str
    columns: tuple[Column, ...]
    order_by: str  # deterministic row order (SQL over the mart's columns)
    # Mart columns deliberately left out, and why (privacy or redundancy). Any other mart
    # column that is not in `columns` is reported as undocumented.
    excluded: dict[str, str] = field(default_factory=dict)
    # When set, every mart column not in `columns` is left out for this reason (the ICE
    # removals, whose many drifting columns are kept out unless named here).
    excluded_reason: str = ""
    optional: bool = False  # skipped, with a note, when the mart is absent or empty

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name}: no column {name!r}")


# Value labels from the release's own lookup tables: key -> (table read, query returning
# (value, label) with one `?` for the release id).
LOOKUP_LABELS: dict[str, tuple[str, str]] = {
    "court": (
        "staging.lookup_base_city",
        "SELECT base_city_code, base_city_name FROM staging.lookup_base_city WHERE release_id = ?",
    ),
    "nationality": (
        "staging.lookup_nationality",
        "SELECT nat_code, nat_name FROM staging.lookup_nationality WHERE release_id = ?",
    ),
    "case_type": (
        "staging.lookup_case_type",
        "SELECT case_type, description FROM staging.lookup_case_type WHERE release_id = ?",
    ),
    # One code means different things by case type and field
    # (docs/EOIR_FORMAT.md#court-decision-codes), so a code's label lists its distinct meanings;
    # outcome_description holds the exact one for each row.
    "outcome_code": (
        "staging.lookup_court_decision",
        "SELECT code, string_agg(DISTINCT description, ' / ' ORDER BY description) "
        "FROM staging.lookup_court_decision WHERE release_id = ? GROUP BY code",
    ),
    "ncic_family": (
        "marts.removals",
        "SELECT DISTINCT ncic_family_code, ncic_family FROM marts.removals "
        "WHERE release_id = ? AND ncic_family_code IS NOT NULL",
    ),
}

_RELEASE = Column(
    "release_id",
    TEXT,
    "FOIA release",
    "The FOIA release the row comes from (e.g. 2026-04). An id that starts with 'synthetic' "
    "marks generated sample data, not a finding.",
    "pipeline: the release partition (docs/SCHEMA.md)",
)
_IDNPROCEEDING = Column(
    "idnproceeding",
    INTEGER,
    "EOIR proceeding id",
    "EOIR's identifier of the proceeding. A case gets a new proceeding after a change of "
    "venue, a reopening or a remand.",
    "B_TblProceeding.IDNPROCEEDING",
)
_IDNCASE = Column(
    "idncase",
    INTEGER,
    "EOIR case id",
    "EOIR's identifier of the case: one charging document (Notice to Appear). Links the "
    "proceedings and charges of one case.",
    "B_TblProceeding.IDNCASE",
)

SEVERITY_LABELS: tuple[Label, ...] = tuple((c.name, c.label) for c in SEVERITY_CATEGORIES)
SEVERITY_RANK_LABELS: tuple[Label, ...] = tuple(
    (c.rank, f"{c.rank} {c.label}") for c in SEVERITY_CATEGORIES
)
# The cohorts keep proceedings without a charge record (sql/marts/cohort_completions.sql).
NO_CHARGE_RECORDED: Label = ("no_charge_recorded", "No charge recorded")

_PD_KIND_LABELS = {
    ADMIN_CLOSED: "PD: administratively closed",
    TERMINATED: "PD: terminated",
}
if set(_PD_KIND_LABELS) != set(PD_KINDS):  # one list: pipelines.classify.pd.PD_KINDS
    raise ValueError(f"PD kind labels {sorted(_PD_KIND_LABELS)} differ from PD_KINDS {PD_KINDS}")
PD_KIND_LABELS: tuple[Label, ...] = tuple((k, _PD_KIND_LABELS[k]) for k in PD_KINDS)

# docs/EOIR_FORMAT.md#other-code-tables: CUSTODY N Never Detained, D Detained, R Released.
CUSTODY_LABELS: tuple[Label, ...] = (("D", "Detained"), ("R", "Released"), ("N", "Never detained"))

_CATEGORY_SOURCE_LABELS = {
    "reference": "Charge-severity reference table",
    "rule": "Citation-prefix rule (code not in the table)",
    "release_lookup": "Release's own lookup flags changed it",
    "unknown": "Unreadable charge: miscellaneous, counted",
}
if tuple(_CATEGORY_SOURCE_LABELS) != CATEGORY_SOURCES:
    raise ValueError("category source labels differ from pipelines.classify.categories")
CATEGORY_SOURCE_LABELS: tuple[Label, ...] = tuple(_CATEGORY_SOURCE_LABELS.items())

_CRIMINALITY_LABELS = {
    "convicted": "Convicted criminal",
    "pending_charges": "Pending criminal charges",
    "other_immigration_violator": "Other immigration violator",
}
if tuple(_CRIMINALITY_LABELS) != CRIMINALITY:
    raise ValueError("criminality labels differ from pipelines.ice.classify.CRIMINALITY")
CRIMINALITY_LABELS: tuple[Label, ...] = tuple(_CRIMINALITY_LABELS.items())

# docs/DECISIONS.md#threat-levels: DHS threat levels.
THREAT_LEVEL_LABELS: tuple[Label, ...] = (
    (1, "Level 1: aggravated felony or 2+ felonies"),
    (2, "Level 2: other felony or 3+ misdemeanours"),
    (3, "Level 3: misdemeanours"),
)


def _lead_category(labels: tuple[Label, ...] = SEVERITY_LABELS) -> Column:
    return Column(
        "lead_charge_category",
        TEXT,
        "Lead-charge severity category",
        "Severity category of the proceeding's lead charge, its most serious charge (ties: "
        "the first charged). Categories, most serious first: national security / terrorism, "
        "aggravated felony, other criminal, entry without inspection, other immigration, "
        "miscellaneous. Empty when the proceeding has no charge record.",
        "derived: B_TblProceedCharges.CHARGE classified by data/reference/charge_severity.csv "
        "(marts.charges_classified), lead charge by the setting lead_charge_rule",
        categorical=True,
        labels=labels,
    )


_ANY_CRIMINAL = Column(
    "any_criminal",
    BOOLEAN,
    "Any criminal charge",
    "At least one charge of the proceeding is in a criminal category (aggravated felony or "
    "other criminal).",
    "derived: marts.charges_classified.severity_category",
)
_CRIM_IND = Column(
    "crim_ind",
    BOOLEAN,
    "EOIR criminal indicator (rarely filled)",
    "EOIR's own criminal indicator on the proceeding; rarely filled, so mostly empty.",
    "B_TblProceeding.CRIM_IND",
)
_AGGRAVATE_FELON = Column(
    "aggravate_felon",
    BOOLEAN,
    "EOIR aggravated-felon flag (rarely filled)",
    "EOIR's own aggravated-felony indicator on the proceeding; rarely filled.",
    "B_TblProceeding.AGGRAVATE_FELON",
)
_REPRESENTED = Column(
    "represented",
    BOOLEAN,
    "Represented (EOIR-28 by the reference day)",
    "The case has an attorney appearance (form EOIR-28) dated on or before the reference day: "
    "the proceeding's completion for completed proceedings; pending_on for the pending docket "
    "(the baseline: an appearance after it may be a consequence of the case's course).",
    "derived: tbl_RepsAssigned.E_28_DATE against B_TblProceeding.COMP_DATE",
)
_COMP_DATE = Column(
    "comp_date",
    DATE,
    "Completion date",
    "Date the proceeding was completed (decision or other completion); empty while pending.",
    "B_TblProceeding.COMP_DATE",
)
_PD_KIND = Column(
    "pd_kind",
    TEXT,
    "Kind of PD closure",
    "How a PD closure closed the proceeding: administratively closed (OTHER_COMP Y or M) or "
    "terminated (DEC_CODE I in RMV, DEP, EXC, REC cases). Empty when not a PD closure.",
    "derived: data/reference/pd_codes.csv on B_TblProceeding.OTHER_COMP / DEC_CODE",
    categorical=True,
    labels=PD_KIND_LABELS,
)
_COURT = Column(
    "court",
    TEXT,
    "Immigration court (base city code)",
    "Immigration court that handled the proceeding, as EOIR's base-city code.",
    "B_TblProceeding.BASE_CITY_CODE; labels tblLookupBaseCity.BASE_CITY_NAME",
    categorical=True,
    lookup="court",
)
_CUSTODY = Column(
    "custody",
    TEXT,
    "Custody status",
    "Custody status: the proceeding's CUSTODY, else the case's (D detained, R released, "
    "N never detained).",
    "B_TblProceeding.CUSTODY, else A_TblCase.CUSTODY",
    categorical=True,
    labels=CUSTODY_LABELS,
)

PROCEEDINGS = ExtractTable(
    name="proceedings",
    mart="marts.proceedings",
    title="Proceedings with PD flag and lead-charge category",
    description=(
        "One row per proceeding of the release: court, custody, nationality, dates, outcome, "
        "prosecutorial-discretion (PD) closure and its kind, charges and the lead charge's "
        "severity category, representation."
    ),
    order_by="idnproceeding",
    columns=(
        _RELEASE,
        _IDNPROCEEDING,
        _IDNCASE,
        _COURT,
        Column(
            "court_name",
            TEXT,
            "Immigration court name",
            "Name of the court (base city) from EOIR's lookup.",
            "tblLookupBaseCity.BASE_CITY_NAME via B_TblProceeding.BASE_CITY_CODE",
        ),
        Column(
            "hearing_loc_code",
            TEXT,
            "Hearing location code",
            "EOIR code of the hearing location within the court.",
            "B_TblProceeding.HEARING_LOC_CODE",
        ),
        Column(
            "case_type",
            TEXT,
            "Case type",
            "Type of case (RMV removal, DEP deportation, EXC exclusion, AOC asylum only, ...).",
            "B_TblProceeding.CASE_TYPE; labels tblLookupCaseType",
            categorical=True,
            lookup="case_type",
        ),
        _CUSTODY,
        Column(
            "detained",
            BOOLEAN,
            "Detained (custody D)",
            "Custody status is D (detained).",
            "derived: custody = 'D'",
        ),
        Column(
            "nat",
            TEXT,
            "Nationality (EOIR code)",
            "Nationality code: the proceeding's NAT, else the case's. '??' is EOIR's 'unknown "
            "nationality'.",
            "B_TblProceeding.NAT, else A_TblCase.NAT; labels tblLookupNationality",
            categorical=True,
            lookup="nationality",
        ),
        Column(
            "nat_name",
            TEXT,
            "Nationality name",
            "Name of the nationality from EOIR's lookup.",
            "tblLookupNationality.NAT_NAME via nat",
        ),
        Column(
            "nta_date",
            DATE,
            "Notice to Appear date",
            "Date of the charging document (Notice to Appear, NTA).",
            "B_TblProceeding.OSC_DATE",
        ),
        Column(
            "input_date",
            DATE,
            "Date received by the court",
            "Date the proceeding was received (entered) at the court.",
            "B_TblProceeding.INPUT_DATE",
        ),
        _COMP_DATE,
        Column(
            "is_completed",
            BOOLEAN,
            "Completed",
            "The proceeding has a completion date and an outcome code.",
            "derived: COMP_DATE and (DEC_CODE or OTHER_COMP) present",
        ),
        Column(
            "outcome_field",
            TEXT,
            "Field holding the outcome",
            "Which field holds the outcome: DEC_CODE (a merits decision) or OTHER_COMP (an "
            "administrative completion).",
            "derived: B_TblProceeding.DEC_CODE, else OTHER_COMP",
            categorical=True,
            labels=(
                ("DEC_CODE", "Merits decision (DEC_CODE)"),
                ("OTHER_COMP", "Other completion (OTHER_COMP)"),
            ),
        ),
        Column(
            "outcome_code",
            TEXT,
            "Outcome code (see outcome_description)",
            "Outcome code: DEC_CODE, or OTHER_COMP when DEC_CODE is empty. A letter means "
            "different things by case type and field; the value label lists its meanings and "
            "outcome_description holds the one that applies to the row.",
            "B_TblProceeding.DEC_CODE / OTHER_COMP; labels tblLookupCourtDecision",
            categorical=True,
            lookup="outcome_code",
        ),
        Column(
            "outcome_description",
            TEXT,
            "Outcome, decoded",
            "The outcome in words, decoded on (case type, field, code).",
            "tblLookupCourtDecision.strDecDescription (data/reference/court_decisions.csv "
            "where the release lacks a code)",
        ),
        Column(
            "is_pd_closure",
            BOOLEAN,
            "Closed by prosecutorial discretion (PD)",
            "Closed by prosecutorial discretion: OTHER_COMP Y ('Prosecutorial Discretion - "
            "Admin Close') or M ('In Court Prosecutorial Discretion - Admin Closure'), or "
            "DEC_CODE I ('Prosecutorial Discretion - Terminated') in RMV, DEP, EXC and REC "
            "cases. Dated by comp_date.",
            "derived: data/reference/pd_codes.csv on B_TblProceeding.OTHER_COMP / DEC_CODE",
        ),
        _PD_KIND,
        # The PD variants of data/reference/pd_variants.csv: labelled bounds, not findings.
        Column(
            "pd_strict",
            BOOLEAN,
            "PD closure, strict rule (default)",
            "The strict PD rule, equal to is_pd_closure: EOIR's own PD codes only.",
            "derived: data/reference/pd_variants.csv (strict)",
        ),
        Column(
            "pd_with_terminations",
            BOOLEAN,
            "PD closure or any termination (upper bound)",
            "Bound, not a finding: the strict rule, or a termination (DEC_CODE T) in an RMV, DEP, "
            "EXC or REC case. Holds PD terminations no longer coded I and every non-PD "
            "termination.",
            "derived: data/reference/pd_variants.csv (with_terminations)",
        ),
        Column(
            "pd_with_review_terminations",
            BOOLEAN,
            "PD closure or termination in case-review months",
            "Bound, not a finding: as pd_with_terminations, the terminations restricted to "
            "completions in the months of ICE's case review (2011-12-01 to 2013-06-30).",
            "derived: data/reference/pd_variants.csv, pd_review_periods.csv (case_review)",
        ),
        Column(
            "pd_with_docket_terminations",
            BOOLEAN,
            "PD closure or termination during a docket review",
            "Bound, not a finding: as pd_with_terminations, the terminations restricted to "
            "completions at a court during ICE's review of its docket (Baltimore and Denver "
            "pilots, the 2012 two-week reviews).",
            "derived: data/reference/pd_variants.csv, pd_review_periods.csv (docket_review)",
        ),
        Column(
            "is_removal_type_termination",
            BOOLEAN,
            "Termination (DEC_CODE T) in a removal-type case",
            "DEC_CODE T ('Terminate') in an RMV, DEP, EXC or REC case: what the broader PD "
            "variants add to the strict rule.",
            "derived: B_TblProceeding.DEC_CODE, CASE_TYPE",
        ),
        Column(
            "charges",
            TEXT_LIST,
            "Charges (INA codes, '|'-separated)",
            "Every charge of the proceeding as a canonical EOIR code, in charging order. A list "
            f"in parquet; one string joined with '{LIST_SEPARATOR}' in CSV and Stata. Empty when "
            "the proceeding has no charge record.",
            "B_TblProceedCharges.CHARGE, normalized (marts.charges_classified.charge_code)",
        ),
        Column(
            "n_charges",
            INTEGER,
            "Number of charge records",
            "Number of charge records of the proceeding (0 when none).",
            "derived: count of B_TblProceedCharges rows",
        ),
        Column(
            "lead_charge_code",
            TEXT,
            "Lead charge (INA code)",
            "The lead charge: the most serious charge of the proceeding (ties: the first "
            "charged), as a canonical EOIR code.",
            "derived: B_TblProceedCharges.CHARGE, lead by the setting lead_charge_rule",
        ),
        _lead_category(),
        Column(
            "lead_charge_rank",
            INTEGER,
            "Lead-charge severity rank (1 = most serious)",
            "Severity rank of the lead charge's category: 1 national security / terrorism ... "
            "6 miscellaneous.",
            "derived: pipelines/classify/categories.py",
            categorical=True,
            labels=SEVERITY_RANK_LABELS,
        ),
        _ANY_CRIMINAL,
        _CRIM_IND,
        _AGGRAVATE_FELON,
        _REPRESENTED,
        Column(
            "absentia",
            TEXT,
            "Decision in absentia",
            "Whether the decision was made in absentia (the respondent did not appear).",
            "B_TblProceeding.ABSENTIA (Y/N, docs/EOIR_FORMAT.md#other-code-tables)",
            categorical=True,
            labels=(("Y", "Yes, in absentia"), ("N", "No")),
        ),
    ),
)

CHARGES = ExtractTable(
    name="charges_classified",
    mart="marts.charges_classified",
    title="NTA charges classified by criminal severity",
    description=(
        "One row per charge on a Notice to Appear, with its canonical INA code, citation, "
        "severity category and rank, the legal basis of the category and where it came from."
    ),
    order_by="idnprcdchg",
    columns=(
        _RELEASE,
        Column(
            "idnprcdchg",
            INTEGER,
            "EOIR charge id",
            "EOIR's identifier of the charge record.",
            "B_TblProceedCharges.IDNPRCDCHG",
        ),
        replace(_IDNCASE, source="B_TblProceedCharges.IDNCASE"),
        replace(_IDNPROCEEDING, source="B_TblProceedCharges.IDNPROCEEDING"),
        Column(
            "charge_raw",
            TEXT,
            "Charge as written by EOIR",
            "The charge exactly as in the file, space padding and junk variants included.",
            "B_TblProceedCharges.CHARGE",
        ),
        Column(
            "charge_code",
            TEXT,
            "Charge, canonical EOIR code",
            "The charge in EOIR's canonical spelling (e.g. 212a06Ai, 212a02Ai  I); empty when "
            "the spelling cannot be read as a charge.",
            "derived: B_TblProceedCharges.CHARGE normalized by pipelines.classify.charges",
        ),
        Column(
            "citation",
            TEXT,
            "Charge as an INA citation",
            "The charge as an INA citation, e.g. INA 212(a)(6)(A)(i).",
            "derived: pipelines.classify.charges",
        ),
        Column(
            "severity_category",
            TEXT,
            "Severity category of the charge",
            "Criminal-severity category of the charge (national security / terrorism, "
            "aggravated felony, other criminal, entry without inspection, other immigration, "
            "miscellaneous).",
            "derived: data/reference/charge_severity.csv, prefix rules, release lookup flags",
            categorical=True,
            labels=SEVERITY_LABELS,
        ),
        Column(
            "severity_rank",
            INTEGER,
            "Severity rank (1 = most serious)",
            "Rank of the category: 1 national security / terrorism ... 6 miscellaneous.",
            "derived: pipelines/classify/categories.py",
            categorical=True,
            labels=SEVERITY_RANK_LABELS,
        ),
        Column(
            "legal_basis",
            TEXT,
            "Legal basis of the category",
            "Why the charge has its category: the INA provision and the rule that places it.",
            "data/reference/charge_severity.csv legal_basis (or the prefix rule's)",
            categorical=True,
        ),
        Column(
            "category_source",
            TEXT,
            "Where the category came from",
            "Where the category came from: the reference table, the citation-prefix rule, the "
            "release's own lookup flags, or unknown (unreadable charge, counted).",
            "derived: pipelines.classify.severity",
            categorical=True,
            labels=CATEGORY_SOURCE_LABELS,
        ),
        Column(
            "is_known_code",
            BOOLEAN,
            "Code is in the reference table",
            "The canonical code has a row of data/reference/charge_severity.csv.",
            "derived: pipelines.classify.severity",
        ),
        Column(
            "chg_status",
            TEXT,
            "Charge status (EOIR code)",
            "EOIR's status of the charge (values N, O, S, W; meanings unverified, likely S "
            "sustained, W withdrawn, N not sustained: docs/EOIR_FORMAT.md#other-code-tables).",
            "B_TblProceedCharges.CHG_STATUS",
            categorical=True,
        ),
    ),
)

_COHORT_COLUMNS = (
    _RELEASE,
    _IDNPROCEEDING,
    _IDNCASE,
    replace(
        _COURT,
        definition=_COURT.definition + " 'unknown' when the court code is missing.",
        extra_labels=(("unknown", "Unknown court"),),
    ),
    replace(
        _lead_category((*SEVERITY_LABELS, NO_CHARGE_RECORDED)),
        definition=(
            "Severity category of the proceeding's lead charge, its most serious charge (ties: "
            "the first charged); 'no_charge_recorded' when the proceeding has no charge record "
            "(kept so the cohort reconciles with completion counts)."
        ),
    ),
    _ANY_CRIMINAL,
    replace(
        _CUSTODY,
        definition=_CUSTODY.definition + " 'unknown' when missing.",
        labels=(*CUSTODY_LABELS, ("unknown", "Unknown")),
    ),
    _REPRESENTED,
    Column(
        "nationality_group",
        TEXT,
        "Nationality group (top ten, else other)",
        "Nationality code when it is one of the ten most frequent nationalities of the cohort, "
        "else 'other'.",
        "derived: B_TblProceeding.NAT (else A_TblCase.NAT); labels tblLookupNationality",
        categorical=True,
        lookup="nationality",
        extra_labels=(("other", "Other nationalities"),),
    ),
    Column(
        "nta_age_band",
        TEXT,
        "Time since the NTA, in bands",
        "Time from the Notice to Appear to the reference day (completion, or pending_on for the "
        "pending docket), in bands; 'unknown' without an NTA date or when it is later.",
        "derived: B_TblProceeding.OSC_DATE",
        categorical=True,
        labels=(
            ("0-1y", "Under 1 year"),
            ("1-2y", "1 to 2 years"),
            ("2-4y", "2 to 4 years"),
            ("4y+", "4 years or more"),
            ("unknown", "Unknown"),
        ),
    ),
    Column(
        "period",
        TEXT,
        "Period (see definition)",
        "Completions: calendar quarter of completion (e.g. 2012Q3). Pending docket: the year "
        "the proceeding was received (a pending docket has no completion period).",
        "derived: B_TblProceeding.COMP_DATE / INPUT_DATE",
        categorical=True,
    ),
    _COMP_DATE,
    _CRIM_IND,
    _AGGRAVATE_FELON,
    Column(
        "pd_closure",
        BOOLEAN,
        "Outcome: closed by PD",
        "The model's outcome: the proceeding was closed by prosecutorial discretion. In the "
        "pending docket: the case was closed by PD between pending_on and the window's end, "
        "in this proceeding or a later one of the same case (after a change of venue or a "
        "transfer); pd_kind stays that of this proceeding.",
        "derived: marts.proceedings.is_pd_closure (pending docket: over the case's "
        "proceedings completed in the horizon)",
    ),
    _PD_KIND,
)

COHORT_COMPLETIONS = ExtractTable(
    name="cohort_completions",
    mart="marts.cohort_completions",
    title="Analysis cohort (a): proceedings completed in the window",
    description=(
        "Every proceeding completed in the analysis window (settings window_start to "
        "window_end), with the outcome pd_closure and the model's regressors."
    ),
    order_by="idnproceeding",
    columns=_COHORT_COLUMNS,
)

COHORT_PENDING = ExtractTable(
    name="cohort_pending",
    mart="marts.cohort_pending",
    title="Analysis cohort (b): the docket pending on pending_on",
    description=(
        "Proceedings received on or before pending_on and not completed before it, with the "
        "outcome pd_closure (closed by PD from pending_on to the window's end) and the "
        "model's regressors."
    ),
    order_by="idnproceeding",
    columns=_COHORT_COLUMNS,
)

_ICE = "ICE removals (ERO-LESA workbook)"

REMOVALS = ExtractTable(
    name="removals",
    mart="marts.removals",
    title="ICE removals with criminality and threat level",
    description=(
        "One row per removal in the ICE records of the release, with criminality, DHS threat "
        "level (ICE's or derived, flagged), the NCIC offense family of the most serious "
        "conviction and the immigration-only flag. Likely duplicates are flagged, not dropped."
    ),
    order_by="departed_date, source_file, source_sheet, source_row",
    optional=True,
    excluded_reason=(
        "not needed for the analysis, or identifying (person and case identifiers, exact "
        "birth date, county, conviction and entry dates, unmapped free text)"
    ),
    columns=(
        _RELEASE,
        Column(
            "departed_date",
            DATE,
            "Departure date",
            "Date the person departed (was removed).",
            f"{_ICE}: Departed Date / Departure Date",
        ),
        Column(
            "fiscal_year",
            INTEGER,
            "Federal fiscal year of departure",
            "Federal fiscal year of the departure (October to September; FY2012 began 2011-10-01).",
            "derived: departed_date",
        ),
        Column(
            "citizenship_country",
            TEXT,
            "Country of citizenship",
            "Country of citizenship as ICE records it.",
            f"{_ICE}: Citizenship Country / Country of Citizenship",
        ),
        Column(
            "gender",
            TEXT,
            "Gender",
            "Gender as ICE records it.",
            f"{_ICE}: Gender",
            categorical=True,
        ),
        Column(
            "birth_year",
            INTEGER,
            "Year of birth",
            "Year of birth (the only birth information kept; ICE redacts the birth date).",
            f"{_ICE}: Birth Year / Year of Birth",
        ),
        Column(
            "apprehension_state",
            TEXT,
            "State of arrest",
            "State of the arrest that led to the removal.",
            f"{_ICE}: State / Apprehension State",
        ),
        Column(
            "msc_charge",
            TEXT,
            "Most serious conviction (ICE label)",
            "ICE's label of the most serious criminal conviction (NCIC-style).",
            f"{_ICE}: MSC Charge / MSC NCIC Charge / Most Serious Criminal Conviction",
        ),
        Column(
            "msc_charge_code",
            TEXT,
            "Most serious conviction (NCIC code)",
            "NCIC offense code of the most serious conviction, as text ('0301', '70AA').",
            f"{_ICE}: MSC Charge Code / MSC NCIC Charge Code",
        ),
        Column(
            "aggravated_felon",
            TEXT,
            "ICE aggravated-felon flag (as given)",
            "ICE's aggravated-felon field as given (YES/NO, or Drugs / Other / Both / Not an "
            "Aggravated Felon in older releases).",
            f"{_ICE}: Aggravated Felon Yes No / Felon / Aggravated Felon",
            categorical=True,
        ),
        Column(
            "criminality",
            TEXT,
            "Criminality",
            "Convicted criminal, pending criminal charges, or other immigration violator: ICE's "
            "Case Criminality where given, else derived from the most-serious-conviction fields.",
            "derived: pipelines/ice/classify.py (docs/ICE_FORMAT.md#criminality)",
            categorical=True,
            labels=CRIMINALITY_LABELS,
        ),
        Column(
            "criminality_source",
            TEXT,
            "Where criminality came from",
            "Whether criminality is ICE's own Case Criminality or derived from the MSC fields.",
            "derived: pipelines/ice/classify.py",
            categorical=True,
            labels=(
                ("case_criminality", "ICE's Case Criminality"),
                ("msc_fields", "Derived from MSC fields"),
            ),
        ),
        Column(
            "threat_level_ice",
            INTEGER,
            "DHS threat level as given by ICE",
            "ICE's Case Threat Level as given; empty when ICE gives none.",
            f"{_ICE}: Case Threat Level / Rc Threat Level",
            categorical=True,
            labels=THREAT_LEVEL_LABELS,
        ),
        Column(
            "threat_level_derived",
            INTEGER,
            "DHS threat level, derived lower bound",
            "Threat level derived from the aggravated-felon flag (1) or a felony-by-nature "
            "offense family (2) for convicted rows: a lower bound on seriousness.",
            "derived: pipelines/ice/classify.py",
            categorical=True,
            labels=THREAT_LEVEL_LABELS,
        ),
        Column(
            "threat_level_rule",
            TEXT,
            "Rule behind the derived level",
            "Which rule gave the derived level; empty for rows that are not convicted.",
            "derived: pipelines/ice/classify.py",
            categorical=True,
            labels=(
                ("aggravated_felon_flag", "Aggravated-felon flag: level 1"),
                ("felony_offense_family", "Felony offense family: level 2"),
                ("not_derivable", "Not derivable from removals data"),
            ),
        ),
        Column(
            "threat_level",
            INTEGER,
            "DHS threat level (ICE's, else derived)",
            "ICE's threat level where given, else the derived one for convicted rows.",
            "derived: threat_level_ice, else threat_level_derived",
            categorical=True,
            labels=THREAT_LEVEL_LABELS,
        ),
        Column(
            "threat_level_source",
            TEXT,
            "Where the threat level came from",
            "'ice' when ICE gave the level, 'derived' when the pipeline derived it.",
            "derived: pipelines/ice/classify.py",
            categorical=True,
            labels=(("ice", "Given by ICE"), ("derived", "Derived (lower bound)")),
        ),
        Column(
            "ncic_family_code",
            TEXT,
            "NCIC offense family (first two digits)",
            "Offense family of the most serious conviction: the NCIC code's first two digits.",
            "derived: msc_charge_code; names data/reference/ncic_families.csv",
            categorical=True,
            lookup="ncic_family",
        ),
        Column(
            "ncic_family",
            TEXT,
            "NCIC offense family name",
            "Name of the offense family (e.g. Immigration, Dangerous Drugs).",
            "data/reference/ncic_families.csv",
        ),
        Column(
            "immigration_only_conviction",
            BOOLEAN,
            "Most serious conviction is immigration",
            "Convicted and the most serious conviction is an immigration offense (NCIC 03xx: "
            "illegal entry, re-entry, false citizenship, alien smuggling).",
            "derived: pipelines/ice/classify.py",
        ),
        Column(
            "is_likely_duplicate",
            BOOLEAN,
            "Likely duplicate record",
            "Repeats an earlier row's person and departure date: count removals with "
            "is_likely_duplicate = 0 to count each once.",
            "derived: pipelines/ice/clean.py (person identifier and departure date)",
        ),
    ),
)

EXTRACT_TABLES: tuple[ExtractTable, ...] = (
    PROCEEDINGS,
    CHARGES,
    COHORT_COMPLETIONS,
    COHORT_PENDING,
    REMOVALS,
)
TABLES_BY_NAME: dict[str, ExtractTable] = {t.name: t for t in EXTRACT_TABLES}
