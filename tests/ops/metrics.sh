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
KEY=$("$BIN" keys create --create-database --clinic ops --role intake --label metrics 2>/dev/null)
# Both addresses are chosen by the service (port 0) and read from its log:
# a port picked here and bound there later could be taken in between.
FACET_SCREEN_ADDR=127.0.0.1:0 FACET_SCREEN_METRICS_ADDR=127.0.0.1:0 FACET_SCREEN_LOG_FORMAT=json \
  "$BIN" serve >"$DATA/log" 2>"$DATA/err" &
PID=$!
# The field $2 of the log line whose message is $1.
logged() { grep -F "\"message\":\"$1\"" "$DATA/log" | grep -o "\"$2\":\"[^\"]*\"" | head -1 | cut -d'"' -f4 || true; }
API=""
for _ in $(seq 1200); do   # 60 s
  API=$(logged "facet-screen listening" address)
  [ -n "$API" ] && curl -sf "http://$API/readyz" >/dev/null && break
  kill -0 "$PID" 2>/dev/null || { cat "$DATA/err"; exit 1; }
  sleep 0.05
done
curl -sf "http://$API/readyz" >/dev/null || { echo "the service did not start"; cat "$DATA/err"; exit 1; }
METRICS=$(logged "metrics at /metrics" metrics)
API=${API##*:}; METRICS=${METRICS##*:}
ANSWERS=$(python3 -c 'import json; print(json.dumps(next(c for c in json.load(open("rules/v1/cases/vignettes.json")) if c["id"]=="ideal-candidate")["answers"]))')
for i in $(seq 20); do
  curl -sf -o /dev/null -H "Authorization: Bearer $KEY" -H 'content-type: application/json' -d "$ANSWERS" "http://127.0.0.1:$API/v1/evaluations"
  curl -sf -o /dev/null -H "Authorization: Bearer $KEY" -H 'content-type: application/json' -d "$ANSWERS" "http://127.0.0.1:$API/v1/screenings"
done
curl -s -o /dev/null "http://127.0.0.1:$API/v1/screenings"            # 401
curl -s -o /dev/null "http://127.0.0.1:$API/no/such/route"            # 404
# The gauges are sampled every 5 s: scraped until a sampling has counted
# the 20 screenings pending review (60 s at most), not after a guessed sleep.
for _ in $(seq 600); do
  curl -sf "http://127.0.0.1:$METRICS/metrics" >"$DATA/scrape.txt"
  grep -qx 'facet_screenings_pending_review 20' "$DATA/scrape.txt" && break
  sleep 0.1
done
promtool check metrics <"$DATA/scrape.txt"
grep -c '^facet_' "$DATA/scrape.txt" | xargs echo "facet_ samples in the scrape:"
grep -E '^facet_(http_requests_total|evaluations_total|screenings_pending_review|key_cache_total|db_pool_connections|ruleset_info)' "$DATA/scrape.txt" | head -20
# What this load made, exactly (the service's own scrape: nothing else
# reaches it).
for expected in \
  'facet_screenings_pending_review 20' \
  'facet_http_requests_total{route="/v1/evaluations",method="POST",status="200"} 20' \
  'facet_http_requests_total{route="/v1/screenings",method="POST",status="201"} 20' \
  'facet_http_requests_total{route="/v1/screenings",method="GET",status="401"} 1' \
  'facet_http_requests_total{route="unmatched",method="GET",status="404"} 1' \
  'facet_evaluations_total{outcome="likely_candidate",profile="cms_lcd"} 40'; do
  grep -qxF "$expected" "$DATA/scrape.txt" || { echo "missing from the scrape: $expected"; exit 1; }
done
grep -q '^facet_db_pool_connections{state="idle"} ' "$DATA/scrape.txt" || { echo "no pool gauge in the scrape"; exit 1; }
if [ -n "${METRICS_SCRAPE_OUT:-}" ]; then cp "$DATA/scrape.txt" "$METRICS_SCRAPE_OUT"; fi
