"""Docs that tests keep true: every setting is in the README's configuration table."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_in_the_readme_table(name):
    assert f"| `DEALREG_{name.upper()}` |" in README
