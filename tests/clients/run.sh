#!/usr/bin/env bash
# The API document as a referring clinic uses it: the document the real
# binary serves is validated (openapi-spec-validator) and linted (redocly,
# recommended rules), then a Python client (openapi-python-client) and a
# TypeScript client (openapi-typescript + openapi-fetch, checked by
# `tsc --noEmit` in strict mode) are generated from it and run a clinic's
# flow against that binary. Any failure fails the run.
#
#   cargo build && pip install -r tests/clients/requirements.txt \
#     && (cd tests/clients && npm ci && ./run.sh)
set -euo pipefail
cd "$(dirname "$0")"
bin="${FACET_SCREEN_BIN:-../../target/debug/facet-screen}"
work="$(mktemp -d)"
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
unset DATABASE_URL FACET_SCREEN_RULES_DIR FACET_SCREEN_PROFILE
export FACET_SCREEN_DATA_DIR="$work/data"

intake="$("$bin" keys create --create-database --clinic clients --role intake --label "generated clients, intake")"
clinician="$("$bin" keys create --create-database --clinic clients --role clinician --label "generated clients, clinician")"
FACET_SCREEN_ADDR=127.0.0.1:0 FACET_SCREEN_LOG_FORMAT=json "$bin" serve >"$work/log" 2>"$work/err" &
pid=$!
address=""
for _ in $(seq 200); do
  address="$(grep -o '"address":"[^"]*"' "$work/log" | head -1 | cut -d'"' -f4 || true)"
  [ -n "$address" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/err"; exit 1; }
  sleep 0.05
done
[ -n "$address" ] || { echo "the service did not start"; cat "$work/err"; exit 1; }
base="http://$address"
curl -sf "$base/openapi.json" >"$work/openapi.json"

echo "== openapi-spec-validator"
openapi-spec-validator "$work/openapi.json"

echo "== redocly lint (recommended rules): no error"
npx --no-install redocly lint --format=stylish "$work/openapi.json"

export FACET_BASE="$base" FACET_INTAKE="$intake" FACET_CLINICIAN="$clinician"
export FACET_CASES="$PWD/../../rules/v1/cases/vignettes.json"

echo "== Python client (openapi-python-client)"
openapi-python-client generate --path "$work/openapi.json" --output-path "$work/facet_screen_client" --meta none
test -f "$work/facet_screen_client/client.py"
PYTHONPATH="$work" python3 flow.py

echo "== TypeScript client (openapi-typescript, openapi-fetch, tsc --strict)"
rm -rf generated
npx --no-install openapi-typescript "$work/openapi.json" -o generated/schema.ts
npx --no-install tsc -p tsconfig.json
npx --no-install tsx flow.ts
