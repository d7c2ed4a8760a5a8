"""The HubSpot store: registrations as deals, accounts as companies, decision events as notes,
behind the store contract (integrations/store/contract.py). What it costs in API calls, and how
a startup sets it up: docs/hubspot.md.

Reads. The first read of a process lists every deal and company (the list endpoint pages with
`after` and reads what is stored; search stops at 10,000 and lags) and the deal pipelines, and
keeps them in memory (integrations/hubspot/index.py). While that is younger than `cache_seconds`
a check costs no API call. Then one search per object type asks what changed since the newest
change seen, less a margin for the search index's lag (`LAG_MARGIN_SECONDS`; HubSpot documents
10 to 60 s), and every `FULL_RELOAD_SECONDS` the lists are read whole again (a deal deleted in
HubSpot leaves no trace in a search).

A registration (at most 4 API calls without a race; HubSpot has no transactions):
1. the deal, created with its company association when the company is known. Its
   `dealreg_external_id` is unique, so a redelivery that another instance registered meanwhile is
   answered 409 (or 400 "already has that value"): it is read back by that key and its first
   decision answered, nothing written. A create answered with a 5xx or a dropped connection is
   looked for by `dealreg_registration_id` (unique too) before it is sent again: never doubled.
2. the company, when it is new: created with its account key (unique, so two first registrations
   of one account meet on one company: the second is refused and reads the first's), the
   account-level owner and attribution, and the association to the deal. A known company whose
   owner or attribution changes is updated instead.
3. the decision's note on the deal and the company, in one batch with the buffered check notes.
4. the race check (`competing`): the company's deals through the v4 associations API, which reads
   what is stored; deals the index does not know mean a race, and then all of them are read as
   they are now (a 5th call). The service settles (handlers/races.py) and `correct` rewrites.

The company is written before the read-back, so a writer that answered with a stale owner always
re-reads after its own company write, and whoever settles the race writes the company last.

Check events are buffered and written as notes in batches (with the next registration, when 50
are waiting or the oldest is `cache_seconds` old, and on `close()`), one note per company, so that
Clay's checks neither flood a timeline nor the quota. A process that dies loses at most those.

Known limits: a registration whose company write failed after its deal was created (HubSpot down
past the deadline) keeps its deal without the company: it is still a claim (a deal carries the
keys it was registered with), but its company does not show it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from dealreg.errors import InputError, StoreError
from dealreg.models import Decision, DecisionEvent, MatchLevel, Registration, Status
from integrations.hubspot import mapping as m
from integrations.hubspot import setup
from integrations.hubspot.index import Index, primary_company, resolve_pipelines
from integrations.hubspot.transport import Ambiguous, BatchRefused, HubSpotAPI, UniqueConflict
from integrations.store.contract import Changes, Cursor, Health, Write
from integrations.store.rows import (
    check_table,
    event_to_row,
    registration_from_row,
    validated_rows,
)

log = logging.getLogger("integrations.hubspot")

FLUSH_EVENTS = 50
MAX_BUFFERED_EVENTS = 5_000
FULL_RELOAD_SECONDS = 900.0
LAG_MARGIN_SECONDS = 120.0
"""How far back each search for changes reaches past the newest change already seen: the search
index lags writes by up to a minute (Okta's connector: 10 s after a create, 60 s after an update)."""


Pending = tuple[DecisionEvent, str, str]
"""A decision event whose note is to be written: (event, its deal id, its company id); "" for a check,
whose company is that of the registration it matched."""


def _to(object_id: str, type_id: int) -> dict[str, Any]:
    return {"to": {"id": object_id}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}]}


def owner_properties(decision: Decision) -> dict[str, str]:
    """The account-level outcome a company shows; nothing when no owner was decided (review)."""
    if not decision.owner:
        return {}
    return {m.COMPANY_OWNER: decision.owner, m.COMPANY_PRIMARY: decision.attribution_primary,
            m.COMPANY_SECONDARY: decision.attribution_secondary}


class HubSpotStore:
    """The `integrations.store.Store` (a `Racing` one, and `Tables`) on a HubSpot account.

    `api` is a ready `HubSpotAPI` (tests point it at the local fake); the clocks are injected so
    tests never wait: `clock` (monotonic seconds) for the cache, `wall_ms` for HubSpot's time."""

    backend = "hubspot"
    serialized = False  # no lock in HubSpot: the service settles races (handlers/races.py)

    def __init__(self, api: HubSpotAPI, *, pipeline: str = "default", direct_pipelines: Sequence[str] = (),
                 direct_stages: Sequence[str] = (), cache_seconds: float = 30.0, flush_events: int = FLUSH_EVENTS,
                 full_reload_seconds: float = FULL_RELOAD_SECONDS, lag_margin_seconds: float = LAG_MARGIN_SECONDS,
                 wall_ms: Callable[[], int] = lambda: int(time.time() * 1000)) -> None:
        self.api = api
        self.pipeline, self.direct_pipelines, self.direct_stages = pipeline, tuple(direct_pipelines), tuple(direct_stages)
        self.cache_seconds, self.flush_events = cache_seconds, flush_events
        self.full_reload_seconds, self.lag_margin_ms = full_reload_seconds, int(lag_margin_seconds * 1000)
        self._clock, self._wall_ms = api.clock, wall_ms
        self._index: Index | None = None
        self._state = threading.RLock()  # the index, the buffer, the memory
        self._refresh = threading.Lock()  # one read at a time
        self._registering = threading.Lock()  # registrations of this process, one at a time
        self._flushing = threading.Lock()
        self._buffer: list[Pending] = []  # decision events whose notes are not written yet
        self._buffer_since = 0.0
        self._decisions: OrderedDict[tuple[str, ...], Decision] = OrderedDict()
        self._written: dict[str, tuple[str, str]] = {}  # registration id -> (its deal, its company), for `competing`
        # The deals this process wrote lately, laid over every read: a read that began before our
        # write (a full read on another thread) must not lose it, and search lags it.
        self._recent: OrderedDict[str, Mapping[str, Any]] = OrderedDict()
        self._properties_ok = False

    # -- reading -----------------------------------------------------------------------

    def _current(self) -> Index:
        """The index while it is warm; otherwise what changed is read (or everything, when the index
        is missing or old)."""
        index = self._index
        if index is not None and self._clock() - index.refreshed_at < self.cache_seconds:
            return index
        with self._refresh:
            index = self._index  # another thread may have just read
            now = self._clock()
            if index is not None and now - index.refreshed_at < self.cache_seconds:
                return index
            if index is None or now - index.loaded_at >= self.full_reload_seconds or not self._update(index):
                index = self._load()
            return index

    def _load(self) -> Index:
        """Everything: the pipelines, every company, every deal, and the companies of the direct
        team's open deals (1 + pages of 100 + pages of 100 + batches of 100 API calls)."""
        api = self.api
        started, wall = self._clock(), self._wall_ms()
        data = api.call("GET", "/crm/v3/pipelines/deals", "the deal pipelines", api.deadline())
        index = Index(resolve_pipelines(data.get("results") or [], self.pipeline, self.direct_pipelines,
                                        self.direct_stages))
        for company in api.list_all("companies", m.COMPANY_READ, "the companies read", api.deadline):
            index.put_company(company)
        deals = list(api.list_all("deals", m.DEAL_READ, "the deals read", api.deadline))
        links = self._companies_of(index, [d for d in deals if self._needs_company(index, d)], api.deadline())
        for deal in deals:
            index.put_deal(deal, links.get(str(deal["id"]), ""), loading=True)
        index.build_reference()
        index.loaded_at = index.refreshed_at = started
        index.refreshed_wall_ms = wall
        with self._state:
            for written in self._recent.values():  # what a read that began before our writes lacks
                index.put_deal(written, loading=True)
            self._index = index
        facts = index.facts()
        log.info("hubspot: loaded %d registration deals, %d open direct deals, %d companies", facts["registrations"],
                 facts["direct_deals"], len(index.companies))
        return index

    @staticmethod
    def _needs_company(index: Index, deal: Mapping[str, Any]) -> bool:
        """A deal of the direct team, open, whose company is not known yet."""
        props = deal.get("properties") or {}
        if m.is_registration(props):
            return False
        pipeline, stage = m.text(props, "pipeline"), m.text(props, "dealstage")
        if not index.pipelines.direct_claim(pipeline, stage) or index.pipelines.closed_as(stage):
            return False
        known = index.deals.get(str(deal["id"]))
        return known is None or not known.company

    def _companies_of(self, index: Index, deals: Sequence[Mapping[str, Any]], deadline: float) -> dict[str, str]:
        """{deal id: its company id} for direct deals (one batch read per 100 deals), with the
        companies the index does not hold yet read in."""
        if not deals:
            return {}
        links = self.api.batch_associations("deals", "companies", [str(d["id"]) for d in deals],
                                            "the deals' companies", deadline)
        found = {did: primary_company(to) for did, to in links.items()}
        unknown = sorted({c for c in found.values() if c and c not in index.companies})
        for company in self.api.batch_read("companies", unknown, m.COMPANY_READ, "the deals' companies", deadline):
            with self._state:
                index.put_company(company)
        return found

    def _update(self, index: Index) -> bool:
        """Read what changed since the index was read (2 searches, and the companies of new direct
        deals); False when more changed than a search pages through (then everything is read)."""
        api = self.api
        started, wall, deadline = self._clock(), self._wall_ms(), api.deadline()
        since = max(index.cursor_ms, index.refreshed_wall_ms) - self.lag_margin_ms
        changed = [{"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": str(since)}]
        companies = api.search("companies", changed, m.COMPANY_READ, "the changed companies", deadline)
        deals = api.search("deals", changed, m.DEAL_READ, "the changed deals", deadline) if companies is not None else None
        if companies is None or deals is None:
            log.info("hubspot: more changed than a search pages through; reading everything")
            return False
        with self._state:
            rebuild = False
            for company in companies:
                if index.put_company(company):
                    rebuild = index.recompute_company(str(company["id"])) or rebuild
        links = self._companies_of(index, [d for d in deals if self._needs_company(index, d)], deadline)
        with self._state:
            for deal in deals:
                rebuild = index.put_deal(deal, links.get(str(deal["id"]), "")) or rebuild
            rebuild = index.build_reference() or rebuild
            if rebuild:
                index.new_epoch()
            index.refreshed_at, index.refreshed_wall_ms = started, wall
        return True

    def changes(self, since: Cursor | None) -> Changes:
        index = self._current()
        with self._state:
            return index.changes(since)

    def invalidate(self) -> None:
        """Forget what is known: the next read lists everything again."""
        with self._state:
            self._index = None

    # -- first decisions (redeliveries) --------------------------------------------------

    def _remember(self, decision: Decision, registration_id: str, source: str, external_id: str) -> None:
        with self._state:
            self._decisions[("id", registration_id)] = decision
            if external_id:
                self._decisions[("ext", source, external_id)] = decision
            while len(self._decisions) > 20_000:
                self._decisions.popitem(last=False)

    def first_decision(self, source: str, external_id: str) -> Decision | None:
        """From memory: what this process registered or looked up, and the deals it has read (no API
        call). A session repeats the check, and the deal's unique external id catches the rest."""
        if not external_id:
            return None
        known = self._decisions.get(("ext", source, external_id))
        if known is not None:
            return known
        index = self._index
        return None if index is None else self._known_decision(index, source, external_id)

    def _known_decision(self, index: Index, source: str, external_id: str) -> Decision | None:
        with self._state:
            did = index.by_external.get((source, external_id))
            deal = index.deals.get(did) if did else None
        return None if deal is None else self._decision_of(deal.id, deal.props, deal.item)

    def _decision_of(self, deal_id: str, props: Mapping[str, str], item: object = None) -> Decision:
        """The decision a registration deal records: its first, or the one a race settled on."""
        rid = m.text(props, m.DEAL["registration_id"])
        known = self._decisions.get(("id", rid))
        if known is not None:
            return known
        try:
            decision = m.decision_from_deal(props)
        except (ValueError, StoreError):  # a deal edited by hand into something we cannot answer with
            fix = f" Fix: {item.describe()}." if hasattr(item, "describe") else ""
            decision = Decision(Status.NEEDS_REVIEW, "", "", "", rid, MatchLevel.NONE, 0, (), "quarantine",
                                f"This submission was registered before as {rid} (HubSpot deal {deal_id}), which "
                                f"cannot be read; a person should check it.{fix}")
        source = m.text(props, m.DEAL["source"])
        self._remember(decision, rid, source, m.external_id_of(source, m.text(props, m.DEAL["external_id"])))
        return decision

    # -- registering -------------------------------------------------------------------

    @contextmanager
    def session(self) -> Iterator[_Session]:
        """One registration attempt on the index (read if it is not warm). Registrations of this
        process take turns; other processes are settled with after the write (`competing`)."""
        with self._registering:
            deadline = self.api.deadline()
            yield _Session(self, self._current(), deadline)

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
        deal = self._create_deal(index, reg, props, company, deadline)
        if isinstance(deal, Decision):
            return deal  # registered meanwhile by another instance: its first decision, nothing written
        did = str(deal["id"])
        self._learn(index, [deal])  # a claim from now on, whatever happens to the rest of the write
        if key and not company:
            company = self._create_company(index, reg, decision, key, domain, did, deadline)
        elif company:
            self._update_company(index, company, key, decision, deadline)
        with self._state:
            self._written[reg.registration_id] = (did, company)
        if write.displaced:
            self._rewrite(index, write.displaced, None, deadline)
        self._remember(decision, reg.registration_id, reg.source, reg.external_id)
        try:
            self._notes([(event, did, company)], deadline)
        except StoreError as exc:  # the decision is on the deal already; its note waits for the next write
            log.warning("hubspot: the note of %s is not written yet: %s", reg.registration_id, exc)
        return None

    def _create_deal(self, index: Index, reg: Registration, props: dict[str, str], company: str,
                     deadline: float) -> dict[str, Any] | Decision:
        """The registration's deal: created once, or the first decision of a redelivery."""
        body: dict[str, Any] = {"properties": props}
        if company:
            body["associations"] = [_to(company, m.DEAL_TO_COMPANY)]
        attempt = 0
        while True:
            try:
                return self.api.call("POST", "/crm/v3/objects/deals", "the registration's deal", deadline, body=body,  # type: ignore[no-any-return]  # the API's JSON object
                                     write=True)
            except UniqueConflict as exc:
                existing = self._existing_deal(reg, exc.properties, deadline)
                if existing is None:
                    raise StoreError(f"HubSpot refused the registration's deal as a duplicate but has no deal with "
                                     f"its keys: {exc}") from None
                if self._is_ours(existing, reg):
                    return existing  # our own earlier try had landed
                found = existing.get("properties") or {}
                if (reg.external_id and m.text(found, m.DEAL["external_id"])
                        == m.external_value(reg.source, reg.external_id)):
                    log.info("hubspot: %s %s was registered meanwhile as deal %s", reg.source, reg.external_id,
                             existing["id"])
                    self._learn(index, [existing], mine=False)
                    props_ = {k: m.text(found, k) for k in found}
                    return self._decision_of(str(existing["id"]), props_)
                raise StoreError(f"registration id {reg.registration_id} is already HubSpot deal {existing['id']}'s; "
                                 f"registration ids must be unique") from None
            except Ambiguous as exc:
                log.warning("hubspot: the deal of %s answered %s; looking for it before sending it again",
                            reg.registration_id, exc)
                existing = self.api.get("deals", reg.registration_id, m.DEAL_READ, "the registration's deal",
                                        deadline, id_property=m.DEAL["registration_id"])
                if existing is not None and self._is_ours(existing, reg):
                    return existing
                self.api.backoff(attempt, str(exc), "the registration's deal", deadline)
                attempt += 1

    def _existing_deal(self, reg: Registration, clashing: Sequence[str], deadline: float) -> dict[str, Any] | None:
        """The deal holding a unique value of ours: by external id first (a redelivery), then by
        registration id (our own earlier try)."""
        keys = []
        if reg.external_id and (not clashing or m.DEAL["external_id"] in clashing):
            keys.append((m.DEAL["external_id"], m.external_value(reg.source, reg.external_id)))
        if not clashing or m.DEAL["registration_id"] in clashing or not keys:
            keys.append((m.DEAL["registration_id"], reg.registration_id))
        for prop, value in keys:
            found = self.api.get("deals", value, m.DEAL_READ, "the deal registered before", deadline, id_property=prop)
            if found is not None:
                return found
        return None

    @staticmethod
    def _is_ours(deal: Mapping[str, Any], reg: Registration) -> bool:
        props = deal.get("properties") or {}
        return (m.text(props, m.DEAL["registration_id"]) == reg.registration_id
                and m.text(props, m.DEAL["external_id"]) == m.external_value(reg.source, reg.external_id))

    def _create_company(self, index: Index, reg: Registration, decision: Decision, key: str, domain: str, deal_id: str,
                        deadline: float) -> str:
        """A new account's company, associated with the deal; the one another writer created first
        when the account key is taken."""
        props = {"name": reg.company_name or domain or reg.linkedin_url or reg.duns, m.ACCOUNT_KEY: key,
                 **owner_properties(decision)}
        if domain:
            props["domain"] = domain
        body = {"properties": props, "associations": [_to(deal_id, m.COMPANY_TO_DEAL)]}
        attempt = 0
        while True:
            try:
                created = self.api.call("POST", "/crm/v3/objects/companies", "the account's company", deadline,
                                        body=body, write=True)
                with self._state:
                    index.put_company(created)
                return str(created["id"])
            except (UniqueConflict, Ambiguous) as exc:
                existing = self.api.get("companies", key, m.COMPANY_READ, "the account's company", deadline,
                                        id_property=m.ACCOUNT_KEY)
                if existing is None:
                    if isinstance(exc, UniqueConflict):
                        raise
                    self.api.backoff(attempt, str(exc), "the account's company", deadline)
                    attempt += 1
                    continue
            cid = str(existing["id"])
            # created first by another writer (or by our own try, whose answer was lost): join it
            self.api.associate("deals", deal_id, "companies", cid, m.DEAL_TO_COMPANY, "the deal's company", deadline)
            with self._state:
                index.put_company(existing)
            self._update_company(index, cid, key, decision, deadline)
            return cid

    def _update_company(self, index: Index, company: str, key: str, decision: Decision, deadline: float) -> None:
        """Write the account-level outcome on the company when it changed (and its account key,
        when the company was found by its domain)."""
        with self._state:
            known = index.companies.get(company)
            current = dict(known.props) if known is not None else {}
        want = owner_properties(decision)
        if key and not current.get(m.ACCOUNT_KEY):
            want[m.ACCOUNT_KEY] = key
        changed = {k: v for k, v in want.items() if current.get(k, "") != v}
        if not changed:
            return
        try:
            updated = self.api.call("PATCH", f"/crm/v3/objects/companies/{company}", "the account's company",
                                    deadline, body={"properties": changed}, write=True, retry_ambiguous=True)
        except UniqueConflict:  # another company holds the key: leave this one unkeyed
            changed.pop(m.ACCOUNT_KEY, None)
            if not changed:
                return
            updated = self.api.call("PATCH", f"/crm/v3/objects/companies/{company}", "the account's company",
                                    deadline, body={"properties": changed}, write=True, retry_ambiguous=True)
        with self._state:
            index.put_company(updated)

    def competing(self, write: Write) -> Sequence[Registration]:
        """The account's claims, read back through the company's associations (consistent, never
        the search index), with ours last: every concurrent claim is then weighed by whoever sees
        it, and a claim that our write displaces is rewritten by us."""
        ours = write.registration
        with self._state:
            mine, company = self._written.pop(ours.registration_id, ("", ""))
            index = self._index
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

    def correct(self, rows: Sequence[Registration], event: DecisionEvent | None) -> None:
        """Rewrite the decision columns of `rows` (one batch update) and, with `event`, the
        company and the correcting note. Safe to repeat."""
        deadline = self.api.deadline()
        index = self._index or self._current()
        self._rewrite(index, rows, event, deadline)
        if event is None:
            return
        decision = event.decision
        with self._state:
            deal = index.deal_of(decision.registration_id)
            company = index.company_of(deal) if deal is not None else ""
        if company:
            key = m.account_key(event.record.company_name, event.record.company_domain, event.record.contact_email,
                                event.record.linkedin_url, event.record.duns)
            self._update_company(index, company, key, decision, deadline)
        self._remember(decision, decision.registration_id, event.record.source, event.record.external_id)
        try:
            self._notes([(event, deal.id if deal is not None else "", company)], deadline)
        except StoreError as exc:
            log.warning("hubspot: the correcting note of %s is not written yet: %s", decision.registration_id, exc)

    def _rewrite(self, index: Index, rows: Sequence[Registration], event: DecisionEvent | None,
                 deadline: float) -> None:
        inputs = []
        for row in rows:
            with self._state:
                deal = index.deal_of(row.registration_id)
            if deal is None:
                log.warning("hubspot: registration %s to rewrite is not known; left as it is", row.registration_id)
                continue
            ours = event.decision if event is not None and row.registration_id == event.decision.registration_id else None
            inputs.append({"id": deal.id, "properties": m.correction_properties(row, ours)})
        if not inputs:
            return
        updated = self.api.batch_write("deals", "update", inputs, "the rewrite of displaced registrations", deadline)
        self._learn(index, updated)

    def _learn(self, index: Index, deals: Sequence[Mapping[str, Any]], *, mine: bool = True) -> None:
        """Deals as HubSpot answered our writes (or read them), into the index the write used and the
        current one (a full read may have replaced it meanwhile); ours are laid over later reads too."""
        with self._state:
            for target in {id(t): t for t in (index, self._index) if t is not None}.values():
                rebuild = False
                for deal in deals:
                    rebuild = target.put_deal(deal) or rebuild
                if rebuild:
                    target.new_epoch()
            if mine:
                for deal in deals:
                    self._recent[str(deal["id"])] = deal
                    self._recent.move_to_end(str(deal["id"]))
                while len(self._recent) > 1_000:
                    self._recent.popitem(last=False)

    # -- notes (decision events) ----------------------------------------------------------

    def record_event(self, event: DecisionEvent) -> None:
        """Buffer the event; write the buffer when it is full or old (module docstring)."""
        with self._state:
            if not self._buffer:
                self._buffer_since = self._clock()
            self._buffer.append((event, "", ""))
            due = len(self._buffer) >= self.flush_events or self._clock() - self._buffer_since >= self.cache_seconds
        if due:
            try:
                self.flush()
            except StoreError as exc:  # the events stay buffered; the decision was made and answered
                log.warning("hubspot: could not write %d decision events yet: %s", self.buffered(), exc)

    def buffered(self) -> int:
        return len(self._buffer)

    def flush(self) -> int:
        """Write the buffered events now (one batch create per 100 notes); returns how many."""
        with self._flushing:
            with self._state:
                count = len(self._buffer)
            if count:
                self._notes([], self.api.deadline())
            return count

    def _notes(self, events: Sequence[Pending], deadline: float) -> None:
        """Notes for `events` ((event, deal id, company id)) and the buffered ones, in one batch
        create: a registration's note on its deal and company, the checks' grouped by the company of
        the registration they matched (or on none). A note that HubSpot may have written before a
        5xx is sent again: readers take each event once, by its id. Not written: back in the buffer."""
        with self._state:
            pending, self._buffer = [*self._buffer, *events], []
            index = self._index
        groups: dict[tuple[str, str], list[DecisionEvent]] = {}
        for event, deal, company in pending:
            if not deal and not company and index is not None and event.decision.matched_registration_id:
                with self._state:
                    found = index.deal_of(event.decision.matched_registration_id)
                    company = index.company_of(found) if found is not None else ""
            groups.setdefault((deal, company), []).append(event)
        inputs = []
        for (deal, company), group in groups.items():
            associations = [*([_to(deal, m.NOTE_TO_DEAL)] if deal else []),
                            *([_to(company, m.NOTE_TO_COMPANY)] if company else [])]
            for body in m.note_bodies([event_to_row(e) for e in group]):
                inputs.append({"properties": {"hs_timestamp": str(m.timestamp_ms(group[0].decided_at.isoformat())),
                                              "hs_note_body": body}, "associations": associations})
        attempt = 0
        try:
            while True:
                try:
                    self.api.batch_write("notes", "create", inputs, "the decision notes", deadline)
                    return
                except Ambiguous as exc:
                    self.api.backoff(attempt, str(exc), "the decision notes", deadline)
                    attempt += 1
                except BatchRefused as exc:
                    # A deal or company deleted (or merged) in HubSpot meanwhile: such a note is kept
                    # without its associations rather than blocking every note after it.
                    loose = [{**item, "associations": []} for item in exc.refused if item.get("associations")]
                    if len(loose) < len(exc.refused):
                        raise
                    log.warning("hubspot: %d decision notes written without their deal or company: %s", len(loose), exc)
                    inputs = loose
        except BaseException:
            self._return(pending)
            raise

    def _return(self, pending: list[Pending]) -> None:
        with self._state:
            if not self._buffer:
                self._buffer_since = self._clock()
            self._buffer[:0] = pending
            if len(self._buffer) > MAX_BUFFERED_EVENTS:
                dropped = len(self._buffer) - MAX_BUFFERED_EVENTS
                del self._buffer[:dropped]
                log.error("hubspot: dropped the %d oldest unwritten decision events (HubSpot is unreachable)",
                          dropped)

    # -- health and closing ----------------------------------------------------------------

    def health(self) -> Health:
        try:
            index = self._current()
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
        try:
            self.flush()
        except StoreError as exc:
            log.error("hubspot: %d decision events were not written: %s", self.buffered(), exc)
        self.api.close()

    def pipelines(self) -> Any:
        """The deal pipelines read against the settings (one API call); StoreError naming the fix."""
        data = self.api.call("GET", "/crm/v3/pipelines/deals", "the deal pipelines", self.api.deadline())
        return resolve_pipelines(data.get("results") or [], self.pipeline, self.direct_pipelines, self.direct_stages)

    def init(self, pipeline: str = "") -> setup.InitReport:
        """`dealreg init-hubspot` (integrations/hubspot/setup.py)."""
        report = setup.init_hubspot(self.api, self.api.deadline, pipeline)
        self.invalidate()
        return report

    # -- whole tables (dealreg import / export, tests) ---------------------------------------

    def _pipelines(self) -> Any:
        index = self._index or self._current()
        return index.pipelines

    def read_rows(self, table: str) -> Iterator[dict[str, str]]:
        """The rows of one table as they are in HubSpot now (the list endpoint: consistent)."""
        check_table(table)
        api = self.api
        if table == "registrations":
            pipelines = self._pipelines()
            deals = [d for d in api.list_all("deals", m.DEAL_READ, "the deals read", api.deadline)
                     if m.is_registration(d.get("properties") or {})]
            for deal in sorted(deals, key=lambda d: int(d["id"])):
                props = deal.get("properties") or {}
                yield m.registration_row(props, pipelines.closed_as(m.text(props, "dealstage")))
        elif table == "decisions":
            self.flush()
            seen: set[str] = set()
            notes = sorted(api.list_all("notes", ("hs_note_body", "hs_timestamp"), "the decision notes", api.deadline),
                           key=lambda n: int(n["id"]))
            for note in notes:
                for row in m.note_rows(m.text(note.get("properties") or {}, "hs_note_body")):
                    if row["event_id"] not in seen:
                        seen.add(row["event_id"])
                        yield row
        else:
            for company in self._marked(table):
                yield m.reference_row(table, company.get("properties") or {})

    def _marked(self, table: str) -> list[dict[str, Any]]:
        """The companies on a reference list, oldest first."""
        companies = self.api.list_all("companies", m.COMPANY_READ, "the companies read", self.api.deadline)
        return sorted((c for c in companies if m.text(c.get("properties") or {}, m.MARKER[table]).strip()),
                      key=lambda c: int(c["id"]))

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
            if table == "registrations":
                self._import_registrations(clean)
            elif table == "decisions":
                self._import_decisions(clean)
            else:
                self._import_reference(table, clean)
        finally:
            self.invalidate()
        return len(clean)

    def _import_registrations(self, rows: Sequence[dict[str, str]]) -> None:
        api, index = self.api, self._current()
        regs = [registration_from_row(row) for row in rows]
        ids = [r.registration_id for r in regs]
        existing = {m.text(d.get("properties") or {}, m.DEAL["registration_id"]): str(d["id"])
                    for d in api.batch_read("deals", ids, ("dealreg_registration_id",), "the registrations on file",
                                            api.deadline(), id_property=m.DEAL["registration_id"])}
        creates, updates = [], []
        for reg in regs:
            props = {**m.deal_properties(reg, clear_empty=reg.registration_id in existing),
                     "pipeline": index.pipelines.registration, "dealstage": index.pipelines.stage_for(reg.state)}
            if reg.registration_id in existing:
                updates.append({"id": existing[reg.registration_id], "properties": props})
                continue
            item: dict[str, Any] = {"properties": props}
            key = "" if reg.state == "rejected" else m.registration_account_key(reg)
            if key:
                company = self._company(index, key, m.company_domain(reg.company_domain, reg.contact_email),
                                        reg.company_name, {m.COMPANY_OWNER: reg.owner} if reg.owner else {})
                item["associations"] = [_to(company, m.DEAL_TO_COMPANY)]
            creates.append(item)
        if updates:
            api.batch_write("deals", "update", updates, "the registrations import", api.deadline())
        if creates:
            api.batch_write("deals", "create", creates, "the registrations import", api.deadline())

    def _company(self, index: Index, key: str, domain: str, name: str, extra: Mapping[str, str]) -> str:
        """The company of an account key: known, found by the key, or created."""
        with self._state:
            known = index.company_for(key, domain)
        if known:
            return known
        props = {"name": name or domain or key.split(":", 1)[-1], m.ACCOUNT_KEY: key, **extra}
        if domain:
            props["domain"] = domain
        try:
            created = self.api.call("POST", "/crm/v3/objects/companies", "a company", self.api.deadline(),
                                    body={"properties": props}, write=True)
        except (UniqueConflict, Ambiguous):
            created = self.api.get("companies", key, m.COMPANY_READ, "a company", self.api.deadline(),
                                   id_property=m.ACCOUNT_KEY)
            if created is None:
                raise StoreError(f"HubSpot did not create the company of {key}; try again") from None
        with self._state:
            index.put_company(created)
        return str(created["id"])

    def _import_decisions(self, rows: Sequence[dict[str, str]]) -> None:
        api, index = self.api, self._current()
        inputs = []
        for row in rows:
            with self._state:
                deal = index.deal_of(row.get("registration_id", "")) if row.get("registration_id") else None
                company = index.company_of(deal) if deal is not None else ""
            associations = [*([_to(deal.id, m.NOTE_TO_DEAL)] if deal is not None else []),
                            *([_to(company, m.NOTE_TO_COMPANY)] if company else [])]
            for body in m.note_bodies([row]):
                inputs.append({"properties": {"hs_timestamp": str(m.timestamp_ms(row.get("decided_at", ""))),
                                              "hs_note_body": body}, "associations": associations})
        # An event id on file already is replaced: its note is rewritten without it.
        wanted = {row["event_id"] for row in rows}
        rewrites = []
        for note in api.list_all("notes", ("hs_note_body",), "the decision notes", api.deadline):
            body = m.text(note.get("properties") or {}, "hs_note_body")
            held = m.note_rows(body)
            if any(r["event_id"] in wanted for r in held):
                kept = [r for r in held if r["event_id"] not in wanted]
                rewrites.append({"id": str(note["id"]), "properties": {
                    "hs_note_body": m.note_bodies(kept)[0] if kept else "<p>dealreg: replaced by an import</p>"}})
        if rewrites:
            api.batch_write("notes", "update", rewrites, "the decisions import", api.deadline())
        if inputs:
            api.batch_write("notes", "create", inputs, "the decisions import", api.deadline())

    def _import_reference(self, table: str, rows: Sequence[dict[str, str]]) -> None:
        """Replace a reference list: the rows' companies get the list's properties (a company is
        found by its account key, or created), the companies no longer listed lose them."""
        api, index = self.api, self._current()
        marked = self._marked(table)
        by_value = {m.text(c.get("properties") or {}, m.MARKER[table]).strip().casefold(): str(c["id"]) for c in marked}
        partners = {m.text(c.get("properties") or {}, m.PARTNER_NAME).strip().casefold(): str(c["id"])
                    for c in self._marked("partners")} if table == "territories" else {}
        targets: dict[str, int] = {}
        updates = []
        for n, row in enumerate(rows, start=2):
            if table == "named-accounts":
                key = m.account_key(row["company_name"], row["company_domain"], "", row["linkedin_url"], row["duns"])
                company = self._company(index, key, m.company_domain(row["company_domain"]), row["company_name"], {})
            else:
                name = row["partner"].strip()
                company = (by_value.get(name.casefold()) or partners.get(name.casefold())
                           or self._company(index, m.account_key(name), "", name, {}))
            if company in targets:
                noun = {"partners": "partner", "territories": "territory", "named-accounts": "named account"}[table]
                raise InputError([(f"row {n} {next(iter(m.REFERENCE[table]))}",
                                   f"row {targets[company]} names the same HubSpot company {company}: HubSpot keeps "
                                   f"one {noun} per company; merge the two rows")])
            targets[company] = n
            updates.append({"id": company, "properties": m.reference_properties(table, row)})
        for listed in marked:
            if str(listed["id"]) not in targets:
                updates.append({"id": str(listed["id"]), "properties": m.cleared(table)})
        if updates:
            api.batch_write("companies", "update", updates, f"the {table} list", api.deadline())


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
        known = self.store._decisions.get(("ext", source, external_id))
        return known if known is not None else self.store._known_decision(self.index, source, external_id)

    def write(self, write: Write) -> Decision | None:
        return self.store._write(self.index, write, self.deadline)

