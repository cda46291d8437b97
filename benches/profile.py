#!/usr/bin/env python3
"""Where a request's CPU goes, layer by layer, for one or more builds of the
service, in one run:

    python3 benches/profile.py before=/path/to/old/facet-screen after=target/release/facet-screen

For each build: a fresh data directory and key, `wrk -t1 -c32` on
`POST /v1/evaluations` (the ideal-candidate answers) for 12 s, `perf record
-e cpu-clock -g` on the server for 8 s of it, and the server's CPU time per
request from /proc (user + system, over the whole wrk run). Each layer's cost
is its share of the server's samples (inclusive, the largest matching
frame, so nested frames are not counted twice; self time for the allocator)
times the CPU time per request. Frames the compiler inlined into their
caller are counted in the caller. perf's hardware counters are not needed
(cpu-clock works on a VM).
"""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LUA = os.path.join(ROOT, "benches", "wrk", "post.lua")

# (layer, pattern, kind): inclusive share of the largest matching frame, or
# the sum of self shares.
LAYERS = [
    ("key lookup (`Auth::authenticate`)", r"facet_screen::auth::Auth::authenticate", "incl"),
    ("rate limiter", r"facet_screen::auth::limit::RateLimiter::check", "incl"),
    ("last-use bookkeeping", r"facet_screen::auth::Auth::last_used_due", "incl"),
    ("request id (UUID v4)", r"MakeRequestUuid|uuid::v4", "incl"),
    ("request log line (format and write)", r"tracing_subscriber::fmt::fmt_layer::Layer.*on_event", "incl"),
    ("request span (made, entered, closed)", r"tracing::span::Span::new|tracing::span::Span::make_with", "incl"),
    ("log writer thread (all of it; the line's write to stdout)", r"telemetry::batched::writer::\{\{closure\}\}|tracing_appender::worker::Worker<T>::worker_thread", "incl"),
    ("body read and parsed, duplicate keys refused (the extractor; since 2026-11-30 it also checks the answers, in the same pass)", r"facet_screen::http::extract::AnswersBody as axum_core::extract::FromRequest", "incl"),
    ("answers checked against the questionnaire after the parse (before 2026-11-30)", r"facet_screen::questionnaire::answers::Answers::parse", "incl"),
    ("rules evaluated", r"facet_screen::screening::evaluation::evaluate$", "incl"),
    ("answers normalized for storage", r"facet_screen::questionnaire::answers::Answers::to_json", "incl"),
    ("answer serialized (2 KB JSON)", r"(axum::json::Json|facet_screen::http::json::Json)<T> as axum_core::response::into_response::IntoResponse>::into_response", "incl"),
    ("security headers", r"tower_http::set_header::response::ResponseFuture.*>::poll$", "self"),
    ("socket reads (kernel)", r"__libc_recv|__GI___libc_read$", "incl"),
    ("socket writes (kernel)", r"__GI___writev|__writev", "incl"),
    ("memory allocator (self)", r"^(malloc|_int_malloc|_int_free|cfree@GLIBC.*|free|malloc_consolidate|realloc|_int_realloc|mi_.*|_mi_.*|_rjem_.*|do_rallocx|__rustc::__rust_(alloc|dealloc|realloc))$", "self"),
]


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def profile(label, binary, body_file, work):
    data = os.path.join(work, label)
    env = dict(os.environ, FACET_SCREEN_DATA_DIR=data)
    env.pop("DATABASE_URL", None)
    # --create-database: the data directory is new. A build from before
    # that flag made the database without being asked.
    make = [binary, "keys", "create", "--create-database", "--clinic", "bench", "--role", "intake", "--label", "profile"]
    made = subprocess.run(make, env=env, capture_output=True, text=True)
    if made.returncode != 0 and "--create-database" in made.stderr:
        made = subprocess.run([a for a in make if a != "--create-database"], env=env, capture_output=True, text=True)
    made.check_returncode()
    key = made.stdout.strip()
    port = free_port()
    env.update(FACET_SCREEN_ADDR=f"127.0.0.1:{port}", FACET_SCREEN_RATE_LIMIT="100000000", RUST_LOG="info")
    server = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(400):
        try:
            urllib.request.urlopen(url + "/readyz", timeout=1)
            break
        except Exception:
            time.sleep(0.025)
    perf_data = os.path.join(work, f"{label}.perf")
    cpu0 = cpu_seconds(server.pid)
    wrk = subprocess.Popen(["wrk", "-t1", "-c32", "-d12s", "-s", LUA, url + "/v1/evaluations"],
                           env=dict(os.environ, BODY_FILE=body_file, AUTH=key), stdout=subprocess.PIPE, text=True)
    time.sleep(2)
    subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-F", "499", "--call-graph", "dwarf,16384", "-p", str(server.pid),
                    "-o", perf_data, "--", "sleep", "8"], capture_output=True, check=True)
    out = wrk.communicate()[0]
    cpu = cpu_seconds(server.pid) - cpu0
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=20)
    result = json.loads([l for l in out.splitlines() if l.startswith("{")][-1])
    if result["non2xx"] or result["socket_errors"]:
        raise SystemExit(f"{label}: {result['non2xx']} non-2xx, {result['socket_errors']} socket errors")
    report = subprocess.run(["perf", "report", "-i", perf_data, "--children", "--sort", "symbol", "-g", "none",
                             "--stdio", "--percent-limit", "0.01"], capture_output=True, text=True).stdout
    rows = []
    for line in report.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+([\d.]+)%\s+\[[.k]\]\s+(.*?)\s*$", line)
        if m:
            rows.append((float(m.group(1)), float(m.group(2)), m.group(3).split("  ")[0].strip()))
    us_per_request = cpu / result["requests"] * 1e6
    costs = {}
    for name, pattern, kind in LAYERS:
        rx = re.compile(pattern)
        matching = [(c, s) for c, s, sym in rows if rx.search(sym)]
        share = max((c for c, _ in matching), default=0.0) if kind == "incl" else sum(s for _, s in matching)
        costs[name] = (share, share / 100 * us_per_request)
    return {"rps": result["rps"], "us": us_per_request, "costs": costs}


def main():
    builds = [a.split("=", 1) for a in sys.argv[1:]]
    if not builds:
        raise SystemExit(__doc__)
    work = tempfile.mkdtemp(prefix="facet-screen-profile-")
    vignettes = json.load(open(os.path.join(ROOT, "rules", "v1", "cases", "vignettes.json")))
    body_file = os.path.join(work, "answers.json")
    json.dump(next(c for c in vignettes if c["id"] == "ideal-candidate")["answers"], open(body_file, "w"))
    results = [(label, profile(label, path, body_file, work)) for label, path in builds]
    print("\n| layer | " + " | ".join(f"{l}: µs per request (share)" for l, _ in results) + " |")
    print("|---|" + "---|" * len(results))
    print("| **whole request, server CPU** | " + " | ".join(f"**{r['us']:.1f}** ({r['rps']:.0f} req/s)" for _, r in results) + " |")
    for name, _, _ in LAYERS:
        print(f"| {name} | " + " | ".join(f"{r['costs'][name][1]:.2f} ({r['costs'][name][0]:.1f}%)" for _, r in results) + " |")


if __name__ == "__main__":
    main()
