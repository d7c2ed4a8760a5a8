"""Helpers for the report and replay tests: the example history in a store, and rules files that
differ from the example rules in one place."""

from __future__ import annotations

import shutil
from pathlib import Path

from config.rules import load_rules
from dealreg.rules import RuleSet
from tools.demo_history import EXAMPLE_RULES

EXAMPLES = EXAMPLE_RULES.parent


def example_rules() -> RuleSet:
    return load_rules(EXAMPLE_RULES)


def rules_with(folder: Path, old: str, new: str, name: str = "new.yaml") -> Path:
    """A copy of examples/rules.yaml (with the CSV files it reads) with `old` replaced by `new`."""
    text = EXAMPLE_RULES.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {EXAMPLE_RULES}"
    folder.mkdir(parents=True, exist_ok=True)
    for csv in ("partners.csv", "named_accounts.csv", "territories.csv"):
        shutil.copy(EXAMPLES / csv, folder / csv)
    path = folder / name
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path
