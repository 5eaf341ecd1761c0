-- PostgreSQL twin of ../20261202000200_lateness.sql: the same tables and columns (tests/api/schema.rs
-- compares them); INTEGER is BIGINT, BLOB is BYTEA, SQLite-only checks rewritten.
-- p. 15: the labour-immigrant need is due before 10 October, as the assessment of p. 7 is;
-- one determined later is kept but flagged, as assessments are.
ALTER TABLE labour_immigrant_needs ADD COLUMN late BIGINT NOT NULL DEFAULT 0;

-- p. 8: the date on which the regional body put the application to the Commission, when
-- it was given; lateness is judged by it (NULL: not given, judged by the decision date).
ALTER TABLE commission_decisions ADD COLUMN put_to_commission_on TEXT;
