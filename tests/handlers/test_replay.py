"""`dealreg replay`: the stored history re-decided with another rules file, writing nothing.
Runs on both stores (the example history sent through the service: tools/demo_history.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from config.rules import load_rules
from dealreg.replay import replay
from handlers.cli import main
from handlers.history import load_history
from tests.handlers.report_support import example_rules, rules_with
from tests.handlers.support import store_environment
from tools.demo_history import EXAMPLE_RULES, example_history


@pytest.fixture
def history(store):
    example_history(store)
    return load_history(store)


def test_the_example_rules_replay_the_example_history_exactly(history):
    result = replay(history, example_rules(), example_rules())
    assert result.changes == ()
    assert result.drift == ()  # the run with the rules in use gives what every row records
    assert (result.replayed, result.rejected, result.kept) == (16, 1, 0)
    assert result.statuses == {"clear": (8, 8), "duplicate": (2, 2), "conflict": (5, 5), "needs_review": (1, 1),
                               "rejected": (0, 0)}


def test_raising_the_deal_size_threshold_gives_celonis_back_to_contoso_and_nothing_else(history, tmp_path):
    new = load_rules(rules_with(tmp_path, "threshold: 100000", "threshold: 150000"))
    result = replay(history, example_rules(), new)
    # Celonis: Contoso's R-0002 (120,000) and direct's R-1001 (90,000) are both under 150,000, so the first to
    # register (Contoso) keeps it. Canva (direct's R-0005, 250,000) is settled by Fabrikam's territory first.
    assert {c.registration_id: (c.old.status, c.old.owner, c.new.status, c.new.owner, c.new.rule)
            for c in result.changes} == {
        "R-0002": ("conflict", "direct", "clear", "Contoso Consulting", "no_match"),
        "R-1001": ("conflict", "direct", "conflict", "Contoso Consulting", "first_to_register"),
    }
    r1001 = next(c for c in result.changes if c.registration_id == "R-1001")
    assert (r1001.new.attribution_primary, r1001.new.attribution_secondary) == ("partner-sourced", "direct")
    assert result.conflicts == (5, 4)
    assert result.parties == {"Contoso Consulting": (2, 0), "direct": (0, 2)}


def test_lowering_the_threshold_changes_nothing_the_earlier_rules_settle(history, tmp_path):
    new = load_rules(rules_with(tmp_path, "threshold: 100000", "threshold: 30000"))
    assert replay(history, example_rules(), new).changes == ()


def test_since_keeps_what_arrived_before_it_as_on_file(history, tmp_path):
    new = load_rules(rules_with(tmp_path, "threshold: 100000", "threshold: 150000"))
    result = replay(history, example_rules(), new, since=datetime(2026, 10, 21, tzinfo=UTC))
    assert result.changes == ()  # R-1001 arrived on 2026-10-20: kept, and so is the owner it gave Celonis
    assert (result.kept, result.replayed, result.rejected) == (7, 9, 1)


def test_a_new_territory_gives_its_partner_the_accounts_it_settles(history, tmp_path):
    path = rules_with(tmp_path, "threshold: 100000", "threshold: 100000")
    with (tmp_path / "territories.csv").open("a", encoding="utf-8") as territories:
        territories.write("Contoso Consulting,DE,,,,\n")  # the rules file's territories: Contoso designated for DE
    result = replay(history, example_rules(), load_rules(path))
    # partner_territory comes before direct_above_deal_size: Celonis (DE) goes to Contoso, and so would
    # Personio SE (DE), which stays in review (a possible match is never acted on)
    assert {c.registration_id: (c.old.status, c.old.owner, c.new.status, c.new.owner, c.new.rule)
            for c in result.changes} == {
        "R-0002": ("conflict", "direct", "clear", "Contoso Consulting", "no_match"),
        "R-1001": ("conflict", "direct", "conflict", "Contoso Consulting", "partner_territory"),
        "R-1006": ("needs_review", "Northwind Partners", "needs_review", "Contoso Consulting", "partner_territory"),
    }


def test_the_command_prints_the_changes_and_writes_nothing(store, cli_env, tmp_path):
    example_history(store)
    before = {table: list(store.read_rows(table)) for table in ("registrations", "decisions")}
    new = rules_with(tmp_path / "new", "threshold: 100000", "threshold: 150000")
    result = CliRunner(env=cli_env).invoke(main, ["replay", "--rules", str(new)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["registration", "arrived", "party", "company"]
    assert [line.split()[0] for line in lines[1:3]] == ["R-0002", "R-1001"]
    assert "conflict -> clear" in lines[1] and "direct -> Contoso Consulting" in lines[1]
    assert "owner changes (registrations): Contoso Consulting +2 -0; direct +0 -2" in result.stdout
    assert "16 registrations re-decided" in result.stderr and "2 would change; conflicts 5 -> 4" in result.stderr
    csv = CliRunner(env=cli_env).invoke(main, ["replay", "--rules", str(new), "--format", "csv"])
    assert csv.stdout.splitlines()[0].startswith("registration_id,arrived_at,party,company,status,new_status")
    assert len(csv.stdout.splitlines()) == 3
    after = {table: list(store.read_rows(table)) for table in ("registrations", "decisions")}
    assert after == before


def test_a_bad_rules_file_is_refused_naming_it(store, cli_env, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - direct_above_deal_size: {threshold: -1}\n", encoding="utf-8")
    result = CliRunner(env=cli_env).invoke(main, ["replay", "--rules", str(bad)])
    assert result.exit_code == 2
    assert "--rules:" in result.output and "threshold: must be a positive number" in result.output


@pytest.fixture
def cli_env(backend, settings, request) -> dict[str, str]:
    """DEALREG_* variables that point a CLI run at this test's store."""
    if backend == "sqlite":
        return {"DEALREG_DB": str(settings.db), "DEALREG_RULES": str(EXAMPLE_RULES)}
    return {**store_environment(backend, request), "DEALREG_RULES": str(EXAMPLE_RULES)}
