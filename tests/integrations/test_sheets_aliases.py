"""The alias table on a Google Sheet (the `Aliases` tab) through `dealreg import` / `export`: the tab
created when a Sheet made before it lacks it (with its rows, in one atomic batchUpdate), names
written as text (never formulas), and a bad row refused before anything is written."""

from __future__ import annotations

import pytest

from dealreg.errors import InputError
from tests.fakes.sheets_api import FakeSheetsAPI
from tests.integrations.sheets_support import SID, FakeClock, new_sheet, rows_of, store_for

ALIASES = [{"alias": "Philip Morris Companies", "account_domain": "altria.com", "account_name": "",
            "note": "until 2003"},
           {"alias": "=HYPERLINK(\"http://evil\")", "account_domain": "bolt.eu", "account_name": "", "note": "+1"}]


@pytest.fixture
def store(api: FakeSheetsAPI):
    store = store_for(api, clock=FakeClock())
    yield store
    store.close()


def test_import_into_a_sheet_without_the_aliases_tab_creates_it_with_the_rows_in_one_write(api, store):
    new_sheet(api, aliases=None)  # a Sheet made before the tab
    assert list(store.read_rows("aliases")) == []  # optional: no tab, no other names
    api.reset_log()
    assert store.write_rows("aliases", ALIASES) == 2
    assert [r.kind for r in api.requests] == ["spreadsheets.get", "spreadsheets.batchUpdate"]
    assert rows_of(api, "Aliases")[0] == ALIASES[0]
    assert api.cell_kind(SID, "Aliases", "A3") == "text"  # never a formula
    assert list(store.read_rows("aliases")) == ALIASES  # read back exactly
    assert [a.alias for a in store.changes(None).aliases] == ["Philip Morris Companies", ALIASES[1]["alias"]]


def test_import_replaces_the_tab_whole(api, store):
    new_sheet(api)
    store.write_rows("aliases", ALIASES)
    store.write_rows("aliases", [{"alias": "Taxify", "account_domain": "bolt.eu"}])
    assert [r["alias"] for r in rows_of(api, "Aliases")] == ["Taxify"]


@pytest.mark.parametrize("tab", [True, False])
def test_a_bad_row_is_refused_naming_row_and_column_and_nothing_is_written(api, store, tab):
    new_sheet(api, **({} if tab else {"aliases": None}))
    with pytest.raises(InputError, match="row 3 account_domain"):
        store.write_rows("aliases", [ALIASES[0], {"alias": "Orphan"}])
    if tab:
        assert rows_of(api, "Aliases") == []
    else:
        assert "Aliases" not in api.sheet_titles(SID)


def test_a_tab_created_by_a_write_answered_503_is_not_created_twice(api, store):
    new_sheet(api, aliases=None)
    api.inject("spreadsheets.batchUpdate", "503-after-write")
    assert store.write_rows("aliases", ALIASES) == 2
    assert list(store.read_rows("aliases")) == ALIASES and api.sheet_titles(SID).count("Aliases") == 1
