#!/usr/bin/env python3
"""Replay benchmark for `facet-screen rules impact`: 100,000 stored screenings.

    python3 benches/impact.py              # 100,000 screenings, 3 rounds
    python3 benches/impact.py --n 20000    # fewer

Builds the release binary, stores one screening through the API for each
worked case of the default profile (so the answers vary as real ones do:
every outcome, red flags, incomplete blocks), then copies them in SQLite to
N rows. The draft is the built-in rule set with the block threshold moved
from 80% to 90%. Each round times, in the same run:

- the baseline: reading the same rows (id, answers, suggestion) in the same
  order with Python's sqlite3, the floor of any replay;
- `rules impact DRAFT --format json` on the same database: read, parse,
  evaluate with the rule set in use and with the draft, count.

Reports the median of 3 paired rounds: seconds, screenings per second, the
ratio to the baseline and the replay's peak memory. The target is at most
10 s for 100,000 screenings on the 2-core CI machine.
"""

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "facet-screen")
TARGET_S = 10.0
FILES = ["questionnaire.yaml", "rules.yaml", "parameters.yaml", "outcomes.yaml", "contract.yaml"]


def seed(data, n):
    env = dict(os.environ, FACET_SCREEN_DATA_DIR=data, FACET_SCREEN_ADDR="127.0.0.1:0",
               FACET_SCREEN_LOG_FORMAT="json", FACET_SCREEN_RATE_LIMIT="1000000")
    env.pop("DATABASE_URL", None)
    env.pop("FACET_SCREEN_RULES_DIR", None)
    env.pop("FACET_SCREEN_PROFILE", None)
    key = subprocess.run([BIN, "keys", "create", "--create-database", "--clinic", "default", "--role", "intake",
                          "--label", "bench"], env=env, check=True, capture_output=True,
                         text=True).stdout.strip()
    server = subprocess.Popen([BIN, "serve"], env=env, stdout=subprocess.PIPE, text=True)
    address = None
    for line in server.stdout:
        if "facet-screen listening" in line:
            address = json.loads(line)["fields"]["address"]
            break
    cases = []
    for name in sorted(os.listdir(os.path.join(ROOT, "rules", "v1", "cases"))):
        for case in json.load(open(os.path.join(ROOT, "rules", "v1", "cases", name))):
            if not case.get("profile"):
                cases.append(case["answers"])
    for answers in cases:
        req = urllib.request.Request(f"http://{address}/v1/screenings", method="POST",
                                     data=json.dumps(answers).encode(),
                                     headers={"Authorization": f"Bearer {key}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req) as res:
            assert res.status == 201, res.status
    server.terminate()
    server.wait()
    db = sqlite3.connect(os.path.join(data, "facet-screen.db"))
    cols = [r[1] for r in db.execute("PRAGMA table_info(screenings)")]
    base = db.execute(f"SELECT {', '.join(cols)} FROM screenings ORDER BY created_at").fetchall()
    i_id, i_created = cols.index("id"), cols.index("created_at")
    rows = []
    for k in range(len(base), n):
        row = list(base[k % len(base)])
        row[i_id] = f"00000000-0000-7000-8000-{k:012d}"
        row[i_created] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(1767225600 + k)) + ".000000Z"
        rows.append(row)
    db.executemany(f"INSERT INTO screenings ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", rows)
    db.commit()
    count = db.execute("SELECT COUNT(*) FROM screenings").fetchone()[0]
    db.close()
    return count, len(base)


def baseline(data):
    started = time.perf_counter()
    db = sqlite3.connect(os.path.join(data, "facet-screen.db"))
    n = 0
    for _ in db.execute("SELECT id, answers, suggested FROM screenings ORDER BY clinic, created_at, id"):
        n += 1
    db.close()
    return time.perf_counter() - started


def replay(data, draft):
    env = dict(os.environ, FACET_SCREEN_DATA_DIR=data)
    for var in ("DATABASE_URL", "FACET_SCREEN_RULES_DIR", "FACET_SCREEN_PROFILE"):
        env.pop(var, None)
    # Peak memory from /proc/PID/status (VmHWM) of the binary itself: the
    # rusage of a child forked from this (large) Python process would count
    # the parent's pages it inherited before exec.
    started = time.perf_counter()
    proc = subprocess.Popen([BIN, "rules", "impact", draft, "--format", "json"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    chunks, peak_kib = [], 0
    os.set_blocking(proc.stdout.fileno(), False)
    while proc.poll() is None:
        try:
            for line in open(f"/proc/{proc.pid}/status"):
                if line.startswith("VmHWM:"):
                    peak_kib = max(peak_kib, int(line.split()[1]))
        except (FileNotFoundError, ProcessLookupError):
            pass
        chunk = proc.stdout.read()
        if chunk:
            chunks.append(chunk)
        time.sleep(0.005)
    elapsed = time.perf_counter() - started
    rest = proc.stdout.read()
    if rest:
        chunks.append(rest)
    assert proc.returncode == 0, proc.stderr.read().decode()
    return elapsed, peak_kib / 1024, json.loads(b"".join(chunks))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    subprocess.run(["cargo", "build", "--release", "--locked", "-q"], cwd=ROOT, check=True)
    tmp = tempfile.mkdtemp(prefix="impact-bench-")
    try:
        data = os.path.join(tmp, "data")
        count, distinct = seed(data, args.n)
        draft = os.path.join(tmp, "draft")
        os.mkdir(draft)
        for name in FILES:
            shutil.copy(os.path.join(ROOT, "rules", "v1", name), draft)
        path = os.path.join(draft, "parameters.yaml")
        text = open(path).read()
        assert "      block_relief_percent: 80\n" in text
        open(path, "w").write(text.replace("      block_relief_percent: 80\n",
                                           "      block_relief_percent: 90\n", 1))
        rounds = []
        for r in range(args.rounds):
            base = baseline(data)
            secs, mib, report = replay(data, draft)
            assert report["screenings"] == count, report["screenings"]
            rounds.append((base, secs, mib))
            print(f"round {r + 1}: baseline {base:.2f} s, rules impact {secs:.2f} s "
                  f"({count / secs:,.0f} screenings/s, {secs / base:.1f}x the baseline), "
                  f"peak {mib:.1f} MiB", file=sys.stderr)
        base = statistics.median(b for b, _, _ in rounds)
        secs = statistics.median(s for _, s, _ in rounds)
        ratio = statistics.median(s / b for b, s, _ in rounds)
        mib = max(m for _, _, m in rounds)
        print(f"\n{count:,} stored screenings ({distinct} distinct answer sets), "
              f"draft: block threshold 80% -> 90%")
        print(f"changed: {report['changed']:,}; transitions:")
        for t in report["transitions"]:
            print(f"  {t['from']} -> {t['to']}: {t['count']:,} ({', '.join(t['criteria'])})")
        print(f"\n| measure | median of {args.rounds} |\n|---|---|")
        print(f"| baseline: read the rows (Python sqlite3) | {base:.2f} s |")
        print(f"| `rules impact` | {secs:.2f} s ({count / secs:,.0f} screenings/s) |")
        print(f"| ratio to the baseline | {ratio:.1f}x |")
        print(f"| peak memory of `rules impact` | {mib:.1f} MiB |")
        ok = secs <= TARGET_S * args.n / 100_000
        print(f"\ntarget: at most {TARGET_S:.0f} s per 100,000: {'met' if ok else 'MISSED'}")
        sys.exit(0 if ok else 1)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
