"""`dealreg import aliases` / `dealreg export aliases` on every store: the same CSV as the rules
file's `aliases_file:`, round trips, and a bad file refused naming the line and the column."""

from __future__ import annotations

import csv
import io

from integrations.store.rows import COLUMNS
from tests.handlers.support import store_from
from tests.handlers.test_cli_store import env, other, run, write_csv  # noqa: F401  (fixtures)

HEADER = ["alias", "account_domain", "account_name", "note"]
ROWS = [["Philip Morris Companies", "altria.com", "", "Altria's name until 2003"],
        ["Taxify", "bolt.eu", "", "Bolt's name until 2019"],
        ["MS", "", "Morgan Stanley", ""]]


def test_import_then_export_round_trips(tmp_path, env, other, backend):
    source = write_csv(tmp_path / "aliases.csv", HEADER, ROWS)
    imported = run(["import", "aliases", str(source)], env)
    assert imported.exit_code == 0, imported.output
    assert imported.stderr.startswith(f"imported 3 aliases from {source} into the {backend} store")
    exported = run(["export", "aliases"], env)
    assert exported.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert list(rows[0]) == list(COLUMNS["aliases"])
    assert [(r["alias"], r["account_domain"]) for r in rows] == [(r[0], r[1]) for r in ROWS]
    if backend == "hubspot":  # the names live on companies: each with its company's name, and no note
        assert [(r["account_name"], r["note"]) for r in rows] == [("altria.com", ""), ("bolt.eu", ""),
                                                                  ("Morgan Stanley", "")]
        assert "the note of 2 rows was not written" in imported.stderr
    else:
        assert [list(r.values()) for r in rows] == ROWS
        assert "note" not in imported.stderr.splitlines()[-1]
    again = tmp_path / "again.csv"
    again.write_text(exported.stdout, encoding="utf-8")
    assert run(["import", "aliases", str(again)], other).exit_code == 0
    assert run(["export", "aliases"], other).stdout == exported.stdout
    assert [a.alias for a in store_from(env).changes(None).aliases] == [r[0] for r in ROWS]


def test_a_bad_file_exits_2_naming_the_line_and_column_and_writes_nothing(tmp_path, env):
    path = write_csv(tmp_path / "aliases.csv", HEADER, [ROWS[0], ["Orphan", "gmail.com", "", ""]])
    result = run(["import", "aliases", str(path)], env)
    assert result.exit_code == 2
    assert f"{path} row 3, column account_domain: is not a company's domain" in result.output
    assert store_from(env).count("aliases") == 0
    missing = run(["import", "aliases", str(write_csv(tmp_path / "names.csv", ["name"], [["Taxify"]]))], env)
    assert missing.exit_code == 2 and "missing column 'alias'" in missing.output
