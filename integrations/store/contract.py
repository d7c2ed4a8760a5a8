"""The store contract: what every backend (SQLite, Google Sheets, HubSpot) does, and nothing more.

A store keeps the registrations (claims), the append-only decision events, and the reference
data the rules read (partners, territories, named accounts). The service (handlers/service.py)
is its only caller and owns everything that is the same for every backend: redelivery, deciding,
re-deciding after a race, the events. A backend implements a few record operations:

    changes(cursor)          what changed since the cursor (None: everything), served warm
    first_decision(source, external_id)
                             the decision a (source, external_id) was first registered with
    session()                one registration attempt: a fresh read, and one atomic write
    record_event(event)      a decision event that registers nothing (a suppression check)
    amend(rows, events)      rewrite registrations on file and append their events, together:
                             a race settled, a review resolved, an extension, an expiry
    log(entries), logged(kind)
                             the operations log: what is not a registration nor a decision
                             (notification deliveries), append-only, read back by the sweep
    health(), close()

and, for a store that cannot lock out other writers (`serialized` False: Sheets, HubSpot),
one more so that the service can settle a race after the write (`Racing`), with `amend`:

    competing(write)         the claims written around ours, read back consistently

Errors: `StoreUnavailable` when the backend is down, locked past the deadline or
rate-limited (the sender is told to retry: 503), `StoreError` for anything retrying will not
fix. A backend never answers "no claims" for a read it could not make, and quarantines a row
it cannot read (`Changes.quarantined`) instead of refusing the whole read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from dealreg.errors import StoreError, StoreUnavailable
from dealreg.models import Alias, Decision, DecisionEvent, NamedAccount, Quarantined, Registration, Territory

__all__ = ["Changes", "Cursor", "Health", "LogEntry", "Racing", "Session", "Store", "StoreError", "StoreUnavailable",
           "Tables", "Write"]


@dataclass(frozen=True, slots=True)
class Cursor:
    """How far a reader has got. Opaque: only hand it back to the store that made it.

    `epoch` changes whenever the store changes in a way that is not an append (a row
    edited or deleted, partners/territories/named accounts replaced, an import), which
    tells the reader to rebuild; `position` counts the registrations appended so far."""

    epoch: str
    position: int


@dataclass(frozen=True, slots=True)
class Changes:
    """What changed since a cursor.

    `reset` False: `registrations` are the rows appended since (feed them to `Engine.add`;
    a row whose id is already indexed replaces it). `reset` True: `registrations` is every
    registration and the reference data is filled in; build a new Engine from it."""

    cursor: Cursor
    registrations: tuple[Registration, ...] = ()
    reset: bool = False
    named_accounts: tuple[NamedAccount, ...] = ()
    territories: tuple[Territory, ...] = ()
    partners: tuple[str, ...] = ()
    quarantined: tuple[Quarantined, ...] = ()
    """Rows that could not be read (appended since the cursor, or all of them on a reset):
    `Engine.quarantine` each. A backend never refuses a whole read for one bad row."""
    aliases: tuple[Alias, ...] = ()
    """The store's alias table (other names of accounts), on a reset; a backend without one leaves it empty."""


@dataclass(frozen=True, slots=True)
class Write:
    """What one registration writes, together: its row, its decision event, and the rows on
    file that now record another owner (`Decision.displaced`, rewritten by
    `dealreg.engine.displaced_row`): a claim submitted earlier but delivered later, or a
    territory partner arriving second, takes the account, and every row must say so."""

    registration: Registration
    event: DecisionEvent
    displaced: tuple[Registration, ...] = ()


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One line of the operations log: what happened to `key` (a notification's delivery: the
    event id and the channel), when, and the detail a person needs (the error of a failed send)."""

    kind: str  # "notification"
    key: str
    status: str  # "sent", "failed", "refused"
    at: datetime
    detail: str = ""


LOG_COLUMNS = ("kind", "key", "status", "at", "detail")
"""The log as a table (SQLite) or a tab (the Sheet's `Log`)."""


@dataclass(frozen=True, slots=True)
class Health:
    ok: bool
    backend: str
    detail: str = ""
    facts: dict[str, object] = field(default_factory=dict)
    """A few numbers worth showing on /healthz (row counts, schema version …); no secrets."""
    degraded: bool = False
    """The store answers, but holds rows that cannot be read (quarantined; `facts["fix"]` names them)."""

    @property
    def status(self) -> str:
        return "unavailable" if not self.ok else "degraded" if self.degraded else "ok"


class Session(Protocol):
    """One registration attempt's view of the store. It reads fresh (never a cache), and a
    serialized store holds every other writer out until the session ends."""

    def changes(self, since: Cursor | None) -> Changes:
        """As `Store.changes`, as of this session."""
        ...

    def first_decision(self, source: str, external_id: str) -> Decision | None:
        """As `Store.first_decision`, as of this session."""
        ...

    def write(self, write: Write) -> Decision | None:
        """Store the registration, its event and the rows it displaces, together, exactly once:
        a write that may have landed (a 5xx, a dropped connection) is looked for before it is
        sent again, never doubled. Returns None once written, or the first decision when the
        record's (source, external_id) turned out to be registered meanwhile by another writer
        (then nothing was written)."""
        ...

    def amend(self, rows: Sequence[Registration], events: Sequence[DecisionEvent] = ()) -> None:
        """As `Store.amend`, inside this session (SQLite: under its write lock, so what was read
        in the session is what is rewritten)."""
        ...


@runtime_checkable
class Store(Protocol):
    """The operations the service needs. Every method may raise `StoreUnavailable`."""

    backend: str
    """"sqlite", "sheets", "hubspot": for logs and /healthz."""
    serialized: bool
    """True when a session holds out every other writer (SQLite's write lock): a registration
    is then decided against exactly what is on file. False (Sheets, HubSpot): writers may
    overlap, and the store is `Racing`."""

    def changes(self, since: Cursor | None) -> Changes:
        """Registrations appended since `since`; everything (reset) when `since` is None,
        comes from another epoch, or the backend cannot tell what changed. May be served from
        memory for a short while (a warm check costs no API call)."""
        ...

    def first_decision(self, source: str, external_id: str) -> Decision | None:
        """The decision (source, external_id) was first registered with, or None. A fast
        pre-check for a redelivery; a session repeats it against fresh data."""
        ...

    def session(self) -> AbstractContextManager[Session]:
        """One registration attempt. An exception inside it writes nothing that was not
        already written by `Session.write`."""
        ...

    def record_event(self, event: DecisionEvent) -> None:
        """Append a decision event that registers nothing (a suppression check)."""
        ...

    def amend(self, rows: Sequence[Registration], events: Sequence[DecisionEvent] = ()) -> None:
        """Rewrite `rows` (registrations on file, by id: every column of ours) and append `events`,
        together as far as the backend allows (SQLite: one transaction; Sheets: one batchUpdate;
        HubSpot: one batch update of the deals, then the notes). A row whose id is not on file is
        skipped with a warning. Safe to repeat; readers see the rewritten rows."""
        ...

    def log(self, entries: Sequence[LogEntry]) -> None:
        """Append to the operations log."""
        ...

    def logged(self, kind: str) -> list[LogEntry]:
        """Every entry of `kind` in the operations log, oldest first (a fresh read, never a cache).
        Raises StoreError naming the fix when the store has no log yet (a Sheet without its tab)."""
        ...

    def health(self) -> Health:
        """Whether the store answers right now. Never raises."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class Racing(Protocol):
    """A store whose writers can overlap (no lock, no transaction). After each write the
    service reads back what was written around it and settles the race in the one order
    every writer computes alike (handlers/races.py)."""

    def competing(self, write: Write) -> Sequence[Registration]:
        """After `write` landed: the registrations that could compete with it, read back
        consistently (never from an index that lags writes), in the order they were written,
        `write`'s own among them."""
        ...

    def amend(self, rows: Sequence[Registration], events: Sequence[DecisionEvent] = ()) -> None:
        """`Store.amend`: the race's corrections and the correcting event."""
        ...


@runtime_checkable
class Tables(Protocol):
    """Optional: a store that can load and dump whole tabs as rows of strings, keyed by the
    column names of SPEC's Sheet layout (`integrations.store.rows.COLUMNS`)."""

    def read_rows(self, table: str) -> Iterator[dict[str, str]]: ...

    def write_rows(self, table: str, rows: Iterable[Mapping[str, str]]) -> int:
        """registrations and decisions: add rows, replacing those with the same id;
        partners, territories, named-accounts: replace the whole list. Returns the row count."""
        ...
