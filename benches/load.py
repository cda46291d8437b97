#!/usr/bin/env python3
"""Load benchmark: the service against a minimal axum baseline, in one run.

    python3 benches/load.py            # all scenarios (PostgreSQL at 127.0.0.1:5432 needed)
    python3 benches/load.py --quick    # shorter runs
    python3 benches/load.py --bin /tmp/fs-before --compare target/release/facet-screen \
        --only evaluations --rounds 6  # two builds in one run: the second's ratio to the first

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

With `--compare PATH`, a second build of the service is measured in the same
run: each round drives the baseline, then both builds, in alternating order
(A then B, B then A), and the second build's figures are reported as ratios
to the first's (requests per second, and the server's CPU time per request
read from /proc), the median of the rounds. This is how a specialisation is
weighed against the plain library way (benches/RESULTS.md).

Every server is started on port 0 and reports the port it bound on its
stdout (the service's "facet-screen listening" log line, the baseline's
first line), so no port is picked before it is bound. The service's log
lines are read from that pipe and thrown away.
"""

import argparse
import fcntl
import http.client
import json
import re
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


def request(url, body=None, key=None, method=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method or ("POST" if data else "GET"))
    req.add_header("Content-Type", "application/json")
    if key:
        req.add_header("Authorization", "Bearer " + key)
    with urllib.request.urlopen(req, timeout=10) as res:
        return res.status, res.read()


def wait_ready(url, proc, deadline_s=20):
    start = time.monotonic()
    while time.monotonic() - start < deadline_s:
        if proc.poll() is not None:
            raise SystemExit(f"the service exited ({proc.returncode}) before it was ready")
        try:
            if request(url + "/readyz")[0] == 200:
                return
        except Exception:
            time.sleep(0.001)
    raise SystemExit("the service did not become ready")


def cpu_seconds(pid):
    """User and system CPU time the process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def wrk(url, body_file, key, seconds, connections, pid=None):
    """One wrk run; with `pid`, also the server's CPU µs per request."""
    env = dict(os.environ, BODY_FILE=body_file, AUTH=key or "")
    cpu = cpu_seconds(pid) if pid else None
    out = run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", LUA, url],
              env=env, capture_output=True, text=True).stdout
    line = [l for l in out.splitlines() if l.startswith("{")][-1]
    result = json.loads(line)
    if pid and result["requests"]:
        result["cpu_us"] = (cpu_seconds(pid) - cpu) * 1e6 / result["requests"]
    return result


class Server:
    """A server started on port 0: its address is read from the first line
    on its stdout that names 127.0.0.1:PORT (the service's "facet-screen
    listening" log line). The rest of its stdout (the request log) is read
    and thrown away by a thread, so that the server never waits on it."""

    def __init__(self, cmd, env):
        self.started = time.monotonic()
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        out = self.proc.stdout.fileno()
        try:
            fcntl.fcntl(out, 1031, 1 << 20)  # F_SETPIPE_SZ: room for a batch of log lines
        except OSError:
            pass
        found = threading.Event()
        self.port = None

        def drain():
            pending = b""
            while True:
                chunk = os.read(out, 1 << 20)
                if not chunk:
                    break
                if self.port is None:
                    pending += chunk
                    m = re.search(rb"listening[^\n]*?127\.0\.0\.1:(\d+)", pending)
                    if m:
                        self.port = int(m.group(1))
                        pending = b""
                        found.set()
            found.set()

        threading.Thread(target=drain, daemon=True).start()
        if not found.wait(20) or self.port is None:
            self.proc.kill()
            raise SystemExit(f"{cmd[0]} did not say which port it bound (exit {self.proc.poll()})")
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=20)


def service(data_dir, database_url=None, binary=None):
    env = dict(os.environ, FACET_SCREEN_ADDR="127.0.0.1:0", FACET_SCREEN_DATA_DIR=data_dir,
               FACET_SCREEN_RATE_LIMIT="100000000", RUST_LOG="info", FACET_SCREEN_LOG_FORMAT="text")
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    server = Server([binary or BIN, "serve"], env)
    wait_ready(server.url, server.proc)
    server.ready_ms = (time.monotonic() - server.started) * 1000
    return server


def make_key(data_dir, database_url=None, binary=None):
    env = dict(os.environ, FACET_SCREEN_DATA_DIR=data_dir)
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    return run([binary or BIN, "keys", "create", "--create-database", "--clinic", "bench", "--role", "intake", "--label", "load benchmark"],
               env=env, capture_output=True, text=True).stdout.strip()


def baseline(response_file, status):
    env = dict(os.environ, BASELINE_ADDR="127.0.0.1:0", BASELINE_RESPONSE=response_file, BASELINE_STATUS=str(status))
    server = Server([BASELINE], env)
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
    ap.add_argument("--seconds", type=int, help="seconds per wrk run (default 20, or 5 with --quick)")
    ap.add_argument("--bin", help="the service binary to measure (default: target/release/facet-screen, built first)")
    ap.add_argument("--compare", metavar="PATH",
                    help="a second build of the service, measured in the same run (A = --bin, B = PATH)")
    ap.add_argument("--only", help="comma-separated scenarios to run (evaluations, screenings_sqlite, "
                                   "screenings_postgres); skips the revocation and start-up checks")
    args = ap.parse_args()
    seconds = args.seconds or (5 if args.quick else 20)
    global BIN
    only = set(args.only.split(",")) if args.only else None

    if not shutil.which("wrk"):
        run(["apt-get", "install", "-y", "-qq", "wrk"])
    if args.bin:
        BIN = os.path.abspath(args.bin)
        if not os.path.exists(BASELINE):
            run(["cargo", "build", "--release", "--quiet", "--example", "baseline"], cwd=ROOT)
    else:
        run(["cargo", "build", "--release", "--quiet", "--bin", "facet-screen", "--example", "baseline"], cwd=ROOT)
    other = os.path.abspath(args.compare) if args.compare else None

    work = tempfile.mkdtemp(prefix="facet-screen-bench-")
    vignettes = json.load(open(os.path.join(ROOT, "rules", "v1", "cases", "vignettes.json")))
    answers = next(c for c in vignettes if c["id"] == "ideal-candidate")["answers"]
    body_file = os.path.join(work, "answers.json")
    json.dump(answers, open(body_file, "w"))

    results = []
    compared = []

    def scenario(name, path, status, data_dir, database_url=None, database_url_b=None):
        if only is not None and name not in only:
            return
        key = make_key(data_dir, database_url)
        svc = service(data_dir, database_url)
        # The baseline answers exactly what the service answers.
        code, sample = request(svc.url + path, answers, key)
        assert code == status, code
        response_file = os.path.join(work, f"{name}.response.json")
        open(response_file, "wb").write(sample)
        base = baseline(response_file, status)
        if other:
            key_b = make_key(data_dir + "-b", database_url_b or database_url, other)
            svc_b = service(data_dir + "-b", database_url_b or database_url, other)
            code_b, sample_b = request(svc_b.url + path, answers, key_b)
            assert code_b == status, code_b
            if path == "/v1/evaluations":
                # The same answer, but for the time it was made.
                strip = lambda b: {k: v for k, v in json.loads(b).items() if k != "evaluated_at"}
                if strip(sample) != strip(sample_b):
                    raise SystemExit(f"{name}: the two builds answer differently")
        rounds, rounds_b = [], []
        for i in range(args.rounds):
            b = wrk(base.url + path, body_file, None, seconds, args.connections, base.proc.pid)
            # A then B in even rounds, B then A in odd ones: drift falls on both.
            order = [("service", svc, key)] + ([("compared", svc_b, key_b)] if other else [])
            got = {}
            for who, server, k in (order if i % 2 == 0 else order[::-1]):
                got[who] = wrk(server.url + path, body_file, k, seconds, args.connections, server.proc.pid)
            for who, r in [("baseline", b)] + list(got.items()):
                if r["non2xx"] or r["socket_errors"]:
                    raise SystemExit(f"{name} ({who}): {r['non2xx']} non-2xx answers, {r['socket_errors']} socket errors")
            rounds.append((b, got["service"]))
            if other:
                rounds_b.append((b, got["service"], got["compared"]))
        b_peak, s_peak = peak_mib(base.proc.pid), peak_mib(svc.proc.pid)
        base.stop()
        svc.stop()
        results.append((name, len(sample), rounds, b_peak, s_peak))
        if other:
            peak_b = peak_mib(svc_b.proc.pid)
            svc_b.stop()
            compared.append((name, rounds_b, s_peak, peak_b))

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
    revocations = []
    if only is None:
        revocations.append(("SQLite", revoke_mid_run(os.path.join(work, "revoke-sqlite"))))
    if not args.no_postgres and (only is None or "screenings_postgres" in only):
        schemas = ["bench_" + uuid.uuid4().hex[:12] for _ in range(2)]
        for schema in schemas:
            run(["psql", PG, "-qc", f"CREATE SCHEMA {schema}"], capture_output=True)
        url, url_b = (f"{PG}?options=-c%20search_path%3D{schema}" for schema in schemas)
        scenario("screenings_postgres", "/v1/screenings", 201, os.path.join(work, "pg"), url, url_b)
        if only is None:
            revocations.append(("PostgreSQL", revoke_mid_run(os.path.join(work, "revoke-pg"), url)))
        for schema in schemas:
            run(["psql", PG, "-qc", f"DROP SCHEMA {schema} CASCADE"], capture_output=True)

    # Start-up to ready, on a fresh data directory, best of five.
    startup = []
    for i in range(5 if only is None else 0):
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
    if startup:
        best = min(startup)
        verdicts.append(("start-up to ready ≤ 200 ms (best of 5; median)", f"{best:.0f} ms; {sorted(startup)[2]:.0f} ms", best <= TARGETS["startup_ms"]))
    print("\n| target | measured | |\n|---|---|---|")
    for what, measured, ok in verdicts:
        print(f"| {what} | {measured} | {'met' if ok else 'MISSED'} |")
    if other:
        print(f"\nA = {BIN}\nB = {other}\nEach ratio is B / A, the median of the {args.rounds} rounds' ratios "
              f"(rounds alternate A, B and B, A after the baseline). CPU is the server's user and system "
              f"time per request, from /proc.\n")
        print("| scenario | A req/s | B req/s | B/A req/s | A CPU µs/req | B CPU µs/req | B/A CPU | B vs baseline req/s | B p99 vs baseline | rounds' B/A req/s | peak MiB A, B |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for name, rounds_b, peak_a, peak_b in compared:
            med = lambda who, k: statistics.median(r[who][k] for r in rounds_b)
            ratio = lambda k, x, y: statistics.median(r[y][k] / r[x][k] for r in rounds_b if r[x][k])
            each = ", ".join(f"{r[2]['rps'] / r[1]['rps']:.2f}" for r in rounds_b)
            print(f"| {name} | {med(1, 'rps'):.0f} | {med(2, 'rps'):.0f} | {ratio('rps', 1, 2):.3f}× "
                  f"| {med(1, 'cpu_us'):.1f} | {med(2, 'cpu_us'):.1f} | {ratio('cpu_us', 1, 2):.3f}× "
                  f"| {ratio('rps', 0, 2):.2f}× | {ratio('p99_us', 0, 2):.2f}× | {each} | {peak_a:.1f}, {peak_b:.1f} |")
    missed = [w for w, _, ok in verdicts if not ok and "revoked" in w]
    if missed:
        raise SystemExit(f"revocation did not win: {missed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
