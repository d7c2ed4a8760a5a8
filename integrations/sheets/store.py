"""The Google Sheets store: registrations, decisions and the reference lists in one spreadsheet,
behind the store contract (integrations/store/contract.py). How it reads, writes and settles a
race, with the number of API calls each costs, is in docs/sheets.md.

Reads and the cache: `changes(None)` is one values:batchGet of Registrations, the reference tabs
and the Decisions header, kept in memory for `cache_seconds`. While it is warm a check makes no
API call; a stale cache is re-read, and when only rows were appended the cursor moves on.

A registration (at most 3 API calls; no compare-and-set exists in the Sheets API): a session
reads fresh (1), the registration is decided against that and written in one atomic batchUpdate
with its event, any buffered check events and the rows it displaces (2); a write that may have
landed is looked for by registration id in a fresh read before it is sent again. Then the service
reads back Registrations (`competing`, 3) and settles a race (handlers/races.py); a correction
costs a 4th call, only in a race.

Check events are buffered in memory and written in batches (integrations/store/events.py), with
the next registration too: a process that dies loses at most those check events, never a
registration. Readers drop a repeated event by its `event_id`. Whole tabs (`dealreg import` /
`export`) are read and written in integrations/sheets/tables.py.

Known limits: appends and rewrites address rows by position, so do not sort or delete
Registrations rows while registrations arrive (use a filter view).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import gspread

from dealreg.errors import StoreError
from dealreg.models import Decision, DecisionEvent, NamedAccount, Registration, Territory
from integrations.sheets import setup, tables
from integrations.sheets.cells import append_request, update_requests
from integrations.sheets.layout import INIT_HELP, REFERENCE, TAB_TITLES, Layout
from integrations.sheets.snapshot import Snapshot, build
from integrations.sheets.transport import Ambiguous, Clock, SheetsAPI
from integrations.store.contract import Changes, Cursor, Health, LogEntry, Write
from integrations.store.events import FLUSH_EVENTS, EventBuffer
from integrations.store.first_decisions import Remembered, row_decision
from integrations.store.rows import (
    decision_from_row,
    event_to_row,
    registration_to_row,
)

log = logging.getLogger("integrations.sheets")


class SheetsStore:
    """The `integrations.store.Store` (a `Racing` one, and `Tables`) on a Google spreadsheet.

    `client` is a ready `gspread.Client` (tests pass one pointed at the local fake); the clock
    (monotonic seconds), `sleep` and `rand` are injected so tests never wait."""

    backend = "sheets"
    serialized = False  # no lock in the Sheets API: the service settles races (handlers/races.py)

    def __init__(self, client: gspread.Client, sheet_id: str, *, cache_seconds: float = 30.0,
                 flush_events: int = FLUSH_EVENTS, clock: Clock | None = None, **transport: Any) -> None:
        self.api = SheetsAPI(client, sheet_id, clock=clock or time.monotonic, **transport)
        self.cache_seconds = cache_seconds
        self._clock = self.api.clock
        self._snap: Snapshot | None = None
        self._stale = True
        self._generation = 0  # bumped by invalidate(): a read that began before it does not clear it
        self._events = EventBuffer(self._write_events, name=self.backend, clock=self._clock, max_age=cache_seconds,
                                   flush_at=flush_events)
        self._decisions = Remembered()
        self._state = threading.RLock()  # the snapshot
        self._refresh = threading.Lock()  # one re-read at a time
        self._registering = threading.Lock()  # registrations of this process, one at a time
        self._read_back: dict[str, Snapshot] = {}  # a fresh read that already shows a landed write

    @property
    def sheet_id(self) -> str:
        return self.api.sheet_id

    @property
    def client_email(self) -> str:
        return self.api.client_email

    # -- reading -----------------------------------------------------------------------

    def _read(self, deadline: float, *, reference: bool = True) -> Snapshot:
        """A fresh read: one values:batchGet of Registrations, the reference tabs and the
        Decisions header (or, with reference=False, one values.get of Registrations)."""
        api = self.api
        tabs = {t: api.tab(t, deadline) for t in TAB_TITLES}  # every tab must exist
        if "aliases" in (present := api.metadata(deadline)):  # the alias table, where the Sheet has one
            tabs["aliases"] = present["aliases"]
        started, generation = self._clock(), self._generation
        if reference:
            order = ("registrations", *REFERENCE, *(("aliases",) if "aliases" in tabs else ()))
            ranges = [api.range(tabs[t]) for t in order] + [api.range(tabs["decisions"], "1:1")]
            values = dict(zip((*order, "decisions"), api.batch_get(ranges, "the registrations read", deadline)))
        else:
            values = {"registrations": api.get(tabs["registrations"], "the registrations re-read", deadline)}
        with self._state:
            snap = build(self._snap, {t: tab.title for t, tab in tabs.items()}, values, started, api.reading)
            self._snap = snap
            if generation == self._generation:
                self._stale = False
            return snap

    def _current(self) -> Snapshot:
        """The cached snapshot while it is warm; otherwise a fresh read."""
        snap = self._snap
        if snap is not None and not self._stale and self._clock() - snap.read_at < self.cache_seconds:
            return snap
        with self._refresh:
            snap = self._snap  # another thread may have just read
            if snap is not None and not self._stale and self._clock() - snap.read_at < self.cache_seconds:
                return snap
            return self._read(self.api.deadline())

    def changes(self, since: Cursor | None) -> Changes:
        return self._current().changes_since(since)

    def partners(self) -> tuple[str, ...]:
        return self._current().reference.partners

    def territories(self) -> tuple[Territory, ...]:
        return self._current().reference.territories

    def named_accounts(self) -> tuple[NamedAccount, ...]:
        return self._current().reference.named_accounts

    def invalidate(self) -> None:
        """Forget the cache: the next read goes to the spreadsheet."""
        with self._state:
            self._generation += 1
            self._stale = True

    # -- first decisions (redeliveries) ------------------------------------------------

    def first_decision(self, source: str, external_id: str) -> Decision | None:
        """From memory: the decisions this process registered or looked up, and the rows of
        its last read (no API call unless the row is known but its decision is not: then
        one read of the Decisions tab). A session repeats the check on a fresh read."""
        if not external_id:
            return None
        known = self._decisions.of_external(source, external_id)
        if known is not None:
            return known
        snap = self._snap
        if snap is None or (source, external_id) not in snap.externals:
            return None
        return self._decision_of(snap, snap.externals[(source, external_id)], self.api.deadline())

    def _decision_of(self, snap: Snapshot, index: int, deadline: float) -> Decision:
        """The decision the registration in row `index` was answered with: the last register event
        for its id in the Decisions tab (a race correction comes after the first), else its
        row's own decision columns (a row added by hand)."""
        reg = snap.registrations[index]
        row = registration_to_row(reg) if reg is not None else snap.rows[index]
        rid = row.get("registration_id", "")
        known = self._decisions.of_registration(rid)
        if known is not None:
            return known
        decision = None
        for event in tables.decision_rows(self.api, deadline):
            if event.get("action") == "register" and event.get("registration_id") == rid:
                try:
                    decision = decision_from_row(event)
                except (ValueError, StoreError):
                    continue
        if decision is None:
            decision = row_decision(row, snap.unread.get(index))
        self._decisions.remember(decision, rid, row.get("source", ""), row.get("external_id", ""))
        return decision

    # -- registering -------------------------------------------------------------------

    @contextmanager
    def session(self) -> Iterator[_Session]:
        """One registration attempt on a fresh read (one values:batchGet). Registrations of this
        process take turns (a thread waits for the one before); other processes are settled with
        after the write (`competing`, `correct`)."""
        with self._registering:
            deadline = self.api.deadline()
            yield _Session(self, self._read(deadline), deadline)

    def _write_registration(self, session: _Session, write: Write) -> Decision | None:
        """`Session.write`: the row, its event, the buffered check events and the displaced rows in
        one batchUpdate. A write that may have landed (a 5xx, a dropped connection) is looked for
        by registration id in a fresh read before it is sent again, so it is never doubled."""
        rid = write.registration.registration_id
        source, external_id = write.registration.source, write.registration.external_id
        deadline, attempt = session.deadline, 0
        pending: list[DecisionEvent] | None = None  # check events sent with a write that may have landed
        try:
            while True:
                snap = session.snap
                if pending is not None:
                    if rid in snap.ids:  # the ambiguous write had landed, and the events with it
                        log.warning("sheets: registration %s had landed despite the error; not written again", rid)
                        pending = None
                        self._read_back = {rid: snap}  # what `competing` would read again (kept for one)
                        break
                    self._events.put_back(pending)  # not written: keep them for the next write
                    pending = None
                if external_id and (source, external_id) in snap.externals:
                    return self._decision_of(snap, snap.externals[(source, external_id)], deadline)
                pending = self._events.take()
                try:
                    self.api.write(self._registration_requests(snap, write, pending, deadline),
                                   "the registration write", deadline)
                except Ambiguous as exc:
                    log.warning("sheets: the registration write of %s answered %s; reading before retrying", rid, exc)
                    self.api.backoff(attempt, str(exc), "the registration write", deadline)
                    attempt += 1
                    session.snap = self._read(deadline)
                    continue
                pending = None
                break
        finally:
            if pending is not None:  # gave up, or the write was refused: the events were not written
                self._events.put_back(pending)
        self._decisions.remember(write.event.decision, rid, source, external_id)
        self.invalidate()  # our own row is not in the cache
        return None

    def _registration_requests(self, snap: Snapshot, write: Write, events: Sequence[DecisionEvent],
                               deadline: float) -> list[dict[str, Any]]:
        regs, decisions = self.api.tab("registrations", deadline), self.api.tab("decisions", deadline)
        layout = snap.layouts["registrations"]
        requests_ = [
            append_request(regs.sheet_id, layout, [registration_to_row(write.registration)]),
            append_request(decisions.sheet_id, snap.layouts["decisions"],
                           [event_to_row(e) for e in (*events, write.event)], truncate=True),
        ]
        for row in write.displaced:
            if row.registration_id in snap.ids:
                requests_ += update_requests(regs.sheet_id, layout, snap.ids[row.registration_id] + 1,
                                             registration_to_row(row))
        return requests_

    def competing(self, write: Write) -> Sequence[Registration]:
        """Every registration, read back after `write` (one values.get of Registrations), in the
        order the rows were appended."""
        snap = self._read_back.pop(write.registration.registration_id, None)
        if snap is None:
            snap = self._read(self.api.deadline(), reference=False)
        return [reg for reg in snap.registrations if reg is not None]

    def amend(self, rows: Sequence[Registration], events: Sequence[DecisionEvent] = ()) -> None:
        """Rewrite the rows' cells of ours and append `events` (with the buffered check events), in
        one batchUpdate (rewrites are idempotent; a repeated event is dropped by its event_id on read).
        A value for a column the tab lacks (a review on a Sheet made before the review columns) is
        refused, naming the column: it would be lost otherwise."""
        deadline = self.api.deadline()
        snap = self._snap if self._snap is not None else self._read(deadline, reference=False)
        if any(row.registration_id not in snap.ids for row in rows):
            snap = self._read(deadline, reference=False)
        regs = self.api.tab("registrations", deadline)
        layout = snap.layouts["registrations"]
        requests_: list[dict[str, Any]] = []
        for row in rows:
            if row.registration_id not in snap.ids:
                log.warning("sheets: registration %s to rewrite is not in the Registrations tab; left out",
                            row.registration_id)
                continue
            cells = registration_to_row(row)
            _check_columns(layout, cells)
            requests_ += update_requests(regs.sheet_id, layout, snap.ids[row.registration_id] + 1, cells)
        pending = self._events.take() if events else []
        try:
            if events:
                requests_.append(append_request(self.api.tab("decisions", deadline).sheet_id,
                                                snap.layouts["decisions"],
                                                [event_to_row(e) for e in (*pending, *events)], truncate=True))
            if requests_:
                self.api.write(requests_, "the rewrite of registrations", deadline, retry_ambiguous=True)
        except BaseException:
            self._events.put_back(pending)
            raise
        for event in events:
            if event.action == "register":
                self._decisions.remember(event.decision, event.decision.registration_id, event.record.source,
                                         event.record.external_id)
        if requests_:
            self.invalidate()  # our own rewrites are not in the snapshot

    # -- the operations log (the Log tab: integrations/sheets/tables.py) ------------------

    def log(self, entries: Sequence[LogEntry]) -> None:
        tables.append_log(self.api, entries)

    def logged(self, kind: str) -> list[LogEntry]:
        return tables.read_log(self.api, kind)

    # -- check events ------------------------------------------------------------------

    def record_event(self, event: DecisionEvent) -> None:
        """Buffered; written with the next registration, or when due (integrations/store/events.py)."""
        self._events.record(event)

    def buffered(self) -> int:
        return len(self._events)

    def flush(self) -> int:
        """Write the buffered events now (one batchUpdate); returns how many."""
        return self._events.flush()

    def _write_events(self, events: Sequence[DecisionEvent]) -> None:
        deadline = self.api.deadline()
        snap = self._snap or self._read(deadline)
        request = append_request(self.api.tab("decisions", deadline).sheet_id, snap.layouts["decisions"],
                                 [event_to_row(e) for e in events], truncate=True)
        self.api.write([request], "the decision events write", deadline, retry_ambiguous=True)

    # -- health and closing ------------------------------------------------------------

    def health(self) -> Health:
        try:
            snap = self._current()
        except StoreError as exc:
            return Health(False, self.backend, str(exc))
        facts: dict[str, object] = {
            "registrations": sum(1 for r in snap.registrations if r is not None),
            "buffered_events": self.buffered(),
        }
        return Health(True, self.backend, "", facts)

    def close(self) -> None:
        self._events.close()
        self.api.close()

    # -- whole tabs (dealreg import / export, tests) ----------------------------------

    def read_rows(self, table: str) -> Iterator[dict[str, str]]:
        """The rows of one tab, our columns only (buffered events are written first)."""
        if table == "decisions":
            self.flush()
        yield from tables.read_rows(self.api, table)

    def count(self, table: str) -> int:
        return sum(1 for _ in self.read_rows(table))

    def is_empty(self) -> bool:
        snap = self._read(self.api.deadline())
        ref = snap.reference
        return not (snap.ids or ref.partners or ref.territories or ref.named_accounts)

    def write_rows(self, table: str, rows: Iterable[Mapping[str, str]]) -> int:
        """`dealreg import` into a tab (integrations/sheets/tables.py); the cache is forgotten."""
        count = tables.write_rows(self.api, table, rows)
        self.invalidate()
        return count

    def init_sheet(self) -> setup.InitReport:
        """`dealreg init-sheet` (integrations/sheets/setup.py)."""
        report = setup.init_sheet(self.api)
        self.invalidate()
        return report


def _check_columns(layout: Layout, row: Mapping[str, str]) -> None:
    """Refuse a row holding a value for a column the tab lacks (OPTIONAL_COLUMNS), naming the fix."""
    missing = sorted(name for name, value in row.items() if value and name not in layout.columns)
    if missing:
        raise StoreError(f"{layout.title}: no column for {', '.join(missing)}; add the header cells (any position) "
                         f"or {INIT_HELP}")


class _Session:
    """A registration attempt on one fresh read of the spreadsheet (`SheetsStore.session`)."""

    def __init__(self, store: SheetsStore, snap: Snapshot, deadline: float) -> None:
        self.store, self.snap, self.deadline = store, snap, deadline

    def changes(self, since: Cursor | None) -> Changes:
        return self.snap.changes_since(since)

    def first_decision(self, source: str, external_id: str) -> Decision | None:
        index = self.snap.externals.get((source, external_id)) if external_id else None
        return None if index is None else self.store._decision_of(self.snap, index, self.deadline)

    def write(self, write: Write) -> Decision | None:
        return self.store._write_registration(self, write)

    def amend(self, rows: Sequence[Registration], events: Sequence[DecisionEvent] = ()) -> None:
        self.store.amend(rows, events)
