"""The warehouse schema (canonical model v1) as DDL, applied by `segura.store`.

Personal names and documents live only in `person_identity`. `*_current` views give the
rows of the newest load for each source and month: a resent month replaces the earlier
extract for that month while the earlier rows stay in the tables (the history).
"""

from __future__ import annotations

SCHEMA_VERSION = 2

TABLES: tuple[str, ...] = (
    """
    CREATE TABLE IF NOT EXISTS meta (
        key VARCHAR PRIMARY KEY,
        value VARCHAR NOT NULL
    )""",
    """
    CREATE TABLE IF NOT EXISTS territory (
        code VARCHAR PRIMARY KEY,
        name VARCHAR NOT NULL,
        level VARCHAR NOT NULL,
        parent_code VARCHAR,
        iso_3166_2 VARCHAR,
        name_key VARCHAR NOT NULL,      -- name folded for matching: lower case, no accents
        geometry GEOMETRY,
        source VARCHAR
    )""",
    """
    CREATE TABLE IF NOT EXISTS population (
        territory_code VARCHAR NOT NULL,
        year INTEGER NOT NULL,
        sex VARCHAR NOT NULL,           -- F, M or _T (total)
        age_group VARCHAR NOT NULL,     -- Y0T4 ... Y_GE85 or _T (total)
        population DOUBLE NOT NULL,
        source VARCHAR NOT NULL,
        PRIMARY KEY (territory_code, year, sex, age_group, source)
    )""",
    """
    CREATE TABLE IF NOT EXISTS source (
        source_id VARCHAR PRIMARY KEY,
        institution_es VARCHAR,
        institution_en VARCHAR,
        mapping_sha256 VARCHAR,
        mapping_text VARCHAR,
        registered_at TIMESTAMP
    )""",
    """
    CREATE SEQUENCE IF NOT EXISTS load_seq START 1""",
    """
    CREATE TABLE IF NOT EXISTS load (
        load_id INTEGER PRIMARY KEY,
        source_id VARCHAR NOT NULL,
        file_name VARCHAR NOT NULL,
        file_path VARCHAR,
        sha256 VARCHAR NOT NULL,
        size_bytes BIGINT,
        format VARCHAR,
        encoding VARCHAR,
        mapping_sha256 VARCHAR,
        status VARCHAR NOT NULL,        -- loaded | rejected
        message VARCHAR,
        rows_read BIGINT NOT NULL,
        rows_loaded BIGINT NOT NULL,
        rows_quarantined BIGINT NOT NULL,
        rows_with_warnings BIGINT NOT NULL,
        period_start DATE,
        period_end DATE,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP NOT NULL,
        decisions VARCHAR                -- JSON list of reader decisions (encoding, BOM...)
    )""",
    """
    CREATE TABLE IF NOT EXISTS load_period (
        load_id INTEGER NOT NULL,
        source_id VARCHAR NOT NULL,
        month DATE NOT NULL,
        PRIMARY KEY (load_id, month)
    )""",
    """
    CREATE TABLE IF NOT EXISTS load_issue (
        load_id INTEGER NOT NULL,
        row_number BIGINT,
        rule VARCHAR NOT NULL,
        severity VARCHAR NOT NULL,      -- error | warning | info
        column_name VARCHAR,
        value VARCHAR,
        message VARCHAR NOT NULL
    )""",
    """
    CREATE TABLE IF NOT EXISTS quarantine (
        load_id INTEGER NOT NULL,
        row_number BIGINT NOT NULL,
        raw_record VARCHAR NOT NULL,    -- JSON object column -> value, or the raw line
        errors VARCHAR NOT NULL         -- JSON list of {rule, column, value, message}
    )""",
    """
    CREATE TABLE IF NOT EXISTS event (
        load_id INTEGER NOT NULL,
        source_id VARCHAR NOT NULL,
        source_record_id VARCHAR NOT NULL,
        row_number BIGINT NOT NULL,
        period_month DATE NOT NULL,
        occurred_date DATE,
        occurred_time TIME,
        occurred_precision VARCHAR,     -- minute | day | unknown
        reported_date DATE,
        territory_code VARCHAR,
        latitude DOUBLE,
        longitude DOUBLE,
        offence_code VARCHAR,
        iccs_code VARCHAR,
        weapon VARCHAR,
        setting VARCHAR,
        context VARCHAR[]
        -- (load_id, source_record_id) is unique: ingest guarantees it. No index, for load speed.
    )""",
    """
    CREATE TABLE IF NOT EXISTS person (
        person_id VARCHAR NOT NULL,     -- source_id:record_id, stable across resent extracts
        load_id INTEGER NOT NULL,
        source_id VARCHAR NOT NULL,
        source_record_id VARCHAR NOT NULL,
        event_record_id VARCHAR NOT NULL,
        row_number BIGINT NOT NULL,
        period_month DATE NOT NULL,
        role VARCHAR NOT NULL,
        sex VARCHAR,
        gender_identity VARCHAR,
        sexual_orientation VARCHAR,
        age INTEGER,
        age_is_estimate BOOLEAN,
        age_group VARCHAR,
        nationality VARCHAR,
        ethnicity VARCHAR,
        disability BOOLEAN,
        relationship VARCHAR,
        perpetrator_sex VARCHAR
        -- (load_id, source_record_id) is unique: ingest quarantines duplicate record ids.
    )""",
    """
    CREATE TABLE IF NOT EXISTS person_identity (
        person_id VARCHAR NOT NULL,
        load_id INTEGER NOT NULL,
        given_names VARCHAR,
        first_surname VARCHAR,
        second_surname VARCHAR,
        full_name VARCHAR,
        document_type VARCHAR,
        document_number VARCHAR,
        birth_date DATE
    )""",
)

RECONCILE_TABLES: tuple[str, ...] = (
    """
    CREATE TABLE IF NOT EXISTS reconcile_run (
        run_id INTEGER PRIMARY KEY,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP NOT NULL,
        records BIGINT NOT NULL,
        victims BIGINT NOT NULL,        -- reconciled unique victims (clusters)
        pairs BIGINT NOT NULL,          -- scored pairs kept (probability >= 0.05)
        threshold DOUBLE NOT NULL,
        model_sha256 VARCHAR NOT NULL,
        trained BOOLEAN NOT NULL,
        decisions_applied INTEGER NOT NULL
    )""",
    """
    -- the record -> unique victim of the latest run (record ids only, never names)
    CREATE TABLE IF NOT EXISTS link (
        run_id INTEGER NOT NULL,
        person_id VARCHAR NOT NULL,
        source_id VARCHAR NOT NULL,
        cluster_id VARCHAR NOT NULL,
        match_probability DOUBLE NOT NULL  -- best probability to another record of its cluster; 1 alone
    )""",
    """
    CREATE TABLE IF NOT EXISTS link_pair (
        run_id INTEGER NOT NULL,
        person_id_l VARCHAR NOT NULL,
        person_id_r VARCHAR NOT NULL,
        match_probability DOUBLE NOT NULL,
        linked BOOLEAN NOT NULL          -- whether the pair ended in one cluster
    )""",
    """
    CREATE SEQUENCE IF NOT EXISTS review_seq START 1""",
    """
    CREATE TABLE IF NOT EXISTS review_decision (
        decision_id INTEGER PRIMARY KEY,
        person_id_l VARCHAR NOT NULL,
        person_id_r VARCHAR NOT NULL,
        decision VARCHAR NOT NULL,       -- same | different
        note VARCHAR,
        decided_at TIMESTAMP NOT NULL,
        undone_at TIMESTAMP               -- set when the decision is undone
    )""",
    """
    -- one row per reconciled victim; each attribute from the authoritative institution that has it
    CREATE TABLE IF NOT EXISTS victim (
        run_id INTEGER NOT NULL,
        cluster_id VARCHAR NOT NULL,
        records INTEGER NOT NULL,
        sources VARCHAR[] NOT NULL,
        sex VARCHAR, sex_source VARCHAR,
        age INTEGER, age_source VARCHAR,
        event_date DATE, event_date_source VARCHAR,
        territory_code VARCHAR, territory_source VARCHAR,
        iccs_code VARCHAR, iccs_source VARCHAR,
        weapon VARCHAR, weapon_source VARCHAR,
        relationship VARCHAR, relationship_source VARCHAR,
        femicide_legal BOOLEAN          -- some institution classified the death legally as femicide
    )""",
)

VIEWS: tuple[str, ...] = (
    """
    CREATE OR REPLACE VIEW latest_load_month AS
    SELECT lp.source_id, lp.month, max(lp.load_id) AS load_id
    FROM load_period lp JOIN load l USING (load_id)
    WHERE l.status = 'loaded'
    GROUP BY lp.source_id, lp.month""",
    """
    CREATE OR REPLACE VIEW event_current AS
    SELECT e.* FROM event e
    JOIN latest_load_month m
      ON e.source_id = m.source_id AND e.period_month = m.month AND e.load_id = m.load_id""",
    """
    CREATE OR REPLACE VIEW person_current AS
    SELECT p.* FROM person p
    JOIN latest_load_month m
      ON p.source_id = m.source_id AND p.period_month = m.month AND p.load_id = m.load_id""",
)
