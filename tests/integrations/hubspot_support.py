"""Helpers for tests of the HubSpot store: an account on the local HubSpot API as `dealreg
init-hubspot` leaves it, stores on it with clocks that never wait, deals written behind the
store's back (hand edits in the CRM), and counting the API calls an action costs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from integrations.hubspot import HubSpotAPI, HubSpotStore
from integrations.hubspot import mapping as m
from integrations.hubspot.setup import GROUP, GROUP_LABEL, PROPERTIES
from tests.fakes.hubspot_api import FakeHubSpotAPI, RecordedRequest
from tests.clocks import FakeClock  # noqa: F401  (re-exported for the tests that import it from here)

NOT_ABOUT_QUOTA = 1_000_000
"""Rate limits for tests that are not about quota (the fake's defaults are HubSpot's: 100 per 10 s)."""


def new_account(api: FakeHubSpotAPI, *, quota: bool = False) -> FakeHubSpotAPI:
    """An empty account with dealreg's property group and properties, as `dealreg init-hubspot`
    makes them (set up in the fake directly: not over HTTP, not in the request log). `quota`
    keeps HubSpot's rate limits; otherwise they are raised out of the way."""
    with api._lock:
        for object_type, properties in PROPERTIES.items():
            api.dispatch("groups.create", [object_type], {}, {"name": GROUP, "label": GROUP_LABEL}, "")
            for prop in properties:
                api.dispatch("properties.create", [object_type], {}, prop.body(), "")
        if not quota:
            api.ten_second_limit = api.search_per_second = NOT_ABOUT_QUOTA
    return api


def hubspot_api(api: FakeHubSpotAPI, clock: FakeClock | None = None, **options: Any) -> HubSpotAPI:
    timing = {"clock": clock, "sleep": clock.sleep} if clock is not None else {}
    return HubSpotAPI(api.token, base_url=api.base_url, **timing, **options)


def store_for(api: FakeHubSpotAPI, clock: FakeClock | None = None, *, cache_seconds: float = 0.0,
              transport: Mapping[str, Any] | None = None, **options: Any) -> HubSpotStore:
    """A store on the fake. Cache time 0 unless told: every read asks what changed, as the handler
    suites expect of every backend."""
    return HubSpotStore(hubspot_api(api, clock, **(transport or {})), cache_seconds=cache_seconds, **options)


def seed_registration(api: FakeHubSpotAPI, row: Mapping[str, str], **hubspot: str) -> str:
    """A registration deal written behind the store's back (a hand edit in the CRM, no checks but
    HubSpot's own), with `row` in SPEC's column names; returns the deal id."""
    props = {m.DEAL[column]: value for column, value in row.items()}
    if row.get("external_id"):
        props[m.DEAL["external_id"]] = m.external_value(row.get("source", ""), row["external_id"])
    return api.seed("deals", {**props, **hubspot})


def fix_deal(api: FakeHubSpotAPI, deal_id: str, row: Mapping[str, str]) -> None:
    """A hand edit of a registration deal's properties (`row` in SPEC's column names)."""
    with api._lock:
        api.dispatch("objects.update", ["deals", deal_id], {}, {
            "properties": {m.DEAL[column]: value for column, value in row.items()}}, "")


def calls(api: FakeHubSpotAPI) -> list[str]:
    """The API calls received since the log was last reset, as "kind object_type"."""
    return [describe(r) for r in api.requests]


def describe(request: RecordedRequest) -> str:
    return f"{request.kind} {request.object_type}" if request.object_type else request.kind


def write_behind(api: FakeHubSpotAPI, row: Mapping[str, str]) -> str:
    """A registration deal written or edited by hand in HubSpot (`row` in SPEC's column names; the
    deal with its registration id is edited when there is one), then the search index catches up;
    returns how the store names the deal."""
    rid = row["registration_id"]
    found = [d["hs_object_id"] for d in api.objects("deals") if d.get(m.DEAL["registration_id"]) == rid]
    if found:
        fix_deal(api, found[0], row)
        deal = found[0]
    else:
        deal = seed_registration(api, row)
    api.advance(api.search_lag_seconds + 1)
    return f"HubSpot deal {deal} ({rid})"
