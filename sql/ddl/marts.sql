-- The declared columns of every marts.* table. A write is cast to these types; a column not
-- declared here is refused (pipelines/warehouse/schema.py).

-- built by sql/marts/charges_classified.sql
CREATE TABLE marts.charges_classified (
    release_id VARCHAR NOT NULL,
    idnprcdchg BIGINT,
    idncase BIGINT,
    idnproceeding BIGINT,
    charge_raw VARCHAR,
    charge_code VARCHAR,
    citation VARCHAR,
    severity_category VARCHAR,
    severity_rank INTEGER,
    legal_basis VARCHAR,
    category_source VARCHAR,
    is_known_code BOOLEAN,
    chg_status VARCHAR
);

-- built by sql/marts/code_value_frequencies.sql
CREATE TABLE marts.code_value_frequencies (
    release_id VARCHAR NOT NULL,
    source_table VARCHAR,
    field VARCHAR,
    raw_value VARCHAR,
    code VARCHAR,
    case_type VARCHAR,
    rows BIGINT,
    label VARCHAR,
    status VARCHAR
);

-- built by sql/marts/cohort_completions.sql
CREATE TABLE marts.cohort_completions (
    release_id VARCHAR NOT NULL,
    idnproceeding BIGINT,
    idncase BIGINT,
    court VARCHAR,
    lead_charge_category VARCHAR,
    any_criminal BOOLEAN,
    custody VARCHAR,
    represented BOOLEAN,
    nationality_group VARCHAR,
    nta_age_band VARCHAR,
    period VARCHAR,
    comp_date DATE,
    crim_ind BOOLEAN,
    aggravate_felon BOOLEAN,
    pd_closure BOOLEAN,
    pd_kind VARCHAR
);

-- built by sql/marts/cohort_pending.sql
CREATE TABLE marts.cohort_pending (
    release_id VARCHAR NOT NULL,
    idnproceeding BIGINT,
    idncase BIGINT,
    court VARCHAR,
    lead_charge_category VARCHAR,
    any_criminal BOOLEAN,
    custody VARCHAR,
    represented BOOLEAN,
    nationality_group VARCHAR,
    nta_age_band VARCHAR,
    period VARCHAR,
    comp_date DATE,
    crim_ind BOOLEAN,
    aggravate_felon BOOLEAN,
    pd_closure BOOLEAN,
    pd_kind VARCHAR
);

-- built by sql/marts/lead_charge_variants.sql
CREATE TABLE marts.lead_charge_variants (
    release_id VARCHAR NOT NULL,
    idnproceeding BIGINT,
    most_serious VARCHAR,
    first_charged VARCHAR,
    most_serious_not_withdrawn VARCHAR
);

-- built by sql/marts/model_cells_completion_variants.sql
CREATE TABLE marts.model_cells_completion_variants (
    release_id VARCHAR NOT NULL,
    kind VARCHAR,
    variant VARCHAR,
    lead_charge_category VARCHAR,
    custody VARCHAR,
    represented BOOLEAN,
    nationality_group VARCHAR,
    nta_age_band VARCHAR,
    court VARCHAR,
    period VARCHAR,
    n BIGINT,
    pd_closures BIGINT
);

-- built by sql/marts/model_cells_completions.sql
CREATE TABLE marts.model_cells_completions (
    release_id VARCHAR NOT NULL,
    lead_charge_category VARCHAR,
    custody VARCHAR,
    represented BOOLEAN,
    nationality_group VARCHAR,
    nta_age_band VARCHAR,
    court VARCHAR,
    period VARCHAR,
    n BIGINT,
    pd_closures BIGINT
);

-- built by sql/marts/model_cells_eras.sql
CREATE TABLE marts.model_cells_eras (
    release_id VARCHAR NOT NULL,
    lead_charge_category VARCHAR,
    era VARCHAR,
    custody VARCHAR,
    represented BOOLEAN,
    nationality_group VARCHAR,
    nta_age_band VARCHAR,
    court VARCHAR,
    period VARCHAR,
    n BIGINT,
    pd_closures BIGINT
);

-- built by sql/marts/model_cells_lead_rules.sql
CREATE TABLE marts.model_cells_lead_rules (
    release_id VARCHAR NOT NULL,
    lead_rule VARCHAR,
    lead_charge_category VARCHAR,
    custody VARCHAR,
    represented BOOLEAN,
    nationality_group VARCHAR,
    nta_age_band VARCHAR,
    court VARCHAR,
    period VARCHAR,
    n BIGINT,
    pd_closures BIGINT
);

-- built by sql/marts/model_cells_pending.sql
CREATE TABLE marts.model_cells_pending (
    release_id VARCHAR NOT NULL,
    lead_charge_category VARCHAR,
    custody VARCHAR,
    represented BOOLEAN,
    nationality_group VARCHAR,
    nta_age_band VARCHAR,
    court VARCHAR,
    period VARCHAR,
    n BIGINT,
    pd_closures BIGINT
);

-- built by sql/marts/pd_by_group.sql
CREATE TABLE marts.pd_by_group (
    release_id VARCHAR NOT NULL,
    dimension VARCHAR,
    value VARCHAR,
    value_label VARCHAR,
    completions BIGINT,
    pd_closures BIGINT,
    pd_rate DOUBLE,
    criminal_completions BIGINT,
    criminal_pd_closures BIGINT,
    immigration_completions BIGINT,
    immigration_pd_closures BIGINT,
    window_start DATE,
    window_end DATE
);

-- built by sql/marts/pd_by_month.sql
CREATE TABLE marts.pd_by_month (
    release_id VARCHAR NOT NULL,
    month DATE,
    lead_charge_category VARCHAR,
    completions BIGINT,
    pd_closures BIGINT,
    pd_rate DOUBLE,
    policy_events VARCHAR
);

-- built by sql/marts/pd_closures_by_category.sql
CREATE TABLE marts.pd_closures_by_category (
    release_id VARCHAR NOT NULL,
    row_order BIGINT,
    lead_charge_category VARCHAR,
    category_label VARCHAR,
    pd_closures BIGINT,
    pct_of_pd_closures DOUBLE,
    admin_closed BIGINT,
    terminated BIGINT,
    pd_closures_with_terminations BIGINT,
    pct_with_terminations DOUBLE,
    pd_closures_with_review_terminations BIGINT,
    pd_closures_with_docket_terminations BIGINT,
    terminations_added BIGINT,
    pd_closures_undated BIGINT,
    window_start DATE,
    window_end DATE
);

-- built by sql/marts/pd_code_frequencies.sql
CREATE TABLE marts.pd_code_frequencies (
    release_id VARCHAR NOT NULL,
    field VARCHAR,
    code VARCHAR,
    case_type VARCHAR,
    fiscal_year BIGINT,
    proceedings BIGINT,
    label VARCHAR,
    label_source VARCHAR,
    counted_by_pd_rule BOOLEAN,
    pd_kind VARCHAR,
    counted_by_variants VARCHAR
);

-- built by sql/marts/pd_rates_by_category.sql
CREATE TABLE marts.pd_rates_by_category (
    release_id VARCHAR NOT NULL,
    row_order BIGINT,
    lead_charge_category VARCHAR,
    category_label VARCHAR,
    completions BIGINT,
    pd_closures BIGINT,
    pd_rate_of_completions DOUBLE,
    share_of_completions DOUBLE,
    share_of_pd_closures DOUBLE,
    pending BIGINT,
    pending_pd_closures BIGINT,
    pd_rate_of_pending DOUBLE,
    share_of_pending DOUBLE,
    window_start DATE,
    window_end DATE,
    pending_on DATE
);

-- built by sql/marts/pending_competing_risks.sql
CREATE TABLE marts.pending_competing_risks (
    release_id VARCHAR NOT NULL,
    lead_charge_category VARCHAR,
    horizon_months BIGINT,
    horizon_date DATE,
    proceedings BIGINT,
    pd BIGINT,
    other_completion BIGINT,
    still_pending BIGINT,
    cumulative_incidence_pd DOUBLE,
    cumulative_incidence_other DOUBLE
);

-- built by sql/marts/proceedings.sql
CREATE TABLE marts.proceedings (
    release_id VARCHAR NOT NULL,
    idnproceeding BIGINT,
    idncase BIGINT,
    court VARCHAR,
    court_name VARCHAR,
    hearing_loc_code VARCHAR,
    case_type VARCHAR,
    custody VARCHAR,
    detained BOOLEAN,
    nat VARCHAR,
    nat_name VARCHAR,
    nta_date DATE,
    input_date DATE,
    comp_date DATE,
    is_completed BOOLEAN,
    outcome_field VARCHAR,
    outcome_code VARCHAR,
    outcome_description VARCHAR,
    is_pd_closure BOOLEAN,
    pd_kind VARCHAR,
    pd_strict BOOLEAN,
    pd_with_terminations BOOLEAN,
    pd_with_review_terminations BOOLEAN,
    pd_with_docket_terminations BOOLEAN,
    is_removal_type_termination BOOLEAN,
    charges VARCHAR[],
    n_charges BIGINT,
    lead_charge_code VARCHAR,
    lead_charge_category VARCHAR,
    lead_charge_rank INTEGER,
    any_criminal BOOLEAN,
    crim_ind BOOLEAN,
    aggravate_felon BOOLEAN,
    represented BOOLEAN,
    absentia VARCHAR
);

-- built by sql/releases/release_diff.sql (pipelines/releases/diff.py)
CREATE TABLE marts.release_diff (
    release_id VARCHAR NOT NULL,
    previous_release_id VARCHAR,
    section VARCHAR,
    item VARCHAR,
    previous_value BIGINT,
    current_value BIGINT,
    difference BIGINT,
    row_order INTEGER
);

-- built by sql/releases/release_diff_charges.sql (pipelines/releases/diff.py)
CREATE TABLE marts.release_diff_charges (
    release_id VARCHAR NOT NULL,
    previous_release_id VARCHAR,
    idnprcdchg BIGINT,
    idnproceeding BIGINT,
    change VARCHAR,
    previous_charge_code VARCHAR,
    charge_code VARCHAR,
    previous_severity_category VARCHAR,
    severity_category VARCHAR
);

-- built by sql/releases/release_diff_proceedings.sql (pipelines/releases/diff.py)
CREATE TABLE marts.release_diff_proceedings (
    release_id VARCHAR NOT NULL,
    previous_release_id VARCHAR,
    idnproceeding BIGINT,
    idncase BIGINT,
    change VARCHAR,
    outcome_changed BOOLEAN,
    pd_status_changed BOOLEAN,
    previous_dec_code VARCHAR,
    dec_code VARCHAR,
    previous_other_comp VARCHAR,
    other_comp VARCHAR,
    previous_comp_date DATE,
    comp_date DATE,
    previous_is_pd_closure BOOLEAN,
    is_pd_closure BOOLEAN,
    previous_pd_kind VARCHAR,
    pd_kind VARCHAR
);

-- written by pipelines/releases/latest.py: the releases that completed a run
CREATE TABLE marts.releases (
    release_id VARCHAR NOT NULL,
    release_date DATE,
    synthetic BOOLEAN,
    source_path VARCHAR,
    fingerprint VARCHAR,
    completed_at TIMESTAMP
);

-- written by pipelines/assets/ice.py (pipelines/ice/classify.py)
CREATE TABLE marts.removals (
    release_id VARCHAR NOT NULL,
    source_file VARCHAR,
    source_sheet VARCHAR,
    source_row BIGINT,
    departed_date DATE,
    port_of_departure VARCHAR,
    departure_country VARCHAR,
    case_aor VARCHAR,
    docket_aor VARCHAR,
    apprehension_state VARCHAR,
    apprehension_county VARCHAR,
    case_status VARCHAR,
    gender VARCHAR,
    birth_country VARCHAR,
    citizenship_country VARCHAR,
    birth_date DATE,
    birth_year INTEGER,
    age_at_removal INTEGER,
    lpr_yes_no BOOLEAN,
    entry_date DATE,
    entry_status VARCHAR,
    known_terrorist_yes_no BOOLEAN,
    suspected_gang_yes_no BOOLEAN,
    msc_charge VARCHAR,
    msc_charge_code VARCHAR,
    msc_charge_date DATE,
    msc_criminal_charge_status VARCHAR,
    msc_criminal_charge_status_code VARCHAR,
    msc_conviction_date DATE,
    case_criminality VARCHAR,
    case_threat_level VARCHAR,
    aggravated_felon VARCHAR,
    processing_disposition VARCHAR,
    processing_disposition_code VARCHAR,
    case_category VARCHAR,
    final_program VARCHAR,
    final_program_code VARCHAR,
    current_program VARCHAR,
    arresting_agency VARCHAR,
    case_category_time_of_arrest VARCHAR,
    latest_arrest_program VARCHAR,
    latest_arrest_program_code VARCHAR,
    latest_arresting_agency VARCHAR,
    latest_apprehension_date DATE,
    apprehension_date DATE,
    final_order_yes_no BOOLEAN,
    final_order_date DATE,
    final_charge_code VARCHAR,
    final_charge_section VARCHAR,
    prior_deport_yes_no BOOLEAN,
    prior_removal VARCHAR,
    prior_removal_reinstate VARCHAR,
    prior_removal_reinstate_date DATE,
    most_recent_prior_depart_date DATE,
    latest_person_departed_date DATE,
    alien_file_number VARCHAR,
    eid_case_id VARCHAR,
    eid_subject_id VARCHAR,
    case_id VARCHAR,
    anonymized_identifier VARCHAR,
    stu_banner_artifact VARCHAR,
    admdpt_artifact VARCHAR,
    administrative_deportation_i851_artifact VARCHAR,
    fiscal_year INTEGER,
    duplicate_group_size INTEGER,
    is_likely_duplicate BOOLEAN,
    unmapped_columns VARCHAR,
    criminality VARCHAR,
    criminality_source VARCHAR,
    threat_level_ice TINYINT,
    threat_level_derived TINYINT,
    threat_level_rule VARCHAR,
    threat_level TINYINT,
    threat_level_source VARCHAR,
    ncic_family_code VARCHAR,
    ncic_family VARCHAR,
    immigration_only_conviction BOOLEAN
);

-- built by sql/marts/removals_by_fy.sql
CREATE TABLE marts.removals_by_fy (
    release_id VARCHAR NOT NULL,
    fiscal_year INTEGER,
    criminality VARCHAR,
    threat_level TINYINT,
    threat_level_source VARCHAR,
    removals BIGINT,
    immigration_only_convictions BIGINT,
    removals_excluding_immigration_only BIGINT,
    likely_duplicates BIGINT,
    first_departed_date DATE,
    last_departed_date DATE
);

-- written by pipelines/assets/ice.py (pipelines/ice/published.py)
CREATE TABLE marts.removals_published_comparison (
    release_id VARCHAR NOT NULL,
    fiscal_year INTEGER,
    foia_removals BIGINT,
    foia_removals_excluding_likely_duplicates BIGINT,
    published_removals BIGINT,
    removals_diff_pct DOUBLE,
    foia_convicted BIGINT,
    published_convicted BIGINT,
    convicted_diff_pct DOUBLE,
    within_tolerance BOOLEAN,
    status VARCHAR,
    source_url VARCHAR
);

-- built by sql/marts/removals_top_offense_families.sql
CREATE TABLE marts.removals_top_offense_families (
    release_id VARCHAR NOT NULL,
    threat_level TINYINT,
    rank_in_level BIGINT,
    ncic_family_code VARCHAR,
    ncic_family VARCHAR,
    removals BIGINT,
    share_of_level DOUBLE,
    derived_level_removals BIGINT,
    immigration_only_convictions BIGINT
);

-- built by sql/marts/run_settings.sql
CREATE TABLE marts.run_settings (
    release_id VARCHAR NOT NULL,
    window_start DATE,
    window_end DATE,
    pending_on DATE,
    lead_charge_rule VARCHAR,
    suppress_below INTEGER,
    proceedings BIGINT,
    built_at TIMESTAMP
);

-- built by sql/marts/trac_comparison.sql
CREATE TABLE marts.trac_comparison (
    release_id VARCHAR NOT NULL,
    row_order INTEGER,
    figure_id VARCHAR,
    quantity VARCHAR,
    value_kind VARCHAR,
    published_value DOUBLE,
    unit_published VARCHAR,
    computed_value DOUBLE,
    computed_with_terminations DOUBLE,
    unit_computed VARCHAR,
    difference DOUBLE,
    relative_difference_pct DOUBLE,
    comparison VARCHAR,
    window_start DATE,
    window_end DATE,
    court VARCHAR,
    lead_charge_category VARCHAR,
    source VARCHAR,
    published_on VARCHAR,
    expected_difference VARCHAR
);
