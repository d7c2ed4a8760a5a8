"""Reading the HubSpot account into the store's index (integrations/hubspot/index.py), and keeping it fresh.

The first read of a process lists every deal and company (the list endpoint pages with `after` and
reads what is stored; search stops at 10,000 and lags) and the deal pipelines. While the index is
younger than `cache_seconds` a check costs no API call. Then one search per object type asks what
changed since the newest change seen, less a margin for the search index's lag
(`LAG_MARGIN_SECONDS`; HubSpot documents 10 to 60 s), and every `FULL_RELOAD_SECONDS` the lists are
read whole again (a deal deleted in HubSpot leaves no trace in a search). The deals this process
wrote lately are laid over every read, which may have begun before the write or lag it.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from integrations.hubspot import mapping as m
from integrations.hubspot.index import Index, Pipelines, primary_company, resolve_pipelines
from integrations.hubspot.transport import HubSpotAPI

log = logging.getLogger("integrations.hubspot")

FULL_RELOAD_SECONDS = 900.0
LAG_MARGIN_SECONDS = 120.0
"""How far back each search for changes reaches past the newest change already seen: the search
index lags writes by up to a minute (Okta's connector: 10 s after a create, 60 s after an update)."""


class Reader:
    """The index of one account, read and kept fresh. `lock` guards the index (the store shares it:
    every look-up and change of an index happens under it); `clock` is the API's monotonic clock
    for the cache, `wall_ms` HubSpot's time (milliseconds since the epoch) for the searches."""

    def __init__(self, api: HubSpotAPI, lock: threading.RLock, *, pipeline: str, direct_pipelines: Sequence[str],
                 direct_stages: Sequence[str], cache_seconds: float, full_reload_seconds: float,
                 lag_margin_seconds: float, wall_ms: Callable[[], int]) -> None:
        self.api, self.lock = api, lock
        self.pipeline = pipeline
        self.direct_pipelines, self.direct_stages = tuple(direct_pipelines), tuple(direct_stages)
        self.cache_seconds, self.full_reload_seconds = cache_seconds, full_reload_seconds
        self.lag_margin_ms = int(lag_margin_seconds * 1000)
        self._clock, self._wall_ms = api.clock, wall_ms
        self.index: Index | None = None
        """The index as last read (None before the first read, or after `invalidate`)."""
        self._refresh = threading.Lock()  # one read at a time
        # The deals this process wrote lately, laid over every read: a read that began before our
        # write (a full read on another thread) must not lose it, and search lags it.
        self._recent: OrderedDict[str, Mapping[str, Any]] = OrderedDict()

    def current(self) -> Index:
        """The index while it is warm; otherwise what changed is read (or everything, when the index
        is missing or old)."""
        index = self.index
        if index is not None and self._clock() - index.refreshed_at < self.cache_seconds:
            return index
        with self._refresh:
            index = self.index  # another thread may have just read
            now = self._clock()
            if index is not None and now - index.refreshed_at < self.cache_seconds:
                return index
            if index is None or now - index.loaded_at >= self.full_reload_seconds or not self._update(index):
                index = self._load()
            return index

    def invalidate(self) -> None:
        """Forget what is known: the next read lists everything again."""
        with self.lock:
            self.index = None

    def pipelines(self) -> Pipelines:
        """The deal pipelines read against the settings (one API call); StoreError naming the fix."""
        data = self.api.call("GET", "/crm/v3/pipelines/deals", "the deal pipelines", self.api.deadline())
        return resolve_pipelines(data.get("results") or [], self.pipeline, self.direct_pipelines, self.direct_stages)

    def _load(self) -> Index:
        """Everything: the pipelines, every company, every deal, and the companies of the direct
        team's open deals (1 + pages of 100 + pages of 100 + batches of 100 API calls)."""
        api = self.api
        started, wall = self._clock(), self._wall_ms()
        index = Index(self.pipelines())
        for company in api.list_all("companies", m.COMPANY_READ, "the companies read", api.deadline):
            index.put_company(company)
        deals = list(api.list_all("deals", m.DEAL_READ, "the deals read", api.deadline))
        links = self._companies_of(index, [d for d in deals if _needs_company(index, d)], api.deadline())
        for deal in deals:
            index.put_deal(deal, links.get(str(deal["id"]), ""), loading=True)
        index.build_reference()
        index.loaded_at = index.refreshed_at = started
        index.refreshed_wall_ms = wall
        with self.lock:
            for written in self._recent.values():  # what a read that began before our writes lacks
                index.put_deal(written, loading=True)
            self.index = index
        facts = index.facts()
        log.info("hubspot: loaded %d registration deals, %d open direct deals, %d companies", facts["registrations"],
                 facts["direct_deals"], len(index.companies))
        return index

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
            with self.lock:
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
        with self.lock:
            rebuild = False
            for company in companies:
                if index.put_company(company):
                    rebuild = index.recompute_company(str(company["id"])) or rebuild
        links = self._companies_of(index, [d for d in deals if _needs_company(index, d)], deadline)
        with self.lock:
            for deal in deals:
                rebuild = index.put_deal(deal, links.get(str(deal["id"]), "")) or rebuild
            rebuild = index.build_reference() or rebuild
            if rebuild:
                index.new_epoch()
            index.refreshed_at, index.refreshed_wall_ms = started, wall
        return True

    def learn(self, index: Index, deals: Sequence[Mapping[str, Any]], *, mine: bool = True) -> None:
        """Deals as HubSpot answered our writes (or read them), into the index the write used and the
        current one (a full read may have replaced it meanwhile); ours (`mine`) are laid over later
        reads too."""
        with self.lock:
            for target in {id(t): t for t in (index, self.index) if t is not None}.values():
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
