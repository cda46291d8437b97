#!/usr/bin/env python3
"""Checks every FHIR resource the integration tests wrote under target/fhir/
against the FHIR R4 resource definitions, with an independent validator: the
`fhir.resources` package's R4B models (R4B is R4 for these resources).

    cargo test --test api fhir && python3 tests/fhir/validate.py
"""
import importlib
import json
import pathlib
import subprocess
import sys

try:
    import fhir.resources  # noqa: F401
except ImportError:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "fhir.resources>=8,<9"], check=True)

root = pathlib.Path(__file__).resolve().parents[2] / "target" / "fhir"
files = sorted(root.glob("*.json"))
if not files:
    sys.exit(f"no FHIR resources in {root}: run `cargo test --test api fhir` first")

# Required bindings of FHIR R4 for the coded elements we emit (the models
# check structure, types and cardinality, not these value sets).
REQUIRED = {
    "Questionnaire.status": {"draft", "active", "retired", "unknown"},
    "item.type": {"group", "display", "boolean", "decimal", "integer", "date", "dateTime", "time", "string",
                  "text", "url", "choice", "open-choice", "attachment", "reference", "quantity"},
    "enableWhen.operator": {"exists", "=", "!=", ">", "<", ">=", "<="},
    "enableBehavior": {"all", "any"},
    "QuestionnaireResponse.status": {"in-progress", "completed", "amended", "entered-in-error", "stopped"},
    "GuidanceResponse.status": {"success", "data-requested", "data-required", "in-progress", "failure", "entered-in-error"},
    "Bundle.type": {"document", "message", "transaction", "transaction-response", "batch", "batch-response",
                    "history", "searchset", "collection"},
    "issue.severity": {"fatal", "error", "warning", "information"},
    "issue.code": {"invalid", "structure", "required", "value", "invariant", "security", "login", "unknown", "expired",
                   "forbidden", "suppressed", "processing", "not-supported", "duplicate", "multiple-matches",
                   "not-found", "deleted", "too-long", "code-invalid", "extension", "too-costly", "business-rule",
                   "conflict", "transient", "lock-error", "no-store", "exception", "timeout", "incomplete", "throttled",
                   "informational"},
}


def codes(data):
    kind = data["resourceType"]
    if kind in ("Questionnaire", "QuestionnaireResponse", "GuidanceResponse"):
        yield f"{kind}.status", data.get("status")
    if kind == "Bundle":
        yield "Bundle.type", data.get("type")
    for issue in data.get("issue", []):
        yield "issue.severity", issue.get("severity")
        yield "issue.code", issue.get("code")
    stack = list(data.get("item", []))
    while stack:
        item = stack.pop()
        if kind == "Questionnaire":
            yield "item.type", item.get("type")
            for w in item.get("enableWhen", []):
                yield "enableWhen.operator", w.get("operator")
            if "enableBehavior" in item:
                yield "enableBehavior", item["enableBehavior"]
        stack.extend(item.get("item", []))
    for entry in data.get("entry", []):
        yield from codes(entry["resource"])


passed = failed = 0
for path in files:
    data = json.loads(path.read_text())
    kind = data["resourceType"]
    module = importlib.import_module(f"fhir.resources.R4B.{kind.lower()}")
    model = getattr(module, kind)
    try:
        model.model_validate(data)
        bad = [f"{where}={value!r}" for where, value in codes(data) if value not in REQUIRED[where]]
        if bad:
            raise ValueError("codes outside their required value sets: " + ", ".join(bad))
        passed += 1
    except Exception as e:  # the validator's own report says where
        failed += 1
        print(f"{path.name}: {e}")
print(f"fhir: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
