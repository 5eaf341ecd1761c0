-- PostgreSQL twin of ../20261125000004_quota.sql: the same tables and columns (tests/api/schema.rs
-- compares them); INTEGER is BIGINT, BLOB is BYTEA, SQLite-only checks rewritten.
-- The ministry's quota (Rules p. 4, 5, 18–21): labour force, the formed quota, its
-- distribution, the published versions of the decision and redistributions.

-- p. 3.3: the labour force (employed + unemployed) per region, from the statistics office.
CREATE TABLE labour_force (
    quota_year  BIGINT NOT NULL,
    region_code TEXT NOT NULL REFERENCES regions (kato),
    persons     BIGINT NOT NULL CHECK (persons >= 0),
    source      TEXT NOT NULL,
    update_time TEXT NOT NULL,
    PRIMARY KEY (quota_year, region_code)
);

CREATE TABLE quotas (
    id                  TEXT PRIMARY KEY NOT NULL,
    seq                 BIGINT NOT NULL UNIQUE,
    -- Comma-separated years (p. 5: one or several coming years).
    quota_years         TEXT NOT NULL,
    first_year          BIGINT NOT NULL,
    state               TEXT NOT NULL CHECK (state IN ('DRAFT', 'ESTABLISHED', 'PUBLISHED')),
    labour_force        BIGINT NOT NULL,
    permit_millis       BIGINT NOT NULL,
    country_millis      BIGINT NOT NULL,
    immigrant_millis    BIGINT NOT NULL,
    create_time         TEXT NOT NULL,
    establish_time      TEXT,
    publish_due_date    TEXT,
    number              TEXT NOT NULL
);
-- One established quota per first year.
CREATE UNIQUE INDEX quotas_one_established ON quotas (first_year) WHERE state <> 'DRAFT';

CREATE TABLE quota_cells (
    quota_id     TEXT NOT NULL REFERENCES quotas (id),
    region_code  TEXT NOT NULL REFERENCES regions (kato),
    part         TEXT NOT NULL CHECK (part IN ('PERMITS', 'COUNTRIES', 'IMMIGRANTS')),
    category     TEXT NOT NULL,
    country_code TEXT NOT NULL,
    requested    BIGINT NOT NULL CHECK (requested >= 0),
    granted      BIGINT NOT NULL CHECK (granted >= 0),
    PRIMARY KEY (quota_id, region_code, part, category, country_code)
);

-- Every published version of the decision; earlier ones stay readable (p. 19, 21).
CREATE TABLE quota_versions (
    quota_id     TEXT NOT NULL REFERENCES quotas (id),
    version      BIGINT NOT NULL,
    document_id  TEXT NOT NULL REFERENCES documents (id),
    publish_time TEXT NOT NULL,
    late         BIGINT NOT NULL,
    -- The figures of this version, as JSON, so a version reads as it was published.
    cells_json   TEXT NOT NULL,
    moves_json   TEXT NOT NULL,
    PRIMARY KEY (quota_id, version)
);
