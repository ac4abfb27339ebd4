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
    status VARCHAR
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
    first_era VARCHAR
);

-- written by pipelines/assets/models.py
CREATE TABLE models.fit_diagnostics (
    release_id VARCHAR NOT NULL,
    model VARCHAR,
    estimated BOOLEAN,
    reason VARCHAR,
    converged BOOLEAN,
    n_obs BIGINT,
    n_cells BIGINT,
    n_clusters BIGINT,
    pseudo_r2 DOUBLE,
    log_likelihood DOUBLE,
    separation VARCHAR,
    details VARCHAR
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
    status VARCHAR
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
    status VARCHAR
);

-- written by pipelines/assets/models.py
CREATE TABLE models.predicted_probabilities (
    release_id VARCHAR NOT NULL,
    model VARCHAR,
    variable VARCHAR,
    level VARCHAR,
    predicted_probability DOUBLE,
    std_error DOUBLE,
    ci_low DOUBLE,
    ci_high DOUBLE,
    n_obs DOUBLE,
    status VARCHAR
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
