"""HTTP benchmark over loopback: the real server (`dealreg serve`, waitress) in its own
process, a store of 10,000 registrations, keep-alive clients.

    .venv/bin/python bench/bench_http.py [--registrations 10000] [--checks 3000] [--registrations-posted 500]

Prints a markdown table (copy it into bench/RESULTS.md). Targets from issue 3: Clay check
p50 <= 5 ms, p99 <= 20 ms, >= 300 requests/s; Typeform registration p99 <= 50 ms;
importing the Lambda module <= 500 ms. A baseline, not a timed test: numbers move with
the machine (this one: 2 cores, client and server sharing them).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import platform
import queue
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from integrations.sqlite import SQLiteStore  # noqa: E402
from integrations.typeform import SIGNATURE_HEADER, sign  # noqa: E402

SECRET = "bench-typeform-secret"
KEY = "bench-api-key"
PARTNERS = ["Northwind Partners", "Contoso Consulting", "Fabrikam Solutions", "Tailspin Traders", "direct"]
WORDS = ["Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Soylent", "Tyrell",
         "Cyberdyne", "Aperture", "Wonka", "Gringotts", "Oscorp", "Massive", "Dynamic", "Pied", "Piper", "Nakatomi"]
SUFFIXES = ["GmbH", "Inc", "Ltd", "SE", "BV", "LLC", "AG", "SAS", ""]
COUNTRIES = ["DE", "US", "GB", "FR", "NL", "AU", "SE"]


def company(i: int) -> tuple[str, str]:
    """A distinct company name and domain for index i."""
    a, b, c = WORDS[i % 20], WORDS[(i // 20) % 20], WORDS[(i // 400) % 20]
    name = f"{a} {b} {c} {i} {SUFFIXES[i % len(SUFFIXES)]}".strip()
    return name, f"{a}-{b}-{c}-{i}.com".lower()


def seed(db: Path, count: int) -> None:
    now = datetime.now(UTC)
    rows = []
    for i in range(count):
        name, domain = company(i)
        submitted = now - timedelta(days=i % 120, minutes=i)
        rows.append({
            "registration_id": f"R-{i:012x}", "submitted_at": submitted.isoformat(), "source": "typeform",
            "partner": PARTNERS[i % len(PARTNERS)], "company_name": name, "company_domain": f"https://www.{domain}",
            "country": COUNTRIES[i % len(COUNTRIES)], "contact_email": f"buyer{i}@{domain}",
            "deal_value": str(10_000 + (i % 50) * 1_000), "state": "open", "owner": PARTNERS[i % len(PARTNERS)],
            "status": "clear", "external_id": f"seed-{i}",
        })
    store = SQLiteStore(db)
    store.write_rows("registrations", rows)
    store.close()


def start_server(db: Path, workdir: Path, log: Path | None = None) -> tuple[subprocess.Popen, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEALREG_")}
    env.update({"DEALREG_DB": str(db), "DEALREG_TYPEFORM_SECRET": SECRET, "DEALREG_API_KEY": KEY,
                "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)})
    server = subprocess.Popen([sys.executable, "-m", "handlers.cli", "serve", "--port", "0", "--examples", ""],
                              cwd=workdir, env=env, stdout=subprocess.PIPE, text=True,
                              stderr=log.open("w") if log else subprocess.DEVNULL)
    lines: queue.Queue = queue.Queue()

    def pump() -> None:
        assert server.stdout is not None
        for line in iter(server.stdout.readline, ""):
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    while True:
        line = lines.get(timeout=120)
        if "serving on " in line:
            return server, line.rsplit("serving on ", 1)[1].strip()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def check_bodies(n: int, seeded: int) -> list[bytes]:
    """A Clay-like mix: a third taken domains, a third name variants of taken accounts, a third new."""
    bodies = []
    for i in range(n):
        j = (i * 7919) % seeded
        name, domain = company(j)
        if i % 3 == 0:
            row = {"company_name": name, "website": domain, "country": COUNTRIES[j % len(COUNTRIES)]}
        elif i % 3 == 1:
            row = {"company": name.upper().replace(" GMBH", ""), "country": COUNTRIES[j % len(COUNTRIES)]}
        else:
            new, new_domain = company(seeded + 100_000 + i)
            row = {"company_name": new, "website": new_domain, "contact_email": f"x@{new_domain}"}
        bodies.append(json.dumps(row).encode())
    return bodies


def timed_posts(client: requests.Session, url: str, bodies: list[bytes], headers: dict[str, str]) -> list[float]:
    latencies = []
    for body in bodies:
        start = time.perf_counter()
        response = client.post(url, data=body, headers=headers, timeout=30)
        latencies.append(time.perf_counter() - start)
        if response.status_code != 200:
            raise SystemExit(f"{url}: {response.status_code} {response.text}")
    return latencies


def session() -> requests.Session:
    """A keep-alive session. `trust_env` off: on loopback there is no proxy to look up, and
    requests would otherwise re-read the proxy settings on every call (~0.6 ms here)."""
    s = requests.Session()
    s.trust_env = False
    return s


def client_process(url: str, bodies: list[bytes], headers: dict[str, str]) -> list[float]:
    with session() as own:
        return timed_posts(own, url, bodies, headers)


def raw_posts(base: str, path: str, bodies: list[bytes], headers: dict[str, str]) -> list[float]:
    """The same requests through http.client on one kept-alive connection: the server's
    share of the time, with little client overhead."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    latencies = []
    for body in bodies:
        start = time.perf_counter()
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        latencies.append(time.perf_counter() - start)
        if response.status != 200:
            raise SystemExit(f"{path}: {response.status}")
    connection.close()
    return latencies


def server_times(log: Path, path: str) -> list[float]:
    """The time the app itself took per request, from the server's request log lines."""
    pattern = re.compile(r"POST " + re.escape(path) + r" -> 200 \w+ ([0-9.]+)ms")
    return [float(m.group(1)) / 1000 for m in pattern.finditer(log.read_text())]


def typeform_body(i: int) -> bytes:
    name, domain = company(5_000_000 + i)
    stamp = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")

    def answer(ref: str, kind: str, value: object) -> dict:
        return {"type": kind, kind: value, "field": {"id": f"f_{ref}", "type": "short_text", "ref": ref}}

    token = uuid.uuid4().hex
    return json.dumps({"event_id": f"bench-{i}", "event_type": "form_response", "form_response": {
        "form_id": "bench", "token": token, "landed_at": stamp, "submitted_at": stamp,
        "hidden": {"partner": PARTNERS[i % 4]},
        "answers": [answer("company_name", "text", name), answer("company_website", "url", f"https://{domain}"),
                    answer("contact_email", "email", f"buyer@{domain}"), answer("deal_value", "number", 25000)],
    }}, separators=(",", ":")).encode()


def import_time(module: str, runs: int = 5) -> list[float]:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = []
    for _ in range(runs):
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env,
                                check=True)
        out.append(float(result.stdout.strip()))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registrations", type=int, default=10_000, help="registrations in the store")
    parser.add_argument("--checks", type=int, default=3_000, help="sequential Clay checks timed")
    parser.add_argument("--registrations-posted", type=int, default=500, help="Typeform registrations timed")
    parser.add_argument("--clients", type=int, default=2, help="concurrent client processes for the throughput run")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        started = time.perf_counter()
        seed(db, args.registrations)
        seeded_in = time.perf_counter() - started
        started = time.perf_counter()
        log = Path(tmp) / "server.log"
        server, base = start_server(db, Path(tmp), log)
        ready_in = time.perf_counter() - started
        try:
            clay = f"{base}/webhooks/clay?mode=check"
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"}
            bodies = check_bodies(args.checks, args.registrations)
            with session() as client:
                timed_posts(client, clay, bodies[:200], headers)  # warm-up: connections, caches
                began = time.perf_counter()
                latencies = timed_posts(client, clay, bodies, headers)
                sequential_rps = len(bodies) / (time.perf_counter() - began)

            began = time.perf_counter()
            raw = raw_posts(base, "/webhooks/clay?mode=check", bodies, headers)
            raw_rps = len(bodies) / (time.perf_counter() - began)

            # Clients in their own processes, so the client side is not one GIL-bound process.
            chunks = [bodies[i::args.clients] for i in range(args.clients)]
            urls, header_sets = [clay] * len(chunks), [headers] * len(chunks)
            with ProcessPoolExecutor(args.clients, mp_context=multiprocessing.get_context("spawn")) as pool:
                list(pool.map(client_process, urls, [c[:50] for c in chunks], header_sets))  # start-up not timed
                began = time.perf_counter()
                concurrent = [t for part in pool.map(client_process, urls, chunks, header_sets) for t in part]
                concurrent_rps = len(concurrent) / (time.perf_counter() - began)

            forms = [typeform_body(i) for i in range(args.registrations_posted)]
            with session() as client:
                registrations = []
                for body in forms:
                    start = time.perf_counter()
                    response = client.post(f"{base}/webhooks/typeform", data=body, timeout=30,
                                            headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, SECRET)})
                    registrations.append(time.perf_counter() - start)
                    if response.status_code != 200 or response.json()["registration_id"] == "":
                        raise SystemExit(f"typeform: {response.status_code} {response.text}")
        finally:
            server.terminate()
            server.wait(timeout=30)
        in_app_checks = server_times(log, "/webhooks/clay")
        in_app_forms = server_times(log, "/webhooks/typeform")

    lambda_import = import_time("handlers.lambda_handler")
    app_import = import_time("handlers.app", runs=3)
    ms = lambda s: f"{s * 1000:.1f} ms"  # noqa: E731

    rows = [
        ("Clay check p50 (sequential, keep-alive)", ms(percentile(latencies, 50)), "≤ 5 ms",
         percentile(latencies, 50) <= 0.005),
        ("Clay check p99 (sequential)", ms(percentile(latencies, 99)), "≤ 20 ms", percentile(latencies, 99) <= 0.020),
        ("Clay checks/s, 1 client", f"{sequential_rps:.1f}", "≥ 300", sequential_rps >= 300),
        ("Clay check p50 / p99, http.client (client overhead removed)",
         f"{ms(percentile(raw, 50))} / {ms(percentile(raw, 99))}", "—", None),
        ("Clay checks/s, http.client, 1 connection", f"{raw_rps:.1f}", "≥ 300", raw_rps >= 300),
        ("Clay check time inside the app p50 / p99 (server log, all runs)",
         f"{ms(percentile(in_app_checks, 50))} / {ms(percentile(in_app_checks, 99))}", "—", None),
        # Informational: on 2 CPUs, more client processes take CPU from the server.
        (f"Clay checks/s, {args.clients} client processes (requests)", f"{concurrent_rps:.1f}", "—", None),
        (f"Clay check p50 / p99, {args.clients} client processes",
         f"{ms(percentile(concurrent, 50))} / {ms(percentile(concurrent, 99))}", "—", None),
        ("Typeform registration p50", ms(percentile(registrations, 50)), "—", None),
        ("Typeform registration p99", ms(percentile(registrations, 99)), "≤ 50 ms",
         percentile(registrations, 99) <= 0.050),
        ("Typeform registration inside the app p50 / p99 (server log)",
         f"{ms(percentile(in_app_forms, 50))} / {ms(percentile(in_app_forms, 99))}", "—", None),
        ("import handlers.lambda_handler (median of 5)", ms(statistics.median(lambda_import)), "≤ 500 ms",
         statistics.median(lambda_import) <= 0.5),
        ("import handlers.app (median of 3; first Lambda call)", ms(statistics.median(app_import)), "—", None),
        (f"seed {args.registrations:,} registrations (one import)", ms(seeded_in), "—", None),
        ("server start to ready (index built)", ms(ready_in), "—", None),
    ]
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"HTTP benchmark: {args.registrations:,} registrations in SQLite, waitress (8 threads) on loopback, "
          f"{args.checks:,} checks, {args.registrations_posted:,} registrations; Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, load average {load} (client and server share the CPUs)\n")
    print("| measure | result | target | met |\n| --- | --- | --- | --- |")
    for name, value, target, ok in rows:
        print(f"| {name} | {value} | {target} | {'' if ok is None else ('yes' if ok else 'NO')} |")


if __name__ == "__main__":
    main()
