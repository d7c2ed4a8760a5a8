"""The two actions every way in offers, framework-free: check a record, register a record.

`Service` keeps one warm `Engine` per process and brings it up to date from the store's
cursor before every decision (new rows are `add`ed; a non-append change rebuilds). It owns
what is the same for every store (integrations/store/contract.py): redelivery, deciding,
the events, and settling a race on a store without a lock (handlers/races.py). A registration
is decided inside a store session, against the claims as they are when it is written. The clock
and the id generator are passed in.

Errors: `InputError` for a record the engine cannot use, `StoreUnavailable` when the store
does not answer (the adapter says 503; a failed read never comes out as "clear").
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime

from dealreg.engine import Engine, displaced_row, registration_from, rejected
from dealreg.errors import InputError, StoreError
from dealreg.models import Decision, DecisionEvent, Record, Registration
from dealreg.rules import RuleSet
from handlers.events import new_event
from handlers.races import settle
from integrations.store import Changes, Cursor, Health, Racing, Session, Store, Write
from integrations.store.rows import event_to_row
from integrations.typeform import TypeformSubmission

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Read = Callable[[Cursor | None], Changes]
Decide = Callable[[Engine, datetime, str], Decision]
Notify = Callable[[Sequence[Mapping[str, str]]], None]
"""Takes stored events (their Decisions rows) to notify about; returns at once (handlers/notifications.py)."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_registration_id() -> str:
    """`R-` + 12 lowercase hex characters (48 random bits)."""
    return f"R-{secrets.token_hex(6)}"


class Service:
    def __init__(self, store: Store, rules: RuleSet, *, clock: Clock = utc_now,
                 new_id: Callable[[], str] = new_registration_id, notify: Notify | None = None) -> None:
        self.store = store
        self.rules = rules
        self.clock = clock
        self.new_id = new_id
        self.notify: Notify = notify or (lambda rows: None)
        self._engine: Engine | None = None
        self._cursor: Cursor | None = None
        self._reference: Changes | None = None  # the last reset: partners, territories, named accounts
        self._lock = threading.Lock()  # guards the engine, the cursor and the reference

    # -- the warm engine -------------------------------------------------------------

    def _sync(self, read: Read) -> Engine:
        """Bring the engine up to date through `read`; call with `_lock` held."""
        try:
            return self._apply(read)
        except InputError as exc:  # a stored row the engine cannot index: the store's fault, not the caller's
            raise StoreError(f"the store holds a row the engine cannot read: {exc}") from None

    def _apply(self, read: Read) -> Engine:
        changes = read(self._cursor)
        if changes.reset or self._engine is None:
            if not changes.reset:  # cannot happen with a conforming store: no cursor means reset
                changes = read(None)
            self._engine = Engine(self.rules, changes.registrations, changes.named_accounts,
                                  changes.territories, changes.partners, changes.quarantined, changes.aliases)
            self._reference = changes
            log.info("engine rebuilt: %d registrations, %d rows quarantined", len(self._engine),
                     len(changes.quarantined))
        else:
            for registration in changes.registrations:
                self._engine.add(registration)
            for row in changes.quarantined:
                self._engine.quarantine(row)
        self._cursor = changes.cursor
        return self._engine

    def health(self) -> Health:
        """The store's health, and the rows it holds that cannot be read: `degraded` names each
        one with the cells to fix (the service still decides, sending what could involve them to
        review). Never raises."""
        health = self.store.health()
        if not health.ok:
            return health
        try:
            with self._lock:
                engine = self._sync(self.store.changes)
        except StoreError as exc:
            return Health(False, health.backend, str(exc), health.facts)
        if not engine.quarantined:
            return health
        fix = [row.describe() for row in engine.quarantined]
        return Health(True, health.backend, "", {**health.facts, "quarantined": len(fix), "fix": fix},
                      degraded=True)

    @contextmanager
    def amending(self) -> Iterator[tuple[Session, list[Registration], Engine]]:
        """A store session on fresh data, with the claims as they are in it (a copy, and the engine
        brought up to date, for its partners and its look-ups): what an operation that rewrites
        registrations reads before it writes with `Session.amend`."""
        with self.store.session() as session:
            with self._lock:
                engine = self._sync(session.changes)
                claims = engine.registrations()
            yield session, claims, engine

    def notify_events(self, events: Iterable[DecisionEvent]) -> None:
        """Hand stored events to the notifications (never raises: a notification never fails an answer)."""
        try:
            self.notify([event_to_row(e) for e in events])
        except Exception:  # noqa: BLE001 - the event is stored; the sweep sends what it implies
            log.exception("notifications: could not hand over events; the sweep will send them")

    def warm_up(self) -> int:
        """Load the claims now rather than on the first request; returns how many."""
        with self._lock:
            return len(self._sync(self.store.changes))

    # -- the actions -----------------------------------------------------------------

    def check(self, record: Record) -> Decision:
        """Decide without registering (a suppression check); only the event is stored."""
        now = self.clock()
        with self._lock:
            decision = self._sync(self.store.changes).decide(record, now)
        self.store.record_event(new_event("check", record, decision, self.rules.rules_hash, now))
        return decision

    def register(self, record: Record, extra: Mapping[str, str] | None = None) -> Decision:
        """Register the record, or answer the first decision if (source, external_id) was
        registered before. An unknown partner (once the Partners list has entries) comes
        back `rejected` and is stored as such. `extra` goes on the decision event."""
        return self._register(record, lambda engine, now, rid: engine.decide(record, now, registration_id=rid),
                              extra)

    def register_rejected(self, record: Record, problems: Iterable[str],
                          extra: Mapping[str, str] | None = None) -> Decision:
        """Store a submission that cannot be used as `rejected`, with its reasons (a signed
        Typeform response: answering 200 stops Typeform retrying something that will not
        improve). Idempotent like `register`."""
        reasons = tuple(problems)
        return self._register(record, lambda engine, now, rid: rejected(reasons, party=record.party,
                                                                         registration_id=rid), extra)

    def receive_typeform(self, submission: TypeformSubmission) -> Decision:
        """A signed Typeform response: register it, or store it as `rejected` with its
        reasons; Typeform's test request writes nothing. Keyed on the response token."""
        record = submission.record
        extra = submission.event_extra()  # the refs nothing read, so the event shows a renamed ref
        if submission.is_test:
            log.info("typeform test request %s: nothing written", submission.token)
            return rejected(submission.problems, party=record.party)
        if submission.problems:
            return self.register_rejected(record, submission.problems, extra)
        try:
            return self.register(record, extra)
        except InputError as exc:  # a value the engine cannot key on; the sender cannot fix it by retrying
            return self.register_rejected(record, [f"{field}: {message}" for field, message in exc.problems], extra)

    def refuse(self, record: Record, problems: Iterable[str], extra: dict[str, str] | None = None) -> Decision:
        """Record (as an audit event only) a signed submission too broken to register under
        any key, e.g. a body that is not JSON or a partial response."""
        now = self.clock()
        decision = rejected(tuple(problems), party=record.party)
        event = new_event("register", record, decision, self.rules.rules_hash, now)
        if extra:
            event.extra.update(extra)
        self.store.record_event(event)
        self.notify_events([event])
        return decision

    def _register(self, record: Record, decide_one: Decide, extra: Mapping[str, str] | None = None) -> Decision:
        if record.external_id:
            first = self.store.first_decision(record.source, record.external_id)
            if first is not None:
                log.info("redelivery of %s %s: answered with the first decision", record.source, record.external_id)
                return first
        registration_id = self.new_id()
        with self.store.session() as session:
            if record.external_id:  # again, against fresh data: another process may have just registered it
                first = session.first_decision(record.source, record.external_id)
                if first is not None:
                    log.info("redelivery of %s %s: answered with the first decision", record.source,
                             record.external_id)
                    return first
            # The clock is read inside the session, so on a store that locks (SQLite) a record
            # without its own submitted_at is stamped in the order registrations are written.
            now = self.clock()
            with self._lock:
                engine = self._sync(session.changes)
                baseline = engine.registration_ids()
                write = self._write(engine, record, decide_one, registration_id, now, extra)
            first = session.write(write)
            if first is not None:
                log.info("concurrent redelivery of %s %s: answered with the first decision", record.source,
                         record.external_id)
                return first
        final = write.event.decision
        if isinstance(self.store, Racing) and not self.store.serialized:
            final = settle(self.store, write, baseline,
                           lambda view: self._redecide(view, record, decide_one, registration_id, now, extra))
        self.notify_events([write.event if final is write.event.decision else replace(write.event, decision=final)])
        return final

    def _write(self, engine: Engine, record: Record, decide_one: Decide, registration_id: str, now: datetime,
               extra: Mapping[str, str] | None) -> Write:
        """What registering `record` against `engine` writes: its row, its event, the rows it displaces."""
        decision = decide_one(engine, now, registration_id)
        displaced = tuple(displaced_row(engine.registration(rid), decision) for rid in decision.displaced)
        event = new_event("register", record, decision, self.rules.rules_hash, now)
        event.extra.update(extra or {})
        return Write(registration_from(record, decision, submitted_at=now), event, displaced)

    def _redecide(self, view: Sequence[Registration], record: Record, decide_one: Decide, registration_id: str,
                  now: datetime, extra: Mapping[str, str] | None) -> Write:
        """The registration decided again against `view` (the claims a race settles it against), with
        the reference lists and unreadable rows of the warm engine, and the same stamp: every writer
        orders the claim alike. The warm engine itself is left as it is."""
        with self._lock:
            reference, quarantined = self._reference, tuple(self._engine.quarantined if self._engine else ())
        engine = Engine(self.rules, view, reference.named_accounts if reference else (),
                        reference.territories if reference else (), reference.partners if reference else (),
                        quarantined, reference.aliases if reference else ())
        return self._write(engine, record, decide_one, registration_id, now, extra)
