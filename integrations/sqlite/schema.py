"""The SQLite store's tables and their migrations.

The tables mirror the Sheet layout of SPEC (every Sheet column is a TEXT column, so a row reads
back exactly as it was written), plus a `seq` column that orders appends. The schema is created
on first use and versioned with `PRAGMA user_version`: MIGRATIONS is an ordered list and a file
at version n gets migrations n+1… applied in one transaction. Append a migration, never edit one
that has shipped.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from dealreg.errors import StoreError
from dealreg.models import OPERATION_COLUMNS, REGISTRATION_COLUMNS
from integrations.store.contract import LOG_COLUMNS
from integrations.store.rows import ALIAS_COLUMNS, DECISION_COLUMNS, NAMED_ACCOUNT_COLUMNS, TERRITORY_COLUMNS

log = logging.getLogger("integrations.sqlite")


def _text_columns(columns: Sequence[str]) -> str:
    return ", ".join(f"{name} TEXT NOT NULL DEFAULT ''" for name in columns)


_SHIPPED_REGISTRATION_COLUMNS = tuple(c for c in REGISTRATION_COLUMNS if c not in OPERATION_COLUMNS)

# Each migration is a list of statements run in one transaction; user_version = its number.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 1: the Sheet tabs, the event ledger, and meta
        # the columns as shipped (migration 3 adds the operations' columns)
        f"""CREATE TABLE registrations (seq INTEGER PRIMARY KEY AUTOINCREMENT,
            {_text_columns(_SHIPPED_REGISTRATION_COLUMNS)}, UNIQUE (registration_id))""",
        """CREATE UNIQUE INDEX registrations_external ON registrations (source, external_id)
           WHERE external_id <> ''""",
        f"""CREATE TABLE decision_events (seq INTEGER PRIMARY KEY AUTOINCREMENT,
            {_text_columns(DECISION_COLUMNS)}, event_json TEXT NOT NULL DEFAULT '{{}}', UNIQUE (event_id))""",
        "CREATE INDEX decision_events_external ON decision_events (source, external_id, action)",
        # the columns as shipped (migration 2 adds joined_at): a migration never changes once shipped
        f"CREATE TABLE partners (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
        f"{_text_columns(('partner', 'contact_email', 'note'))})",
        f"CREATE TABLE territories (seq INTEGER PRIMARY KEY AUTOINCREMENT, {_text_columns(TERRITORY_COLUMNS)})",
        f"CREATE TABLE named_accounts (seq INTEGER PRIMARY KEY AUTOINCREMENT, {_text_columns(NAMED_ACCOUNT_COLUMNS)})",
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        # The epoch names the current non-append history; see integrations.store.Cursor.
        "INSERT INTO meta (key, value) VALUES ('epoch', lower(hex(randomblob(8))))",
    ),
    (  # 2: the day each partner joined (the report's 90-day activation); empty for partners already on file
        "ALTER TABLE partners ADD COLUMN joined_at TEXT NOT NULL DEFAULT ''",
    ),
    (  # 3: running the program (issue 13): a person's review and the extensions on each registration,
        # and the operations log (notification deliveries)
        *(f"ALTER TABLE registrations ADD COLUMN {name} TEXT NOT NULL DEFAULT ''" for name in OPERATION_COLUMNS),
        f"CREATE TABLE log (seq INTEGER PRIMARY KEY AUTOINCREMENT, {_text_columns(LOG_COLUMNS)})",
        "CREATE INDEX log_kind ON log (kind, key)",
    ),
    (  # 4: the alias table (issue 12): other names of accounts, which the user owns
        f"CREATE TABLE aliases (seq INTEGER PRIMARY KEY AUTOINCREMENT, {_text_columns(ALIAS_COLUMNS)})",
    ),
)

TABLE_NAMES = {
    "registrations": "registrations", "partners": "partners", "territories": "territories",
    "named-accounts": "named_accounts", "decisions": "decision_events", "aliases": "aliases",
}
"""The SQL table of each of the Sheet layout's tables."""
ID_COLUMN = {"registrations": "registration_id", "decisions": "event_id"}
"""The tables whose rows are kept by id (an import rewrites the row with the same id); the others
are lists an import replaces whole."""


def migrate(conn: sqlite3.Connection, migrations: Sequence[Sequence[str]], path: Path) -> None:
    """Apply the migrations the file at `path` lacks. The caller holds the write lock, in one
    transaction: a migration that fails leaves the file at its old version."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(migrations):
        raise StoreError(f"{path} has schema version {version}, newer than this dealreg knows "
                         f"({len(migrations)}); upgrade dealreg or point DEALREG_DB at another file")
    for number, statements in enumerate(migrations[version:], start=version + 1):
        for statement in statements:
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {number}")
        log.info("sqlite store %s migrated to schema version %d", path, number)
