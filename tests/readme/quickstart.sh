#!/usr/bin/env bash
# Runs the README's quick start as written, so that it cannot drift from
# what the service does.
#
# The blocks to run are the ```sh blocks marked `<!-- quickstart -->` in
# README.md, in order, in one shell (so that `export INTAKE=...` carries on
# to the next block), from a copy of the repository's files (as a fresh
# clone has them; `./data`, `backups/` and `draft/` are made there). The
# block marked `<!-- quickstart: serve -->` is started in the background,
# as a reader starts it in a terminal of its own. A block marked
# `<!-- quickstart: output -->` is the output the README shows for the
# block before it: the block's stdout must equal it, where `…` stands for
# any text within a line (a digest, a date).
#
# Three things differ from a reader at a terminal, and only these:
# - `cargo install` installs into a temporary root (put first on PATH), and
#   builds in this repository's target/ (CARGO_TARGET_DIR), so that a run
#   does not rebuild the dependencies;
# - the service listens on a free port (FACET_SCREEN_ADDR=127.0.0.1:0) and
#   `localhost:8080` in the later blocks is replaced by the address it
#   bound, read from its log;
# - ADMIN is set to the admin key the first start printed, as the README
#   asks the reader to do by hand.
# Any failing command, any `error` written on stderr, any output that
# differs, or a tool that is missing fails the run: nothing is skipped.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)

for tool in cargo git curl jq python3; do
  command -v "$tool" >/dev/null || { echo "quickstart: $tool is missing (the README names it as a prerequisite)" >&2; exit 1; }
done

work=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# The repository's files as a clone has them (tracked, and new files not
# ignored), without target/ or any data.
mkdir -p "$work/clone"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard \
  | xargs -0 cp --parents -t "$work/clone" 2>/dev/null) || true
[ -f "$work/clone/README.md" ] && [ -f "$work/clone/Cargo.toml" ] || { echo "quickstart: could not copy the repository" >&2; exit 1; }

# The blocks, in order: NN.run, NN.serve or NN.output.
python3 - "$repo/README.md" "$work/blocks" <<'PY'
import os, re, sys
readme, out = sys.argv[1], sys.argv[2]
os.makedirs(out)
lines = open(readme, encoding="utf-8").read().split("\n")
n, i, kinds = 0, 0, []
while i < len(lines):
    m = re.fullmatch(r"<!-- quickstart(?:: (serve|output))? -->", lines[i].strip())
    if not m:
        i += 1
        continue
    kind = m.group(1) or "run"
    i += 1
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i >= len(lines) or not lines[i].startswith("```"):
        sys.exit(f"README.md:{i}: a quickstart marker must be followed by a fenced block")
    start = i + 1
    i = start
    while i < len(lines) and not lines[i].startswith("```"):
        i += 1
    n += 1
    kinds.append(kind)
    with open(os.path.join(out, f"{n:02}.{kind}"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines[start:i]) + "\n")
if "serve" not in kinds or kinds.count("run") < 3 or kinds[0] == "output":
    sys.exit(f"README.md: the quick start's blocks are not there as expected: {kinds}")
for a, b in zip(kinds, kinds[1:]):
    if b == "output" and a != "run":
        sys.exit("README.md: an output block must follow a block that runs")
print(f"quickstart: {len(kinds)} blocks: {' '.join(kinds)}", file=sys.stderr)
PY

# A clean environment for the service and the commands: nothing from the
# caller's shell chooses the database, the rules or the address.
unset DATABASE_URL
for v in $(compgen -e | grep '^FACET_SCREEN_' || true); do unset "$v"; done
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
export CARGO_INSTALL_ROOT="$work/cargo"
export PATH="$work/cargo/bin:$PATH"

compare() { # compare EXPECTED ACTUAL WHAT
  python3 - "$1" "$2" "$3" <<'PY'
import re, sys
expected, actual, what = (open(sys.argv[1]).read(), open(sys.argv[2]).read(), sys.argv[3])
exp = [l.rstrip() for l in expected.rstrip("\n").split("\n")]
act = [l.rstrip() for l in actual.rstrip("\n").split("\n")]
def fits(e, a):
    return re.fullmatch("[^\n]*?".join(re.escape(p) for p in e.split("…")), a) is not None
if len(exp) != len(act) or not all(fits(e, a) for e, a in zip(exp, act)):
    print(f"quickstart: the output of {what} differs from the README's.\n--- README\n{expected}--- actual\n{actual}", file=sys.stderr)
    sys.exit(1)
PY
}

cd "$work/clone"
address=""
state="$work/state.sh"   # the shell's variables, carried from block to block
: > "$state"
previous=""
for block in "$work"/blocks/*; do
  name=$(basename "$block")
  kind=${name#*.}
  text=$(cat "$block")
  if [ -n "$address" ]; then
    text=${text//localhost:8080/$address}
  fi
  case "$kind" in
    serve)
      echo "== README block $name (in the background): $text" >&2
      FACET_SCREEN_ADDR=127.0.0.1:0 bash -c "$text" > "$work/serve.out" 2> "$work/serve.err" &
      server=$!
      deadline=$((SECONDS + 60))
      until grep -q "facet-screen listening" "$work/serve.out"; do
        if ! kill -0 "$server" 2>/dev/null; then
          echo "quickstart: the service exited before listening:" >&2; cat "$work/serve.err" >&2; exit 1
        fi
        [ $SECONDS -lt $deadline ] || { echo "quickstart: the service did not listen within 60 s" >&2; exit 1; }
        sleep 0.1
      done
      address=$(grep -m1 "facet-screen listening" "$work/serve.out" | grep -o '127\.0\.0\.1:[0-9]*' | head -n1)
      admin=$(grep -o 'fsk_[A-Za-z0-9_-]*' "$work/serve.err" | head -n1 || true)
      grep -q "admin key was made for clinic \`st-marys\`" "$work/serve.err" \
        || { echo "quickstart: the first start did not name clinic st-marys:" >&2; cat "$work/serve.err" >&2; exit 1; }
      [ -n "$admin" ] || { echo "quickstart: the first start printed no admin key" >&2; exit 1; }
      echo "export ADMIN=$admin" >> "$state"
      previous=""
      ;;
    run)
      echo "== README block $name" >&2
      printf '%s\n' "$text" >&2
      set +e
      bash -c "set -euo pipefail; shopt -s inherit_errexit; source '$state'; $text
declare -px ADMIN INTAKE CLINICIAN ID 2>/dev/null > '$state.next' || true" \
        > "$work/$name.stdout" 2> "$work/$name.stderr"
      rc=$?
      set -e
      cat "$work/$name.stderr" >&2
      if [ $rc -ne 0 ]; then
        echo "quickstart: README block $name failed (exit $rc)" >&2; cat "$work/$name.stdout" >&2; exit 1
      fi
      if grep -qi '^error' "$work/$name.stderr"; then
        echo "quickstart: README block $name wrote an error" >&2; exit 1
      fi
      [ -s "$state.next" ] && mv "$state.next" "$state"
      previous="$work/$name.stdout"
      ;;
    output)
      [ -n "$previous" ] || { echo "quickstart: output block $name follows no block that ran" >&2; exit 1; }
      compare "$block" "$previous" "the block before $name"
      echo "== README block $name: the output is the README's" >&2
      previous=""
      ;;
  esac
done

# What the blocks promise and shows no output for: the keys are keys of
# the admin's clinic (the queue above found the screening through them).
source "$state"
case "${INTAKE:-}${CLINICIAN:-}" in
  fsk_*fsk_*) ;;
  *) echo "quickstart: the keys block did not leave INTAKE and CLINICIAN set to keys" >&2; exit 1 ;;
esac
[ -n "$server" ] || { echo "quickstart: no block started the service" >&2; exit 1; }
kill -TERM "$server"
if ! wait "$server"; then
  echo "quickstart: the service did not stop cleanly on SIGTERM" >&2; cat "$work/serve.err" >&2; exit 1
fi
server=""
echo "quickstart: every README quick-start block ran as written, with the output the README shows"
