-- A patient's screenings by the clinic's reference (GET /v1/screenings?external_ref=).
CREATE INDEX screenings_by_external_ref ON screenings (clinic, external_ref);
