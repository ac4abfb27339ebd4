-- The declared columns of every staging.* table. A write is cast to these types; a column not
-- declared here is refused (pipelines/warehouse/schema.py). Tables built by sql/staging/*.sql
-- keep the order of their SELECT; the others are written from Python (named in each comment).

-- built by sql/staging/case_priority_history.sql
CREATE TABLE staging.case_priority_history (
    release_id VARCHAR NOT NULL,
    idncasepriorityhistory BIGINT,
    idncase BIGINT,
    casepriority_code VARCHAR,
    created_on DATE,
    modified_on DATE,
    source_line BIGINT
);

-- built by sql/staging/cases.sql
CREATE TABLE staging.cases (
    release_id VARCHAR NOT NULL,
    idncase BIGINT,
    case_type VARCHAR,
    nat VARCHAR,
    lang VARCHAR,
    custody VARCHAR,
    sex VARCHAR,
    lpr BOOLEAN,
    date_of_entry DATE,
    date_detained DATE,
    date_released DATE,
    e_28_date DATE,
    latest_hearing DATE,
    casepriority_code VARCHAR,
    alien_state VARCHAR,
    birth_year INTEGER,
    source_line BIGINT
);

-- written by pipelines/assets/classification.py (pipelines/classify/severity.py)
CREATE TABLE staging.charge_code_map (
    release_id VARCHAR NOT NULL,
    charge_raw VARCHAR,
    charge_code VARCHAR,
    citation VARCHAR,
    severity_category VARCHAR,
    severity_rank INTEGER,
    legal_basis VARCHAR,
    category_source VARCHAR,
    is_known_code BOOLEAN
);

-- built by sql/staging/charges.sql
CREATE TABLE staging.charges (
    release_id VARCHAR NOT NULL,
    idnprcdchg BIGINT,
    idncase BIGINT,
    idnproceeding BIGINT,
    charge_raw VARCHAR,
    charge_code VARCHAR,
    chg_status VARCHAR,
    source_line BIGINT
);

-- written by pipelines/assets/ice.py (pipelines/ice/clean.py)
CREATE TABLE staging.ice_removals (
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
    unmapped_columns VARCHAR
);

-- built by sql/staging/lookup_base_city.sql
CREATE TABLE staging.lookup_base_city (
    release_id VARCHAR NOT NULL,
    base_city_code VARCHAR,
    base_city_name VARCHAR,
    base_city VARCHAR,
    base_city_state VARCHAR,
    court_label VARCHAR
);

-- built by sql/staging/lookup_case_type.sql
CREATE TABLE staging.lookup_case_type (
    release_id VARCHAR NOT NULL,
    case_type VARCHAR,
    description VARCHAR
);

-- built by sql/staging/lookup_charges.sql
CREATE TABLE staging.lookup_charges (
    release_id VARCHAR NOT NULL,
    charge_code_raw VARCHAR,
    description VARCHAR,
    criminal_flag BOOLEAN,
    aggravate_felon BOOLEAN
);

-- built by sql/staging/lookup_court_decision.sql
CREATE TABLE staging.lookup_court_decision (
    release_id VARCHAR NOT NULL,
    case_type VARCHAR,
    field VARCHAR,
    code VARCHAR,
    description VARCHAR,
    source VARCHAR
);

-- built by sql/staging/lookup_custody.sql
CREATE TABLE staging.lookup_custody (
    release_id VARCHAR NOT NULL,
    custody VARCHAR,
    description VARCHAR
);

-- built by sql/staging/lookup_nationality.sql
CREATE TABLE staging.lookup_nationality (
    release_id VARCHAR NOT NULL,
    nat_code VARCHAR,
    nat_name VARCHAR
);

-- written by pipelines/assets/reference.py (pipelines/classify/policy.py)
CREATE TABLE staging.policy_dates (
    release_id VARCHAR NOT NULL,
    policy_date DATE,
    short_label VARCHAR,
    description VARCHAR,
    opens_era VARCHAR
);

-- written by pipelines/assets/reference.py (pipelines/classify/policy.py)
CREATE TABLE staging.policy_eras (
    release_id VARCHAR NOT NULL,
    era VARCHAR,
    era_start DATE,
    era_end DATE
);

-- built by sql/staging/proceedings.sql
CREATE TABLE staging.proceedings (
    release_id VARCHAR NOT NULL,
    idnproceeding BIGINT,
    idncase BIGINT,
    osc_date DATE,
    input_date DATE,
    comp_date DATE,
    base_city_code VARCHAR,
    hearing_loc_code VARCHAR,
    ij_code VARCHAR,
    case_type VARCHAR,
    custody VARCHAR,
    nat VARCHAR,
    lang VARCHAR,
    dec_type VARCHAR,
    dec_code VARCHAR,
    other_comp VARCHAR,
    absentia VARCHAR,
    transfer_status VARCHAR,
    crim_ind BOOLEAN,
    aggravate_felon BOOLEAN,
    date_detained DATE,
    date_released DATE,
    ihp VARCHAR,
    source_line BIGINT
);

-- built by sql/staging/reps_assigned.sql
CREATE TABLE staging.reps_assigned (
    release_id VARCHAR NOT NULL,
    idnrepsassigned BIGINT,
    idncase BIGINT,
    attorney_level VARCHAR,
    attorney_type VARCHAR,
    parent_table VARCHAR,
    parent_idn BIGINT,
    e_27_date DATE,
    e_28_date DATE,
    ins_ta_date_assigned DATE,
    is_prime_attorney BOOLEAN,
    source_line BIGINT
);

-- written by pipelines/assets/reference.py (pipelines/classify/categories.py)
CREATE TABLE staging.severity_categories (
    release_id VARCHAR NOT NULL,
    category VARCHAR,
    severity_rank BIGINT,
    label VARCHAR,
    is_criminal BOOLEAN,
    article_order BIGINT
);
