"""A referring clinic's flow through the Python client generated from the
served OpenAPI document (openapi-python-client). Run by tests/clients/run.sh
with the generated package on PYTHONPATH and FACET_BASE, FACET_INTAKE,
FACET_CLINICIAN and FACET_CASES in the environment. Any failure raises."""

import json
import os
import uuid

from facet_screen_client import AuthenticatedClient
from facet_screen_client.api.evaluations import evaluate, evaluate_questionnaire_response
from facet_screen_client.api.fhir import read_fhir_questionnaire
from facet_screen_client.api.screenings import (
    create_screening,
    get_history,
    list_screenings,
    review_screening,
)
from facet_screen_client.models import (
    Answers,
    CreatedData,
    Decision,
    Evaluation,
    Outcome,
    Problem,
    QuestionnaireResponse,
    ReviewedData,
    ReviewRequest,
    Screening,
    Status,
)

base = os.environ["FACET_BASE"]
intake = AuthenticatedClient(base_url=base, token=os.environ["FACET_INTAKE"])
clinician = AuthenticatedClient(base_url=base, token=os.environ["FACET_CLINICIAN"])
cases = {c["id"]: c for c in json.load(open(os.environ["FACET_CASES"]))}

# A worked case, evaluated.
ideal = Answers.from_dict(cases["ideal-candidate"]["answers"])
ev = evaluate.sync(client=intake, body=ideal)
assert isinstance(ev, Evaluation), ev
assert ev.outcome == Outcome.LIKELY_CANDIDATE, ev.outcome
assert ev.requires_clinician_confirmation is True

# A screening, created with an Idempotency-Key; the retry returns it again.
key = f"py-{uuid.uuid4()}"
first = create_screening.sync_detailed(client=intake, body=ideal, idempotency_key=key)
assert first.status_code == 201, first.content
again = create_screening.sync(client=intake, body=ideal, idempotency_key=key)
assert isinstance(first.parsed, Screening) and isinstance(again, Screening)
assert again.id == first.parsed.id
screening_id = first.parsed.id

# The queue, and a clinician's review.
page = list_screenings.sync(client=clinician, status=Status.PENDING_REVIEW, limit=100)
assert screening_id in [s.id for s in page.items], page
reviewed = review_screening.sync(
    id=screening_id,
    client=clinician,
    body=ReviewRequest(decision=Decision.CONFIRM, clinician="dr-python"),
)
assert isinstance(reviewed, Screening), reviewed
assert reviewed.status == Status.CONFIRMED
assert reviewed.review.clinician == "dr-python"

# The history, with event data of the kind's own type.
history = get_history.sync(id=screening_id, client=clinician)
kinds = [e.kind.value for e in history.events]
assert kinds[0] == "created", kinds
assert isinstance(history.events[0].data, CreatedData)
assert history.events[0].data.suggested_outcome == Outcome.LIKELY_CANDIDATE
review_event = next(e for e in history.events if e.kind.value == "reviewed")
assert isinstance(review_event.data, ReviewedData), review_event.data
assert review_event.data.review.decision == Decision.CONFIRM

# A 422, read through the generated types.
bad = Answers.from_dict({"pain": {"intensity_nrs": 11}})
res = evaluate.sync_detailed(client=intake, body=bad)
assert res.status_code == 422
assert isinstance(res.parsed, Problem), res.parsed
assert [e.field for e in res.parsed.errors] == ["pain.intensity_nrs"], res.parsed.errors

# A FHIR client's QuestionnaireResponse, on its own operation (the old
# content type on /v1/evaluations broke the default generator's client).
q = read_fhir_questionnaire.sync(id="facet-screen-intake-v1", client=intake)
qr = QuestionnaireResponse.from_dict({
    "resourceType": "QuestionnaireResponse",
    "questionnaire": q.url,
    "item": [{"linkId": "section-red_flags", "item": [
        {"linkId": "red_flags.bladder_or_bowel_dysfunction", "answer": [{"valueBoolean": True}]},
    ]}],
})
urgent = evaluate_questionnaire_response.sync(client=intake, body=qr)
assert isinstance(urgent, Evaluation), urgent
assert urgent.outcome == Outcome.URGENT_EVALUATION, urgent.outcome

print("python client: evaluate, create (idempotent), queue, review, typed history, 422, FHIR evaluate: ok")
