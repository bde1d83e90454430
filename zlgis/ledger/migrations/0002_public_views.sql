-- Views the portal role may read: public findings only, and none of the columns that can hold
-- personal data (feature ids such as plate hashes, related ids, the measures JSON with raw hotline
-- text, observation times, staff notes and photo references, names or phone numbers).
CREATE VIEW public_findings AS
SELECT h.week, f.finding_id, f."check", f.rule, f.title, f.task_id, f.severity,
       f.lead_department, f.grid_id, h.status, h.deadline, f.geometry
FROM history h JOIN findings f ON f.finding_id = h.finding_id
WHERE f.public = 1;

CREATE VIEW public_status_counts AS
SELECT h.week, f."check", f.lead_department, h.status, count(*) AS n
FROM history h JOIN findings f ON f.finding_id = h.finding_id
WHERE f.public = 1
GROUP BY h.week, f."check", f.lead_department, h.status;
