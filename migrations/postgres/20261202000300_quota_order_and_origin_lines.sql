-- PostgreSQL twin of ../20261202000300_quota_order_and_origin_lines.sql: the same tables and columns (tests/api/schema.rs
-- compares them); INTEGER is BIGINT, BLOB is BYTEA, SQLite-only checks rewritten.
-- p. 19: the ministry's order establishing the quota is registered under a number and a
-- date, and the published decision is cited by them ("от … № …"). Empty for quotas not
-- yet established.
ALTER TABLE quotas ADD COLUMN order_number TEXT NOT NULL DEFAULT '';
ALTER TABLE quotas ADD COLUMN order_date TEXT NOT NULL DEFAULT '';

-- p. 17, Appendix 4: a country's figures "в разрезе профессий и специальностей", lines as
-- Appendix 1 gives them; a region without the breakdown files the category counts alone.
CREATE TABLE origin_country_lines (
    region_code     TEXT NOT NULL REFERENCES regions (kato),
    quota_year      BIGINT NOT NULL,
    country_code    TEXT NOT NULL REFERENCES treaty_countries (code),
    position        BIGINT NOT NULL,
    occupation_code TEXT NOT NULL,
    occupation_name TEXT NOT NULL,
    category        TEXT NOT NULL CHECK (category IN ('1', '2', '3', '4', 'seasonal')),
    count           BIGINT NOT NULL CHECK (count > 0),
    PRIMARY KEY (region_code, quota_year, country_code, position)
);
