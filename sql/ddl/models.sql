-- The declared columns of every models.* table (written by pipelines/assets/models.py). A model
-- that cannot be fitted on a release writes NULL in the columns it has no value for, so these
-- types hold whatever one release's data (pipelines/warehouse/schema.py).

-- written by pipelines/assets/models.py
CREATE TABLE models.coefficients (
    release_id VARCHAR NOT NULL,
    model VARCHAR,
    term VARCHAR,
    kind VARCHAR,
    estimate DOUBLE,
    std_error DOUBLE,
    z DOUBLE,
    p_value DOUBLE,
    ci_low DOUBLE,
    ci_high DOUBLE,
    status VARCHAR,
    inference VARCHAR,
    n_obs_with_term DOUBLE,
    pd_closures_with_term DOUBLE,
    effective_clusters DOUBLE,
    df_t DOUBLE,
    p_value_t DOUBLE,
    ci_low_t DOUBLE,
    ci_high_t DOUBLE,
    p_value_wild DOUBLE,
    ci_low_wild DOUBLE,
    ci_high_wild DOUBLE
);

-- built by pipelines/assets
CREATE TABLE models.court_heterogeneity (
    release_id VARCHAR NOT NULL,
    model VARCHAR,
    court VARCHAR,
    "group" VARCHAR,
    reference_group VARCHAR,
    status VARCHAR,
    n_group DOUBLE,
    pd_closures_group DOUBLE,
    n_reference DOUBLE,
    pd_closures_reference DOUBLE,
    details VARCHAR,
    log_odds_ratio DOUBLE,
    std_error DOUBLE,
    shrunken_log_odds_ratio DOUBLE,
    shrunken_sd DOUBLE,
    shrinkage_weight DOUBLE,
    odds_ratio_shrunken DOUBLE,
    p_value_vs_mean DOUBLE,
    q_value_bh DOUBLE,
    differs_at_fdr BOOLEAN
);

-- written by pipelines/assets/models.py
CREATE TABLE models.era_gap (
    release_id VARCHAR NOT NULL,
    model VARCHAR,
    era VARCHAR,
    era_label VARCHAR,
    level VARCHAR,
    reference VARCHAR,
    ame DOUBLE,
    std_error DOUBLE,
    n_obs DOUBLE,
    status VARCHAR,
    z DOUBLE,
    p_value DOUBLE,
    ci_low DOUBLE,
    ci_high DOUBLE,
    measure VARCHAR,
    first_era VARCHAR,
    log_odds_ratio DOUBLE,
    odds_ratio DOUBLE,
    reason VARCHAR,
    statistic DOUBLE,
    df BIGINT,
    p_value_f DOUBLE,
    details VARCHAR
);

-- built by pipelines/assets
CREATE TABLE models.event_study (
    release_id VARCHAR NOT NULL,
    model VARCHAR,
    policy VARCHAR,
    policy_label VARCHAR,
    policy_date DATE,
    measure VARCHAR,
    "group" VARCHAR,
    relative_month BIGINT,
    month DATE,
    completions BIGINT,
    pd_closures BIGINT,
    estimate DOUBLE,
    ci_low DOUBLE,
    ci_high DOUBLE
);

-- written by pipelines/assets/models.py
CREATE TABLE models.fit_diagnostics (
    release_id VARCHAR NOT NULL,
    model VARCHAR,
    estimated BOOLEAN,
    reason VARCHAR,
    converged BOOLEAN,
    n_obs BIGINT,
    n_obs_cells_input BIGINT,
    n_obs_perfectly_predicted BIGINT,
    n_obs_no_charge_recorded BIGINT,
    n_cells BIGINT,
    n_clusters BIGINT,
    t_df BIGINT,
    pseudo_r2 DOUBLE,
    log_likelihood DOUBLE,
    ame_population VARCHAR,
    firth_terms VARCHAR,
    firth_converged BOOLEAN,
    bootstrap VARCHAR,
    separation VARCHAR,
    details VARCHAR
);

-- built by pipelines/assets
CREATE TABLE models.lead_rule_comparison (
    release_id VARCHAR NOT NULL,
    model VARCHAR,
    lead_rule VARCHAR,
    term VARCHAR,
    estimate DOUBLE,
    std_error DOUBLE,
    p_value DOUBLE,
    ci_low DOUBLE,
    ci_high DOUBLE,
    odds_ratio DOUBLE,
    status VARCHAR,
    inference VARCHAR,
    n_obs_with_term DOUBLE,
    pd_closures_with_term DOUBLE,
    effective_clusters DOUBLE,
    p_value_t DOUBLE,
    ame DOUBLE,
    ame_ci_low DOUBLE,
    ame_ci_high DOUBLE
);

-- written by pipelines/assets/models.py
CREATE TABLE models.marginal_effects (
    release_id VARCHAR NOT NULL,
    model VARCHAR,
    variable VARCHAR,
    level VARCHAR,
    reference VARCHAR,
    term VARCHAR,
    ame DOUBLE,
    std_error DOUBLE,
    z DOUBLE,
    p_value DOUBLE,
    ci_low DOUBLE,
    ci_high DOUBLE,
    n_obs DOUBLE,
    status VARCHAR,
    n_in_level DOUBLE,
    pd_closures_in_level DOUBLE,
    inference VARCHAR,
    p_value_t DOUBLE,
    ci_low_t DOUBLE,
    ci_high_t DOUBLE,
    population VARCHAR
);

-- written by pipelines/assets/models.py
CREATE TABLE models.odds_ratios (
    release_id VARCHAR NOT NULL,
    model VARCHAR,
    term VARCHAR,
    kind VARCHAR,
    odds_ratio DOUBLE,
    ci_low DOUBLE,
    ci_high DOUBLE,
    p_value DOUBLE,
    status VARCHAR,
    inference VARCHAR,
    n_obs_with_term DOUBLE,
    pd_closures_with_term DOUBLE,
    effective_clusters DOUBLE,
    p_value_t DOUBLE,
    ci_low_t DOUBLE,
    ci_high_t DOUBLE,
    p_value_wild DOUBLE,
    ci_low_wild DOUBLE,
    ci_high_wild DOUBLE
);

-- built by pipelines/assets/models.py (referee_tables): the completions model with each PD bound of data/reference/pd_variants.csv as its outcome, bounds not findings
CREATE TABLE models.pd_bound_models (
    release_id VARCHAR NOT NULL,
    model VARCHAR,
    variant VARCHAR,
    same_cells_as VARCHAR,
    n_obs_model DOUBLE,
    pd_closures_model DOUBLE,
    term VARCHAR,
    estimate DOUBLE,
    std_error DOUBLE,
    p_value DOUBLE,
    ci_low DOUBLE,
    ci_high DOUBLE,
    odds_ratio DOUBLE,
    status VARCHAR,
    inference VARCHAR,
    n_obs_with_term DOUBLE,
    pd_closures_with_term DOUBLE,
    effective_clusters DOUBLE,
    p_value_t DOUBLE,
    ame DOUBLE,
    ame_ci_low DOUBLE,
    ame_ci_high DOUBLE
);

-- built by pipelines/assets
CREATE TABLE models.population_variants (
    release_id VARCHAR NOT NULL,
    model VARCHAR,
    variant VARCHAR,
    term VARCHAR,
    estimate DOUBLE,
    std_error DOUBLE,
    p_value DOUBLE,
    ci_low DOUBLE,
    ci_high DOUBLE,
    odds_ratio DOUBLE,
    status VARCHAR,
    inference VARCHAR,
    n_obs_with_term DOUBLE,
    pd_closures_with_term DOUBLE,
    effective_clusters DOUBLE,
    p_value_t DOUBLE,
    ame DOUBLE,
    ame_ci_low DOUBLE,
    ame_ci_high DOUBLE
);

-- written by pipelines/assets/models.py
CREATE TABLE models.predicted_probabilities (
    release_id VARCHAR NOT NULL,
    model VARCHAR,
    variable VARCHAR,
    level VARCHAR,
    predicted_probability DOUBLE,
    std_error DOUBLE,
    std_error_model DOUBLE,
    ci_low DOUBLE,
    ci_high DOUBLE,
    n_obs DOUBLE,
    status VARCHAR,
    n_in_level DOUBLE,
    pd_closures_in_level DOUBLE,
    inference VARCHAR,
    population VARCHAR
);

-- written by pipelines/assets/models.py
CREATE TABLE models.robustness (
    release_id VARCHAR NOT NULL,
    model VARCHAR,
    term VARCHAR,
    kind VARCHAR,
    estimate DOUBLE,
    std_error DOUBLE,
    z DOUBLE,
    p_value DOUBLE,
    ci_low DOUBLE,
    ci_high DOUBLE,
    status VARCHAR,
    n_obs_with_term DOUBLE,
    pd_closures_with_term DOUBLE,
    estimand VARCHAR,
    n_obs_model DOUBLE,
    posterior_mean DOUBLE,
    posterior_sd DOUBLE,
    court_sd DOUBLE,
    court_log_sd_posterior_sd DOUBLE,
    converged BOOLEAN,
    sampling_fraction DOUBLE,
    n_rows_used DOUBLE,
    min_estimate DOUBLE,
    max_estimate DOUBLE,
    court_at_min_estimate VARCHAR,
    court_at_max_estimate VARCHAR,
    min_ame DOUBLE,
    max_ame DOUBLE,
    n_refits UINTEGER,
    all_converged BOOLEAN,
    full_estimate DOUBLE,
    full_ame DOUBLE
);
