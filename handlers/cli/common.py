"""What every `dealreg` command shares: the exit-code-2 problem, the settings, the store.

Settings come from the environment (`DEALREG_*`, a `.env` file), read once per command here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from dealreg.errors import DealregError, StoreUnavailable

if TYPE_CHECKING:
    from config.settings import Settings
    from integrations.sheets import SheetsStore
    from integrations.store import Store


class UsageProblem(click.ClickException):
    """Something the user must fix (a setting, a file, a column, an option): exit code 2."""

    exit_code = 2


def load_settings(sheet: str | None = None) -> Settings:
    """The settings, or a UsageProblem naming the bad variable. `sheet` (a command's `--sheet`)
    wins over DEALREG_SHEET_ID."""
    from pydantic import ValidationError

    from config.settings import Settings

    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        raise UsageProblem(f"DEALREG_{'_'.join(str(p) for p in first['loc']).upper()}: {first['msg']}") from None
    return settings.model_copy(update={"sheet_id": sheet}) if sheet else settings


def open_store(settings: Settings) -> Store:
    """The store DEALREG_STORE names; a setting it cannot use is a UsageProblem naming the fix."""
    from handlers.stores import open_store as opened

    try:
        return opened(settings)
    except DealregError as exc:
        raise UsageProblem(str(exc)) from None


def open_sheets_store(settings: Settings) -> SheetsStore:
    """The Sheets store of DEALREG_SHEET_ID, whatever DEALREG_STORE says (`init-sheet`, `--registry sheets`)."""
    from handlers.stores import open_sheets_store as opened

    try:
        return opened(settings)
    except DealregError as exc:
        raise UsageProblem(str(exc)) from None


@contextmanager
def closing_store(store: Store | SheetsStore) -> Iterator[None]:
    """Close the store at the end, and say what went wrong in the user's words: a store that does
    not answer exits 1 (try again later), anything else dealreg refused exits 2 (fix it first)."""
    try:
        yield
    except StoreUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    except DealregError as exc:
        raise UsageProblem(str(exc)) from None
    finally:
        store.close()


# What each kind of row is called in a sentence: "imported 1 territory", "3 named accounts".
_NOUNS = {"registrations": ("registration", "registrations"), "partners": ("partner", "partners"),
          "territories": ("territory", "territories"), "named-accounts": ("named account", "named accounts"),
          "decisions": ("decision", "decisions"), "aliases": ("alias", "aliases")}


def counted(n: int, kind: str) -> str:
    """`n` things of `kind` in words, with thousands separated: `1 territory`, `2 named accounts`,
    `1,000 rows`. `kind` is a table of the store or a plain noun (`row`, `registration`)."""
    singular, plural = _NOUNS.get(kind, (kind, f"{kind}s"))
    return f"{n:,} {singular if n == 1 else plural}"
