-- The review queue by priority (urgent first, then the outcome's
-- precedence, then oldest), with the clinic's patient reference on each row.
-- Both are kept beside the answers when a screening is stored or corrected.
ALTER TABLE screenings ADD COLUMN priority INTEGER NOT NULL DEFAULT 5;
ALTER TABLE screenings ADD COLUMN external_ref TEXT;
UPDATE screenings SET
    priority = CASE suggested
        WHEN 'urgent_evaluation' THEN 0 WHEN 'unlikely_candidate' THEN 1
        WHEN 'not_yet_eligible' THEN 2 WHEN 'needs_more_information' THEN 3
        WHEN 'needs_diagnostic_block' THEN 4 ELSE 5 END,
    external_ref = json_extract(answers, '$.patient.external_ref');
CREATE INDEX screenings_queue_by_priority ON screenings (clinic, status, priority, created_at, id);
