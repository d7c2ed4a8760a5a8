"""The rules file as validated data (pydantic), and nothing else: no file access here.

A rules file is an ordered list of rule kinds (SPEC "Rules"); the first rule that
applies decides. `config/rules.py` reads the YAML and any CSV files it references and
hands the plain data to `parse_rules`, which refuses a bad file with the path of the
bad key and the reason (`rules[3].direct_above_deal_size.threshold: must be a positive number`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails

from dealreg.errors import RulesError
from dealreg.models import Alias, NamedAccount, Territory

RULE_KINDS = (
    "qualification",
    "expiry",
    "same_party",
    "named_accounts",
    "partner_territory",
    "direct_above_deal_size",
    "first_to_register",
    "extension",
)

REQUIRABLE_FIELDS = (
    "company_name", "company_domain", "contact_email", "contact_name", "linkedin_url",
    "duns", "partner", "deal_value", "currency", "country", "region", "industry", "employees",
)


def _positive(value: float) -> float:
    if not value > 0:
        raise ValueError("must be a positive number")
    return value


def _non_negative(value: float) -> float:
    if not value >= 0:
        raise ValueError("must be zero or a positive number")
    return value


PositiveNumber = Annotated[float, AfterValidator(_positive)]
NonNegativeNumber = Annotated[float, AfterValidator(_non_negative)]


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Qualification(_Params):
    kind: Literal["qualification"] = "qualification"
    require: tuple[str, ...] = ()
    """Fields every registration must carry (a check from Clay is held only to `apply_to_checks`)."""
    reject_free_mail_without_website: bool = True
    min_deal_value: NonNegativeNumber | None = None
    apply_to_checks: bool = False
    """Also hold suppression checks to `require` and `min_deal_value` (off: a Clay row rarely has a deal value)."""

    @field_validator("require")
    @classmethod
    def _known_fields(cls, fields: tuple[str, ...]) -> tuple[str, ...]:
        for name in fields:
            if name not in REQUIRABLE_FIELDS:
                raise ValueError(f"unknown field {name!r}; use one of: {', '.join(REQUIRABLE_FIELDS)}")
        return fields


class Expiry(_Params):
    kind: Literal["expiry"] = "expiry"


class SameParty(_Params):
    kind: Literal["same_party"] = "same_party"


class NamedAccounts(_Params):
    kind: Literal["named_accounts"] = "named_accounts"
    file: str | None = None
    """A CSV (owner, company_name, company_domain, linkedin_url, duns, note), relative to the rules file."""
    accounts: tuple[NamedAccount, ...] = ()


class PartnerTerritory(_Params):
    kind: Literal["partner_territory"] = "partner_territory"
    file: str | None = None
    """A CSV (partner, countries, regions, industries, min_employees, max_employees), relative to the rules file."""
    territories: tuple[Territory, ...] = ()


class DirectAboveDealSize(_Params):
    kind: Literal["direct_above_deal_size"] = "direct_above_deal_size"
    threshold: PositiveNumber
    currency: str = ""
    """When set, deals in another currency cannot be compared and go to review."""


class FirstToRegister(_Params):
    kind: Literal["first_to_register"] = "first_to_register"


class Extension(_Params):
    """Whether a partner's request for more protection is granted (dealreg/extensions.py). Decides
    no incoming record; without it every extension is refused."""

    kind: Literal["extension"] = "extension"
    times: Annotated[int, Field(ge=0, le=100)] = 1
    """How many times one registration may be extended."""
    days: Annotated[int, Field(gt=0, le=3650)] = 30
    """How many days each extension adds to the protection end."""
    require_deal_value: bool = False
    """Only a registration with a deal value (on file, or sent with the request) is extended."""
    states: tuple[str, ...] = ("open", "pending", "approved")
    """The registration states (the deal's stage as the partner program tracks it) that may be extended."""

    @field_validator("states")
    @classmethod
    def _open_states(cls, states: tuple[str, ...]) -> tuple[str, ...]:
        allowed = ("open", "pending", "approved")
        for state in states:
            if state not in allowed:
                raise ValueError(f"{state!r} is not an open state; use some of: {', '.join(allowed)}")
        return states


Rule = (Qualification | Expiry | SameParty | NamedAccounts | PartnerTerritory | DirectAboveDealSize | FirstToRegister
        | Extension)
_MODELS: dict[str, type[_Params]] = {
    "qualification": Qualification,
    "expiry": Expiry,
    "same_party": SameParty,
    "named_accounts": NamedAccounts,
    "partner_territory": PartnerTerritory,
    "direct_above_deal_size": DirectAboveDealSize,
    "first_to_register": FirstToRegister,
    "extension": Extension,
}


class RuleSet(BaseModel):
    """A validated rules file. Build it with `parse_rules`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    protection_days: Annotated[int, Field(gt=0, le=3650)] = 90
    divisions: Literal["review", "ignore"] = "review"
    """A record that is a registered name or brand with words of its own ("Siemens Mobility"): a
    possible match a person confirms (`review`), or no match unless another signal agrees (`ignore`)."""
    partners: tuple[str, ...] = ()
    aliases: tuple[Alias, ...] = ()
    """Other names of accounts (alias, account_domain, account_name, note): `aliases_file` in the YAML."""
    rules: tuple[Rule, ...]
    rules_hash: str = ""

    def first(self, kind: str) -> Rule | None:
        return next((rule for rule in self.rules if rule.kind == kind), None)

    @property
    def named_accounts(self) -> tuple[NamedAccount, ...]:
        return tuple(a for rule in self.rules if isinstance(rule, NamedAccounts) for a in rule.accounts)

    @property
    def territories(self) -> tuple[Territory, ...]:
        return tuple(t for rule in self.rules if isinstance(rule, PartnerTerritory) for t in rule.territories)


DEFAULT_RULES: dict[str, Any] = {
    "version": 1,
    "protection_days": 90,
    "rules": [
        {"qualification": {"reject_free_mail_without_website": True}},
        "expiry",
        "same_party",
        "named_accounts",
        "partner_territory",
        "first_to_register",
    ],
}


def _loc(parts: tuple[Any, ...]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _message(error: ErrorDetails) -> str:
    msg = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
    if error["type"] == "extra_forbidden":
        return "unknown key"
    if error["type"] == "missing":
        return "is required"
    return msg[0].lower() + msg[1:] if msg else msg


def _raise(exc: ValidationError, prefix: tuple[Any, ...]) -> None:
    first = exc.errors()[0]
    loc = prefix + tuple(p for p in first["loc"] if p not in _MODELS and not str(p).startswith("function-"))
    raise RulesError(f"{_loc(loc)}: {_message(first)}") from None


def parse_rules(data: Any, *, rules_hash: str = "") -> RuleSet:
    """Validate a parsed rules file (YAML already loaded; CSV files already merged into
    `accounts` / `territories`). Raises RulesError naming the first bad key."""
    if not isinstance(data, dict):
        raise RulesError("the rules file must be a mapping with a `rules:` list")
    items = data.get("rules")
    if not isinstance(items, list) or not items:
        raise RulesError("rules: must be a non-empty list of rules")
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        params: Any
        if isinstance(item, str):
            kind, params = item, {}
        elif isinstance(item, dict) and len(item) == 1:
            kind, params = next(iter(item.items()))
            params = {} if params is None else params
        else:
            raise RulesError(f"rules[{i}]: each rule is one kind, e.g. `- first_to_register` or `- direct_above_deal_size: {{threshold: 100000}}`")
        if kind not in _MODELS:
            raise RulesError(f"rules[{i}]: unknown rule {kind!r}; use one of: {', '.join(RULE_KINDS)}")
        if kind in seen:
            raise RulesError(f"rules[{i}].{kind}: appears twice; merge the two")
        seen.add(kind)
        if not isinstance(params, dict):
            raise RulesError(f"rules[{i}].{kind}: must be a mapping of parameters")
        try:
            rules.append(_MODELS[kind].model_validate(params))  # type: ignore[arg-type]
        except ValidationError as exc:
            _raise(exc, ("rules", i, kind))
    top = {k: v for k, v in data.items() if k != "rules"}
    try:
        return RuleSet.model_validate({**top, "rules": tuple(rules), "rules_hash": rules_hash})
    except ValidationError as exc:
        _raise(exc, ())
    raise AssertionError("unreachable")
