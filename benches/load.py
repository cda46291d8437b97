#!/usr/bin/env python3
"""Load benchmark: the service against a minimal axum baseline, in one run.

    python3 benches/load.py            # all scenarios (PostgreSQL at 127.0.0.1:5432 needed)
    python3 benches/load.py --quick    # shorter runs

Builds the release binary and the baseline example, starts each on loopback
with a temporary data directory, drives it with wrk at a fixed concurrency for
a fixed time, and reports requests per second, p50/p99/p99.9 latency and the
server's peak memory, each as a ratio to the baseline measured in the same
run: three paired rounds (baseline, then service, alternating), and the
median of the three ratios. The service runs as deployed: with an API key,
its rate limiter on (set above the load) and SQLite with synchronous
commits. Any non-2xx answer fails the run. Also measures start-up to ready
(rules loaded and checked, database migrated), and checks that a key revoked
by `keys revoke` (another process) mid-run stops passing within 1 s.
"""

import argparse
import http.client
import json
import statistics
import threading
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "facet-screen")
BASELINE = os.path.join(ROOT, "target", "release", "examples", "baseline")
LUA = os.path.join(ROOT, "benches", "wrk", "post.lua")
PG = os.environ.get("FACET_SCREEN_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/test")

TARGETS = {
    "evaluations_rps": 0.8,   # at least 0.8x the baseline's throughput
    "evaluations_p99": 2.0,   # p99 at most 2x the baseline's
    "screenings_sqlite_rps": 0.25,
    "screenings_postgres_rps": 0.10,
    "revoked_within_s": 1.0,
    "peak_mib": 64,
    "startup_ms": 200,
}


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def request(url, body=None, key=None, method=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method or ("POST" if data else "GET"))
    req.add_header("Content-Type", "application/json")
    if key:
        req.add_header("Authorization", "Bearer " + key)
    with urllib.request.urlopen(req, timeout=10) as res:
        return res.status, res.read()


def wait_ready(url, deadline_s=20):
    start = time.monotonic()
    while time.monotonic() - start < deadline_s:
        try:
            if request(url + "/readyz")[0] == 200:
                return
        except Exception:
            time.sleep(0.001)
    raise SystemExit("the service did not become ready")


def peak_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def wrk(url, body_file, key, seconds, connections):
    env = dict(os.environ, BODY_FILE=body_file, AUTH=key or "")
    out = run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", LUA, url],
              env=env, capture_output=True, text=True).stdout
    line = [l for l in out.splitlines() if l.startswith("{")][-1]
    return json.loads(line)


class Server:
    def __init__(self, cmd, env, url):
        self.started = time.monotonic()
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = url

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=20)


def service(data_dir, database_url=None):
    port = free_port()
    env = dict(os.environ, FACET_SCREEN_ADDR=f"127.0.0.1:{port}", FACET_SCREEN_DATA_DIR=data_dir,
               FACET_SCREEN_RATE_LIMIT="100000000", RUST_LOG="info")
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    server = Server([BIN, "serve"], env, f"http://127.0.0.1:{port}")
    wait_ready(server.url)
    server.ready_ms = (time.monotonic() - server.started) * 1000
    return server


def make_key(data_dir, database_url=None):
    env = dict(os.environ, FACET_SCREEN_DATA_DIR=data_dir)
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    return run([BIN, "keys", "create", "--clinic", "bench", "--role", "intake", "--label", "load benchmark"],
               env=env, capture_output=True, text=True).stdout.strip()


def baseline(response_file, status):
    port = free_port()
    env = dict(os.environ, BASELINE_ADDR=f"127.0.0.1:{port}", BASELINE_RESPONSE=response_file, BASELINE_STATUS=str(status))
    server = Server([BASELINE], env, f"http://127.0.0.1:{port}")
    for _ in range(2000):
        try:
            request(server.url + "/v1/evaluations", {})
            break
        except Exception:
            time.sleep(0.005)
    return server


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="5 s runs instead of 20 s")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--rounds", type=int, default=3, help="paired rounds per scenario (median reported)")
    args = ap.parse_args()
    seconds = 5 if args.quick else 20

    if not shutil.which("wrk"):
        run(["apt-get", "install", "-y", "-qq", "wrk"])
    run(["cargo", "build", "--release", "--quiet", "--bin", "facet-screen", "--example", "baseline"], cwd=ROOT)

    work = tempfile.mkdtemp(prefix="facet-screen-bench-")
    vignettes = json.load(open(os.path.join(ROOT, "rules", "v1", "cases", "vignettes.json")))
    answers = next(c for c in vignettes if c["id"] == "ideal-candidate")["answers"]
    body_file = os.path.join(work, "answers.json")
    json.dump(answers, open(body_file, "w"))

    results = []

    def scenario(name, path, status, data_dir, database_url=None):
        key = make_key(data_dir, database_url)
        svc = service(data_dir, database_url)
        # The baseline answers exactly what the service answers.
        code, sample = request(svc.url + path, answers, key)
        assert code == status, code
        response_file = os.path.join(work, f"{name}.response.json")
        open(response_file, "wb").write(sample)
        base = baseline(response_file, status)
        rounds = []
        for _ in range(args.rounds):
            b = wrk(base.url + path, body_file, None, seconds, args.connections)
            s = wrk(svc.url + path, body_file, key, seconds, args.connections)
            for r, who in ((b, "baseline"), (s, "service")):
                if r["non2xx"] or r["socket_errors"]:
                    raise SystemExit(f"{name} ({who}): {r['non2xx']} non-2xx answers, {r['socket_errors']} socket errors")
            rounds.append((b, s))
        b_peak, s_peak = peak_mib(base.proc.pid), peak_mib(svc.proc.pid)
        base.stop()
        svc.stop()
        results.append((name, len(sample), rounds, b_peak, s_peak))

    def revoke_mid_run(data_dir, database_url=None):
        """Four clients call GET /v1/me with a key; `keys revoke` (another
        process) revokes it after 1.5 s. Returns how long after the
        revocation the last accepted request was sent, and how many
        requests sent more than 1 s after it were accepted."""
        key = make_key(data_dir, database_url)
        svc = service(data_dir, database_url)
        env = dict(os.environ, FACET_SCREEN_DATA_DIR=data_dir)
        env.pop("DATABASE_URL", None)
        if database_url:
            env["DATABASE_URL"] = database_url
        key_id = [l.split()[0] for l in run([BIN, "keys", "list"], env=env, capture_output=True, text=True).stdout.splitlines()
                  if "load benchmark" in l][-1]
        host, port = svc.url.split("//")[1].split(":")
        seen, stop = [], threading.Event()

        def client():
            conn = http.client.HTTPConnection(host, int(port), timeout=10)
            while not stop.is_set():
                sent = time.monotonic()
                conn.request("GET", "/v1/me", headers={"Authorization": "Bearer " + key})
                res = conn.getresponse()
                res.read()
                seen.append((sent, res.status))

        threads = [threading.Thread(target=client) for _ in range(4)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        run([BIN, "keys", "revoke", key_id], env=env, capture_output=True)
        revoked = time.monotonic()
        time.sleep(2.0)
        stop.set()
        for t in threads:
            t.join()
        svc.stop()
        accepted_after = [t - revoked for t, st in seen if st == 200 and t >= revoked]
        late = sum(1 for t, st in seen if st == 200 and t > revoked + 1.0)
        return (max(accepted_after) if accepted_after else 0.0), late, len(seen)

    scenario("evaluations", "/v1/evaluations", 200, os.path.join(work, "eval"))
    scenario("screenings_sqlite", "/v1/screenings", 201, os.path.join(work, "sqlite"))
    revocations = [("SQLite", revoke_mid_run(os.path.join(work, "revoke-sqlite")))]
    if not args.no_postgres:
        schema = "bench_" + uuid.uuid4().hex[:12]
        run(["psql", PG, "-qc", f"CREATE SCHEMA {schema}"], capture_output=True)
        url = f"{PG}?options=-c%20search_path%3D{schema}"
        scenario("screenings_postgres", "/v1/screenings", 201, os.path.join(work, "pg"), url)
        revocations.append(("PostgreSQL", revoke_mid_run(os.path.join(work, "revoke-pg"), url)))
        run(["psql", PG, "-qc", f"DROP SCHEMA {schema} CASCADE"], capture_output=True)

    # Start-up to ready, on a fresh data directory, best of five.
    startup = []
    for i in range(5):
        svc = service(os.path.join(work, f"start{i}"))
        startup.append(svc.ready_ms)
        svc.stop()
    body_size = os.path.getsize(body_file)
    shutil.rmtree(work, ignore_errors=True)

    print(f"\nwrk -t1 -c{args.connections} -d{seconds}s on {os.cpu_count()} cores; body {body_size} bytes "
          f"(the ideal-candidate answers); {args.rounds} paired rounds (baseline, then service); each ratio is "
          f"service / baseline, the median of the rounds' ratios; absolute figures are the service's medians.\n")
    print("| scenario | response | req/s (ratio) | p50 ms (ratio) | p99 ms (ratio) | p99.9 ms (ratio) | peak MiB (baseline) | rounds' req/s ratios |")
    print("|---|---|---|---|---|---|---|---|")
    verdicts = []
    for name, size, rounds, b_peak, s_peak in results:
        med = lambda k: statistics.median(s[k] for _, s in rounds)
        ratio = lambda k: statistics.median(s[k] / b[k] for b, s in rounds if b[k])
        each = ", ".join(f"{s['rps'] / b['rps']:.2f}" for b, s in rounds)
        print(f"| {name} | {size} B | {med('rps'):.0f} ({ratio('rps'):.2f}×) | {med('p50_us')/1000:.2f} ({ratio('p50_us'):.2f}×) "
              f"| {med('p99_us')/1000:.2f} ({ratio('p99_us'):.2f}×) | {med('p999_us')/1000:.2f} ({ratio('p999_us'):.2f}×) "
              f"| {s_peak:.1f} ({b_peak:.1f}) | {each} |")
        if name == "evaluations":
            verdicts.append(("evaluations throughput ≥ 0.80× baseline", f"{ratio('rps'):.2f}×", ratio("rps") >= TARGETS["evaluations_rps"]))
            verdicts.append(("evaluations p99 ≤ 2× baseline", f"{ratio('p99_us'):.2f}×", ratio("p99_us") <= TARGETS["evaluations_p99"]))
        if name == "screenings_sqlite":
            verdicts.append(("screenings on SQLite ≥ 0.25× baseline", f"{ratio('rps'):.2f}×", ratio("rps") >= TARGETS["screenings_sqlite_rps"]))
        if name == "screenings_postgres":
            verdicts.append(("screenings on PostgreSQL ≥ 0.10× baseline", f"{ratio('rps'):.2f}×", ratio("rps") >= TARGETS["screenings_postgres_rps"]))
        verdicts.append((f"{name}: peak memory ≤ 64 MiB", f"{s_peak:.1f} MiB", s_peak <= TARGETS["peak_mib"]))
    for db, (last, late, total) in revocations:
        verdicts.append((f"a key revoked by `keys revoke` mid-run ({db}): no request accepted 1 s after",
                         f"last accepted request sent {last * 1000:.0f} ms after; {late} late of {total}",
                         late == 0 and last <= TARGETS["revoked_within_s"]))
    best = min(startup)
    verdicts.append(("start-up to ready ≤ 200 ms (best of 5; median)", f"{best:.0f} ms; {sorted(startup)[2]:.0f} ms", best <= TARGETS["startup_ms"]))
    print("\n| target | measured | |\n|---|---|---|")
    for what, measured, ok in verdicts:
        print(f"| {what} | {measured} | {'met' if ok else 'MISSED'} |")
    missed = [w for w, _, ok in verdicts if not ok and "revoked" in w]
    if missed:
        raise SystemExit(f"revocation did not win: {missed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
