#!/usr/bin/env bash
# A scrape of /metrics after a test load, checked by promtool (Debian
# package prometheus): the real binary with FACET_SCREEN_METRICS_ADDR, a few
# evaluations, creations, reads and refusals, then `promtool check metrics`.
#
#   cargo build && tests/ops/metrics.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN="${FACET_SCREEN_BIN:-target/debug/facet-screen}"
command -v promtool >/dev/null || { echo "promtool is missing (Debian: prometheus)"; exit 1; }
DATA=$(mktemp -d)
trap 'kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -rf "$DATA"' EXIT
export FACET_SCREEN_DATA_DIR="$DATA"
unset DATABASE_URL
KEY=$("$BIN" keys create --clinic ops --role intake --label metrics 2>/dev/null)
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
API=$(port); METRICS=$(port)
FACET_SCREEN_ADDR="127.0.0.1:$API" FACET_SCREEN_METRICS_ADDR="127.0.0.1:$METRICS" "$BIN" serve >"$DATA/log" 2>&1 &
PID=$!
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$API/readyz" >/dev/null && break; sleep 0.05; done
ANSWERS=$(python3 -c 'import json; print(json.dumps(next(c for c in json.load(open("rules/v1/cases/vignettes.json")) if c["id"]=="ideal-candidate")["answers"]))')
for i in $(seq 20); do
  curl -sf -o /dev/null -H "Authorization: Bearer $KEY" -H 'content-type: application/json' -d "$ANSWERS" "http://127.0.0.1:$API/v1/evaluations"
  curl -sf -o /dev/null -H "Authorization: Bearer $KEY" -H 'content-type: application/json' -d "$ANSWERS" "http://127.0.0.1:$API/v1/screenings"
done
curl -s -o /dev/null "http://127.0.0.1:$API/v1/screenings"            # 401
curl -s -o /dev/null "http://127.0.0.1:$API/no/such/route"            # 404
sleep 5.5   # one sampling of the gauges
curl -sf "http://127.0.0.1:$METRICS/metrics" >"$DATA/scrape.txt"
promtool check metrics <"$DATA/scrape.txt"
grep -c '^facet_' "$DATA/scrape.txt" | xargs echo "facet_ samples in the scrape:"
grep -E '^facet_(http_requests_total|evaluations_total|screenings_pending_review|key_cache_total|db_pool_connections|ruleset_info)' "$DATA/scrape.txt" | head -20
if [ -n "${METRICS_SCRAPE_OUT:-}" ]; then cp "$DATA/scrape.txt" "$METRICS_SCRAPE_OUT"; fi
