-- The regional body's year (Rules p. 7–17): assessment, commission, decisions, notices,
-- filings to the ministry, and central bodies' proposals.

-- p. 7 and p. 15: the generalisation of employers' applications and the labour-immigrant
-- need, due before 10 October.
CREATE TABLE regional_assessments (
    region_code                    TEXT NOT NULL REFERENCES regions (kato),
    quota_year                     INTEGER NOT NULL,
    labour_demand                  INTEGER NOT NULL,
    planned_jobs_national_projects INTEGER NOT NULL,
    demand_text                    TEXT NOT NULL,
    forecast_unemployed            INTEGER NOT NULL,
    forecast_released              INTEGER NOT NULL,
    forecast_graduates             INTEGER NOT NULL,
    forecast_text                  TEXT NOT NULL,
    local_coverage                 INTEGER NOT NULL,
    local_coverage_text            TEXT NOT NULL,
    efficiency_text                TEXT NOT NULL,
    immigrant_demand_text          TEXT NOT NULL,
    immigrant_forecast_text        TEXT NOT NULL,
    immigrant_efficiency_text      TEXT NOT NULL,
    justification                  TEXT NOT NULL,
    update_time                    TEXT NOT NULL,
    late                           INTEGER NOT NULL,
    PRIMARY KEY (region_code, quota_year)
) STRICT;

-- p. 9: the Commission's composition.
CREATE TABLE commission_members (
    region_code  TEXT NOT NULL REFERENCES regions (kato),
    quota_year   INTEGER NOT NULL,
    position     INTEGER NOT NULL,
    full_name    TEXT NOT NULL,
    job_title    TEXT NOT NULL,
    organisation TEXT NOT NULL,
    kind         TEXT NOT NULL,
    role         TEXT NOT NULL,
    PRIMARY KEY (region_code, quota_year, position)
) STRICT;

-- p. 8–10: one decision per application.
CREATE TABLE commission_decisions (
    application_id     TEXT PRIMARY KEY NOT NULL REFERENCES applications (id),
    outcome            TEXT NOT NULL CHECK (outcome IN ('APPROVED', 'PARTIALLY_APPROVED', 'REJECTED')),
    -- Comma-separated codes of p. 10 grounds.
    grounds            TEXT NOT NULL,
    decided_on         TEXT NOT NULL,
    protocol_number    TEXT NOT NULL,
    late_to_commission INTEGER NOT NULL,
    notice_due_date    TEXT NOT NULL,
    record_time        TEXT NOT NULL,
    -- p. 11: the written notice to the employer.
    notice_document_id TEXT REFERENCES documents (id),
    notice_time        TEXT,
    notice_late        INTEGER
) STRICT;

CREATE TABLE decision_lines (
    application_id TEXT NOT NULL REFERENCES commission_decisions (application_id),
    position       INTEGER NOT NULL,
    approved_count INTEGER NOT NULL CHECK (approved_count >= 0),
    PRIMARY KEY (application_id, position)
) STRICT;

-- p. 14–16, Appendix 3.
CREATE TABLE labour_immigrant_needs (
    region_code   TEXT NOT NULL REFERENCES regions (kato),
    quota_year    INTEGER NOT NULL,
    current_count INTEGER NOT NULL,
    need          INTEGER NOT NULL,
    justification TEXT NOT NULL,
    update_time   TEXT NOT NULL,
    PRIMARY KEY (region_code, quota_year)
) STRICT;

-- p. 17: countries with a ratified labour-migration treaty (reference data; see
-- src/domain/treaty_countries.json for provenance).
CREATE TABLE treaty_countries (
    code    TEXT PRIMARY KEY NOT NULL CHECK (length(code) = 2),
    name_ru TEXT NOT NULL
) STRICT;
INSERT INTO treaty_countries (code, name_ru) VALUES
  ('UZ', 'Республика Узбекистан'),
  ('KG', 'Кыргызская Республика'),
  ('TJ', 'Республика Таджикистан'),
  ('AZ', 'Азербайджанская Республика');

-- p. 17, Appendix 4.
CREATE TABLE origin_country_quotas (
    region_code  TEXT NOT NULL REFERENCES regions (kato),
    quota_year   INTEGER NOT NULL,
    position     INTEGER NOT NULL,
    country_code TEXT NOT NULL REFERENCES treaty_countries (code),
    first        INTEGER NOT NULL,
    second       INTEGER NOT NULL,
    third        INTEGER NOT NULL,
    fourth       INTEGER NOT NULL,
    seasonal     INTEGER NOT NULL,
    PRIMARY KEY (region_code, quota_year, position),
    UNIQUE (region_code, quota_year, country_code)
) STRICT;

-- p. 12, 16, 17: what a region filed with the ministry; its data for the year is frozen.
CREATE TABLE regional_filings (
    region_code  TEXT NOT NULL REFERENCES regions (kato),
    quota_year   INTEGER NOT NULL,
    appendix2_id TEXT NOT NULL REFERENCES documents (id),
    appendix3_id TEXT NOT NULL REFERENCES documents (id),
    appendix4_id TEXT NOT NULL REFERENCES documents (id),
    filed_time   TEXT NOT NULL,
    late         INTEGER NOT NULL,
    PRIMARY KEY (region_code, quota_year)
) STRICT;

-- p. 13: proposals of interested central bodies, counted once the region agrees.
CREATE TABLE central_proposals (
    id               TEXT PRIMARY KEY NOT NULL,
    seq              INTEGER NOT NULL UNIQUE,
    body             TEXT NOT NULL,
    region_code      TEXT NOT NULL REFERENCES regions (kato),
    quota_year       INTEGER NOT NULL,
    justification    TEXT NOT NULL,
    agreed_by_region INTEGER NOT NULL,
    submit_time      TEXT NOT NULL,
    agree_time       TEXT,
    late             INTEGER NOT NULL
) STRICT;

CREATE TABLE proposal_lines (
    proposal_id     TEXT NOT NULL REFERENCES central_proposals (id),
    position        INTEGER NOT NULL,
    occupation_code TEXT NOT NULL,
    occupation_name TEXT NOT NULL,
    category        TEXT NOT NULL CHECK (category IN ('1', '2', '3', '4', 'seasonal')),
    count           INTEGER NOT NULL,
    PRIMARY KEY (proposal_id, position)
) STRICT;
