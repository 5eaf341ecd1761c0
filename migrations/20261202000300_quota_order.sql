-- p. 19: the ministry's order establishing the quota is registered under a number and a
-- date, and the published decision is cited by them ("от … № …"). Empty for quotas not
-- yet established.
ALTER TABLE quotas ADD COLUMN order_number TEXT NOT NULL DEFAULT '';
ALTER TABLE quotas ADD COLUMN order_date TEXT NOT NULL DEFAULT '';
