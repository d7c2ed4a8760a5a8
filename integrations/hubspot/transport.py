"""Calling HubSpot's CRM API with plain `requests`: bounded retries inside a deadline, the quota
policies HubSpot names, errors that name the fix, and the few call shapes the store makes
(one object, a list paged with `after`, a search, a batch, the v4 associations).

What is retried, within `deadline_seconds` (`DEALREG_STORE_DEADLINE_SECONDS`, 10 s), with
exponential backoff and jitter:

- 429 whose `policyName` is TEN_SECONDLY_ROLLING (100 requests per rolling 10 s for a private app
  on Free/Starter) or SECONDLY (the search endpoint's 4 per second); a 429 means HubSpot refused
  the request, so even a write is simply sent again. A DAILY 429 is never retried: the daily
  quota comes back at midnight in the account's time zone, so the store is unavailable until then.
- 423 Locked ("locks last 2 seconds", error-handling guide), 5xx (also when Cloudflare answers
  with an HTML page instead of JSON) and dropped connections. A write answered that way may have
  been applied, so it raises `Ambiguous` unless it is safe to repeat (an update), and the store
  looks for it by its unique key before sending it again.

Past the deadline a call raises `StoreUnavailable` (the webhook answers 503 with Retry-After,
never "clear"). Anything retrying cannot fix is a `StoreError` naming the fix: a refused token
(401), a missing scope (403: the scope named from our own table below, since HubSpot's
`requiredScopes` can name the wrong one, hubspot-api-nodejs#268), a property that does not exist
(400: run `dealreg init-hubspot`). A unique-value conflict (409, or the 400 "already has that
value" some accounts answer instead) is `UniqueConflict`: the caller reads the existing object by
`idProperty`. The facts and their sources: docs/hubspot-api-notes.md.
"""

from __future__ import annotations

import logging
import random
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import requests

from dealreg.errors import StoreError, StoreUnavailable

log = logging.getLogger("integrations.hubspot")

HUBSPOT_URL = "https://api.hubapi.com"
LIST_LIMIT = 100  # a list page holds at most 100 objects
SEARCH_LIMIT = 200  # a search page holds at most 200
SEARCH_CAP = 10_000  # a search never pages past 10,000 results (a 400 beyond)
BATCH_LIMIT = 100  # inputs per batch request
ASSOCIATION_LIMIT = 500  # a v4 association page
SCOPES_HELP = ("add it to the Service Key's scopes (Development -> Keys -> Service keys) or the private app's "
               "(Development -> Legacy apps -> the app -> Scopes): docs/hubspot.md, \"Scopes\"")
TOKEN_HELP = ("set DEALREG_HUBSPOT_TOKEN to the access token of a HubSpot private app or Service Key "
              "(docs/hubspot.md, \"Set-up\")")
_OBJECT_SCOPES = {"deals": "deals", "companies": "companies", "notes": "contacts"}  # the notes guide: contacts

Clock = Callable[[], float]


class Ambiguous(Exception):
    """A write that may or may not have been applied (a 5xx or a dropped connection)."""


class UniqueConflict(StoreError):
    """A create or update refused because a unique-value property already holds the value."""

    def __init__(self, message: str, properties: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.properties = tuple(properties)


class BatchRefused(StoreError):
    """Some inputs of a batch were refused for good (a bad value, an association to an object
    deleted meanwhile); the others were written (`results`)."""

    def __init__(self, message: str, refused: Sequence[Mapping[str, Any]], results: Sequence[Mapping[str, Any]]):
        super().__init__(message)
        self.refused, self.results = list(refused), list(results)


class Refused(StoreError):
    """Any other 4xx: HubSpot's status, category and message."""

    def __init__(self, message: str, status: int, category: str = "") -> None:
        super().__init__(message)
        self.status, self.category = status, category


def scope_for(method: str, path: str) -> list[str]:
    """The scopes a call needs (the API guides' "Scope requirements"; pipelines, UNCONFIRMED, take
    the deal scopes)."""
    parts = path.strip("/").split("/")
    read = method == "GET" or parts[-1] in ("search", "read")
    rw = "read" if read else "write"
    if parts[:2] == ["crm", "v3"] and parts[2] == "properties":
        return [f"crm.schemas.{_OBJECT_SCOPES.get(parts[3], parts[3])}.{rw}"]
    if parts[:2] == ["crm", "v3"] and parts[2] == "pipelines":
        return [f"crm.objects.deals.{rw}"]
    if parts[:3] == ["crm", "v4", "objects"]:  # /crm/v4/objects/{from}/{id}/associations/{to}[/...]
        return sorted({f"crm.objects.{_OBJECT_SCOPES.get(t, t)}.{rw}" for t in (parts[3], parts[6])})
    if parts[:3] == ["crm", "v4", "associations"]:
        return sorted({f"crm.objects.{_OBJECT_SCOPES.get(t, t)}.{rw}" for t in (parts[3], parts[4])})
    return [f"crm.objects.{_OBJECT_SCOPES.get(parts[3], parts[3])}.{rw}"]


def _body(response: requests.Response) -> dict[str, Any]:
    """HubSpot's JSON error body, or what can be read of an HTML page ("all fields should be
    treated as optional in any error parsing", errors FAQ)."""
    try:
        data = response.json()
        return data if isinstance(data, dict) else {}
    except ValueError:
        title = re.search(r"<title>(.*?)</title>", response.text or "", re.IGNORECASE | re.DOTALL)
        text = title[1] if title else re.sub(r"<[^>]*>", " ", response.text or "")
        return {"message": " ".join(text.split())[:200] or f"{response.status_code} {response.reason} (not JSON)"}


def _unique_properties(data: Mapping[str, Any]) -> list[str]:
    """The properties a unique-value conflict names: `errors[].in` (409), `errors[].context.propertyName`
    or the message's JSON list (400)."""
    found: list[str] = []
    for error in data.get("errors") or []:
        if isinstance(error, dict):
            if isinstance(error.get("in"), str):
                found.append(error["in"])
            names = (error.get("context") or {}).get("propertyName") if isinstance(error.get("context"), dict) else None
            if isinstance(names, list):
                found += [n for n in names if isinstance(n, str)]
    found += re.findall(r'"name":\s*"([a-z0-9_]+)"', str(data.get("message", "")))
    return list(dict.fromkeys(found))


def _is_unique_conflict(status: int, data: Mapping[str, Any]) -> bool:
    if status == 409:
        return True
    # Some accounts answer a unique-value clash with 400 "… already has that value" (third-party
    # code; docs/hubspot-api-notes.md, "Unique values").
    return status == 400 and "already has that value" in str(data.get("message", ""))


def _missing_properties(data: Mapping[str, Any]) -> list[str]:
    """The properties a 400 says do not exist (`PROPERTY_DOESNT_EXIST`, HubSpot.NET#50); not any
    "does not exist" (an association to a deleted object says that too)."""
    message = str(data.get("message", ""))
    names = re.findall(r'Property \\*"([a-z0-9_]+)\\*" does not exist', message)
    return names or (["(unnamed)"] if "PROPERTY_DOESNT_EXIST" in message else [])


class HubSpotAPI:
    """One HubSpot account through `requests`, every call bounded by a deadline. The clock
    (monotonic seconds), `sleep` and `rand` are injected so tests never wait."""

    def __init__(self, token: str, *, base_url: str = HUBSPOT_URL, deadline_seconds: float = 10.0,
                 clock: Clock = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 rand: Callable[[], float] = random.random, base_backoff: float = 0.5,
                 max_backoff: float = 4.0, session: requests.Session | None = None) -> None:
        if not token:
            raise StoreError(f"no HubSpot token: {TOKEN_HELP}")
        self.base_url = base_url.rstrip("/")
        self.deadline_seconds = deadline_seconds
        self.clock, self._sleep, self._rand = clock, sleep, rand
        self.base_backoff, self.max_backoff = base_backoff, max_backoff
        self._http = session or requests.Session()
        self._http.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/json"})

    def deadline(self) -> float:
        return self.clock() + self.deadline_seconds

    def close(self) -> None:
        self._http.close()

    # -- one call ---------------------------------------------------------------------------

    def call(self, method: str, path: str, what: str, deadline: float, *, params: Mapping[str, Any] | None = None,
             body: Any = None, write: bool = False, retry_ambiguous: bool = False,
             missing_ok: bool = False) -> Any:
        """One API call with bounded retries: the parsed JSON answer (None for 204, or for a 404
        when `missing_ok`). `write`: a 5xx or dropped connection raises `Ambiguous` unless
        `retry_ambiguous` (a write that is safe to repeat)."""
        attempt = 0
        while True:
            remaining = deadline - self.clock()
            if remaining <= 0:  # slow answers used the time up: no new request
                raise StoreUnavailable(f"HubSpot did not answer {what} within {self.deadline_seconds:g} s; "
                                       f"retry later")
            try:
                response = self._http.request(method, self.base_url + path, params=params,
                                              json=body, timeout=(min(5.0, remaining), remaining))
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
                reason = exc.__class__.__name__
                if write and not retry_ambiguous:
                    raise Ambiguous(reason) from None
                self._backoff(attempt, reason, what, deadline)
                attempt += 1
                continue
            status = response.status_code
            if status < 300:
                return None if status == 204 or not response.content else response.json()
            data = _body(response)
            if status == 404 and missing_ok:
                return None
            if status == 429:
                policy = str(data.get("policyName", ""))
                if policy == "DAILY":
                    raise StoreUnavailable("HubSpot's daily API limit for this token is used up (429 DAILY); it "
                                           "resets at midnight in the account's time zone (docs/hubspot.md, "
                                           "\"Quota\")")
                reason = f"429 {policy or 'rate limit'}"
                # refused before it was applied: safe to send again, a write too
            elif status == 423:
                reason = "423 locked"
            elif status == 477:
                raise StoreUnavailable("HubSpot is migrating this account (477 Migration in Progress); retry later")
            elif status >= 500:
                reason = f"{status} {data.get('message', '')}".strip()
                if write and not retry_ambiguous:
                    raise Ambiguous(reason)
            else:
                raise self.refused(method, path, what, status, data)
            self._backoff(attempt, reason, what, deadline, at_least=2.0 if status == 423 else 0.0)
            attempt += 1

    def _backoff(self, attempt: int, reason: str, what: str, deadline: float, at_least: float = 0.0) -> None:
        """Sleep before the next try (exponential, half of it jitter), or give up at the deadline."""
        delay = min(self.max_backoff, self.base_backoff * 2 ** attempt)
        delay = max(at_least, delay / 2 + self._rand() * delay / 2)
        if self.clock() + delay > deadline:
            raise StoreUnavailable(f"HubSpot did not answer {what} within {self.deadline_seconds:g} s "
                                   f"(last: {reason}); retry later")
        log.info("hubspot: %s answered %s; retrying in %.2f s", what, reason, delay)
        self._sleep(delay)

    def backoff(self, attempt: int, reason: str, what: str, deadline: float) -> None:
        """For a caller that retries a write after looking for it (an ambiguous create)."""
        self._backoff(attempt, reason, what, deadline)

    @staticmethod
    def refused(method: str, path: str, what: str, status: int, data: Mapping[str, Any]) -> StoreError:
        message = str(data.get("message", "")) or f"HTTP {status}"
        category = str(data.get("category", ""))
        if status == 401:
            return StoreError(f"HubSpot refused the token (401: {message[:120]}): {TOKEN_HELP}")
        if status == 403 and category == "MISSING_SCOPES":
            scopes = " and ".join(scope_for(method, path))
            return StoreError(f"HubSpot refused {what}: the token lacks the scope {scopes}; {SCOPES_HELP}")
        if _is_unique_conflict(status, data):
            return UniqueConflict(f"HubSpot refused {what}: {message}", _unique_properties(data))
        missing = _missing_properties(data) if status == 400 else []
        if missing:
            return StoreError(f"HubSpot has no property {', '.join(missing)} (refused {what}); run "
                              f"`dealreg init-hubspot` to create dealreg's properties")
        return Refused(f"HubSpot refused {what} ({status} {category}: {message})".replace(" : ", ": "), status,
                       category)

    # -- call shapes ------------------------------------------------------------------------

    def get(self, object_type: str, key: str, properties: Iterable[str], what: str, deadline: float, *,
            id_property: str = "") -> dict[str, Any] | None:
        """One object by id, or by a unique property's value (`id_property`); None when there is none."""
        params: dict[str, str] = {"properties": ",".join(properties)}
        if id_property:
            params["idProperty"] = id_property
        found = self.call("GET", f"/crm/v3/objects/{object_type}/{quote(key, safe='')}", what, deadline,
                          params=params, missing_ok=True)
        return found if isinstance(found, dict) else None

    def list_all(self, object_type: str, properties: Iterable[str], what: str,
                 deadline: Callable[[], float]) -> Iterator[dict[str, Any]]:
        """Every live object of a type, a page of 100 at a time (`after`): the list endpoint reads what
        is stored, never the search index, which lags and stops at 10,000. `deadline` gives each page
        its own (a full load of a large account takes longer than one request's)."""
        params: dict[str, str] = {"limit": str(LIST_LIMIT), "properties": ",".join(properties)}
        while True:
            page = self.call("GET", f"/crm/v3/objects/{object_type}", what, deadline(), params=params)
            yield from page.get("results") or []
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return
            params = {**params, "after": str(after)}

    def search(self, object_type: str, filters: Sequence[Mapping[str, Any]], properties: Sequence[str],
               what: str, deadline: float, *, sort: str = "hs_lastmodifieddate") -> list[dict[str, Any]] | None:
        """Every object the search index finds (pages of 200), or None when there are more than a
        search can page through (10,000): the caller reads another way."""
        body: dict[str, Any] = {"filterGroups": [{"filters": list(filters)}], "properties": list(properties),
                                "sorts": [{"propertyName": sort, "direction": "ASCENDING"}], "limit": SEARCH_LIMIT}
        found: list[dict[str, Any]] = []
        while True:
            page = self.call("POST", f"/crm/v3/objects/{object_type}/search", what, deadline, body=body)
            found += page.get("results") or []
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return found
            if int(page.get("total") or 0) > SEARCH_CAP or (str(after).isdigit()
                                                             and int(after) + SEARCH_LIMIT > SEARCH_CAP):
                return None
            body = {**body, "after": str(after)}

    def batch_read(self, object_type: str, ids: Sequence[str], properties: Sequence[str], what: str,
                   deadline: float, *, id_property: str = "") -> list[dict[str, Any]]:
        """The objects found among `ids` (100 per request); missing ones are left out (HubSpot answers
        207 naming them)."""
        found: list[dict[str, Any]] = []
        for start in range(0, len(ids), BATCH_LIMIT):
            body: dict[str, Any] = {"inputs": [{"id": i} for i in ids[start:start + BATCH_LIMIT]],
                                    "properties": list(properties)}
            if id_property:
                body["idProperty"] = id_property
            page = self.call("POST", f"/crm/v3/objects/{object_type}/batch/read", what, deadline, body=body)
            found += page.get("results") or []
        return found

    def batch_write(self, object_type: str, action: str, inputs: Sequence[Mapping[str, Any]], what: str,
                    deadline: float) -> list[dict[str, Any]]:
        """batch/create or batch/update, 100 inputs per request. Every input carries an
        `objectWriteTraceId`, so HubSpot answers 207 naming the inputs that failed rather than
        failing them all (error-handling guide, "Multi-status errors"): only those are sent again,
        and an input refused for good (a bad value) raises. Updates are safe to repeat; creates are
        not (a 5xx raises `Ambiguous`), so callers create only what they can find again or can
        afford to see twice (notes, which readers take once by event id). Inputs refused for good
        raise `BatchRefused` once the others are written."""
        results: list[dict[str, Any]] = []
        refused: list[tuple[Mapping[str, Any], StoreError]] = []
        path = f"/crm/v3/objects/{object_type}/batch/{action}"
        for start in range(0, len(inputs), BATCH_LIMIT):
            pending = {uuid.uuid4().hex: dict(item) for item in inputs[start:start + BATCH_LIMIT]}
            attempt = 0
            while pending:
                body = {"inputs": [{**item, "objectWriteTraceId": trace} for trace, item in pending.items()]}
                page = self.call("POST", path, what, deadline, body=body, write=True,
                                 retry_ambiguous=action == "update")
                results += page.get("results") or []
                failed: dict[str, dict[str, Any]] = {}
                for error in page.get("errors") or []:
                    traces = [t for t in (error.get("context") or {}).get("objectWriteTraceId") or [] if t in pending]
                    category = str(error.get("category", ""))
                    if category in ("RATE_LIMITS", "LOCKED", "INTERNAL_ERROR", "UNKNOWN", "TIMEOUT"):
                        failed.update({t: pending[t] for t in traces})
                        continue
                    data = {"message": error.get("message", ""), "errors": error.get("errors") or []}
                    status = 409 if category in ("CONFLICT", "OBJECT_ALREADY_EXISTS") else 400
                    refused += [(pending[t], self.refused("POST", path, what, status, data)) for t in traces]
                if failed:
                    log.info("hubspot: %s: %d of %d inputs failed; sending those again", what, len(failed),
                             len(pending))
                    self._backoff(attempt, "207 multi-status", what, deadline)
                    attempt += 1
                pending = failed
        if refused:
            raise BatchRefused(f"{refused[0][1]} ({len(refused)} of {len(inputs)} inputs refused)",
                               [i for i, _ in refused], results)
        return results

    def associations(self, from_type: str, from_id: str, to_type: str, what: str, deadline: float) -> list[str]:
        """The ids of the objects of `to_type` associated with one object (v4; read at once, never
        through the search index)."""
        params: dict[str, str] = {"limit": str(ASSOCIATION_LIMIT)}
        ids: list[str] = []
        while True:
            page = self.call("GET", f"/crm/v4/objects/{from_type}/{from_id}/associations/{to_type}", what, deadline,
                             params=params)
            ids += [str(row.get("toObjectId")) for row in page.get("results") or []]
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return ids
            params = {**params, "after": str(after)}

    def batch_associations(self, from_type: str, to_type: str, ids: Sequence[str], what: str,
                           deadline: float) -> dict[str, list[tuple[str, set[int]]]]:
        """{from id: [(to id, association type ids)]} for many objects (100 per request)."""
        out: dict[str, list[tuple[str, set[int]]]] = {}
        for start in range(0, len(ids), BATCH_LIMIT):
            body = {"inputs": [{"id": i} for i in ids[start:start + BATCH_LIMIT]]}
            page = self.call("POST", f"/crm/v4/associations/{from_type}/{to_type}/batch/read", what, deadline,
                             body=body)
            for row in page.get("results") or []:
                out[str(row["from"]["id"])] = [
                    (str(to.get("toObjectId")), {int(t.get("typeId", 0)) for t in to.get("associationTypes") or []})
                    for to in row.get("to") or []]
        return out

    def associate(self, from_type: str, from_id: str, to_type: str, to_id: str, type_id: int, what: str,
                  deadline: float) -> None:
        """Associate two objects (v4, HUBSPOT_DEFINED type; repeating it is harmless)."""
        self.call("PUT", f"/crm/v4/objects/{from_type}/{from_id}/associations/{to_type}/{to_id}", what, deadline,
                  body=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}], write=True,
                  retry_ambiguous=True)
