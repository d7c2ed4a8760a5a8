"""Matching quality per kind (issue 12): dealreg's matcher beside a peer baseline, on the extended
labelled set (tests/data/matching: registry.csv + registry_ext.csv, queries_ext.csv, aliases.csv).
Prints markdown for bench/RESULTS.md.

    .venv/bin/python bench/bench_matching.py [--examples 10]

The peer (bench/peer_matcher.py) needs the dev requirements: .venv/bin/pip install -r requirements-dev.txt.
Both are scored on what the decision answers (SPEC "Decision fields"), as of the set's date. Nothing
here is a test: the floors come with the matcher work.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.peer_matcher import PeerMatcher, cross_validated, half  # noqa: E402
from tests.core import gold  # noqa: E402

TARGETS = "≥ 99.5% | ≥ 95% | ≥ 90% | ≥ 98% | ≤ 5% | "


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def overall_row(name: str, s: gold.KindScores) -> str:
    return (f"| {name} | {pct(s.precision)} | {pct(s.recall)} | {pct(s.recall_name_only)} | "
            f"{pct(s.recall_with_review)} | {pct(s.queue_rate)} | {pct(s.review_rate)} |")


def dnb_scores(*sets: gold.ExtendedSet) -> list[gold.KindScores]:
    """DNB's `name_matching` as a second peer, on each set, where it is installed (bench/peer_dnb.py
    says how: it brings pandas and scikit-learn, so it is no dependency of the project)."""
    try:
        from bench.peer_dnb import DNBPeer
    except ImportError:
        print("(DNB's name_matching is not installed: its row is left out; see bench/peer_dnb.py)", file=sys.stderr)
        return []
    return [gold.score_extended(s.queries, cross_validated(DNBPeer(s.registry, s.aliases, gold.AS_OF, s.queries),
                                                           s.queries)[0])["all"] for s in sets]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=0, help="list up to N records dealreg gets wrong, per kind")
    args = parser.parse_args()

    data = gold.load_extended()
    started = time.perf_counter()
    decide = gold.decide_dealreg(data.registry, data.aliases)
    our_outcomes = [decide(q) for q in data.queries]
    ours = gold.score_extended(data.queries, our_outcomes)
    halves = [gold.score_extended([q for q in data.queries if half(q["query_id"]) == h],
                                  [o for q, o in zip(data.queries, our_outcomes) if half(q["query_id"]) == h])["all"]
              for h in (0, 1)]
    peer_outcomes, chosen = cross_validated(PeerMatcher(data.registry, data.aliases, gold.AS_OF), data.queries)
    peer = gold.score_extended(data.queries, peer_outcomes)
    # the same peer without the alias table: what string matching alone finds of the renames
    bare_outcomes, _ = cross_validated(PeerMatcher(data.registry, [], gold.AS_OF), data.queries)
    bare = gold.score_extended(data.queries, bare_outcomes)
    old_registry, old_queries = gold.load()
    old = gold.evaluate_dealreg(old_registry, old_queries)
    fresh_data = gold.load_fresh()
    decide_fresh = gold.decide_dealreg(fresh_data.registry, fresh_data.aliases)
    fresh_outcomes = [decide_fresh(q) for q in fresh_data.queries]
    fresh = gold.score_extended(fresh_data.queries, fresh_outcomes)
    fresh_halves = [gold.score_extended([q for q in fresh_data.queries if half(q["query_id"]) == h],
                                        [o for q, o in zip(fresh_data.queries, fresh_outcomes)
                                         if half(q["query_id"]) == h])["all"] for h in (0, 1)]
    fresh_peer_outcomes, _ = cross_validated(PeerMatcher(fresh_data.registry, fresh_data.aliases, gold.AS_OF),
                                             fresh_data.queries)
    fresh_peer = gold.score_extended(fresh_data.queries, fresh_peer_outcomes)
    dnb = dnb_scores(data, fresh_data)
    seconds = time.perf_counter() - started

    positives = [q for q in data.queries if q["expected_registration_id"]]
    print(f"### Matching per kind, dealreg and a peer ({date.today().isoformat()})\n")
    print(f"`.venv/bin/python bench/bench_matching.py` (Python "
          f"{platform.python_version()}, {platform.machine()}, {seconds:.0f} s). Extended set: "
          f"{len(data.registry)} registrations ({len(data.registry) - len(old_registry)} new, with dates), "
          f"{len(data.queries)} queries ({len(positives)} positives, "
          f"{sum(map(gold.name_only, positives))} of them name-only), {len(data.aliases)} aliases, as of "
          f"{gold.AS_OF.date().isoformat()}. Peer thresholds, tuned on the other half of the queries: "
          + "; ".join(f"{t.scorer} match at {t.auto_at}, review from {t.review_at}" for t in chosen) + ".\n")
    print("| matcher | automatic precision | automatic recall | … name-only | recall incl. review | sent to review "
          "(`needs_review`) | answered `possible` |")
    print("|---|---|---|---|---|---|---|")
    print(overall_row("dealreg", ours["all"]))
    print(overall_row("peer: cleanco + rapidfuzz, same domain/LinkedIn keys, the alias table", peer["all"]))
    print(overall_row(f"the same peer without the alias table (brand_former {pct(bare['brand_former'].recall)})",
                      bare["all"]))
    if dnb:
        print(overall_row("peer: DNB `name_matching` 0.9.22 (defaults), same keys, the alias table", dnb[0]))
    print(f"| issue 12's targets | {TARGETS} |")
    fresh_positives = [q for q in fresh_data.queries if q["expected_registration_id"]]
    print(f"\nThe fresh set, held out ({len(fresh_data.queries)} queries, {len(fresh_positives)} positives, "
          f"{sum(map(gold.name_only, fresh_positives))} of them name-only, against these registrations and "
          f"{len(fresh_data.registry) - len(data.registry)} fresh ones; tests/data/matching/README.md):\n")
    print("| matcher | automatic precision | automatic recall | … name-only | recall incl. review | sent to review "
          "(`needs_review`) | answered `possible` |")
    print("|---|---|---|---|---|---|---|")
    print(overall_row("dealreg", fresh["all"]))
    print(overall_row("… half 0 (read for two fixes)", fresh_halves[0]))
    print(overall_row("… half 1 (never read for a rule)", fresh_halves[1]))
    print(overall_row("peer: cleanco + rapidfuzz, same keys, the alias table", fresh_peer["all"]))
    if dnb:
        print(overall_row("peer: DNB `name_matching` (defaults), same keys, the alias table", dnb[1]))
    print("\ndealreg on each half of the extended set's queries (the peer's split): the first rules were "
          "written reading the misses of half 0, the weak-name and division rules reading both.\n")
    print("| half | queries | automatic precision | automatic recall | … name-only | recall incl. review | sent to review |")
    print("|---|---|---|---|---|---|---|")
    for h, s in enumerate(halves):
        print(f"| {h} ({'tuning' if h == 0 else 'held out'}) | {s.queries} | {pct(s.precision)} | {pct(s.recall)} | "
              f"{pct(s.recall_name_only)} | {pct(s.recall_with_review)} | {pct(s.queue_rate)} |")
    print(f"\nThe first set (1478 queries, registry.csv only): precision {pct(old.precision)}, "
          f"recall {pct(old.recall)}, sent to review {pct(old.possible_rate)}.\n")

    print("Per kind of positive (automatic recall / name-only / including review; sent to review):\n")
    print("| kind | positives (name-only) | dealreg | peer |")
    print("|---|---|---|---|")
    for kind in gold.POSITIVE_KINDS:
        a, b = ours[kind], peer[kind]
        print(f"| {kind} | {a.positives} ({a.name_only}) | "
              f"{pct(a.recall)} / {pct(a.recall_name_only)} / {pct(a.recall_with_review)}; {pct(a.queue_rate)} | "
              f"{pct(b.recall)} / {pct(b.recall_name_only)} / {pct(b.recall_with_review)}; {pct(b.queue_rate)} |")
    print("\nHard negatives, by the kind whose rule they guard (wrong automatic matches; sent to review):\n")
    print("| guards | queries | dealreg | peer |")
    print("|---|---|---|---|")
    for kind in gold.POSITIVE_KINDS:
        a, b = ours.get(f"hard_negative:{kind}"), peer.get(f"hard_negative:{kind}")
        if a is None or b is None:
            continue
        print(f"| {kind} | {a.queries} | {a.wrong_pairs}; {a.queued} | {b.wrong_pairs}; {b.queued} |")
    a, b = ours.get("negative"), peer.get("negative")
    if a is not None and b is not None:
        print(f"| (plain negatives) | {a.queries} | {a.wrong_pairs}; {a.queued} | {b.wrong_pairs}; {b.queued} |")

    if args.examples:
        print(f"\nRecords dealreg gets wrong, up to {args.examples} per kind:\n")
        for kind in gold.POSITIVE_KINDS:
            for group in (kind, f"hard_negative:{kind}"):
                shown = ours.get(group)
                if shown is None or not shown.examples:
                    continue
                print(f"- **{group}** ({len(shown.examples)}):")
                for qid, record, what in shown.examples[: args.examples]:
                    print(f"  - {qid} `{record}`: {what}")


if __name__ == "__main__":
    main()
