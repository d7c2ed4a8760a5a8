"""Engine benchmark: decision latency against 100,000 registrations, index build, the
`dealreg check` batch end to end, a naive rapidfuzz baseline, and matching quality on the
labelled set beside the exact-string baseline. Prints markdown for bench/RESULTS.md.

    .venv/bin/python bench/bench_engine.py [--registrations 100000] [--queries 5000] [--rounds 3]

Synthetic data is seeded, so runs are comparable. Nothing here is a test: timings vary
with the machine, and are recorded, not asserted.
"""

from __future__ import annotations

import argparse
import csv
import gc
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rapidfuzz import fuzz, process  # noqa: E402

from config.rules import load_rules  # noqa: E402
from dealreg.engine import Engine  # noqa: E402
from dealreg.models import REGISTRATION_COLUMNS, Record, Registration  # noqa: E402
from tests.core import gold  # noqa: E402

AS_OF = datetime(2026, 11, 20, tzinfo=UTC)
SYLLABLES = ("ka", "lo", "mi", "ra", "ve", "no", "ta", "si", "qu", "zen", "tri", "vo", "lux", "par", "den", "cor",
             "bel", "fin", "gra", "hal", "jo", "ki", "mar", "nex", "or", "pix", "sta", "ul", "wex", "yo", "dro", "fle")
WORDS = ("systems", "labs", "analytics", "health", "capital", "logistics", "robotics", "foods", "energy", "media",
         "software", "partners", "bank", "insurance", "motors", "pharma", "retail", "security", "cloud", "data",
         "group", "holdings", "global", "international", "solutions", "technologies", "consulting", "digital")
FORMS = ("Inc", "Inc.", "LLC", "Ltd", "Limited", "GmbH", "AG", "S.A.", "SAS", "BV", "Pty Ltd", "Oy", "AB", "Corp",
         "Corporation", "plc", "S.p.A.", "KK", "Pte Ltd", "")
TLDS = ("com", "io", "de", "co.uk", "fr", "nl", "com.au", "ai", "co", "net")
PARTNERS = ("Northwind Partners", "Contoso Consulting", "Fabrikam Solutions", "Adatum Group", "Litware",
            "Tailspin", "Wingtip Reseller", "direct")


def pseudo_word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))


def make_registrations(n: int, seed: int = 7) -> list[Registration]:
    rng = random.Random(seed)
    out = []
    seen: set[str] = set()
    while len(out) < n:
        core = [pseudo_word(rng) for _ in range(rng.choice((1, 1, 2, 2, 3)))]
        if rng.random() < 0.6:
            core.append(rng.choice(WORDS))
        name = " ".join(w.capitalize() for w in core)
        if rng.random() < 0.03:
            name = "The " + name
        domain = "".join(core[:2]) + "." + rng.choice(TLDS)
        if domain in seen:
            continue
        seen.add(domain)
        form = rng.choice(FORMS)
        i = len(out)
        out.append(Registration(
            registration_id=f"R-{i:06d}", submitted_at=AS_OF - timedelta(days=rng.randint(0, 150)),
            partner=rng.choice(PARTNERS), company_name=f"{name} {form}".strip(),
            company_domain=rng.choice((domain, f"https://www.{domain}", f"www.{domain}/about")),
            linkedin_url=f"https://www.linkedin.com/company/{'-'.join(core)}/" if rng.random() < 0.2 else "",
            country=rng.choice(("US", "DE", "GB", "FR", "NL", "AU", "")), deal_value=float(rng.randint(1, 300) * 1000),
        ))
    return out


def variant(rng: random.Random, reg: Registration) -> Record:
    """A record for the same account, typed differently."""
    name = reg.company_name
    for form in FORMS:
        if form and name.endswith(" " + form):
            name = name[: -len(form) - 1]
            break
    name = rng.choice((name, name.upper(), name.lower(), name + " " + rng.choice(FORMS)))
    if rng.random() < 0.3 and len(name) > 6:  # a swapped pair of letters
        i = rng.randrange(1, len(name) - 2)
        name = name[:i] + name[i + 1] + name[i] + name[i + 2:]
    domain = reg.company_domain.replace("https://www.", "").split("/")[0]
    if rng.random() < 0.4:
        return Record(company_name=name)
    return Record(company_name=name, company_domain=rng.choice((domain, f"http://{domain}/pricing")))


def miss(rng: random.Random) -> Record:
    name = f"{pseudo_word(rng)}{pseudo_word(rng)} {rng.choice(WORDS)}".title()
    return Record(company_name=name, company_domain=name.split()[0].lower() + rng.choice((".com", ".io", ".de")))


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def bench_decisions(n_regs: int, n_queries: int, rounds: int) -> dict[str, object]:
    """Index build and decision latency, `rounds` times each: this VM's neighbours move a single
    run by ±25%, so every round is reported, and the median round is the headline.

    The build is timed twice a round, as the product runs it: with the cyclic garbage collector
    paused around it, as `dealreg check` does at its edge (handlers/cli/check.py), and with the
    collector running, as in a server (the core never touches the collector). Wall time and
    the process's CPU time are both kept: CPU time is what the neighbours move least."""
    rules = load_rules(ROOT / "config" / "rules.example.yaml")
    regs = make_registrations(n_regs)
    builds: dict[str, list[tuple[float, float]]] = {"paused": [], "running": []}
    engine = None
    for _ in range(rounds):
        for collector in ("paused", "running"):
            engine = None  # the previous engine is freed first, as a restarting process would
            gc.collect()  # every round starts from the same collector state
            if collector == "paused":
                gc.disable()
            start, cpu = time.perf_counter(), time.process_time()
            engine = Engine(rules, registrations=regs)
            builds[collector].append((time.perf_counter() - start, time.process_time() - cpu))
            gc.enable()
    assert engine is not None
    rng = random.Random(11)
    queries = [variant(rng, rng.choice(regs)) if i % 2 == 0 else miss(rng) for i in range(n_queries)]
    for q in queries[:200]:  # warm up
        engine.decide(q, AS_OF)
    passes = []
    for _ in range(rounds):
        times = []
        for q in queries:
            t0 = time.perf_counter()
            engine.decide(q, AS_OF)
            times.append(time.perf_counter() - t0)
        passes.append(times)
    passes.sort(key=lambda times: pct(times, 50))
    times = passes[len(passes) // 2]  # the median pass
    names = [r.company_name for r in regs]
    naive = []
    for q in queries[:100]:
        t0 = time.perf_counter()
        process.extractOne(q.company_name, names, scorer=fuzz.WRatio)
        naive.append(time.perf_counter() - t0)
    return {
        "builds_s": {k: [wall for wall, _ in v] for k, v in builds.items()},
        "builds_cpu_s": {k: [cpu for _, cpu in v] for k, v in builds.items()},
        "p50s_us": [pct(t, 50) * 1e6 for t in passes],
        "p50_us": pct(times, 50) * 1e6, "p95_us": pct(times, 95) * 1e6, "p99_us": pct(times, 99) * 1e6,
        "max_us": max(times) * 1e6, "mean_us": statistics.fmean(times) * 1e6,
        "hit_p50_us": pct(times[0::2], 50) * 1e6, "miss_p50_us": pct(times[1::2], 50) * 1e6,
        "naive_p50_ms": pct(naive, 50) * 1e3, "n_regs": n_regs, "n_queries": n_queries,
    }


def bench_cli(n_regs: int, n_rows: int, rounds: int) -> dict[str, object]:
    regs = make_registrations(n_regs)
    rng = random.Random(5)
    with tempfile.TemporaryDirectory() as tmp:
        registry = Path(tmp) / "registry.csv"
        with registry.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(REGISTRATION_COLUMNS)
            for r in regs:
                w.writerow(["" if getattr(r, c) is None else getattr(r, c) for c in REGISTRATION_COLUMNS])
        rows = Path(tmp) / "clay.csv"
        with rows.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["Company Name", "Website", "Work Email", "Partner"])
            for i in range(n_rows):
                rec = variant(rng, rng.choice(regs)) if i % 2 == 0 else miss(rng)
                w.writerow([rec.company_name, rec.company_domain, "", ""])
        exe = Path(sys.executable).parent / "dealreg"
        walls, cpus = [], []
        for _ in range(rounds):
            t0, before = time.perf_counter(), _children_cpu()
            subprocess.run([str(exe), "check", str(rows), "--registry", str(registry), "--as-of", "2026-11-20",
                            "-o", str(Path(tmp) / "out.csv")], check=True, stderr=subprocess.DEVNULL)
            walls.append(time.perf_counter() - t0)
            cpus.append(_children_cpu() - before)
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"walls_s": walls, "cpus_s": cpus, "peak_mb": peak_mb, "n_regs": n_regs, "n_rows": n_rows}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def quality() -> tuple[gold.Scores, gold.Scores, int]:
    registry, queries = gold.load()
    return gold.evaluate_dealreg(registry, queries), gold.evaluate_exact(registry, queries), len(queries)


def bench_learned_pairs(n_regs: int, n_pairs: int, n_queries: int) -> dict[str, float]:
    """Decision latency once reviews have taught the matcher `n_pairs` pairs (a year of a partner
    manager's confirmations), each a registration confirmed as the account of another."""
    rules = load_rules(ROOT / "config" / "rules.example.yaml")
    regs = make_registrations(n_regs)
    rng = random.Random(3)
    resolved = {}
    for a, b in (rng.sample(regs[: n_regs // 2], 2) for _ in range(n_pairs)):
        resolved[a.registration_id] = replace(a, reviewed_at=AS_OF - timedelta(days=1), review="confirm",
                                              matched_registration_id=b.registration_id)
    engine = Engine(rules, registrations=[resolved.get(r.registration_id, r) for r in regs])
    queries = [variant(rng, rng.choice(regs)) if i % 2 == 0 else miss(rng) for i in range(n_queries)]
    for q in queries[:200]:
        engine.decide(q, AS_OF)
    times = []
    for q in queries:
        t0 = time.perf_counter()
        engine.decide(q, AS_OF)
        times.append(time.perf_counter() - t0)
    return {"pairs": len(engine.pairs), "p50_us": pct(times, 50) * 1e6, "p99_us": pct(times, 99) * 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--registrations", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=5_000)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3, help="builds, decision passes and CLI runs (default 3)")
    args = parser.parse_args()

    d = bench_decisions(args.registrations, args.queries, args.rounds)
    c = bench_cli(args.registrations, args.rows, args.rounds)
    ours, exact, n = quality()
    taught = bench_learned_pairs(args.registrations, 1_000, args.queries)

    def spread(values: list[float], fmt: str) -> str:
        values = sorted(values)
        return f"{format(statistics.median(values), fmt)} ({', '.join(format(v, fmt) for v in values)})"

    print(f"## Engine ({datetime.now(UTC).date()}, {platform.python_implementation()} {platform.python_version()}, "
          f"{os.cpu_count()} cores; median of {args.rounds} rounds, every round in brackets)\n")
    print("| measure | result | target |\n|---|---|---|")
    for collector, label in (("paused", f"index build, {d['n_regs']:,} registrations, collector paused (as `dealreg check`)"),
                             ("running", "… with the collector running (as a server)")):
        print(f"| {label} | {spread(d['builds_s'][collector], '.2f')} s; CPU "
              f"{statistics.median(d['builds_cpu_s'][collector]):.2f} s | {'≤ 1 s' if collector == 'paused' else ''} |")
    print(f"| one decision, p50 ({d['n_queries']:,} queries, half hits) | {spread(d['p50s_us'], '.0f')} µs | ≤ 50 µs |")
    print(f"| … p50 of the hits / of the misses (median round) | {d['hit_p50_us']:.0f} / {d['miss_p50_us']:.0f} µs | |")
    print(f"| one decision, p95 / p99 / max (median round) | {d['p95_us']:.0f} / {d['p99_us']:.0f} / {d['max_us']:.0f} µs "
          f"| p99 ≤ 2 ms |")
    print(f"| … with {taught['pairs']:,.0f} pairs learned in review, p50 / p99 | {taught['p50_us']:.0f} / "
          f"{taught['p99_us']:.0f} µs | p99 ≤ 2 ms |")
    print(f"| naive baseline: extractOne(WRatio) over all names, p50 | {d['naive_p50_ms']:.1f} ms | |")
    print(f"| naive / ours (p50) | {d['naive_p50_ms'] * 1e3 / d['p50_us']:.0f}× | |")
    print(f"| `dealreg check` {c['n_rows']:,} rows vs {c['n_regs']:,} registrations, wall incl. start-up | "
          f"{spread(c['walls_s'], '.1f')} s; CPU {statistics.median(c['cpus_s']):.1f} s | ≤ 10 s |")
    print(f"| … peak memory (max RSS) | {c['peak_mb']:.0f} MB | ≤ 500 MB |")
    print(f"\n## Matching quality on the labelled set ({n} queries)\n")
    print("| matcher | precision of automatic matches | recall of automatic matches | sent to review |\n|---|---|---|---|")
    for label, s in (("dealreg", ours), ("exact string (name or website)", exact)):
        print(f"| {label} | {s.precision:.2%} | {s.recall:.2%} | {s.possible_rate:.2%} |")
    registry, queries = gold.load()
    kinds = sorted({q["kind"] for q in queries if q["expected_registration_id"]})
    print("\nRecall of automatic matches by kind of positive (the hard tail shows here):\n")
    print("| kind | positives | matched automatically | sent to review | missed |\n|---|---|---|---|---|")
    for kind in kinds:
        n = sum(1 for q in queries if q["kind"] == kind)
        review = sum(1 for m in ours.misses if m[1] == kind and m[2] == "sent to review")
        missed = sum(1 for m in ours.misses if m[1] == kind and m[2] == "missed")
        print(f"| {kind} | {n} | {n - review - missed} | {review} | {missed} |")
    negatives = [q for q in queries if not q["expected_registration_id"]]
    wrong = sum(1 for m in ours.misses if m[2].startswith("wrong"))
    print(f"\nNegatives: {len(negatives)} queries ({sum(1 for q in negatives if q['kind'] == 'hard_negative')} hard, "
          f"{sum(1 for q in negatives if q['kind'] == 'same_name_other_domain')} same name with another domain); "
          f"wrong automatic matches: {wrong}.")


if __name__ == "__main__":
    main()
