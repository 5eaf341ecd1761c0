-- PostgreSQL twin of ../20261125000003_regional.sql: the same tables and columns (tests/api/schema.rs
-- compares them); INTEGER is BIGINT, BLOB is BYTEA, SQLite-only checks rewritten.
-- The regional body's year (Rules p. 7–17): assessment, commission, decisions, notices,
-- filings to the ministry, and central bodies' proposals.

-- p. 7 and p. 15: the generalisation of employers' applications and the labour-immigrant
-- need, due before 10 October.
CREATE TABLE regional_assessments (
    region_code                    TEXT NOT NULL REFERENCES regions (kato),
    quota_year                     BIGINT NOT NULL,
    labour_demand                  BIGINT NOT NULL,
    planned_jobs_national_projects BIGINT NOT NULL,
    demand_text                    TEXT NOT NULL,
    forecast_unemployed            BIGINT NOT NULL,
    forecast_released              BIGINT NOT NULL,
    forecast_graduates             BIGINT NOT NULL,
    forecast_text                  TEXT NOT NULL,
    local_coverage                 BIGINT NOT NULL,
    local_coverage_text            TEXT NOT NULL,
    efficiency_text                TEXT NOT NULL,
    immigrant_demand_text          TEXT NOT NULL,
    immigrant_forecast_text        TEXT NOT NULL,
    immigrant_efficiency_text      TEXT NOT NULL,
    justification                  TEXT NOT NULL,
    update_time                    TEXT NOT NULL,
    late                           BIGINT NOT NULL,
    PRIMARY KEY (region_code, quota_year)
);

-- p. 9: the Commission's composition.
CREATE TABLE commission_members (
    region_code  TEXT NOT NULL REFERENCES regions (kato),
    quota_year   BIGINT NOT NULL,
    position     BIGINT NOT NULL,
    full_name    TEXT NOT NULL,
    job_title    TEXT NOT NULL,
    organisation TEXT NOT NULL,
    kind         TEXT NOT NULL,
    role         TEXT NOT NULL,
    PRIMARY KEY (region_code, quota_year, position)
);

-- p. 8–10: one decision per application.
CREATE TABLE commission_decisions (
    application_id     TEXT PRIMARY KEY NOT NULL REFERENCES applications (id),
    outcome            TEXT NOT NULL CHECK (outcome IN ('APPROVED', 'PARTIALLY_APPROVED', 'REJECTED')),
    -- Comma-separated codes of p. 10 grounds.
    grounds            TEXT NOT NULL,
    decided_on         TEXT NOT NULL,
    protocol_number    TEXT NOT NULL,
    late_to_commission BIGINT NOT NULL,
    notice_due_date    TEXT NOT NULL,
    record_time        TEXT NOT NULL,
    -- p. 11: the written notice to the employer.
    notice_document_id TEXT REFERENCES documents (id),
    notice_time        TEXT,
    notice_late        BIGINT
);

CREATE TABLE decision_lines (
    application_id TEXT NOT NULL REFERENCES commission_decisions (application_id),
    position       BIGINT NOT NULL,
    approved_count BIGINT NOT NULL CHECK (approved_count >= 0),
    PRIMARY KEY (application_id, position)
);

-- p. 14–16, Appendix 3.
CREATE TABLE labour_immigrant_needs (
    region_code   TEXT NOT NULL REFERENCES regions (kato),
    quota_year    BIGINT NOT NULL,
    current_count BIGINT NOT NULL,
    need          BIGINT NOT NULL,
    justification TEXT NOT NULL,
    update_time   TEXT NOT NULL,
    PRIMARY KEY (region_code, quota_year)
);

-- p. 17: countries with a ratified labour-migration treaty (reference data; see
-- src/domain/treaty_countries.json for provenance).
CREATE TABLE treaty_countries (
    code    TEXT PRIMARY KEY NOT NULL CHECK (length(code) = 2),
    name_ru TEXT NOT NULL
);
INSERT INTO treaty_countries (code, name_ru) VALUES
  ('UZ', 'Республика Узбекистан'),
  ('KG', 'Кыргызская Республика'),
  ('TJ', 'Республика Таджикистан'),
  ('AZ', 'Азербайджанская Республика');

-- p. 17, Appendix 4.
CREATE TABLE origin_country_quotas (
    region_code  TEXT NOT NULL REFERENCES regions (kato),
    quota_year   BIGINT NOT NULL,
    position     BIGINT NOT NULL,
    country_code TEXT NOT NULL REFERENCES treaty_countries (code),
    first        BIGINT NOT NULL,
    second       BIGINT NOT NULL,
    third        BIGINT NOT NULL,
    fourth       BIGINT NOT NULL,
    seasonal     BIGINT NOT NULL,
    PRIMARY KEY (region_code, quota_year, position),
    UNIQUE (region_code, quota_year, country_code)
);

-- p. 12, 16, 17: what a region filed with the ministry; its data for the year is frozen.
CREATE TABLE regional_filings (
    region_code  TEXT NOT NULL REFERENCES regions (kato),
    quota_year   BIGINT NOT NULL,
    appendix2_id TEXT NOT NULL REFERENCES documents (id),
    appendix3_id TEXT NOT NULL REFERENCES documents (id),
    appendix4_id TEXT NOT NULL REFERENCES documents (id),
    filed_time   TEXT NOT NULL,
    late         BIGINT NOT NULL,
    PRIMARY KEY (region_code, quota_year)
);

-- p. 13: proposals of interested central bodies, counted once the region agrees.
CREATE TABLE central_proposals (
    id               TEXT PRIMARY KEY NOT NULL,
    seq              BIGINT NOT NULL UNIQUE,
    body             TEXT NOT NULL,
    region_code      TEXT NOT NULL REFERENCES regions (kato),
    quota_year       BIGINT NOT NULL,
    justification    TEXT NOT NULL,
    agreed_by_region BIGINT NOT NULL,
    submit_time      TEXT NOT NULL,
    agree_time       TEXT,
    late             BIGINT NOT NULL
);

CREATE TABLE proposal_lines (
    proposal_id     TEXT NOT NULL REFERENCES central_proposals (id),
    position        BIGINT NOT NULL,
    occupation_code TEXT NOT NULL,
    occupation_name TEXT NOT NULL,
    category        TEXT NOT NULL CHECK (category IN ('1', '2', '3', '4', 'seasonal')),
    count           BIGINT NOT NULL,
    PRIMARY KEY (proposal_id, position)
);
