"""The embedded default store: one local SQLite file, no set-up, behind the store contract
(integrations/store/contract.py). Its tables and their migrations: integrations/sqlite/schema.py.

Concurrency: WAL journal (readers never wait for the writer), one connection per thread
and process, `busy_timeout` bounded by the store deadline. A session holds SQLite's
write lock (`BEGIN IMMEDIATE`) from reading the claims to committing the registration
and its event, so registrations are serialised across threads and processes alike.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from dealreg.errors import StoreError, StoreUnavailable
from dealreg.models import (
    REGISTRATION_COLUMNS,
    Decision,
    DecisionEvent,
    NamedAccount,
    Registration,
    Territory,
)
from integrations.sqlite import reading
from integrations.sqlite.schema import ID_COLUMN, MIGRATIONS, TABLE_NAMES, log, migrate
from integrations.store.contract import LOG_COLUMNS, Changes, Cursor, Health, LogEntry, Write
from integrations.store.first_decisions import row_decision
from integrations.store.rows import (
    COLUMNS,
    DECISION_COLUMNS,
    check_table,
    decision_from_row,
    event_to_row,
    registration_to_row,
    validated_rows,
)

T = TypeVar("T")

_REG_SELECT = "SELECT seq, " + ", ".join(REGISTRATION_COLUMNS) + " FROM registrations"
_DECISION_SELECT = "SELECT " + ", ".join(DECISION_COLUMNS) + " FROM decision_events"


def _translate(exc: sqlite3.Error, path: Path) -> StoreError:
    """sqlite3 errors as store errors: a locked, missing, unwritable or corrupt file is
    "unavailable" (the sender retries); a broken constraint is a plain StoreError."""
    if isinstance(exc, (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError)):
        return StoreError(f"the SQLite store refused a write: {exc}")
    return StoreUnavailable(f"the SQLite store at {path} is unavailable: {exc}")


class SQLiteStore:
    """The `integrations.store.Store` (and `Tables`) on a local SQLite file."""

    backend = "sqlite"
    serialized = True  # a session holds SQLite's write lock

    def __init__(self, path: str | os.PathLike[str], *, deadline_seconds: float = 10.0,
                 migrations: Sequence[Sequence[str]] = MIGRATIONS) -> None:
        self.path = Path(path)
        self.deadline_seconds = deadline_seconds
        self.migrations = tuple(tuple(m) for m in migrations)
        self._local = threading.local()
        self._schema_lock = threading.Lock()
        self._schema_ready = False
        self._all: list[sqlite3.Connection] = []

    # -- connections -----------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        """This thread's connection (a forked child opens its own)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != os.getpid():
            try:
                conn = sqlite3.connect(self.path, timeout=self.deadline_seconds, isolation_level=None,
                                       check_same_thread=False)
                conn.execute(f"PRAGMA busy_timeout = {int(self.deadline_seconds * 1000)}")
                conn.execute("PRAGMA synchronous = NORMAL")  # durable in WAL mode up to the last checkpoint-safe commit
            except sqlite3.Error as exc:
                raise _translate(exc, self.path) from exc
            self._local.conn, self._local.pid = conn, os.getpid()
            self._all.append(conn)
        if not self._schema_ready:
            self._ensure_schema(conn)
        return conn

    def _ensure_schema(self, conn: sqlite3.Connection) -> None:
        with self._schema_lock:
            if self._schema_ready:
                return
            try:
                if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    conn.execute("PRAGMA journal_mode = WAL")
                if conn.execute("PRAGMA user_version").fetchone()[0] == len(self.migrations):
                    self._schema_ready = True  # up to date: no need to wait for the write lock
                    return
                conn.execute("BEGIN IMMEDIATE")  # re-checked under the lock: another process may have migrated
                try:
                    migrate(conn, self.migrations, self.path)
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise _translate(exc, self.path) from exc
            self._schema_ready = True

    def schema_version(self) -> int:
        return int(self._run(lambda c: c.execute("PRAGMA user_version").fetchone()[0]))

    def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work(conn)` (autocommit), with sqlite3 errors translated."""
        try:
            return work(self._conn())
        except sqlite3.Error as exc:
            raise _translate(exc, self.path) from exc

    def _transaction(self, work: Callable[[sqlite3.Connection], T], *, write: bool) -> T:
        """Run `work(conn)` in one transaction: IMMEDIATE takes the write lock up front, so
        a read-then-write can never be overtaken; DEFERRED reads one consistent snapshot."""
        def run(conn: sqlite3.Connection) -> T:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                result = work(conn)
                conn.execute("COMMIT")
                return result
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        return self._run(run)

    def close(self) -> None:
        for conn in self._all:
            try:
                conn.close()
            except sqlite3.Error:  # closing a connection of another thread mid-statement
                pass
        self._all.clear()
        self._local = threading.local()

    # -- reading ---------------------------------------------------------------------

    def changes(self, since: Cursor | None) -> Changes:
        return self._transaction(lambda conn: self._changes(conn, since), write=False)

    def _changes(self, conn: sqlite3.Connection, since: Cursor | None) -> Changes:
        epoch = conn.execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()[0]
        if since is not None and since.epoch == epoch:
            rows = conn.execute(_REG_SELECT + " WHERE seq > ? ORDER BY seq", (since.position,)).fetchall()
            position = rows[-1][0] if rows else since.position
            registrations, quarantined = reading.registrations(rows)
            return Changes(Cursor(epoch, position), registrations, quarantined=quarantined)
        rows = conn.execute(_REG_SELECT + " ORDER BY seq").fetchall()
        position = rows[-1][0] if rows else 0
        registrations, quarantined = reading.registrations(rows)
        named, bad_named = reading.named_accounts(conn)
        territories, bad_territories = reading.territories(conn)
        aliases, bad_aliases = reading.aliases(conn)
        return Changes(
            Cursor(epoch, position), registrations, reset=True, named_accounts=named, territories=territories,
            partners=reading.partners(conn), quarantined=(*quarantined, *bad_named, *bad_territories, *bad_aliases),
            aliases=aliases,
        )

    def first_decision(self, source: str, external_id: str) -> Decision | None:
        if not external_id:
            return None
        return self._run(lambda conn: self._first_decision(conn, source, external_id))

    def _first_decision(self, conn: sqlite3.Connection, source: str, external_id: str) -> Decision | None:
        row = conn.execute(
            _DECISION_SELECT + " WHERE source = ? AND external_id = ? AND action = 'register' ORDER BY seq LIMIT 1",
            (source, external_id)).fetchone()
        if row is not None:
            return decision_from_row(dict(zip(DECISION_COLUMNS, row)))
        # A registration imported without its event: answer from the row's own decision columns.
        # `external_id <> ''` lets SQLite use the partial unique index instead of scanning the table.
        row = conn.execute(_REG_SELECT + " WHERE source = ? AND external_id = ? AND external_id <> ''",
                           (source, external_id)).fetchone()
        if row is None:
            return None
        return row_decision(dict(zip(REGISTRATION_COLUMNS, row[1:])))

    def partners(self) -> tuple[str, ...]:
        return self._run(reading.partners)

    def territories(self) -> tuple[Territory, ...]:
        return self._run(lambda conn: reading.territories(conn)[0])

    def named_accounts(self) -> tuple[NamedAccount, ...]:
        return self._run(lambda conn: reading.named_accounts(conn)[0])

    def count(self, table: str) -> int:
        """Rows in one of TABLES (for /healthz, the CLI and tests)."""
        name = TABLE_NAMES[table]
        return int(self._run(lambda conn: conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]))

    def is_empty(self) -> bool:
        return all(self.count(t) == 0 for t in ("registrations", "partners", "territories", "named-accounts"))

    def health(self) -> Health:
        try:
            facts = self._transaction(lambda conn: {
                "schema_version": conn.execute("PRAGMA user_version").fetchone()[0],
                "registrations": conn.execute("SELECT count(*) FROM registrations").fetchone()[0],
            }, write=False)
        except StoreError as exc:
            return Health(False, self.backend, str(exc))
        return Health(True, self.backend, "", facts)

    # -- writing ---------------------------------------------------------------------

    @contextmanager
    def session(self) -> Iterator[_Session]:
        """One registration attempt inside SQLite's write lock (`BEGIN IMMEDIATE`), taken up front,
        so the read, the decision and the write can never be overtaken by another writer, in this
        process or any other. Committed when the session ends, rolled back on an error."""
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _translate(exc, self.path) from exc
        try:
            yield _Session(self, conn)
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise _translate(exc, self.path) from exc
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def record_event(self, event: DecisionEvent) -> None:
        self._run(lambda conn: self._insert_event(conn, event))

    def amend(self, rows: Sequence[Registration], events: Sequence[DecisionEvent] = ()) -> None:
        """Rows rewritten and events appended in one transaction."""
        self._transaction(lambda conn: _amend(self, conn, rows, events), write=True)

    def log(self, entries: Sequence[LogEntry]) -> None:
        def work(conn: sqlite3.Connection) -> None:
            for entry in entries:
                _insert(conn, "log", LOG_COLUMNS, {"kind": entry.kind, "key": entry.key, "status": entry.status,
                                                   "at": entry.at.isoformat(), "detail": entry.detail})
        self._transaction(work, write=True)

    def logged(self, kind: str) -> list[LogEntry]:
        rows = self._run(lambda conn: conn.execute(
            "SELECT key, status, at, detail FROM log WHERE kind = ? ORDER BY seq", (kind,)).fetchall())
        return [LogEntry(kind, key, status, datetime.fromisoformat(at), detail) for key, status, at, detail in rows]

    @staticmethod
    def _insert_event(conn: sqlite3.Connection, event: DecisionEvent) -> None:
        from dealreg.events import event_to_dict  # the one JSON form of an event

        row = {**event_to_row(event), "event_json": json.dumps(event_to_dict(event), ensure_ascii=False,
                                                                 separators=(",", ":"))}
        _insert(conn, "decision_events", (*DECISION_COLUMNS, "event_json"), row)

    # -- whole tabs (dealreg import / export) ------------------------------------------

    def read_rows(self, table: str) -> Iterator[dict[str, str]]:
        columns = COLUMNS[check_table(table)]
        rows = self._run(lambda conn: conn.execute(
            f"SELECT {', '.join(columns)} FROM {TABLE_NAMES[table]} ORDER BY seq").fetchall())
        for row in rows:
            yield dict(zip(columns, row))

    def write_rows(self, table: str, rows: Iterable[Mapping[str, str]]) -> int:
        """Validate every row first (InputError naming the row and column), then write all
        in one transaction. Any import is a non-append change: readers rebuild."""
        columns = COLUMNS[check_table(table)]
        clean = validated_rows(table, rows)
        name = TABLE_NAMES[table]

        def work(conn: sqlite3.Connection) -> int:
            key = ID_COLUMN.get(table)
            if key is None:
                conn.execute(f"DELETE FROM {name}")  # reference lists are replaced whole
            for row in clean:
                if key is not None:
                    conn.execute(f"DELETE FROM {name} WHERE {key} = ?", (row[key],))
                _insert(conn, name, columns, row)
            conn.execute("UPDATE meta SET value = lower(hex(randomblob(8))) WHERE key = 'epoch'")
            return len(clean)
        return self._transaction(work, write=True)


class _Session:
    """A registration attempt inside the write lock (`SQLiteStore.session`)."""

    def __init__(self, store: SQLiteStore, conn: sqlite3.Connection) -> None:
        self._store, self._conn = store, conn

    def changes(self, since: Cursor | None) -> Changes:
        return self._store._changes(self._conn, since)

    def first_decision(self, source: str, external_id: str) -> Decision | None:
        return self._store._first_decision(self._conn, source, external_id) if external_id else None

    def write(self, write: Write) -> Decision | None:
        conn = self._conn
        for row in write.displaced:
            # Re-appended rather than updated in place, so warm readers pick the new
            # owner up as an appended row (Engine.add replaces a row with the same id).
            conn.execute("DELETE FROM registrations WHERE registration_id = ?", (row.registration_id,))
            _insert(conn, "registrations", REGISTRATION_COLUMNS, registration_to_row(row))
        _insert(conn, "registrations", REGISTRATION_COLUMNS, registration_to_row(write.registration))
        self._store._insert_event(conn, write.event)
        return None  # under the lock, nobody else can have registered the key meanwhile

    def amend(self, rows: Sequence[Registration], events: Sequence[DecisionEvent] = ()) -> None:
        _amend(self._store, self._conn, rows, events)


def _amend(store: SQLiteStore, conn: sqlite3.Connection, rows: Sequence[Registration],
           events: Sequence[DecisionEvent]) -> None:
    for row in rows:
        # Re-appended rather than updated in place, as a displaced row is: warm readers take the
        # new version as an appended row (Engine.add replaces a row with the same id).
        gone = conn.execute("DELETE FROM registrations WHERE registration_id = ?", (row.registration_id,)).rowcount
        if not gone:
            log.warning("registration %s to rewrite is not in the SQLite store; left out", row.registration_id)
            continue
        _insert(conn, "registrations", REGISTRATION_COLUMNS, registration_to_row(row))
    for event in events:
        store._insert_event(conn, event)


def _insert(conn: sqlite3.Connection, table: str, columns: Sequence[str], row: Mapping[str, str]) -> None:
    names = ", ".join(columns)
    marks = ", ".join("?" for _ in columns)
    conn.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", [row.get(c, "") for c in columns])
