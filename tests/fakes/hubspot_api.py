"""A local fake of HubSpot's CRM API (v3 objects, v4 associations, properties, pipelines).

It is served over loopback HTTP so that a store built on ``requests`` (or on the official
client with its ``host`` pointed here) sends the same requests and meets the same answers as
against https://api.hubapi.com. docs/hubspot-api-notes.md has the facts and their sources;
"UNCONFIRMED" below means the fake picks the unkind reading of something not documented.

What it models, and why (each item is what hurts a store, not a nicety):

* Auth: ``Authorization: Bearer <token>``; a missing or unknown token is 401
  ``INVALID_AUTHENTICATION`` (hubspot-api-python#211, #132). Each token has its scopes; a call
  without them is 403 ``MISSING_SCOPES`` whose ``errors[0].context.requiredScopes`` names them
  (hubspot-api-nodejs#268). Deals and companies need ``crm.objects.<type>.read/write``, notes
  ``crm.objects.contacts.read/write`` (notes guide), properties ``crm.schemas.<type>.read/write``;
  pipelines use the deal scopes (UNCONFIRMED).
* Objects: ids are numeric strings counted per object type, so a deal and a company can share an
  id ("IDs are unique only within that object type", properties guide). Every property value
  is returned as a string (SDK model ``properties: dict[str, str]``); numbers as written without
  a trailing ``.0``, ``datetime`` as ISO 8601 UTC with milliseconds, ``date`` as ``YYYY-MM-DD``
  and writable only as midnight UTC ("If you try to set a value that is not midnight UTC, you
  will receive an error", timestamps FAQ). Writing an unknown property is 400
  ``PROPERTY_DOESNT_EXIST`` and nothing is written (HubSpot.NET#50); a value not among an
  enumeration's options is 400 ``INVALID_OPTION``; ``hs_note_body`` and other strings stop at
  65,536 characters (notes guide). A multi-line text (``string``/``textarea``, "dealreg: Other
  names") is one string whose lines are split by the line breaks as written (UNCONFIRMED whether
  HubSpot's editor saves CR LF or LF: a reader must take either). Asking to *read* an unknown
  property silently leaves it out.
  ``createdate``/``hs_lastmodifieddate``/``hs_object_id`` are maintained by the fake.
* Unique values: a property created with ``hasUniqueValue`` is enforced on create, update and
  batch writes; the conflict answers ``unique_conflict_status`` (409 ``CONFLICT`` naming the
  property and ``Existing ID``, as issue 11 and the contact 409 in hubspot-api-nodejs#545 show;
  set it to 400 for the ``VALIDATION_ERROR`` "already has that value" shape seen in third-party
  code: which one HubSpot sends for custom properties is UNCONFIRMED). Reads by ``idProperty``
  work for unique properties only (400 otherwise, segmentio/action-destinations#3957). At most
  10 unique properties per object (changelog "unique properties for contacts"). Company
  ``domain`` is NOT unique: the API happily creates two companies with one domain (the guide
  only *recommends* including it).
* Lists: ``limit`` above 100 is cut to 100 and ``after`` pages on (UNCONFIRMED: cut, not 400).
* Search: ``filterGroups`` OR-ed, filters AND-ed, at most 5 groups, 10 filters per group, 25 in
  all (changelog 2024-08-26); operators EQ, NEQ, LT, LTE, GT, GTE, BETWEEN, IN, NOT_IN,
  HAS_PROPERTY, NOT_HAS_PROPERTY, CONTAINS_TOKEN, NOT_CONTAINS_TOKEN (SDK ``Filter`` model);
  string comparisons ignore case (UNCONFIRMED); ``sorts``; ``limit`` at most 200 (400 above,
  activepieces#10160 quoting the docs); ``total``; paging past 10,000 results is 400 (AWS Glue
  connector notes, airbyte#10700). The index lags writes: an object created or changed within
  the last ``search_lag_seconds`` is invisible to search, or seen in its previous state (Okta's
  connector: wait 10 s after a create, 60 s after an update). Reads by id, lists, batch reads
  and association reads are consistent at once.
* Associations: HUBSPOT_DEFINED type ids deal->company 5 (Primary) / 341, company->deal 6 /
  342, note->deal 214, deal->note 213, note->company 190, company->note 189 (SDK
  ``hubspot/crm/association_type.py``); a type id that does not fit the pair is 400. Every
  association also exists in the other direction, and a labelled one also carries the
  unlabelled type (UNCONFIRMED). v4 reads page with ``after``, ``limit`` at most 500, and give
  ``toObjectId`` as a JSON number. Inline ``associations`` on create are all-or-nothing.
* Batches: at most 100 inputs (400 above). ``batch/read`` answers 207 with ``errors`` for the
  ids it could not find (hubspot-api-php#619). ``batch/create`` and ``batch/update`` are
  all-or-nothing unless every input carries ``objectWriteTraceId``; then one bad input fails
  alone and the answer is 207 naming it (error-handling guide, "Multi-status errors").
* Properties: groups and properties are created and read; ``type``/``fieldType`` must be a
  documented pair; a second create of the same name is 409 ``OBJECT_ALREADY_EXISTS``
  (UNCONFIRMED body). Deal pipelines: ``default`` with the seven default stages, and created
  pipelines whose deal stages need ``metadata.probability``; ``metadata.isClosed`` marks the
  closed-won/closed-lost stages; a ``dealstage`` outside the deal's pipeline is 400.
* Rate limits, per token: a rolling 10-second window (``ten_second_limit``, 100 as for
  Free/Starter private apps), a daily count (``daily_limit``), and search per second
  (``search_per_second``, 4 per the search rate-limit changelog). A 429 carries the documented
  body with ``policyName`` TEN_SECONDLY_ROLLING, SECONDLY or DAILY (hubspot-api-python#117) and
  no ``Retry-After``. Non-search answers carry the ``X-HubSpot-RateLimit-*`` headers; search
  answers carry none (HubSpot community report).
* Faults on demand (``inject``): 429 with a chosen policy, 423, JSON 5xx, Cloudflare-style HTML
  502/504 pages (HubSpot answers through Cloudflare: ``server: cloudflare``, ``cf-ray`` in every
  issue quoted above), a dropped connection, and a write that is applied and then answered 5xx
  or dropped (an ambiguous write).
* A request log (method, path, query, body, status, kind) to count API calls per action.

The clock is ``time.time`` plus an offset that ``advance(seconds)`` moves, so tests jump over the
search lag or a rate window without sleeping; ``clock`` can be replaced outright.
Anything not implemented answers 501, so a store that needs it fails loudly.
"""

from __future__ import annotations

import json
import re
import socket
import struct
import threading
import time
import traceback
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote

from tests.fakes.server import Handler, Server
from tests.fakes.hubspot_account import Account, ApiError, _bad, object_type, rate_limit_error

DEFAULT_TOKEN = "pat-na1-00000000-0000-0000-0000-000000000000"
_SCOPE_OBJECT = {"companies": "companies", "deals": "deals", "notes": "contacts"}  # notes guide: contacts scopes
ALL_SCOPES = frozenset(
    {f"crm.objects.{o}.{rw}" for o in ("companies", "deals", "contacts") for rw in ("read", "write")}
    | {f"crm.schemas.{o}.{rw}" for o in ("companies", "deals", "contacts") for rw in ("read", "write")}
)
FAULTS = (
    "429:TEN_SECONDLY_ROLLING",
    "429:SECONDLY",
    "429:DAILY",
    423,
    500,
    502,
    503,
    504,
    "502-html",
    "504-html",
    "reset",
    "500-after-write",
    "502-after-write",
    "503-after-write",
    "504-after-write",
    "reset-after-write",
)
_CF_HTML = (
    "<!DOCTYPE html>\n<html><head><title>api.hubapi.com | {code}: {reason}</title></head>\n<body><h1>{reason}</h1>"
    "<p>Error code {code}</p><p>Cloudflare Ray ID: {ray}</p></body></html>\n"
)


@dataclass
class RecordedRequest:
    """One request as the client sent it."""

    method: str
    path: str  # without the query string, still percent-encoded
    query: dict[str, list[str]]
    body: Any  # parsed JSON, or None
    kind: str  # e.g. "objects.create", "search", "assoc.read"; "unsupported" for 501s
    object_type: str | None
    token: str | None
    time: float
    status: int | None = None  # None while in flight or when the connection was dropped
    fault: Any = None

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class _FaultRule:
    match: str | None  # a kind, a path prefix ("/crm/v3/objects/deals"), or None for any request
    fault: Any
    remaining: int


def _check_fault(fault: Any) -> None:
    if isinstance(fault, tuple) and len(fault) == 2 and fault[0] == "slow" and fault[1] >= 0:
        return
    if fault not in FAULTS:
        raise ValueError(f"unknown fault {fault!r}; use one of {FAULTS} or ('slow', seconds)")


_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (m, re.compile(p), k)
    for m, p, k in [
        ("GET", r"/crm/v3/objects/([^/]+)", "objects.list"),
        ("POST", r"/crm/v3/objects/([^/]+)", "objects.create"),
        ("POST", r"/crm/v3/objects/([^/]+)/search", "search"),
        ("POST", r"/crm/v3/objects/([^/]+)/batch/read", "batch.read"),
        ("POST", r"/crm/v3/objects/([^/]+)/batch/create", "batch.create"),
        ("POST", r"/crm/v3/objects/([^/]+)/batch/update", "batch.update"),
        ("POST", r"/crm/v3/objects/([^/]+)/batch/archive", "batch.archive"),
        ("GET", r"/crm/v3/objects/([^/]+)/([^/]+)", "objects.read"),
        ("PATCH", r"/crm/v3/objects/([^/]+)/([^/]+)", "objects.update"),
        ("DELETE", r"/crm/v3/objects/([^/]+)/([^/]+)", "objects.archive"),
        ("GET", r"/crm/v4/objects/([^/]+)/([^/]+)/associations/([^/]+)", "assoc.read"),
        ("PUT", r"/crm/v4/objects/([^/]+)/([^/]+)/associations/default/([^/]+)/([^/]+)", "assoc.default"),
        ("PUT", r"/crm/v4/objects/([^/]+)/([^/]+)/associations/([^/]+)/([^/]+)", "assoc.create"),
        ("POST", r"/crm/v4/associations/([^/]+)/([^/]+)/batch/read", "assoc.batch.read"),
        ("POST", r"/crm/v4/associations/([^/]+)/([^/]+)/batch/create", "assoc.batch.create"),
        ("POST", r"/crm/v4/associations/([^/]+)/([^/]+)/batch/associate/default", "assoc.batch.default"),
        ("GET", r"/crm/v3/properties/([^/]+)/groups", "groups.list"),
        ("POST", r"/crm/v3/properties/([^/]+)/groups", "groups.create"),
        ("GET", r"/crm/v3/properties/([^/]+)/groups/([^/]+)", "groups.read"),
        ("GET", r"/crm/v3/properties/([^/]+)", "properties.list"),
        ("POST", r"/crm/v3/properties/([^/]+)", "properties.create"),
        ("GET", r"/crm/v3/properties/([^/]+)/([^/]+)", "properties.read"),
        ("PATCH", r"/crm/v3/properties/([^/]+)/([^/]+)", "properties.update"),
        ("GET", r"/crm/v3/pipelines/([^/]+)", "pipelines.list"),
        ("POST", r"/crm/v3/pipelines/([^/]+)", "pipelines.create"),
        ("GET", r"/crm/v3/pipelines/([^/]+)/([^/]+)", "pipelines.read"),
    ]
]
KINDS = tuple(dict.fromkeys(k for _, _, k in _ROUTES))
_WRITES = {
    "objects.create",
    "objects.update",
    "objects.archive",
    "batch.create",
    "batch.update",
    "batch.archive",
    "assoc.default",
    "assoc.create",
    "assoc.batch.create",
    "assoc.batch.default",
    "groups.create",
    "properties.create",
    "properties.update",
    "pipelines.create",
}


def _route(method: str, path: str) -> tuple[str, list[str]]:
    for m, pattern, kind in _ROUTES:
        found = pattern.fullmatch(path)
        if m == method and found:
            return kind, [unquote(g) for g in found.groups()]
    return "unsupported", []


# --------------------------------------------------------------------------- HTTP server


# --------------------------------------------------------------------------- the fake


class FakeHubSpotAPI(Account):
    """An in-memory HubSpot account behind a loopback HTTP server.

    ``with FakeHubSpotAPI() as api:`` then send requests to ``api.base_url`` with
    ``Authorization: Bearer`` + ``api.token``. Seed with ``seed``/``create_property``, inspect
    with ``objects``/``associations``/``requests``/``count``, inject faults with ``inject``.
    """

    def __init__(self) -> None:
        self._stopping = threading.Event()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url: str | None = None
        self.token = DEFAULT_TOKEN
        self.errors: list[str] = []  # tracebacks of bugs in the fake itself (answered 500)
        super().__init__()

    # ---- lifecycle

    def start(self) -> str:
        """Serve on 127.0.0.1 with an OS-assigned port; returns the base URL."""
        if self._server is None:
            self._stopping.clear()
            self._server = Server(self)
            host, port = self._server.server_address[:2]
            self.base_url = f"http://{host}:{port}"
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, name="fake-hubspot-api", daemon=True
            )
            self._thread.start()
        return self.base_url  # type: ignore[return-value]

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._server.drop_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> "FakeHubSpotAPI":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget all objects, properties, requests, faults and quota use (the server keeps running)."""
        with self._lock:
            super().reset()
            self.ten_second_limit = 100
            self.search_per_second = 4
            self.daily_limit = 250_000
            self._tokens: dict[str, frozenset[str]] = {DEFAULT_TOKEN: ALL_SCOPES}
            self._log: list[RecordedRequest] = []
            self._faults: list[_FaultRule] = []
            self._hits: dict[str, deque[float]] = {}
            self._search_hits: dict[str, deque[float]] = {}
            self._daily: dict[str, int] = {}
            self.errors.clear()

    def add_token(self, token: str, scopes: set[str] | frozenset[str] = ALL_SCOPES) -> str:
        with self._lock:
            self._tokens[token] = frozenset(scopes)
        return token

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._log)

    def count(self, kind: str | None = None, method: str | None = None) -> int:
        """How many requests were received, of a kind (see KINDS) and/or HTTP method."""
        with self._lock:
            return sum(
                1
                for r in self._log
                if (kind is None or r.kind == kind) and (method is None or r.method == method.upper())
            )

    def reset_log(self) -> None:
        with self._lock:
            self._log.clear()

    def inject(self, match: str | None, fault: Any, times: int = 1) -> None:
        """Answer the next `times` requests matching `match` with `fault`.

        `match` is a kind (KINDS), a path prefix starting with "/", or None for any request.
        Faults: "429:<policyName>" and 423, 500, 502, 503, 504 (nothing applied); "502-html" and
        "504-html" (Cloudflare-style HTML page); "reset" (connection dropped, nothing applied);
        "<5xx>-after-write" and "reset-after-write" (applied, then answered 5xx or dropped);
        ("slow", seconds) (wait, then answer normally).
        """
        if match is not None and not match.startswith("/") and match not in KINDS:
            raise ValueError(f"unknown kind {match!r}; use one of {KINDS} or a path starting with '/'")
        _check_fault(fault)
        if times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._faults.append(_FaultRule(match, fault, times))

    # ---- HTTP handling

    def _handle(self, handler: Handler) -> None:
        method = handler.command.upper()
        raw_path, _, raw_query = handler.path.partition("?")
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        kind, args = _route(method, raw_path)
        try:
            body, body_error = (json.loads(raw) if raw else None), None
        except ValueError:
            body, body_error = raw.decode("utf-8", "replace"), _bad("Invalid input JSON on line 1")
        auth = handler.headers.get("Authorization", "")
        token = auth[7:].strip() if auth.startswith("Bearer ") else None
        otype = args[0].lower() if args else None
        record = RecordedRequest(
            method, raw_path, parse_qs(raw_query, keep_blank_values=True), body, kind, otype, token, time.time()
        )
        with self._lock:
            self._log.append(record)
        status, payload, headers = self._answer(record, args, body_error)
        if status == 0:  # abortive close (RST) without an answer: the client sees a connection error
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            handler.close_connection = True
            return
        record.status = status
        if isinstance(payload, str):
            data, ctype = payload.encode(), "text/html; charset=UTF-8"
        elif payload is None:
            data, ctype = b"", None
        else:
            data, ctype = json.dumps(payload).encode(), "application/json;charset=utf-8"
        handler.send_response(status)
        for name, value in {**({"Content-Type": ctype} if ctype else {}), **headers}.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _answer(
        self, rec: RecordedRequest, args: list[str], body_error: ApiError | None
    ) -> tuple[int, Any, dict[str, str]]:
        """(status, payload, headers); status 0 means drop the connection."""
        headers = {
            "X-HubSpot-Correlation-Id": str(uuid.uuid4()),
            "Server": "cloudflare",
            "CF-Ray": uuid.uuid4().hex[:16] + "-IAD",
        }
        if rec.token is None or rec.token not in self._tokens:
            err = ApiError(
                401,
                "Authentication credentials not found. This API supports OAuth 2.0 authentication "
                "and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                "INVALID_AUTHENTICATION",
            )
            return 401, err.body(), {**headers, "X-HubSpot-Auth-Failure": "401 Unauthorized"}
        if rec.kind == "unsupported":
            err = ApiError(
                501,
                f"FakeHubSpotAPI does not implement {rec.method} {rec.path}; add it to tests/fakes/hubspot_api.py",
                "UNIMPLEMENTED",
            )
            return 501, err.body(), headers
        with self._lock:
            fault = self._take_fault(rec)
            rec.fault = fault
            limited = None if fault is not None else self._over_limit(rec)
            if rec.kind != "search":  # search answers carry no rate-limit headers
                headers.update(self._limit_headers(rec.token))
        if limited is not None:
            return 429, limited.body(), headers
        if isinstance(fault, tuple):
            self._stopping.wait(fault[1])
        elif fault == "reset":
            return 0, None, headers
        elif isinstance(fault, str) and fault.endswith("-html"):
            code = int(fault[:3])
            reason = {502: "Bad gateway", 504: "Gateway time-out"}[code]
            return code, _CF_HTML.format(code=code, reason=reason, ray=headers["CF-Ray"]), headers
        elif isinstance(fault, str) and fault.startswith("429:"):
            return 429, rate_limit_error(fault[4:]).body(), headers
        elif isinstance(fault, int):
            return fault, self._status_error(fault).body(), headers
        try:
            if body_error is not None:
                raise body_error
            with self._lock:
                self._check_scopes(rec, args)
                status, payload = self.dispatch(rec.kind, args, rec.query, rec.body, rec.path)
        except ApiError as err:
            status, payload = err.status, err.body()
        except Exception as exc:  # a bug in the fake: answer loudly, keep the traceback
            with self._lock:
                self.errors.append(traceback.format_exc())
            status, payload = 500, ApiError(500, f"FakeHubSpotAPI bug: {exc!r}", "INTERNAL_ERROR").body()
        if fault == "reset-after-write":
            return 0, None, headers
        if isinstance(fault, str) and fault.endswith("-after-write"):
            code = int(fault[:3])
            return code, self._status_error(code).body(), headers
        return status, payload, headers

    @staticmethod
    def _status_error(code: int) -> ApiError:
        if code == 423:  # error-handling guide: locked for about 2 seconds during heavy syncs
            return ApiError(423, "The resource is locked; try again in 2 seconds.", "LOCKED")
        return ApiError(
            code,
            {500: "internal error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}[code],
            "UNKNOWN",
        )

    def _take_fault(self, rec: RecordedRequest) -> Any:
        for rule in self._faults:
            if (
                rule.match is None
                or rule.match == rec.kind
                or (rule.match.startswith("/") and rec.path.startswith(rule.match))
            ):
                rule.remaining -= 1
                if rule.remaining == 0:
                    self._faults.remove(rule)
                return rule.fault
        return None

    def _over_limit(self, rec: RecordedRequest) -> ApiError | None:
        """Count the request against its token's limits; the error if it is over one."""
        now, token = self.clock(), rec.token or ""
        if self._daily.get(token, 0) >= self.daily_limit:
            return rate_limit_error("DAILY")
        if rec.kind == "search":
            recent = self._search_hits.setdefault(token, deque())
            while recent and recent[0] <= now - 1:
                recent.popleft()
            if len(recent) >= self.search_per_second:
                return rate_limit_error("SECONDLY")
        hits = self._hits.setdefault(token, deque())
        while hits and hits[0] <= now - 10:
            hits.popleft()
        if len(hits) >= self.ten_second_limit:
            return rate_limit_error("TEN_SECONDLY_ROLLING")
        hits.append(now)
        if rec.kind == "search":
            self._search_hits[token].append(now)
        self._daily[token] = self._daily.get(token, 0) + 1
        return None

    def _limit_headers(self, token: str | None) -> dict[str, str]:
        used = len(self._hits.get(token or "", ()))
        daily = self._daily.get(token or "", 0)
        return {
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            "X-HubSpot-RateLimit-Max": str(self.ten_second_limit),
            "X-HubSpot-RateLimit-Remaining": str(max(0, self.ten_second_limit - used)),
            "X-HubSpot-RateLimit-Daily": str(self.daily_limit),
            "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, self.daily_limit - daily)),
        }

    def _check_scopes(self, rec: RecordedRequest, args: list[str]) -> None:
        write = rec.kind in _WRITES
        if rec.kind.startswith(("properties.", "groups.")):
            needed = [f"crm.schemas.{_SCOPE_OBJECT[object_type(args[0])]}.{'write' if write else 'read'}"]
        elif rec.kind.startswith("assoc."):
            pair = (args[0], args[2]) if rec.kind in ("assoc.read", "assoc.default", "assoc.create") else args[:2]
            needed = [f"crm.objects.{_SCOPE_OBJECT[object_type(t)]}.{'write' if write else 'read'}" for t in pair]
        else:
            needed = [f"crm.objects.{_SCOPE_OBJECT[object_type(args[0])]}.{'write' if write else 'read'}"]
        missing = sorted(set(needed) - self._tokens[rec.token or ""])
        if missing:
            raise ApiError(
                403,
                "This app hasn't been granted all required scopes to make this call. Read more about "
                "required scopes here: https://developers.hubspot.com/scopes.",
                "MISSING_SCOPES",
                errors=[
                    {
                        "message": "One or more of the following scopes are required.",
                        "context": {"requiredScopes": missing},
                    }
                ],
                links={"scopes": "https://developers.hubspot.com/scopes"},
            )


def fake_hubspot_api() -> Iterator[FakeHubSpotAPI]:
    """Generator for a pytest fixture: ``hubspot = pytest.fixture(fake_hubspot_api)``."""
    api = FakeHubSpotAPI()
    api.start()
    try:
        yield api
    finally:
        api.stop()
