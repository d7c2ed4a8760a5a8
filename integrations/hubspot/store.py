"""The HubSpot store: registrations as deals, accounts as companies, decision events as notes,
behind the store contract (integrations/store/contract.py). What it costs in API calls, and how
a startup sets it up: docs/hubspot.md.

Reads go to an index kept in memory (integrations/hubspot/reading.py): while it is warm a check
costs no API call.

A registration (at most 4 API calls without a race; HubSpot has no transactions):
1. the deal, created exactly once (integrations/hubspot/deals.py): a redelivery another instance
   registered meanwhile is answered its first decision, nothing written.
2. the company, when it is new: created with its account key, the account-level owner and
   attribution, and the association to the deal; a known company whose owner or attribution
   changes is updated instead (integrations/hubspot/companies.py).
3. the decision's note on the deal and the company, in one batch with the buffered check notes
   (integrations/hubspot/notes.py).
4. the race check (`competing`): the company's deals through the v4 associations API, which reads
   what is stored; deals the index does not know mean a race, and then all of them are read as
   they are now (a 5th call). The service settles (handlers/races.py) and `correct` rewrites.

The company is written before the read-back, so a writer that answered with a stale owner always
re-reads after its own company write, and whoever settles the race writes the company last.

Check events are buffered (integrations/store/events.py) and written as notes with the next
registration, when 50 are waiting or the oldest is `cache_seconds` old, and on `close()`. A process
that dies loses at most those. Whole tables (`dealreg import` / `export`): integrations/hubspot/tables.py.

Known limits: a registration whose company write failed after its deal was created (HubSpot down
past the deadline) keeps its deal without the company: it is still a claim (a deal carries the
keys it was registered with), but its company does not show it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager

from dealreg.errors import StoreError
from dealreg.models import Decision, DecisionEvent, Quarantined, Registration
from integrations.hubspot import mapping as m
from integrations.hubspot import note_text as nt
from integrations.hubspot import setup
from integrations.hubspot.companies import Companies
from integrations.hubspot.deals import create_deal
from integrations.hubspot.index import Index, Pipelines
from integrations.hubspot.notes import Pending, note_inputs, write_notes
from integrations.hubspot.reading import FULL_RELOAD_SECONDS, LAG_MARGIN_SECONDS, Reader
from integrations.hubspot.tables import Tables
from integrations.hubspot.transport import HubSpotAPI
from integrations.store.contract import Changes, Cursor, Health, LogEntry, Write
from integrations.store.events import FLUSH_EVENTS, EventBuffer
from integrations.store.first_decisions import Remembered, unreadable
from integrations.store.rows import log_from_row, log_to_row, validated_rows

log = logging.getLogger("integrations.hubspot")


class HubSpotStore:
    """The `integrations.store.Store` (a `Racing` one, and `Tables`) on a HubSpot account.

    `api` is a ready `HubSpotAPI` (tests point it at the local fake); the clocks are injected so
    tests never wait: the API's `clock` (monotonic seconds) for the cache, `wall_ms` for HubSpot's time."""

    backend = "hubspot"
    serialized = False  # no lock in HubSpot: the service settles races (handlers/races.py)

    def __init__(self, api: HubSpotAPI, *, pipeline: str = "default", direct_pipelines: Sequence[str] = (),
                 direct_stages: Sequence[str] = (), cache_seconds: float = 30.0, flush_events: int = FLUSH_EVENTS,
                 full_reload_seconds: float = FULL_RELOAD_SECONDS, lag_margin_seconds: float = LAG_MARGIN_SECONDS,
                 wall_ms: Callable[[], int] = lambda: int(time.time() * 1000)) -> None:
        self.api = api
        self._state = threading.RLock()  # the index, and which deal and company each registration wrote
        self.reader = Reader(api, self._state, pipeline=pipeline, direct_pipelines=direct_pipelines,
                             direct_stages=direct_stages, cache_seconds=cache_seconds,
                             full_reload_seconds=full_reload_seconds, lag_margin_seconds=lag_margin_seconds,
                             wall_ms=wall_ms)
        self.companies = Companies(api, self._state)
        self.tables = Tables(api, self.reader, self.companies)
        self._events: EventBuffer[Pending] = EventBuffer(
            lambda pending: self._write_notes(pending, self.api.deadline()), name=self.backend, clock=api.clock,
            max_age=cache_seconds, flush_at=flush_events)
        self._decisions = Remembered()
        self._registering = threading.Lock()  # registrations of this process, one at a time
        self._written: dict[str, tuple[str, str]] = {}  # registration id -> (its deal, its company), for `competing`
        self._properties_ok = False

    # -- reading -----------------------------------------------------------------------

    def changes(self, since: Cursor | None) -> Changes:
        index = self.reader.current()
        with self._state:
            return index.changes(since)

    def invalidate(self) -> None:
        """Forget what is known: the next read lists everything again."""
        self.reader.invalidate()

    # -- first decisions (redeliveries) --------------------------------------------------

    def first_decision(self, source: str, external_id: str) -> Decision | None:
        """From memory: what this process registered or looked up, and the deals it has read (no API
        call). A session repeats the check, and the deal's unique external id catches the rest."""
        if not external_id:
            return None
        known = self._decisions.of_external(source, external_id)
        if known is not None:
            return known
        index = self.reader.index
        return None if index is None else self._known_decision(index, source, external_id)

    def _known_decision(self, index: Index, source: str, external_id: str) -> Decision | None:
        with self._state:
            did = index.by_external.get((source, external_id))
            deal = index.deals.get(did) if did else None
        return None if deal is None else self._decision_of(deal.id, deal.props, deal.item)

    def _decision_of(self, deal_id: str, props: Mapping[str, str], item: object = None) -> Decision:
        """The decision a registration deal records: its first, or the one a race settled on (`item`:
        the deal as the index reads it, a Quarantined naming what to fix when it cannot be read)."""
        rid = m.text(props, m.DEAL["registration_id"])
        known = self._decisions.of_registration(rid)
        if known is not None:
            return known
        try:
            decision = m.decision_from_deal(props)
        except (ValueError, StoreError):  # a deal edited by hand into something we cannot answer with
            decision = unreadable(rid, f" (HubSpot deal {deal_id})", item if isinstance(item, Quarantined) else None)
        source = m.text(props, m.DEAL["source"])
        self._decisions.remember(decision, rid, source, m.external_id_of(source, m.text(props, m.DEAL["external_id"])))
        return decision

    # -- registering -------------------------------------------------------------------

    @contextmanager
    def session(self) -> Iterator[_Session]:
        """One registration attempt on the index (read if it is not warm). Registrations of this
        process take turns; other processes are settled with after the write (`competing`)."""
        with self._registering:
            deadline = self.api.deadline()
            yield _Session(self, self.reader.current(), deadline)

    def _write(self, index: Index, write: Write, deadline: float) -> Decision | None:
        """`Session.write`: the deal, the company, the rows it displaces, the note (module docstring)."""
        reg, event = write.registration, write.event
        decision = event.decision
        props = {**m.deal_properties(reg, decision), "pipeline": index.pipelines.registration,
                 "dealstage": index.pipelines.stage_for(reg.state)}
        key = "" if reg.state == "rejected" else m.registration_account_key(reg)
        domain = m.company_domain(reg.company_domain, reg.contact_email)
        with self._state:
            company = index.company_for(key, domain) if key else ""
        deal, ours = create_deal(self.api, reg, props, company, deadline)
        if not ours:  # registered meanwhile by another instance: its first decision, nothing written
            self.reader.learn(index, [deal], mine=False)
            found = deal.get("properties") or {}
            return self._decision_of(str(deal["id"]), {k: m.text(found, k) for k in found})
        did = str(deal["id"])
        self.reader.learn(index, [deal])  # a claim from now on, whatever happens to the rest of the write
        if key and not company:
            company = self.companies.create(index, reg, decision, key, domain, did, deadline)
        elif company:
            self.companies.update(index, company, key, decision, deadline)
        with self._state:
            self._written[reg.registration_id] = (did, company)
        if write.displaced:
            self._rewrite(index, write.displaced, {}, deadline)
        self._decisions.remember(decision, reg.registration_id, reg.source, reg.external_id)
        try:
            self._events.flush((event, did, company), write=lambda pending: self._write_notes(pending, deadline))
        except StoreError as exc:  # the decision is on the deal already; its note waits for the next write
            log.warning("hubspot: the note of %s is not written yet: %s", reg.registration_id, exc)
        return None

    def competing(self, write: Write) -> Sequence[Registration]:
        """The account's claims, read back through the company's associations (consistent, never
        the search index), with ours last: every concurrent claim is then weighed by whoever sees
        it, and a claim that our write displaces is rewritten by us."""
        ours = write.registration
        with self._state:
            mine, company = self._written.pop(ours.registration_id, ("", ""))
            index = self.reader.index
        if not company or index is None:
            return [ours]
        deadline = self.api.deadline()
        ids = self.api.associations("companies", company, "deals", "the account's deals", deadline)
        with self._state:
            others = [i for i in ids if i != mine]
            unknown = [i for i in others if i not in index.deals]
        if unknown:  # written by another instance since we read: a race; read them all as they are now
            found = self.api.batch_read("deals", others, m.DEAL_READ, "the account's deals", deadline)
            with self._state:
                rebuild = False
                for deal in found:
                    rebuild = index.put_deal(deal, company) or rebuild
                if rebuild:
                    index.new_epoch()
        with self._state:
            deals = [index.deals[i] for i in others if i in index.deals]
        deals.sort(key=lambda d: (d.props.get("createdate", ""), int(d.id)))
        return [*(d.item for d in deals if isinstance(d.item, Registration)), ours]

    def amend(self, rows: Sequence[Registration], events: Sequence[DecisionEvent] = ()) -> None:
        """Rewrite `rows` on their deals (one batch update), then, for each event that changes who owns
        an account (a race settled, a review), its company; then the events' notes. Safe to repeat."""
        deadline = self.api.deadline()
        index = self.reader.index or self.reader.current()
        corrected = {e.decision.registration_id: e for e in events if e.action == "register"}
        self._rewrite(index, rows, corrected, deadline)
        pending: list[Pending] = []
        for event in events:
            decision = event.decision
            with self._state:
                deal = index.deal_of(decision.registration_id)
                company = index.company_of(deal) if deal is not None else ""
            if company and event.action in ("register", "review"):
                key = m.account_key(event.record.company_name, event.record.company_domain,
                                    event.record.contact_email, event.record.linkedin_url, event.record.duns)
                self.companies.update(index, company, key, decision, deadline)
            if event.action == "register":
                self._decisions.remember(decision, decision.registration_id, event.record.source,
                                         event.record.external_id)
            pending.append((event, deal.id if deal is not None else "", company))
        if pending:
            try:
                self._events.flush(*pending, write=lambda batch: self._write_notes(batch, deadline))
            except StoreError as exc:  # the rows are rewritten already; the notes wait for the next write
                log.warning("hubspot: the notes of %d events are not written yet: %s", len(pending), exc)

    # -- the operations log (notes on no object, marked `dealreg-log`) ----------------------

    def log(self, entries: Sequence[LogEntry]) -> None:
        if entries:
            write_notes(self.api, [{"properties": {"hs_timestamp": str(int(entries[0].at.timestamp() * 1000)),
                                                   "hs_note_body": nt.log_body([log_to_row(e) for e in entries])},
                                    "associations": []}], self.api.deadline())

    def logged(self, kind: str) -> list[LogEntry]:
        notes = self.api.list_all("notes", ("hs_note_body",), "the operations log", self.api.deadline)
        entries = (log_from_row(row) for note in sorted(notes, key=lambda n: int(n["id"]))
                   for row in nt.log_rows(m.text(note.get("properties") or {}, "hs_note_body")))
        return [e for e in entries if e is not None and e.kind == kind]

    def _rewrite(self, index: Index, rows: Sequence[Registration], corrected: Mapping[str, DecisionEvent],
                 deadline: float) -> None:
        """Every column of `rows` on their deals (`corrected`: the race corrections' events, whose
        decision fields go on the deal too, as a redelivery is answered from them)."""
        inputs = []
        for row in rows:
            with self._state:
                deal = index.deal_of(row.registration_id)
            if deal is None:
                log.warning("hubspot: registration %s to rewrite is not known; left as it is", row.registration_id)
                continue
            event = corrected.get(row.registration_id)
            props = m.correction_properties(row, event.decision if event is not None else None)
            if m.is_registration(deal.props):
                props["dealstage"] = index.pipelines.stage_for(row.state)
            inputs.append({"id": deal.id, "properties": props})
        if not inputs:
            return
        updated = self.api.batch_write("deals", "update", inputs, "the rewrite of displaced registrations", deadline)
        self.reader.learn(index, updated)

    # -- notes (decision events) ----------------------------------------------------------

    def record_event(self, event: DecisionEvent) -> None:
        """Buffered; written with the next registration, or when due (integrations/store/events.py)."""
        self._events.record((event, "", ""))

    def buffered(self) -> int:
        return len(self._events)

    def flush(self) -> int:
        """Write the buffered events now (one batch create per 100 notes); returns how many."""
        return self._events.flush()

    def _write_notes(self, pending: Sequence[Pending], deadline: float) -> None:
        write_notes(self.api, note_inputs(pending, self._matched_company), deadline)

    def _matched_company(self, registration_id: str) -> str:
        """The company of a registration on file ("" when unknown): where a check's note goes."""
        index = self.reader.index
        if index is None:
            return ""
        with self._state:
            deal = index.deal_of(registration_id)
            return index.company_of(deal) if deal is not None else ""

    # -- health and closing ----------------------------------------------------------------

    def health(self) -> Health:
        try:
            index = self.reader.current()
            if not self._properties_ok:  # once per process: a deleted property would read as "no value"
                problems = setup.check_properties(self.api, self.api.deadline())
                if problems:
                    return Health(False, self.backend, "dealreg's HubSpot properties need fixing: " + "; ".join(problems))
                self._properties_ok = True
        except StoreError as exc:
            return Health(False, self.backend, str(exc))
        with self._state:
            facts: dict[str, object] = {**index.facts(), "buffered_events": self.buffered()}
        return Health(True, self.backend, "", facts)

    def close(self) -> None:
        """Write the buffered decision notes (what cannot be written is logged), then let go."""
        self._events.close()
        self.api.close()

    def pipelines(self) -> Pipelines:
        """The deal pipelines read against the settings (one API call); StoreError naming the fix."""
        return self.reader.pipelines()

    def init(self, pipeline: str = "") -> setup.InitReport:
        """`dealreg init-hubspot` (integrations/hubspot/setup.py)."""
        report = setup.init_hubspot(self.api, self.api.deadline, pipeline)
        self.invalidate()
        return report

    # -- whole tables (dealreg import / export, tests) ---------------------------------------

    def read_rows(self, table: str) -> Iterator[dict[str, str]]:
        """The rows of one table as they are in HubSpot now (buffered notes are written first)."""
        if table == "decisions":
            self.flush()
        yield from self.tables.read_rows(table)

    def count(self, table: str) -> int:
        return sum(1 for _ in self.read_rows(table))

    def is_empty(self) -> bool:
        return not any(True for table in ("registrations", "partners", "territories", "named-accounts")
                       for _ in self.read_rows(table))

    def write_rows(self, table: str, rows: Iterable[Mapping[str, str]]) -> int:
        """registrations and decisions: add rows, rewriting those whose id is in HubSpot;
        partners, territories, named-accounts: replace the list (on companies). Every row is
        checked first. The index is read whole again afterwards."""
        clean = validated_rows(table, rows)
        try:
            self.tables.write_rows(table, clean)
        finally:
            self.invalidate()
        return len(clean)


class _Session:
    """A registration attempt on the index (`HubSpotStore.session`)."""

    def __init__(self, store: HubSpotStore, index: Index, deadline: float) -> None:
        self.store, self.index, self.deadline = store, index, deadline

    def changes(self, since: Cursor | None) -> Changes:
        with self.store._state:
            return self.index.changes(since)

    def first_decision(self, source: str, external_id: str) -> Decision | None:
        if not external_id:
            return None
        known = self.store._decisions.of_external(source, external_id)
        return known if known is not None else self.store._known_decision(self.index, source, external_id)

    def write(self, write: Write) -> Decision | None:
        return self.store._write(self.index, write, self.deadline)

    def amend(self, rows: Sequence[Registration], events: Sequence[DecisionEvent] = ()) -> None:
        self.store.amend(rows, events)
