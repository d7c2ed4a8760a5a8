"""The report page in a real headless Chromium (the OS package, driven by tools/chromium.py): it
loads offline with no console error and no request, every chart draws, and every chart's data
is what the store holds, counted here straight from the SQLite tables with SQL (another way
than dealreg/report.py counts them).

Skipped, saying why, where no Chromium is installed; `make test` installs it (Debian: chromium)."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from datetime import datetime, timedelta

import pytest

from dealreg.replay import replay
from handlers.history import load_history
from handlers.report_page import report_page
from integrations.sqlite import SQLiteStore
from tests.handlers.report_support import example_rules, rules_with
from tools.chromium import Chromium, find_chromium
from tools.demo_history import AS_OF, example_history

pytestmark = pytest.mark.skipif(find_chromium() is None, reason="no Chromium on this machine: apt-get install "
                                                                "chromium (make test does), or set CHROMIUM")

CHARTS = """(() => Object.fromEntries(Array.from(document.querySelectorAll('canvas')).map(canvas => {
  const chart = Chart.getChart(canvas);
  const ctx = canvas.getContext('2d'), pixels = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  let inked = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) inked++;
  return [canvas.id.replace('chart-', ''), {
    labels: chart.data.labels,
    datasets: chart.data.datasets.map((d, i) => ({label: d.label, data: d.data,
      drawn: chart.getDatasetMeta(i).data.length, visible: chart.isDatasetVisible(i)})),
    inked: inked, width: canvas.width, height: canvas.height}];
})))()"""


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """The example history in SQLite, the page with the replay section, and what Chromium made of it."""
    folder = tmp_path_factory.mktemp("report")
    store = SQLiteStore(folder / "dealreg.db")
    example_history(store)
    new_rules = rules_with(folder / "new", "threshold: 100000", "threshold: 150000")
    from config.rules import load_rules

    page = folder / "report.html"
    page.write_text(report_page(store, example_rules(), as_of=AS_OF, new_rules=load_rules(new_rules)),
                    encoding="utf-8")
    result = replay(load_history(store), example_rules(), load_rules(new_rules))
    with Chromium() as browser:
        tab = browser.open(page.as_uri(), width=1280, height=900)
        charts = tab.evaluate(CHARTS)
        errors, requests = tab.console_errors(), tab.requests()
        figures = tab.evaluate("Array.from(document.querySelectorAll('[data-figure]')).map(e => e.dataset.figure)")
        header = tab.evaluate("[document.getElementById('as-of').textContent, "
                              "document.getElementById('rules-hash').title, document.getElementById('rules-hash').textContent]")
        tables = tab.evaluate("Array.from(document.querySelectorAll('[data-figure]')).map(e => "
                              "[e.dataset.figure, e.querySelectorAll('table').length])")
    store.close()
    return {"db": folder / "dealreg.db", "charts": charts, "errors": errors, "requests": requests,
            "figures": figures, "header": header, "tables": dict(tables), "replay": result}


def sql(db, query, *args):
    with sqlite3.connect(db) as conn:
        return conn.execute(query, args).fetchall()


def plotted(chart) -> dict[tuple[str, str], float]:
    """{(label, dataset): value} of every bar or point drawn, zeros and gaps left out."""
    out = {}
    for dataset in chart["datasets"]:
        for label, value in zip(chart["labels"], dataset["data"]):
            if value:
                out[(label, dataset["label"])] = value
    return out


def test_the_page_loads_offline_with_no_console_error_and_asks_for_nothing(example):
    assert example["errors"] == []
    assert example["requests"] == [example["requests"][0]] and example["requests"][0].startswith("file://")


def test_every_chart_draws(example):
    charts = example["charts"]
    assert set(charts) == {"registrations-1", "registrations-2", "registrations-3", "registrations-4", "conflicts",
                           "pipeline", "activation", "expiry", "win-rate", "review-queue", "sent-to-review", "replay"}
    for key, chart in charts.items():
        assert chart["width"] > 300 and chart["height"] > 100, key
        assert chart["inked"] > 2000, f"{key}: the canvas is (nearly) blank"
        for dataset in chart["datasets"]:
            assert dataset["visible"] and dataset["drawn"] == len(chart["labels"]), (key, dataset["label"])


def test_every_figure_has_a_table_and_the_page_names_the_time_and_the_rules(example):
    assert all(n >= 1 for key, n in example["tables"].items() if key != "sent-to-review" or n), example["tables"]
    assert all(example["tables"][key] >= 1 for key in example["charts"])
    assert example["header"] == ["2026-11-20 09:00 UTC", "sha256 of the rules file and the CSV files it reads",
                                 example_rules().rules_hash[:12]]


def test_registrations_per_party_per_month_by_status(example):
    db, charts = example["db"], example["charts"]
    parties = ["Northwind Partners", "Contoso Consulting", "Fabrikam Solutions", "direct"]  # the Partners list, then direct
    for n, party in enumerate(parties, start=1):
        expected = {(month, status): float(count) for month, status, count in sql(
            db, "SELECT substr(submitted_at, 1, 7), status, count(*) FROM registrations WHERE partner = ? "
                "GROUP BY 1, 2", party)}
        assert plotted(charts[f"registrations-{n}"]) == expected, party


def test_conflicts_by_rule_and_the_conflict_rate(example):
    db, chart = example["db"], example["charts"]["conflicts"]
    expected = {(m, rule): float(n) for m, rule, n in sql(
        db, "SELECT substr(submitted_at, 1, 7), rule, count(*) FROM registrations WHERE status = 'conflict' GROUP BY 1, 2")}
    for m, decided, found in sql(db, "SELECT substr(submitted_at, 1, 7), count(*), sum(status = 'conflict') FROM "
                                     "registrations WHERE status <> 'rejected' GROUP BY 1"):
        if found:
            expected[(m, "conflict rate")] = round(100 * found / decided, 1)
    assert plotted(chart) == expected
    rate = chart["datasets"][-1]["data"]
    assert rate[chart["labels"].index("2026-06")] is None  # a month without registrations has no rate, not 0 %


def test_pipeline_counts_each_account_once_at_its_owners_deal_value(example):
    db, chart = example["db"], example["charts"]["pipeline"]
    rows = sql(db, "SELECT registration_id, attribution_primary, attribution_secondary, currency, state, deal_value, "
                   "matched_registration_id FROM registrations WHERE partner = owner AND status IN ('clear', 'conflict') "
                   "AND state NOT IN ('lost', 'withdrawn', 'rejected') AND deal_value <> ''")
    influenced = {m for (m,) in sql(db, "SELECT matched_registration_id FROM registrations WHERE "
                                        "attribution_secondary = 'partner-influenced'")}
    expected: dict[tuple[str, str], float] = defaultdict(float)
    for rid, primary, secondary, currency, state, value, _ in rows:
        kind = ("partner-sourced" if primary == "partner-sourced" else
                "partner-influenced" if secondary == "partner-influenced" or rid in influenced else "direct")
        expected[(kind, f"{currency} {'won' if state == 'won' else 'open'}")] += float(value)
    assert plotted(chart) == dict(expected)
    # by hand: direct's Celonis deal (R-1001, 90,000 EUR) is the partner-influenced pipeline (Contoso lost it)
    assert plotted(chart)[("partner-influenced", "EUR open")] == 90000


def test_activation_days_from_joining_to_the_first_registration(example):
    db, chart = example["db"], example["charts"]["activation"]
    expected = {}
    for partner, joined, first in sql(db, "SELECT p.partner, p.joined_at, min(r.submitted_at) FROM partners p "
                                          "LEFT JOIN registrations r ON r.partner = p.partner AND r.status <> 'rejected' "
                                          "GROUP BY p.partner"):
        days = (datetime.fromisoformat(first) - datetime.fromisoformat(joined + "T00:00:00+00:00")).days
        expected[(partner, "first registration within 90 days" if days <= 90 else "first registration after 90 days")] = days
    assert plotted(chart) == expected == {("Northwind Partners", "first registration within 90 days"): 25,
                                          ("Contoso Consulting", "first registration within 90 days"): 75,
                                          ("Fabrikam Solutions", "first registration after 90 days"): 92}


def test_open_claims_by_expiry(example):
    db, chart = example["db"], example["charts"]["expiry"]
    expected: dict[tuple[str, str], float] = defaultdict(float)
    for partner, submitted, expires in sql(db, "SELECT partner, submitted_at, expires_at FROM registrations WHERE "
                                               "state NOT IN ('won', 'lost', 'withdrawn', 'rejected') AND status <> 'rejected'"):
        end = datetime.fromisoformat(expires) if expires else datetime.fromisoformat(submitted) + timedelta(days=90)
        kind = "expired" if end <= AS_OF else "expiring within 14 days" if end <= AS_OF + timedelta(days=14) else "active"
        expected[(partner, kind)] += 1
    assert plotted(chart) == dict(expected)
    assert plotted(chart)[("Northwind Partners", "expiring within 14 days")] == 1  # R-0001 ends on 2026-12-01


def test_win_rate_where_outcomes_are_known(example):
    db, chart = example["db"], example["charts"]["win-rate"]
    rows = sql(db, "SELECT partner, sum(state = 'won'), sum(state = 'lost') FROM registrations GROUP BY partner "
                   "HAVING sum(state IN ('won', 'lost')) > 0")
    expected = {(p, "win rate"): round(100 * won / (won + lost), 1) for p, won, lost in rows if won}
    assert plotted(chart) == expected
    assert set(chart["labels"]) == {p for p, _, _ in rows}  # a 0 % party is on the chart too


def test_the_review_queue_by_age(example):
    db, chart = example["db"], example["charts"]["review-queue"]
    [(rid, decided)] = sql(db, "SELECT r.registration_id, min(e.decided_at) FROM registrations r JOIN decision_events e "
                               "ON e.registration_id = r.registration_id AND e.action = 'register' "
                               "WHERE r.status = 'needs_review' GROUP BY r.registration_id")
    waited = (AS_OF - datetime.fromisoformat(decided)).days
    assert (rid, waited) == ("R-1006", 14)  # 14 days and 23 hours: the "2-4 weeks" bar
    assert plotted(chart) == {("2-4 weeks", "registrations"): 1}


def test_what_the_matcher_sent_to_review(example):
    db, chart = example["db"], example["charts"]["sent-to-review"]
    expected = {}
    for m, total, review, possible in sql(db, "SELECT substr(decided_at, 1, 7), count(*), sum(status = 'needs_review'), "
                                              "sum(status = 'needs_review' AND match = 'possible' AND rule <> 'quarantine') "
                                              "FROM decision_events GROUP BY 1"):
        if possible:
            expected[(m, "possible match")] = possible
        if review:
            expected[(m, "share of decisions")] = round(100 * review / total, 1)
    assert plotted(chart) == expected == {("2026-11", "possible match"): 2, ("2026-11", "share of decisions"): 20.0}


def test_the_replay_section_draws_the_replay(example):
    chart, result = example["charts"]["replay"], example["replay"]
    expected = {}
    for party, (gained, lost) in result.parties.items():
        if gained:
            expected[(party, "gained")] = gained
        if lost:
            expected[(party, "lost")] = -lost
    assert plotted(chart) == expected == {("Contoso Consulting", "gained"): 2, ("direct", "lost"): -2}
