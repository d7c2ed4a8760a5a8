"""The in-memory HubSpot account behind tests/fakes/hubspot_api.py: objects, search, associations,
properties and pipelines, with HubSpot's validation and answer shapes.

No HTTP here: FakeHubSpotAPI (hubspot_api.py) adds the server, auth, scopes, rate limits, faults
and the request log on top of Account, and its opening comment lists every modelled behaviour with
its source. Calls from the server hold ``self._lock``; ``dispatch`` raises ApiError for every
answer that is not a success.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

HUBSPOT_ORIGIN = "https://api.hubapi.com"
OBJECT_TYPE_IDS = {"contacts": "0-1", "companies": "0-2", "deals": "0-3", "notes": "0-46"}
TYPES = ("companies", "deals", "notes")
_ALIASES = {"company": "companies", "deal": "deals", "note": "notes"} | {v: k for k, v in OBJECT_TYPE_IDS.items()}
LIST_MAX_LIMIT = 100
SEARCH_MAX_LIMIT = 200
SEARCH_RESULT_CAP = 10_000
BATCH_MAX_INPUTS = 100
ASSOC_MAX_LIMIT = 500
ASSOC_BATCH_MAX_INPUTS = 1000  # UNCONFIRMED
MAX_FILTER_GROUPS, MAX_FILTERS_PER_GROUP, MAX_FILTERS = 5, 10, 25
MAX_STRING_CHARS = 65_536
MAX_UNIQUE_PROPERTIES = 10
OPERATORS = {
    "EQ",
    "NEQ",
    "LT",
    "LTE",
    "GT",
    "GTE",
    "BETWEEN",
    "IN",
    "NOT_IN",
    "HAS_PROPERTY",
    "NOT_HAS_PROPERTY",
    "CONTAINS_TOKEN",
    "NOT_CONTAINS_TOKEN",
}
FIELD_TYPES = {  # properties guide, "Property type and fieldType values"
    "string": {"text", "textarea", "html", "phonenumber", "file"},
    "number": {"number", "calculation_equation"},
    "date": {"date"},
    "datetime": {"date"},
    "enumeration": {"select", "radio", "checkbox", "booleancheckbox", "calculation_equation"},
    "bool": {"booleancheckbox"},
}
# (from, to) -> {typeId: label}; the first id listed is the pair's unlabelled ("default") type.
ASSOCIATION_TYPES: dict[tuple[str, str], dict[int, str | None]] = {
    ("deals", "companies"): {341: None, 5: "Primary"},
    ("companies", "deals"): {342: None, 6: "Primary"},
    ("notes", "deals"): {214: None},
    ("deals", "notes"): {213: None},
    ("notes", "companies"): {190: None},
    ("companies", "notes"): {189: None},
}
INVERSE_TYPE = {5: 6, 6: 5, 341: 342, 342: 341, 214: 213, 213: 214, 190: 189, 189: 190}
DEFAULT_STAGES = [  # id, label, probability, closed
    ("appointmentscheduled", "Appointment Scheduled", "0.2", False),
    ("qualifiedtobuy", "Qualified To Buy", "0.4", False),
    ("presentationscheduled", "Presentation Scheduled", "0.6", False),
    ("decisionmakerboughtin", "Decision Maker Bought-In", "0.8", False),
    ("contractsent", "Contract Sent", "0.9", False),
    ("closedwon", "Closed Won", "1.0", True),
    ("closedlost", "Closed Lost", "0.0", True),
]
_SYSTEM = {
    "companies": ("createdate", "hs_lastmodifieddate", "hs_object_id"),
    "deals": ("createdate", "hs_lastmodifieddate", "hs_object_id"),
    "notes": ("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
}
_DEFAULT_READ = {
    "companies": ("domain", "name"),
    "deals": ("amount", "closedate", "dealname", "dealstage", "pipeline"),
    "notes": ("hs_timestamp",),
}
_QUERY_PROPS = {"companies": ("name", "domain", "website"), "deals": ("dealname",), "notes": ("hs_note_body",)}
_GROUP = {"companies": "companyinformation", "deals": "dealinformation", "notes": "engagement"}
_PROPERTY_NAME = re.compile(r"[a-z][a-z0-9_]*")


class ApiError(Exception):
    """An error answered with HubSpot's JSON error body."""

    def __init__(self, status: int, message: str, category: str, **extra: Any):
        super().__init__(message)
        self.status, self.message, self.category, self.extra = status, message, category, extra

    def body(self) -> dict[str, Any]:
        return {
            "status": "error",
            "message": self.message,
            "correlationId": str(uuid.uuid4()),
            "category": self.category,
            **self.extra,
        }


def _bad(message: str, **extra: Any) -> ApiError:
    return ApiError(400, message, "VALIDATION_ERROR", **extra)


def _not_found(message: str = "resource not found") -> ApiError:
    return ApiError(404, message, "OBJECT_NOT_FOUND")


def _invalid_values(problems: list[dict[str, Any]]) -> ApiError:
    """HubSpot's 400 for bad property values: every problem listed, nothing written."""
    detail = [{"isValid": False, **p} for p in problems]
    return _bad(
        f"Property values were not valid: {json.dumps(detail)}",
        errors=[
            {"message": p["message"], "code": p["error"], "context": {"propertyName": [p["name"]]}} for p in problems
        ],
    )


def rate_limit_error(policy: str) -> ApiError:
    """The documented 429 body (hubspot-api-python#117; usage guidelines)."""
    words = {"TEN_SECONDLY_ROLLING": "ten_secondly_rolling", "SECONDLY": "secondly", "DAILY": "daily"}[policy]
    return ApiError(
        429, f"You have reached your {words} limit.", "RATE_LIMITS", errorType="RATE_LIMIT", policyName=policy
    )


def iso_ms(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _to_ms(text: str) -> int | None:
    """Epoch milliseconds from '1430438400000', '2015-05-01' or an ISO 8601 datetime."""
    text = text.strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return int(moment.timestamp() * 1000)


def _tokens(text: str) -> list[str]:
    return [t for t in re.split(r"[^0-9a-z]+", text.lower()) if t]


# --------------------------------------------------------------------------- state


# --------------------------------------------------------------------------- state


@dataclass
class Prop:
    name: str
    label: str
    type: str
    field_type: str
    group: str
    unique: bool = False
    options: list[dict[str, Any]] = field(default_factory=list)
    read_only: bool = False
    custom: bool = False
    created_ms: int = 0

    def view(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "fieldType": self.field_type,
            "groupName": self.group,
            "description": "",
            "options": self.options,
            "displayOrder": -1,
            "calculated": False,
            "externalOptions": False,
            "hasUniqueValue": self.unique,
            "hidden": False,
            "hubspotDefined": not self.custom,
            "formField": False,
            "archived": False,
            "modificationMetadata": {
                "archivable": self.custom,
                "readOnlyDefinition": not self.custom,
                "readOnlyValue": self.read_only,
            },
            "createdAt": iso_ms(self.created_ms),
            "updatedAt": iso_ms(self.created_ms),
        }


@dataclass
class Record:
    id: str
    props: dict[str, str]
    created_ms: int
    updated_ms: int
    archived: bool = False
    # The search index: (when written, properties then, or None once archived). Search sees the
    # newest entry older than the lag; reads by id see `props`.
    versions: list[tuple[float, dict[str, str] | None]] = field(default_factory=list)


def object_type(text: str) -> str:
    name = _ALIASES.get(text.lower(), text.lower())
    if name not in TYPES:
        raise _bad(f"Unable to infer object type from: {text}")  # UNCONFIRMED wording
    return name


class Account:
    """One HubSpot portal: its objects, associations, properties and pipelines.

    ``clock`` is ``time.time`` plus an offset that ``advance(seconds)`` moves, so tests jump over
    the search lag or a rate window without sleeping; it can be replaced outright.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.clock: Callable[[], float] = lambda: time.time() + self._offset
        self._offset = 0.0
        self.reset()

    def reset(self) -> None:
        """Forget every object, association, custom property and pipeline; settings to defaults."""
        with self._lock:
            self._offset = 0.0
            self.search_lag_seconds = 5.0
            self.unique_conflict_status = 409
            self.deal_pipeline_limit = 2  # UNCONFIRMED: the number of pipelines a Starter account may have
            self._records: dict[str, dict[str, Record]] = {t: {} for t in TYPES}
            self._next_id = {t: 10_000_000_001 for t in TYPES}  # per type, so ids of two types collide
            self._assoc: dict[tuple[str, str, str], dict[str, set[int]]] = {}
            now = self._now_ms()
            self._groups = {
                t: {
                    _GROUP[t]: {
                        "name": _GROUP[t],
                        "label": f"{t[:-1].title()} information",
                        "displayOrder": -1,
                        "archived": False,
                    }
                }
                for t in TYPES
            }
            self._props: dict[str, dict[str, Prop]] = {t: {} for t in TYPES}
            for t, name, kind, ftype, ro in [
                *[(t, "hs_object_id", "number", "number", True) for t in TYPES],
                *[(t, "hs_lastmodifieddate", "datetime", "date", True) for t in TYPES],
                ("companies", "createdate", "datetime", "date", False),
                ("deals", "createdate", "datetime", "date", False),
                ("notes", "hs_createdate", "datetime", "date", False),
                ("companies", "name", "string", "text", False),
                ("companies", "domain", "string", "text", False),
                ("companies", "website", "string", "text", False),
                ("deals", "dealname", "string", "text", False),
                ("deals", "amount", "number", "number", False),
                ("deals", "closedate", "datetime", "date", False),
                ("deals", "pipeline", "enumeration", "select", False),
                ("deals", "dealstage", "enumeration", "select", False),
                ("notes", "hs_note_body", "string", "html", False),
                ("notes", "hs_timestamp", "datetime", "date", False),
                *[(t, "hubspot_owner_id", "enumeration", "select", False) for t in TYPES],
            ]:
                self._props[t][name] = Prop(name, name, kind, ftype, _GROUP[t], read_only=ro, created_ms=now)
            self._pipelines: dict[str, dict[str, Any]] = {}
            self._next_stage_id = 1_000_000_000
            self._add_pipeline(
                "default",
                "Sales Pipeline",
                0,
                [
                    {
                        "id": sid,
                        "label": label,
                        "displayOrder": n,
                        "metadata": {"isClosed": str(closed).lower(), "probability": p},
                    }
                    for n, (sid, label, p, closed) in enumerate(DEFAULT_STAGES)
                ],
            )

    # ---- seeding and inspecting (no HTTP, not logged, not rate limited)

    def advance(self, seconds: float) -> None:
        """Move the fake's clock forward: past the search lag, out of a rate window."""
        with self._lock:
            self._offset += seconds

    def create_property(
        self,
        object_type_: str,
        name: str,
        type_: str = "string",
        field_type: str = "text",
        *,
        unique: bool = False,
        options: list[str] | None = None,
        group: str | None = None,
    ) -> None:
        body = {
            "name": name,
            "label": name,
            "type": type_,
            "fieldType": field_type,
            "hasUniqueValue": unique,
            "groupName": group or _GROUP[object_type(object_type_)],
            "options": [{"label": o, "value": o, "displayOrder": n} for n, o in enumerate(options or [])],
        }
        with self._lock:
            self._create_property(object_type(object_type_), body)

    def seed(self, object_type_: str, properties: dict[str, Any], associations: Iterable[tuple[str, int]] = ()) -> str:
        """Create an object as if long ago: validated like a create, visible to search at once.

        `associations` are (to_id, association type id) pairs, as in a create's inline associations.
        """
        inline = [
            {"to": {"id": to}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": t}]}
            for to, t in associations
        ]
        with self._lock:
            rec = self._create(object_type(object_type_), {"properties": properties, "associations": inline})
            rec.versions = [(float("-inf"), dict(rec.props))]
            return rec.id

    def objects(self, object_type_: str) -> list[dict[str, str]]:
        """Every live object of a type: its properties, `hs_object_id` included."""
        with self._lock:
            return [dict(r.props) for r in self._records[object_type(object_type_)].values() if not r.archived]

    def associations(self, from_type: str, from_id: str, to_type: str) -> dict[str, set[int]]:
        """{to_id: {type ids}} as stored (both directions are stored)."""
        with self._lock:
            return {
                k: set(v)
                for k, v in self._assoc.get((object_type(from_type), from_id, object_type(to_type)), {}).items()
            }

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    def dispatch(
        self, kind: str, args: list[str], query: dict[str, list[str]], body: Any, path: str
    ) -> tuple[int, Any]:
        """(status, JSON payload) for one API call of `kind` (see hubspot_api.KINDS) with its path arguments."""
        body = body if body is not None else {}
        q = {k: v[-1] for k, v in query.items()}
        wanted = [p for v in query.get("properties", []) for p in v.split(",") if p] or None
        otype = object_type(args[0])
        if not isinstance(body, (dict, list)):
            raise _bad("Invalid input JSON: expected an object")
        if kind == "objects.create":
            return 201, self._view(otype, self._create(otype, body), None, created=True)
        if kind == "objects.read":
            if "associations" in q:
                raise ApiError(
                    501, "FakeHubSpotAPI does not implement ?associations=; read them with the v4 API", "UNIMPLEMENTED"
                )
            found = self._find(otype, args[1], q.get("idProperty"), q.get("archived") == "true")
            if found is None:
                raise _not_found()
            return 200, self._view(otype, found, wanted)
        if kind == "objects.update":
            found = self._find(otype, args[1], q.get("idProperty"))
            if found is None:
                raise _not_found()
            self._update(otype, found, _properties(body))
            return 200, self._view(otype, found, None, created=True)
        if kind == "objects.archive":
            found = self._find(otype, args[1], None)
            if found is not None:
                self._archive(found)
            return 204, None
        if kind == "objects.list":
            return 200, self._list(otype, q, wanted, path)
        if kind == "search":
            return 200, self._search(otype, body)
        if kind.startswith("batch."):
            return self._batch(kind, otype, body, q)
        if kind.startswith("assoc."):
            return self._association_call(kind, args, body, q, path)
        if kind.startswith(("properties.", "groups.")):
            return self._schema_call(kind, otype, args, body)
        return self._pipeline_call(kind, otype, args, body)

    # ---- objects

    def _find(self, otype: str, key: str, id_property: str | None, archived: bool = False) -> Record | None:
        if id_property and id_property != "hs_object_id":
            prop = self._props[otype].get(id_property)
            if prop is None or not prop.unique:
                raise _bad(
                    f"Unable to perform get/update by non-unique {OBJECT_TYPE_IDS[otype]} property {id_property}"
                )
            return next(
                (r for r in self._records[otype].values() if not r.archived and r.props.get(id_property) == key), None
            )
        found = self._records[otype].get(key)
        return found if found is not None and found.archived == archived else None

    def _view(self, otype: str, rec: Record, wanted: list[str] | None, created: bool = False) -> dict[str, Any]:
        if created:  # create and update answer with what is set
            names = list(rec.props)
        else:
            names = [
                *(_DEFAULT_READ[otype] if wanted is None else [w for w in wanted if w in self._props[otype]]),
                *_SYSTEM[otype],
            ]
        view = {
            "id": rec.id,
            "properties": {n: rec.props.get(n) for n in dict.fromkeys(names)},
            "createdAt": iso_ms(rec.created_ms),
            "updatedAt": iso_ms(rec.updated_ms),
            "archived": rec.archived,
        }
        if rec.archived:
            view["archivedAt"] = iso_ms(rec.updated_ms)
        return view

    def _create(self, otype: str, body: dict[str, Any]) -> Record:
        values = self._validate(otype, _properties(body), None)
        links = self._inline_associations(otype, body.get("associations") or [])
        if otype == "deals":
            values.setdefault("pipeline", "default")  # deals guide: no pipeline means the default one
            self._check_stage(values)
        now = self._now_ms()
        rid = str(self._next_id[otype])
        self._next_id[otype] += 1
        created = "hs_createdate" if otype == "notes" else "createdate"
        values.setdefault(created, iso_ms(now))
        rec = Record(rid, {**values, "hs_object_id": rid, "hs_lastmodifieddate": iso_ms(now)}, now, now)
        rec.versions.append((self.clock(), dict(rec.props)))
        self._records[otype][rid] = rec
        for to_type, to_id, type_id in links:
            self._associate(otype, rid, to_type, to_id, type_id)
        return rec

    def _update(self, otype: str, rec: Record, raw: dict[str, Any]) -> None:
        values = self._validate(otype, raw, rec)
        merged = {**rec.props, **values}
        if otype == "deals":
            self._check_stage(merged)
        now = self._now_ms()
        rec.props = {k: v for k, v in merged.items() if v != ""}  # an empty string clears a property
        rec.props["hs_lastmodifieddate"] = iso_ms(now)
        rec.updated_ms = now
        rec.versions.append((self.clock(), dict(rec.props)))

    def _archive(self, rec: Record) -> None:
        rec.archived, rec.updated_ms = True, self._now_ms()
        rec.versions.append((self.clock(), None))

    def _validate(self, otype: str, raw: dict[str, Any], current: Record | None) -> dict[str, str]:
        """Property values as HubSpot stores them (strings); 400/409 before anything is written."""
        problems: list[dict[str, Any]] = []
        values: dict[str, str] = {}
        for name, value in raw.items():
            prop = self._props[otype].get(name)
            if prop is None:
                problems.append(
                    {"message": f'Property "{name}" does not exist', "error": "PROPERTY_DOESNT_EXIST", "name": name}
                )
            elif prop.read_only:
                problems.append(
                    {
                        "message": f'"{name}" is a read only property; its value cannot be set.',
                        "error": "READ_ONLY_VALUE",
                        "name": name,
                    }
                )
            else:
                try:
                    values[name] = _coerce(prop, value)
                except ValueError as exc:
                    code, message = exc.args
                    problems.append({"message": message, "error": code, "name": name})
        if otype == "notes" and current is None and not values.get("hs_timestamp"):
            problems.append({"message": "hs_timestamp is required", "error": "REQUIRED_FIELD", "name": "hs_timestamp"})
        if problems:
            raise _invalid_values(problems)
        for name, value in values.items():
            if value and self._props[otype][name].unique:
                clash = next(
                    (
                        r
                        for r in self._records[otype].values()
                        if not r.archived and r is not current and r.props.get(name) == value
                    ),
                    None,
                )
                if clash is not None:
                    raise self._unique_conflict(otype, name, value, clash.id)
        return values

    def _unique_conflict(self, otype: str, name: str, value: str, existing: str) -> ApiError:
        if self.unique_conflict_status == 400:
            return _invalid_values(
                [{"message": f"{value} already has that value.", "error": "INVALID_PROPERTY_VALUE", "name": name}]
            )
        singular = otype[:-1].replace("companie", "company").title()
        return ApiError(
            409,
            f"{singular} already exists. Existing ID: {existing}",
            "CONFLICT",
            errors=[
                {
                    "message": f'A {singular.lower()} with {name} "{value}" already exists. Existing ID: {existing}',
                    "in": name,
                }
            ],
        )

    def _check_stage(self, values: dict[str, str]) -> None:
        pipeline = self._pipelines.get(values.get("pipeline", "default"))
        if pipeline is None:
            raise _invalid_values(
                [
                    {
                        "message": f"{values['pipeline']} was not one of the allowed options",
                        "error": "INVALID_OPTION",
                        "name": "pipeline",
                    }
                ]
            )
        stage = values.get("dealstage")
        if stage and stage not in {s["id"] for s in pipeline["stages"]}:
            raise _invalid_values(
                [
                    {
                        "message": f"{stage} is not a valid stage of pipeline {pipeline['id']}",
                        "error": "INVALID_OPTION",
                        "name": "dealstage",
                    }
                ]
            )

    def _list(self, otype: str, q: dict[str, str], wanted: list[str] | None, path: str) -> dict[str, Any]:
        limit = min(_int(q.get("limit", "10"), "limit"), LIST_MAX_LIMIT)
        after = _int(q.get("after", "0"), "after")
        archived = q.get("archived") == "true"
        live = sorted(
            (r for r in self._records[otype].values() if r.archived == archived and int(r.id) > after),
            key=lambda r: int(r.id),
        )
        page = live[:limit]
        out: dict[str, Any] = {"results": [self._view(otype, r, wanted) for r in page]}
        if len(live) > limit:
            out["paging"] = {"next": {"after": page[-1].id, "link": f"{HUBSPOT_ORIGIN}{path}?after={page[-1].id}"}}
        return out

    # ---- search

    def _search(self, otype: str, body: dict[str, Any]) -> dict[str, Any]:
        groups = body.get("filterGroups") or []
        if len(groups) > MAX_FILTER_GROUPS:
            raise _bad(
                f"Too many filter groups ({len(groups)}). The maximum number of filter groups is {MAX_FILTER_GROUPS}."
            )
        if any(len(g.get("filters") or []) > MAX_FILTERS_PER_GROUP for g in groups):
            raise _bad(
                f"Too many filters in a group. The maximum number of filters per group is {MAX_FILTERS_PER_GROUP}."
            )
        if sum(len(g.get("filters") or []) for g in groups) > MAX_FILTERS:
            raise _bad(f"Too many filters. The maximum number of filters is {MAX_FILTERS}.")
        limit, after = body.get("limit", 10), _int(str(body.get("after") or "0"), "after")
        if isinstance(limit, str) and limit.isdigit():
            limit = int(limit)
        if not isinstance(limit, int) or not 0 < limit <= SEARCH_MAX_LIMIT:
            raise _bad(f"limit must be between 1 and {SEARCH_MAX_LIMIT}, got {limit!r}")
        if after + limit > SEARCH_RESULT_CAP:
            raise _bad(f"Paging past {SEARCH_RESULT_CAP} results is not supported; narrow the filters instead.")
        for g in groups:
            for f in g.get("filters") or []:
                self._check_filter(otype, f)
        horizon = self.clock() - self.search_lag_seconds
        seen: list[tuple[str, dict[str, str]]] = []
        for rec in sorted(self._records[otype].values(), key=lambda r: int(r.id)):
            indexed = next((props for when, props in reversed(rec.versions) if when <= horizon), None)
            if indexed is not None and (
                not groups or any(all(self._matches(otype, indexed, f) for f in g.get("filters") or []) for g in groups)
            ):
                if _query_matches(body.get("query"), [indexed.get(p, "") for p in _QUERY_PROPS[otype]]):
                    seen.append((rec.id, indexed))
        for sort in reversed(body.get("sorts") or []):
            name, direction = (
                (sort, "ASCENDING")
                if isinstance(sort, str)
                else (sort.get("propertyName"), sort.get("direction", "ASCENDING"))
            )
            prop = self._props[otype].get(name or "")
            if prop is None:
                raise _bad(f"Unable to sort by unknown property {name}")
            present = [s for s in seen if s[1].get(prop.name, "") != ""]
            present.sort(key=lambda s: _sort_key(prop, s[1][prop.name]), reverse=direction == "DESCENDING")
            seen = present + [s for s in seen if s[1].get(prop.name, "") == ""]  # unset values last
        wanted = body.get("properties")
        names = [*([w for w in wanted if w in self._props[otype]] if wanted else _DEFAULT_READ[otype]), *_SYSTEM[otype]]
        page = seen[after : after + limit]
        now_rec = self._records[otype]
        out: dict[str, Any] = {
            "total": len(seen),
            "results": [
                {
                    "id": rid,
                    "properties": {n: props.get(n) for n in dict.fromkeys(names)},
                    "createdAt": iso_ms(now_rec[rid].created_ms),
                    "updatedAt": props.get("hs_lastmodifieddate"),
                    "archived": False,
                }
                for rid, props in page
            ],
        }
        if after + limit < len(seen):
            out["paging"] = {"next": {"after": str(after + limit)}}
        return out

    def _check_filter(self, otype: str, f: dict[str, Any]) -> None:
        op, name = f.get("operator"), f.get("propertyName")
        if op not in OPERATORS:
            raise _bad(f"Invalid operator {op!r}; use one of {sorted(OPERATORS)}")
        if name not in self._props[otype]:
            raise _bad(f"Property {name!r} does not exist on {otype}")  # UNCONFIRMED: 400 rather than no match
        if op in ("IN", "NOT_IN") and not isinstance(f.get("values"), list):
            raise _bad(f"{op} needs a 'values' list")
        if op == "BETWEEN" and ("value" not in f or "highValue" not in f):
            raise _bad("BETWEEN needs 'value' and 'highValue'")
        if op not in ("IN", "NOT_IN", "HAS_PROPERTY", "NOT_HAS_PROPERTY", "BETWEEN") and "value" not in f:
            raise _bad(f"{op} needs a 'value'")

    def _matches(self, otype: str, props: dict[str, str], f: dict[str, Any]) -> bool:
        op, prop = f["operator"], self._props[otype][f["propertyName"]]
        have = props.get(prop.name, "")
        if op == "HAS_PROPERTY":
            return have != ""
        if op == "NOT_HAS_PROPERTY":
            return have == ""
        if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
            pattern = re.compile(re.escape(str(f["value"]).lower()).replace(r"\*", ".*"))
            hit = have != "" and any(pattern.fullmatch(t) for t in [have.lower(), *_tokens(have)])
            return hit if op == "CONTAINS_TOKEN" else not hit
        if op in ("IN", "NOT_IN"):
            hit = have != "" and any(_compare(prop, have, str(v)) == 0 for v in f["values"])
            return hit if op == "IN" else not hit
        if op == "NEQ":
            return have == "" or _compare(prop, have, str(f["value"])) != 0
        if have == "":
            return False
        if op == "BETWEEN":
            return _compare(prop, have, str(f["value"])) >= 0 and _compare(prop, have, str(f["highValue"])) <= 0
        c = _compare(prop, have, str(f["value"]))
        return {"EQ": c == 0, "LT": c < 0, "LTE": c <= 0, "GT": c > 0, "GTE": c >= 0}[op]

    # ---- batches

    def _batch(self, kind: str, otype: str, body: dict[str, Any], q: dict[str, str]) -> tuple[int, Any]:
        inputs = body.get("inputs")
        if not isinstance(inputs, list):
            raise _bad("inputs must be a list")
        if len(inputs) > BATCH_MAX_INPUTS:
            raise _bad(
                f"The maximum number of inputs supported in a batch request is {BATCH_MAX_INPUTS}; got {len(inputs)}."
            )
        started = iso_ms(self._now_ms())
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        if kind == "batch.read":
            id_property = body.get("idProperty")
            missing = []
            for item in inputs:
                found = self._find(otype, str(item.get("id")), id_property, q.get("archived") == "true")
                if found is None:
                    missing.append(str(item.get("id")))
                else:
                    results.append(self._view(otype, found, body.get("properties") or None))
            if missing:
                errors.append(
                    {
                        "status": "error",
                        "category": "OBJECT_NOT_FOUND",
                        "message": f"Could not get some {otype} objects, they may be deleted or not exist.",
                        "context": {"ids": missing},
                    }
                )
        elif kind == "batch.archive":
            for item in inputs:
                found = self._find(otype, str(item.get("id")), None)
                if found is not None:
                    self._archive(found)
            return 204, None
        else:
            traced = bool(inputs) and all(item.get("objectWriteTraceId") for item in inputs)
            # All-or-nothing unless every input is traced: check everything first on a dry run.
            if not traced:
                for item in inputs:
                    self._batch_write(kind, otype, item, dry_run=True)
                self._check_batch_duplicates(otype, inputs)
            for item in inputs:
                try:
                    results.append(self._view(otype, self._batch_write(kind, otype, item), None, created=True))
                except ApiError as err:
                    if not traced:
                        raise  # the dry run let a bad input through: a bug in the fake, not a partial write
                    errors.append(
                        {
                            "status": "error",
                            "category": err.category,
                            "message": err.message,
                            "context": {"objectWriteTraceId": [item["objectWriteTraceId"]]},
                            **{k: v for k, v in err.extra.items() if k == "errors"},
                        }
                    )
        out = {"status": "COMPLETE", "results": results, "startedAt": started, "completedAt": iso_ms(self._now_ms())}
        if errors:
            return 207, {**out, "numErrors": len(errors), "errors": errors}
        return (201 if kind == "batch.create" else 200), out

    def _check_batch_duplicates(self, otype: str, inputs: list[dict[str, Any]]) -> None:
        seen: dict[tuple[str, str], int] = {}
        for n, item in enumerate(inputs):
            for name, value in _properties(item).items():
                if value not in (None, "") and self._props[otype][name].unique:
                    key = (name, _coerce(self._props[otype][name], value))
                    if key in seen:  # UNCONFIRMED: how HubSpot words this
                        raise _bad(f"Inputs {seen[key]} and {n} both set the unique property {name} to {key[1]}")
                    seen[key] = n

    def _batch_write(self, kind: str, otype: str, item: dict[str, Any], dry_run: bool = False) -> Record:
        if kind == "batch.create":
            if dry_run:
                self._validate(otype, _properties(item), None)
                self._inline_associations(otype, item.get("associations") or [])
                return None  # type: ignore[return-value]
            return self._create(otype, item)
        found = self._find(otype, str(item.get("id")), item.get("idProperty"))
        if found is None:
            raise _not_found(f"Object {item.get('id')} of type {otype} not found")
        if dry_run:
            self._validate(otype, _properties(item), found)
            return found
        self._update(otype, found, _properties(item))
        return found

    # ---- associations

    def _inline_associations(self, otype: str, items: list[Any]) -> list[tuple[str, str, int]]:
        links = []
        for item in items:
            to_id = str((item.get("to") or {}).get("id", ""))
            for spec in item.get("types") or []:
                type_id = spec.get("associationTypeId")
                to_type = next((t for (f, t), ids in ASSOCIATION_TYPES.items() if f == otype and type_id in ids), None)
                if to_type is None or spec.get("associationCategory", "HUBSPOT_DEFINED") != "HUBSPOT_DEFINED":
                    raise _bad(
                        f"association type id {type_id} is not valid from {otype}",
                        subCategory="INVALID_ASSOCIATION_TYPE",
                    )
                if self._find(to_type, to_id, None) is None:
                    raise _bad(
                        f"Cannot associate to {to_type} {to_id}: it does not exist", subCategory="INVALID_ASSOCIATION"
                    )
                links.append((to_type, to_id, type_id))
        return links

    def _associate(self, from_type: str, from_id: str, to_type: str, to_id: str, type_id: int) -> None:
        unlabelled = next(iter(ASSOCIATION_TYPES[(from_type, to_type)]))
        for f, fid, t, tid, ids in [
            (from_type, from_id, to_type, to_id, {type_id, unlabelled}),
            (to_type, to_id, from_type, from_id, {INVERSE_TYPE[type_id], INVERSE_TYPE[unlabelled]}),
        ]:
            self._assoc.setdefault((f, fid, t), {}).setdefault(tid, set()).update(ids)

    def _linked(self, from_type: str, from_id: str, to_type: str) -> list[dict[str, Any]]:
        found = self._assoc.get((from_type, from_id, to_type), {})
        live = sorted((int(k), v) for k, v in found.items() if not self._records[to_type][k].archived)
        return [
            {
                "toObjectId": k,
                "associationTypes": [
                    {"category": "HUBSPOT_DEFINED", "typeId": t, "label": ASSOCIATION_TYPES[(from_type, to_type)][t]}
                    for t in sorted(v)
                ],
            }
            for k, v in live
        ]

    def _association_call(self, kind: str, args: list[str], body: Any, q: dict[str, str], path: str) -> tuple[int, Any]:
        if kind in ("assoc.read", "assoc.default", "assoc.create"):
            from_type, from_id, to_type = object_type(args[0]), args[1], object_type(args[2])
        else:
            from_type, to_type = object_type(args[0]), object_type(args[1])
        if (from_type, to_type) not in ASSOCIATION_TYPES:
            raise _bad(f"No association types are defined from {from_type} to {to_type} in this fake")
        if kind == "assoc.read":
            limit = min(_int(q.get("limit", "500"), "limit"), ASSOC_MAX_LIMIT)
            after = _int(q.get("after", "0"), "after")
            rows = [r for r in self._linked(from_type, from_id, to_type) if r["toObjectId"] > after]
            out: dict[str, Any] = {"results": rows[:limit]}
            if len(rows) > limit:
                cursor = str(rows[limit - 1]["toObjectId"])
                out["paging"] = {"next": {"after": cursor, "link": f"{HUBSPOT_ORIGIN}{path}?after={cursor}"}}
            return 200, out
        if kind == "assoc.create" and not (isinstance(body, list) and all(isinstance(s, dict) for s in body)):
            raise _bad("The body must be a list of {associationCategory, associationTypeId}")
        if kind in ("assoc.default", "assoc.create"):
            pairs = [({"id": from_id}, {"id": args[3]}, body if kind == "assoc.create" else None)]
        else:
            inputs = body.get("inputs") if isinstance(body, dict) else None
            if not isinstance(inputs, list):
                raise _bad("inputs must be a list")
            if len(inputs) > ASSOC_BATCH_MAX_INPUTS:
                raise _bad(f"The maximum number of inputs supported in a batch request is {ASSOC_BATCH_MAX_INPUTS}.")
            if kind == "assoc.batch.read":
                results, missing = [], []
                for item in inputs:
                    oid = str(item.get("id"))
                    if self._find(from_type, oid, None) is None:
                        missing.append(oid)
                    elif rows := self._linked(from_type, oid, to_type):
                        results.append({"from": {"id": oid}, "to": rows})
                out = {"status": "COMPLETE", "results": results}
                if missing:
                    return 207, {
                        **out,
                        "numErrors": 1,
                        "errors": [
                            {
                                "status": "error",
                                "category": "OBJECT_NOT_FOUND",
                                "message": "Some objects were not found",
                                "context": {"ids": missing},
                            }
                        ],
                    }
                return 200, out
            pairs = [
                (i.get("from") or {}, i.get("to") or {}, i.get("types") if kind == "assoc.batch.create" else None)
                for i in inputs
            ]
        done = []
        for frm, to, types in pairs:  # validate every pair before writing any (UNCONFIRMED: all-or-nothing)
            for oid, t in ((str(frm.get("id")), from_type), (str(to.get("id")), to_type)):
                if self._find(t, oid, None) is None:
                    raise _not_found(f"{t} {oid} does not exist")
            ids = (
                [next(iter(ASSOCIATION_TYPES[(from_type, to_type)]))]
                if types is None
                else [s.get("associationTypeId") for s in types]
            )
            if not ids or any(i not in ASSOCIATION_TYPES[(from_type, to_type)] for i in ids):
                raise _bad(
                    f"association type ids {ids} are not valid from {from_type} to {to_type}",
                    subCategory="INVALID_ASSOCIATION_TYPE",
                )
            done.append((str(frm["id"]), str(to["id"]), ids))
        for fid, tid, ids in done:
            for type_id in ids:
                self._associate(from_type, fid, to_type, tid, type_id)
        if kind == "assoc.create":
            fid, tid, ids = done[0]
            labels = [
                ASSOCIATION_TYPES[(from_type, to_type)][i] for i in ids if ASSOCIATION_TYPES[(from_type, to_type)][i]
            ]
            return 201, {
                "fromObjectTypeId": OBJECT_TYPE_IDS[from_type],
                "fromObjectId": int(fid),
                "toObjectTypeId": OBJECT_TYPE_IDS[to_type],
                "toObjectId": int(tid),
                "labels": labels,
            }
        results = [
            {
                "from": {"id": fid},
                "to": {"id": tid},
                "associationSpec": {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": ids[0]},
            }
            for fid, tid, ids in done
        ]
        return (201 if kind == "assoc.batch.create" else 200), {"status": "COMPLETE", "results": results}

    # ---- properties, groups, pipelines

    def _schema_call(self, kind: str, otype: str, args: list[str], body: dict[str, Any]) -> tuple[int, Any]:
        if kind == "groups.list":
            return 200, {"results": list(self._groups[otype].values())}
        if kind == "groups.read":
            group = self._groups[otype].get(args[1])
            if group is None:
                raise _not_found(f"Unable to find property group {args[1]}")
            return 200, group
        if kind == "groups.create":
            name, label = body.get("name"), body.get("label")
            if not (isinstance(name, str) and _PROPERTY_NAME.fullmatch(name) and isinstance(label, str) and label):
                raise _bad("A property group needs a lowercase 'name' and a 'label'")
            if name in self._groups[otype]:
                raise ApiError(409, f"Property group named '{name}' already exists.", "OBJECT_ALREADY_EXISTS")
            self._groups[otype][name] = {
                "name": name,
                "label": label,
                "displayOrder": body.get("displayOrder", -1),
                "archived": False,
            }
            return 201, self._groups[otype][name]
        if kind == "properties.list":
            return 200, {"results": [p.view() for p in self._props[otype].values()]}
        if kind == "properties.read":
            prop = self._props[otype].get(args[1])
            if prop is None:
                raise _not_found(f"Unable to find property {args[1]} on object type {otype}")
            return 200, prop.view()
        if kind == "properties.update":
            # PATCH /crm/v3/properties/{objectType}/{propertyName}: `options` replaces the list
            # (https://developers.hubspot.com/docs/api/crm/properties, "Update a property"); the
            # type of a property cannot change, and a unique one stays unique.
            prop = self._props[otype].get(args[1])
            if prop is None:
                raise _not_found(f"Unable to find property {args[1]} on object type {otype}")
            if "options" in body:
                options = body.get("options") or []
                if any(not isinstance(o, dict) or not o.get("value") or not o.get("label") for o in options):
                    raise _bad("Every option needs a 'label' and a 'value'")
                prop.options = [{"label": o["label"], "value": o["value"], "displayOrder": o.get("displayOrder", n),
                                 "hidden": bool(o.get("hidden", False))} for n, o in enumerate(options)]
            if body.get("label"):
                prop.label = body["label"]
            return 200, prop.view()
        return 201, self._create_property(otype, body).view()

    def _create_property(self, otype: str, body: dict[str, Any]) -> Prop:
        missing = [k for k in ("name", "label", "type", "fieldType", "groupName") if not body.get(k)]
        if missing:
            raise _bad(f"Missing required fields: {', '.join(missing)}")
        name, type_, ftype = body["name"], body["type"], body["fieldType"]
        if not _PROPERTY_NAME.fullmatch(name):
            raise _bad(f"Property name {name!r} must start with a lowercase letter and hold only a-z, 0-9 and _")
        if name in self._props[otype]:
            raise ApiError(409, f"Property named '{name}' already exists.", "OBJECT_ALREADY_EXISTS")
        if type_ not in FIELD_TYPES or ftype not in FIELD_TYPES[type_]:
            raise _bad(
                f"{type_}/{ftype} is not a valid type/fieldType pair; valid pairs: "
                + "; ".join(f"{t}: {sorted(f)}" for t, f in FIELD_TYPES.items())
            )
        if body["groupName"] not in self._groups[otype]:
            raise _bad(f"Property group {body['groupName']} does not exist on {otype}")
        options = body.get("options") or []
        if type_ == "enumeration" and ftype != "calculation_equation" and not options:
            raise _bad(f"An enumeration property needs options; {name} has none")
        if any(not isinstance(o, dict) or not o.get("value") or not o.get("label") for o in options):
            raise _bad("Every option needs a 'label' and a 'value'")
        unique = bool(body.get("hasUniqueValue"))
        if unique and sum(p.unique for p in self._props[otype].values()) >= MAX_UNIQUE_PROPERTIES:
            raise _bad(f"{otype} already has {MAX_UNIQUE_PROPERTIES} unique value properties, the most allowed")
        options = [
            {
                "label": o["label"],
                "value": o["value"],
                "displayOrder": o.get("displayOrder", n),
                "hidden": bool(o.get("hidden", False)),
            }
            for n, o in enumerate(options)
        ]
        prop = Prop(
            name,
            body["label"],
            type_,
            ftype,
            body["groupName"],
            unique,
            options,
            custom=True,
            created_ms=self._now_ms(),
        )
        self._props[otype][name] = prop
        return prop

    def _add_pipeline(self, pid: str, label: str, order: int, stages: list[dict[str, Any]]) -> dict[str, Any]:
        now = iso_ms(self._now_ms())
        pipeline = {
            "id": pid,
            "label": label,
            "displayOrder": order,
            "archived": False,
            "createdAt": now,
            "updatedAt": now,
            "stages": [
                {
                    **s,
                    "archived": False,
                    "createdAt": now,
                    "updatedAt": now,
                    "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
                }
                for s in stages
            ],
        }
        self._pipelines[pid] = pipeline
        # dealstage and pipeline are enumerations: their options follow the pipelines.
        self._props["deals"]["pipeline"].options = [
            {"label": p["label"], "value": p["id"]} for p in self._pipelines.values()
        ]
        self._props["deals"]["dealstage"].options = [
            {"label": s["label"], "value": s["id"]} for p in self._pipelines.values() for s in p["stages"]
        ]
        return pipeline

    def _pipeline_call(self, kind: str, otype: str, args: list[str], body: dict[str, Any]) -> tuple[int, Any]:
        if otype != "deals":
            raise ApiError(501, "FakeHubSpotAPI models deal pipelines only", "UNIMPLEMENTED")
        if kind == "pipelines.list":
            return 200, {"results": list(self._pipelines.values())}
        if kind == "pipelines.read":
            if args[1] not in self._pipelines:
                raise _not_found(f"Unable to find pipeline {args[1]}")
            return 200, self._pipelines[args[1]]
        label, stages = body.get("label"), body.get("stages")
        if not isinstance(label, str) or not label or not isinstance(stages, list) or not stages:
            raise _bad("A pipeline needs a 'label' and at least one stage in 'stages'")
        if any(p["label"].lower() == label.lower() for p in self._pipelines.values()):
            raise ApiError(
                409, f"A pipeline with label '{label}' already exists.", "OBJECT_ALREADY_EXISTS"
            )  # UNCONFIRMED
        if len(self._pipelines) >= self.deal_pipeline_limit:
            raise _bad(
                f"This account may have at most {self.deal_pipeline_limit} deal pipelines", subCategory="PIPELINE_LIMIT"
            )
        made = []
        for n, stage in enumerate(stages):
            meta = stage.get("metadata") or {}
            try:
                probability = float(meta["probability"])
            except (KeyError, TypeError, ValueError):
                raise _bad(
                    f"Stage {n} ({stage.get('label')}): deal stages need metadata.probability between 0.0 and 1.0"
                ) from None
            if not 0 <= probability <= 1 or not stage.get("label") or not isinstance(stage.get("displayOrder"), int):
                raise _bad(
                    f"Stage {n}: needs a 'label', an integer 'displayOrder' and a probability between 0.0 and 1.0"
                )
            is_closed = str(meta.get("isClosed", "false")).lower()
            self._next_stage_id += 1
            made.append(
                {
                    "id": str(self._next_stage_id),
                    "label": stage["label"],
                    "displayOrder": stage["displayOrder"],
                    "metadata": {"isClosed": is_closed, "probability": str(probability)},
                }
            )
        pid = str(700_000_000 + len(self._pipelines))
        return 201, self._add_pipeline(pid, label, body.get("displayOrder", len(self._pipelines)), made)


# --------------------------------------------------------------------------- value helpers


def _properties(body: dict[str, Any]) -> dict[str, Any]:
    props = body.get("properties", {}) if isinstance(body, dict) else None
    if not isinstance(props, dict):
        raise _bad("'properties' must be an object of property name to value")
    return props


def _int(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise _bad(f"{name} must be an integer, got {text!r}") from None


def _coerce(prop: Prop, value: Any) -> str:
    """A written value as HubSpot stores it; ValueError(code, message) when it is refused."""
    if value is None or value == "":
        return ""  # clears the property
    if isinstance(value, (dict, list)):
        raise ValueError("INVALID_VALUE", f"{json.dumps(value)} is not a valid value for {prop.name}")
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    if prop.type == "number":
        try:
            number = float(text)
        except ValueError:
            raise ValueError("INVALID_FLOAT", f"{text} was not a valid number.") from None
        return str(int(number)) if number.is_integer() else repr(number)
    if prop.type in ("date", "datetime"):
        ms = _to_ms(text)
        if ms is None:
            raise ValueError("INVALID_DATE", f"{text} is not a valid date: use epoch milliseconds or ISO 8601")
        if prop.type == "date":
            if ms % 86_400_000:
                raise ValueError(
                    "INVALID_DATE", f"{text} is not midnight UTC; date properties take the day at 00:00:00 UTC"
                )
            return iso_ms(ms)[:10]
        return iso_ms(ms)
    if prop.type == "bool" and text not in ("true", "false"):
        raise ValueError("INVALID_BOOLEAN", f"{text} is not true or false")
    if prop.type == "enumeration" and prop.options and prop.name != "hubspot_owner_id":
        allowed = [o["value"] for o in prop.options]
        chosen = text.split(";") if prop.field_type == "checkbox" else [text]
        if any(c not in allowed for c in chosen):
            raise ValueError("INVALID_OPTION", f"{text} was not one of the allowed options: {allowed}")
    if len(text) > MAX_STRING_CHARS:
        raise ValueError(
            "INVALID_LENGTH", f"{prop.name} is {len(text)} characters long; the limit is {MAX_STRING_CHARS}"
        )
    return text


def _compare(prop: Prop, have: str, want: str) -> int:
    if prop.type in ("number", "date", "datetime"):
        a, b = _sort_key(prop, have), _sort_key(prop, want)
    else:
        a, b = have.lower(), want.lower()  # UNCONFIRMED: string filters ignore case
    return (a > b) - (a < b)


def _sort_key(prop: Prop, value: str) -> Any:
    if prop.type == "number":
        try:
            return float(value)
        except ValueError:
            raise _bad(f"{value!r} is not a number for {prop.name}") from None
    if prop.type in ("date", "datetime"):
        ms = _to_ms(value)
        if ms is None:
            raise _bad(f"{value!r} is not a date for {prop.name}: use epoch milliseconds")
        return ms
    return value.lower()


def _query_matches(query: Any, values: list[str]) -> bool:
    if not query:
        return True
    words = _tokens(str(query))
    have = {t for v in values for t in _tokens(v)}
    return all(any(h.startswith(w) for h in have) for w in words)
