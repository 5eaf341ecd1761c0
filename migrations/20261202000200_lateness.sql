-- p. 15: the labour-immigrant need is due before 10 October, as the assessment of p. 7 is;
-- one determined later is kept but flagged, as assessments are.
ALTER TABLE labour_immigrant_needs ADD COLUMN late INTEGER NOT NULL DEFAULT 0;

-- p. 8: the date on which the regional body put the application to the Commission, when
-- it was given; lateness is judged by it (NULL: not given, judged by the decision date).
ALTER TABLE commission_decisions ADD COLUMN put_to_commission_on TEXT;
