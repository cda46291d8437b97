#!/usr/bin/env bash
# Checks deploy/facet-screen.service with `systemd-analyze verify`, its
# ExecStart pointed at the built binary. Any warning fails, not only an
# error (verify exits 0 on an unknown key or a bad value). Also prints the
# exposure score of `systemd-analyze security`, for the record.
#
#   cargo build && deploy/verify.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${FACET_SCREEN_BIN:-$PWD/target/debug/facet-screen}"
command -v systemd-analyze >/dev/null || { echo "systemd-analyze is missing (Debian: systemd)"; exit 1; }
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
sed "s#/usr/local/bin/facet-screen#$bin#" deploy/facet-screen.service > "$d/facet-screen.service"
out=$(systemd-analyze verify "$d/facet-screen.service" 2>&1) || { echo "$out"; exit 1; }
if [ -n "$out" ]; then
  echo "$out"
  echo "systemd-analyze verify warned about deploy/facet-screen.service"
  exit 1
fi
systemd-analyze security --offline=yes "$d/facet-screen.service" 2>/dev/null | tail -1 || true
echo "deploy/facet-screen.service: verified"
