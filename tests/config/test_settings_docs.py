"""Docs that tests keep true: the README's configuration table lists every setting, and nothing
that is not one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
TABLE = README[README.index("## Configuration"):]
TABLE = TABLE[:TABLE.index("\n## ")]


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_in_the_readme_table(name):
    assert f"| `DEALREG_{name.upper()}` |" in TABLE


def test_every_variable_of_the_readme_table_is_a_setting():
    """A row for a variable that nothing reads (a setting renamed or removed) sends a user to set it in vain."""
    documented = re.findall(r"^\| `DEALREG_([A-Z0-9_]+)` \|", TABLE, re.M)
    assert documented, "the configuration table has no rows"
    assert sorted(name.lower() for name in documented) == sorted(Settings.model_fields)
