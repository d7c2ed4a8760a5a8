"""`dealreg report` and `GET /report`: the channel report page from the store, on both stores.
(The page in a real browser, and every chart's data against the store: test_report_browser.py.)"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from dealreg.history import History, Logged, Partner
from dealreg.models import Registration
from dealreg.report import build_report
from handlers.cli import main
from handlers.history import load_history
from handlers.report_page import render, report_page
from tests.handlers.report_support import example_rules, rules_with
from tests.handlers.support import AUTH, store_environment
from tools.chromium import Chromium, find_chromium
from tools.demo_history import AS_OF, EXAMPLE_RULES, example_history


@pytest.fixture
def cli_env(backend, settings, request) -> dict[str, str]:
    if backend == "sqlite":
        return {"DEALREG_DB": str(settings.db), "DEALREG_RULES": str(EXAMPLE_RULES)}
    return {**store_environment(backend, request), "DEALREG_RULES": str(EXAMPLE_RULES)}


def test_the_report_reads_the_same_history_from_either_store(store):
    example_history(store)
    history = load_history(store)
    report = build_report(history, as_of=AS_OF, rules_hash="h", protection_days=90)
    assert [(h.label, h.value, h.detail) for h in report.headlines] == [
        ("registrations", "17", "11 open"),
        ("conflict rate", "31.2%", "5 of 16 decided"),
        ("review queue", "1", "oldest 15.0 days"),
        ("activated in 90 days", "2 of 3", "partners with a joined date"),
    ]
    assert [p.joined_at.date().isoformat() for p in history.partners if p.joined_at] == [
        "2026-04-15", "2026-06-01", "2026-07-01"]
    assert len(history.decisions) == 14  # 11 registrations and 3 checks


def test_the_command_writes_one_page_with_the_time_and_the_rules_hash(store, cli_env, tmp_path):
    example_history(store)
    out = tmp_path / "report.html"
    result = CliRunner(env=cli_env).invoke(main, ["report", "-o", str(out), "--as-of", "2026-11-20T09:00:00Z"])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    rules_hash = example_rules().rules_hash
    assert f"rules {rules_hash[:12]}" in result.stderr and "as of 2026-11-20 09:00 UTC" in result.stderr
    assert 'id="as-of">2026-11-20 09:00 UTC<' in page and f">{rules_hash[:12]}</code>" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing to fetch: it opens offline
    assert "Chart.js v4.6.2" in page and "Released under the MIT License" in page  # inlined, with its licence line
    assert 'id="replay"' not in page
    with_replay = CliRunner(env=cli_env).invoke(main, [
        "report", "-o", "-", "--as-of", "2026-11-20T09:00:00Z",
        "--replay", str(rules_with(tmp_path / "new", "threshold: 100000", "threshold: 150000"))])
    assert with_replay.exit_code == 0, with_replay.output
    assert 'id="replay"' in with_replay.stdout and "2 would change" in with_replay.stdout


def test_since_without_replay_and_a_bad_date_are_refused(store, cli_env):
    runner = CliRunner(env=cli_env)
    result = runner.invoke(main, ["report", "--since", "2026-10-01"])
    assert result.exit_code == 2 and "--since goes with --replay NEW.yaml" in result.output
    result = runner.invoke(main, ["report", "--as-of", "next week"])
    assert result.exit_code == 2 and "--as-of: 'next week' is not a date" in result.output


def test_the_route_needs_the_api_key_and_serves_the_same_page(settings, store):
    from handlers.app import create_app

    example_history(store)
    app = create_app(settings.model_copy(update={"rules": EXAMPLE_RULES}), store, clock=lambda: AS_OF)
    client = app.test_client()
    assert client.get("/report").status_code == 401
    assert client.get("/report", headers={"Authorization": "Bearer wrong"}).status_code == 401
    response = client.get("/report", headers=AUTH)
    assert response.status_code == 200
    assert response.mimetype == "text/html" and response.headers["Cache-Control"] == "no-store"
    expected = report_page(store, example_rules(), as_of=AS_OF)
    assert response.get_data(as_text=True) == expected
    assert "17 registrations" in expected


def test_an_empty_store_gives_a_page_that_says_so(store):
    page = report_page(store, example_rules(), as_of=AS_OF)
    assert "No registrations on file yet." in page and "No decision events on file yet." in page


def test_currencies_are_never_added_together_and_duplicates_count_once():
    at = datetime(2026, 9, 1, tzinfo=UTC)

    def reg(rid: str, party: str, value: float, currency: str, status: str = "clear", **more: str) -> Registration:
        return Registration(rid, at, party, company_name=rid, deal_value=value, currency=currency, owner=party,
                            status=status, attribution_primary="partner-sourced", **more)

    history = History((reg("A", "P", 100.0, "EUR"), reg("B", "P", 50.0, "usd"), reg("C", "P", 70.0, "EUR",
                       status="duplicate"), reg("D", "P", 30.0, "EUR", state="won")), (), (Partner("P"),))
    pipeline = next(f for f in build_report(history, as_of=at, rules_hash="h", protection_days=90).figures
                    if f.key == "pipeline")
    assert {s.name: s.values[0] for s in pipeline.series} == {"EUR open": 100.0, "EUR won": 30.0, "USD open": 50.0}


def test_decisions_made_under_other_rules_are_named():
    at = datetime(2026, 9, 1, tzinfo=UTC)
    history = History((), (Logged(at, "check", "direct", "clear", "none", "no_match", "", "oldhash0000000"),), ())
    report = build_report(history, as_of=at, rules_hash="newhash000000", protection_days=90)
    assert report.notes == ("1 of the 1 decisions were made under other rules files (oldhash00000) than this "
                            "report's newhash00000.",)


@pytest.mark.skipif(find_chromium() is None, reason="no Chromium on this machine: apt-get install chromium")
def test_text_from_a_form_is_shown_as_text_and_never_runs(store, tmp_path):
    from tools.demo_history import Arrival, send
    from dealreg.models import Record

    example_history(store)
    hostile = '</script><script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'
    send(store, example_rules(), [Arrival(datetime(2026, 11, 19, 12, tzinfo=UTC), "register", Record(
        company_name=hostile, company_domain="hostile-corp.de", contact_email="a@hostile-corp.de",
        partner="Northwind Partners", source="api",
        submitted_at=datetime(2026, 8, 25, tzinfo=UTC)), "R-6666")])  # ends 2026-11-23: in the expiring table
    page = tmp_path / "report.html"
    page.write_text(report_page(store, example_rules(), as_of=AS_OF), encoding="utf-8")
    with Chromium() as browser:
        tab = browser.open(page.as_uri())
        assert tab.evaluate("window.pwned === undefined") is True
        assert tab.console_errors() == []
        assert tab.evaluate("document.body.textContent").count(hostile) >= 1
        assert tab.evaluate("document.querySelectorAll('img').length") == 0
    assert render  # the page's own renderer is what report_page used
