"""`dealreg init-hubspot`: the `dealreg` property group and dealreg's properties on deals and
companies, with the right types, and the registrations pipeline when asked for. Safe to run again:
what exists is checked, and a property of the wrong type is named with the fix (HubSpot cannot
turn an existing property into a unique one, so such a mismatch means deleting it first).

The properties are SPEC's "CRM layout": a deal carries the registration as it was registered and
its decision (`dealreg_<column>` for every column of the Registrations tab, plus the decision's
match, evidence and reasons, so a redelivery is answered with exactly the first decision); a
company carries the account-level outcome, its account key (unique: two first registrations of
one account meet on one company), the reference lists (partners, their territories, named
accounts) and the account's other names (the alias table). docs/hubspot.md lists them for users.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from dealreg.errors import StoreError, StoreUnavailable
from dealreg.models import REGISTRATION_COLUMNS, STATES, Attribution, MatchLevel, Status
from integrations.hubspot import mapping as m
from integrations.hubspot.transport import Ambiguous, HubSpotAPI, Refused

GROUP = "dealreg"
GROUP_LABEL = "dealreg (deal registration)"
PIPELINE_STAGES = (  # label, probability, closed: a new pipeline's stages
    ("Registered", "0.2", False),
    ("Closed won", "1.0", True),
    ("Closed lost", "0.0", True),
)


@dataclass(frozen=True)
class Property:
    name: str
    label: str
    type: str = "string"
    field_type: str = "text"
    options: tuple[str, ...] = ()
    unique: bool = False
    description: str = ""

    def body(self) -> dict[str, Any]:
        return {
            "name": self.name, "label": self.label, "type": self.type, "fieldType": self.field_type,
            "groupName": GROUP, "hasUniqueValue": self.unique, "description": self.description,
            "options": [{"label": o, "value": o, "displayOrder": n, "hidden": False}
                        for n, o in enumerate(self.options)],
        }


def _select(name: str, label: str, options: Sequence[str], description: str = "") -> Property:
    return Property(name, label, "enumeration", "select", tuple(options), description=description)


_LABELS = {"registration_id": "Registration id", "external_id": "External id (source:id)",
           "duns": "DUNS", "linkedin_url": "LinkedIn page", "submitted_at": "Submitted at (ISO 8601)",
           "expires_at": "Protected until (ISO 8601)", "matched_registration_id": "Matched registration"}


def _deal_property(column: str) -> Property:
    name = m.DEAL[column]
    label = "dealreg: " + _LABELS.get(column, column.replace("_", " ").capitalize())
    if column == "registration_id":
        return Property(name, label, unique=True, description="The registration's id; unique, so a write that "
                        "may have landed is found again and never doubled.")
    if column == "external_id":
        return Property(name, label, unique=True, description="The sender's id with its source (typeform:…); "
                        "unique, so a redelivered submission creates nothing new.")
    if column == "status":
        return _select(name, label, [s.value for s in Status])
    if column == "state":
        return _select(name, label, sorted(STATES), "open until won, lost, withdrawn or rejected; moving the deal "
                       "to a closed stage closes the registration too.")
    if column == "attribution_primary":
        return _select(name, label, [Attribution.PARTNER_SOURCED.value, Attribution.DIRECT.value])
    if column == "attribution_secondary":
        return _select(name, label, [Attribution.PARTNER_INFLUENCED.value, Attribution.DIRECT.value])
    if column == "employees":
        return Property(name, label, "number", "number")
    if column == "reason":
        return Property(name, label, field_type="textarea")
    # Text, not HubSpot's datetime or number: times keep their microseconds, so every writer
    # orders claims alike, and a hand edit that cannot be read is quarantined and named, not lost.
    return Property(name, label)


DEAL_PROPERTIES: tuple[Property, ...] = (
    *(_deal_property(c) for c in REGISTRATION_COLUMNS),
    _select(m.DEAL_MATCH, "dealreg: Match", [level.value for level in MatchLevel]),
    Property(m.DEAL_MATCH_CONFIDENCE, "dealreg: Match confidence", "number", "number"),
    Property(m.DEAL_MATCH_EVIDENCE, "dealreg: Match evidence"),
    Property(m.DEAL_REASONS, "dealreg: Reasons", field_type="textarea"),
)
COMPANY_PROPERTIES: tuple[Property, ...] = (
    Property(m.ACCOUNT_KEY, "dealreg: Account key", unique=True,
             description="The registered domain (domain:acme.com), else the normalised name (name:acme); unique, "
                         "so registrations of one account meet on one company."),
    Property(m.COMPANY_OWNER, "dealreg: Account owner", description="Who owns the account after the last decision."),
    _select(m.COMPANY_PRIMARY, "dealreg: Attribution primary",
            [Attribution.PARTNER_SOURCED.value, Attribution.DIRECT.value]),
    _select(m.COMPANY_SECONDARY, "dealreg: Attribution secondary",
            [Attribution.PARTNER_INFLUENCED.value, Attribution.DIRECT.value]),
    Property(m.COMPANY_LINKEDIN, "dealreg: LinkedIn page"),
    Property(m.COMPANY_DUNS, "dealreg: DUNS"),
    Property(m.PARTNER_NAME, "dealreg: Partner name",
             description="Set on a partner's company: the name registrations use. Partners list."),
    Property(m.PARTNER_EMAIL, "dealreg: Partner contact email"),
    Property(m.PARTNER_NOTE, "dealreg: Partner note", field_type="textarea"),
    Property(m.PARTNER_JOINED, "dealreg: Partner joined on", description="The day the partner signed "
             "(YYYY-MM-DD): the report's 90-day activation."),
    Property(m.TERRITORY_PARTNER, "dealreg: Territory of partner",
             description="The partner whose territory the next fields describe."),
    Property(m.TERRITORY_COUNTRIES, "dealreg: Territory countries"),
    Property(m.TERRITORY_REGIONS, "dealreg: Territory regions"),
    Property(m.TERRITORY_INDUSTRIES, "dealreg: Territory industries"),
    Property(m.TERRITORY_MIN, "dealreg: Territory min employees", "number", "number"),
    Property(m.TERRITORY_MAX, "dealreg: Territory max employees", "number", "number"),
    Property(m.NAMED_OWNER, "dealreg: Named account of",
             description="Set on a named account or existing customer: its owner (direct or a partner)."),
    Property(m.NAMED_NOTE, "dealreg: Named account note", field_type="textarea"),
    Property(m.ALIASES, "dealreg: Other names", field_type="textarea",
             description="The account's other names, one a line: former names, brands, trading names. A record "
                         "under one of them is matched to this company's account (its domain, else its name)."),
)
PROPERTIES: dict[str, tuple[Property, ...]] = {"deals": DEAL_PROPERTIES, "companies": COMPANY_PROPERTIES}
_WHERE = {"deals": "Settings -> Properties -> Deal properties", "companies": "Settings -> Properties -> "
          "Company properties"}


@dataclass
class InitReport:
    created_groups: list[str] = field(default_factory=list)  # "deals", "companies"
    created: list[str] = field(default_factory=list)  # "deals.dealreg_status"
    updated: list[str] = field(default_factory=list)  # options added: "deals.dealreg_state"
    ok: int = 0
    problems: list[str] = field(default_factory=list)
    pipeline: dict[str, Any] | None = None
    pipeline_created: bool = False


def mismatch(object_type: str, want: Property, have: dict[str, Any]) -> str | None:
    """What is wrong with an existing property, with the fix; None when it fits."""
    where = f"{object_type} property {want.name}"
    fix_delete = (f"delete it in HubSpot ({_WHERE[object_type]}) and run `dealreg init-hubspot` again, which "
                  f"creates it right")
    if (have.get("type"), have.get("fieldType")) != (want.type, want.field_type) and not (
            have.get("type") == want.type and want.type == "string"):  # text or textarea: either holds the text
        return (f"{where} is {have.get('type')}/{have.get('fieldType')}; dealreg needs {want.type}/"
                f"{want.field_type}: {fix_delete}")
    if want.unique and not have.get("hasUniqueValue"):
        return (f"{where} does not require unique values, and HubSpot cannot make an existing property unique: "
                f"{fix_delete}")
    values = {str(o.get("value")) for o in have.get("options") or [] if isinstance(o, dict)}
    missing = [o for o in want.options if o not in values]
    if missing:
        return (f"{where} lacks the option(s) {', '.join(missing)}: add them in HubSpot ({_WHERE[object_type]}, "
                f"the property's options, each value exactly as written here)")
    return None


def _lacks_options(want: Property, have: dict[str, Any]) -> bool:
    values = {str(o.get("value")) for o in have.get("options") or [] if isinstance(o, dict)}
    return any(o not in values for o in want.options)


def _merged_options(want: Property, have: dict[str, Any]) -> list[dict[str, Any]]:
    """The property's options as they are, then the ones dealreg needs that it lacks."""
    current = [o for o in have.get("options") or [] if isinstance(o, dict)]
    values = {str(o.get("value")) for o in current}
    extra = [o for o in want.options if o not in values]
    return [*current, *({"label": o, "value": o, "displayOrder": len(current) + n, "hidden": False}
                        for n, o in enumerate(extra))]


def check_properties(api: HubSpotAPI, deadline: float) -> list[str]:
    """The problems with dealreg's properties (missing, or of the wrong kind), each with its fix;
    one read of each object's property list."""
    problems: list[str] = []
    for object_type, wanted in PROPERTIES.items():
        data = api.call("GET", f"/crm/v3/properties/{object_type}", f"the {object_type} properties", deadline)
        have = {p.get("name"): p for p in data.get("results") or []}
        for prop in wanted:
            if prop.name not in have:
                problems.append(f"{object_type} property {prop.name} does not exist: run `dealreg init-hubspot`")
            elif (problem := mismatch(object_type, prop, have[prop.name])) is not None:
                problems.append(problem)
    return problems


def init_hubspot(api: HubSpotAPI, deadline: Any, pipeline: str = "") -> InitReport:
    """Create the group and the properties that are missing, check the others; with `pipeline`
    (a label), find or create that deal pipeline. `deadline` gives each call its own deadline."""
    report = InitReport()
    for object_type, wanted in PROPERTIES.items():
        groups = api.call("GET", f"/crm/v3/properties/{object_type}/groups", f"the {object_type} property groups",
                          deadline())
        if GROUP not in {g.get("name") for g in groups.get("results") or []}:
            api.call("POST", f"/crm/v3/properties/{object_type}/groups", f"creating the {object_type} group {GROUP}",
                     deadline(), body={"name": GROUP, "label": GROUP_LABEL, "displayOrder": -1}, write=True,
                     retry_ambiguous=True)
            report.created_groups.append(object_type)
        data = api.call("GET", f"/crm/v3/properties/{object_type}", f"the {object_type} properties", deadline())
        have = {p.get("name"): p for p in data.get("results") or []}
        for prop in wanted:
            if prop.name in have:
                if prop.options and _lacks_options(prop, have[prop.name]) and not mismatch(
                        object_type, replace(prop, options=()), have[prop.name]):
                    # An option added since it was created (a state `expired`): added, the others kept.
                    have[prop.name] = api.call("PATCH", f"/crm/v3/properties/{object_type}/{prop.name}",
                                               f"adding options to {object_type} property {prop.name}", deadline(),
                                               body={"options": _merged_options(prop, have[prop.name])},
                                               write=True, retry_ambiguous=True)
                    report.updated.append(f"{object_type}.{prop.name}")
                problem = mismatch(object_type, prop, have[prop.name])
                if problem:
                    report.problems.append(problem)
                else:
                    report.ok += 1
                continue
            try:
                made = api.call("POST", f"/crm/v3/properties/{object_type}", f"creating {object_type} property "
                                f"{prop.name}", deadline(), body=prop.body(), write=True, retry_ambiguous=True)
            except Refused as exc:
                if exc.status != 409:  # 409: created meanwhile (or by the first try of this call)
                    raise
                made = None
            report.created.append(f"{object_type}.{prop.name}")
            # What HubSpot made, not what was asked: a unique property made without unique values
            # would quietly cost dealreg its guard against doubled registrations.
            if isinstance(made, dict) and (problem := mismatch(object_type, prop, made)):
                report.problems.append(f"HubSpot created it, but {problem}")
    if pipeline:
        report.pipeline, report.pipeline_created = ensure_pipeline(api, deadline, pipeline)
    return report


def ensure_pipeline(api: HubSpotAPI, deadline: Any, label: str) -> tuple[dict[str, Any], bool]:
    """The deal pipeline with this label (or id), created with PIPELINE_STAGES when there is none."""
    def find() -> tuple[dict[str, Any] | None, int]:
        existing = api.call("GET", "/crm/v3/pipelines/deals", "the deal pipelines", deadline())
        pipelines = existing.get("results") or []
        folded = label.casefold()
        return next((p for p in pipelines if folded in (str(p.get("label", "")).casefold(),
                                                         str(p.get("id", "")).casefold())), None), len(pipelines)

    found, count = find()
    if found is not None:
        return found, False
    body = {"label": label, "displayOrder": count,
            "stages": [{"label": name, "displayOrder": n,
                        "metadata": {"probability": probability, "isClosed": "true" if closed else "false"}}
                       for n, (name, probability, closed) in enumerate(PIPELINE_STAGES)]}
    try:
        created = api.call("POST", "/crm/v3/pipelines/deals", f"creating the deal pipeline {label!r}", deadline(),
                           body=body, write=True)
    except Refused as exc:
        if exc.status == 400 and "pipeline" in str(exc).lower():
            raise StoreError(f"HubSpot would not create the pipeline {label!r} ({exc}). An account on HubSpot's free "
                             f"CRM has one deal pipeline: leave DEALREG_HUBSPOT_PIPELINE at 'default' and run "
                             f"`dealreg init-hubspot` without --pipeline") from None
        raise
    except Ambiguous:  # it may have been created: a label is unique, so look before creating again
        found, _ = find()
        if found is None:
            raise StoreUnavailable(f"HubSpot did not answer creating the pipeline {label!r}; run the command "
                                   f"again") from None
        return found, True
    return created, True
