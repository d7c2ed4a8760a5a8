"""The product's vocabulary as plain data: records, registrations, decisions.

Pure data, no I/O. Every interface (HTTP, CLI, Sheet, CRM) speaks in these names,
which follow ../shared/SPEC.md ("Decision fields", "The Sheet layout").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import lru_cache

DIRECT = "direct"
"""The party name of the startup's own (direct) team."""


class Status(StrEnum):
    CLEAR = "clear"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    NEEDS_REVIEW = "needs_review"
    REJECTED = "rejected"


class MatchLevel(StrEnum):
    MATCH = "match"
    POSSIBLE = "possible"
    NONE = "none"


class Attribution(StrEnum):
    PARTNER_SOURCED = "partner-sourced"
    PARTNER_INFLUENCED = "partner-influenced"
    DIRECT = "direct"


OPEN_STATES = frozenset({"open", "pending", "approved"})
"""Registration states that keep a claim active (until it expires)."""
CLOSED_STATES = frozenset({"won", "lost", "withdrawn", "rejected"})
"""Registration states that end a claim whatever its protection window says."""
EXPIRED = "expired"
"""The state `dealreg sweep` gives a claim whose protection window has ended: no longer a claim,
but still the account's most recent one for the `expiry` rule (unlike a closed state)."""
STATES = OPEN_STATES | CLOSED_STATES | {EXPIRED}


@lru_cache(maxsize=1024)  # a handful of parties, asked about many times in every decision
def is_direct(party: str) -> bool:
    return party.strip().casefold() == DIRECT


@dataclass(frozen=True, slots=True)
class Record:
    """One incoming record to decide: a Typeform registration, a Clay row, a CSV row.

    Strings are as received (stripped); the core normalises them. `partner` empty
    means the check is made on behalf of the direct team.
    """

    company_name: str = ""
    company_domain: str = ""  # a website, URL or bare domain
    contact_email: str = ""
    contact_name: str = ""
    linkedin_url: str = ""
    duns: str = ""
    partner: str = ""
    deal_value: float | None = None
    currency: str = ""
    country: str = ""
    region: str = ""
    industry: str = ""
    employees: int | None = None
    submitted_at: datetime | None = None  # when the party made the claim (None: as of the decision)
    source: str = ""  # typeform, clay, api, csv …
    external_id: str = ""  # the sender's id (Typeform token, Clay row id …)

    @property
    def party(self) -> str:
        return self.partner.strip() or DIRECT


@dataclass(frozen=True, slots=True)
class Registration:
    """A party's claim on one account: one row of the Registrations tab.

    `partner` holds the claiming party (a partner's name, or `direct`). The decision
    columns (`owner` … `reason`) are what was decided when the claim was recorded.
    """

    registration_id: str
    submitted_at: datetime
    partner: str
    source: str = ""
    company_name: str = ""
    company_domain: str = ""
    linkedin_url: str = ""
    duns: str = ""
    country: str = ""
    region: str = ""
    industry: str = ""
    employees: int | None = None
    contact_name: str = ""
    contact_email: str = ""
    deal_value: float | None = None
    currency: str = ""
    state: str = "open"
    expires_at: datetime | None = None  # None: submitted_at + the rules' protection window
    owner: str = ""
    status: str = ""
    attribution_primary: str = ""
    attribution_secondary: str = ""
    matched_registration_id: str = ""
    rule: str = ""
    reason: str = ""
    external_id: str = ""
    review: str = ""  # a person's resolution, as typed: confirm, not_same, give:<party> (dealreg/reviews.py)
    review_note: str = ""
    reviewed_by: str = ""  # set when the resolution was applied: who, and when (ISO 8601)
    reviewed_at: str = ""
    extensions: int = 0  # how many times the protection window was extended (dealreg/extensions.py)

    @property
    def party(self) -> str:
        return self.partner.strip() or DIRECT


REGISTRATION_COLUMNS: tuple[str, ...] = (
    "registration_id", "submitted_at", "source", "partner", "company_name",
    "company_domain", "linkedin_url", "duns", "country", "region", "industry",
    "employees", "contact_name", "contact_email", "deal_value", "currency", "state",
    "expires_at", "owner", "status", "attribution_primary", "attribution_secondary",
    "matched_registration_id", "rule", "reason", "external_id",
    "review", "review_note", "reviewed_by", "reviewed_at", "extensions",
)
"""The Registrations tab / registry CSV columns, in SPEC's order, then the operations' columns
(OPERATION_COLUMNS: optional, so a Sheet or CSV made before them still reads)."""
OPERATION_COLUMNS: tuple[str, ...] = ("review", "review_note", "reviewed_by", "reviewed_at", "extensions")
"""The columns a person's review and an extension write (docs/operations.md)."""


@dataclass(frozen=True, slots=True)
class NamedAccount:
    """An account on the named-account / existing-customer list: a standing claim by `owner`."""

    owner: str
    company_name: str = ""
    company_domain: str = ""
    linkedin_url: str = ""
    duns: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class Alias:
    """Another name of an account, from the alias table the user owns (a former name, a brand, a
    trading name: "Philip Morris Companies" for Altria Group at altria.com). A record under that
    name is matched to every claim on the account, which `account_domain` names (or, without one,
    `account_name`). A confirmed review will add rows here too."""

    alias: str
    account_domain: str = ""
    account_name: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class Territory:
    """A partner's designated territory. Empty criteria match anything; the
    non-empty ones must all match the account (values compare case-insensitively)."""

    partner: str
    countries: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()
    industries: frozenset[str] = frozenset()
    min_employees: int | None = None
    max_employees: int | None = None


@dataclass(frozen=True, slots=True)
class Quarantined:
    """A stored row the engine cannot read (a hand edit: `TBD` as a deal value, an impossible
    date, a row that names no company). It is kept out of the index as a claim, but whatever
    can be read of it is looked up: a decision that could involve it goes to review, naming the
    row and the cells to fix, and `/healthz` lists it. One bad row never stops the service."""

    table: str  # "registrations", "named-accounts", "territories"
    where: str  # the row as its store names it: "Registrations row 7 (R-0007)"
    problems: tuple[str, ...]  # one per cell: "deal_value (O7): 'TBD' is not a number"
    claim: bool = True  # False: a rejected or closed row, a record that claims nothing
    registration_id: str = ""
    party: str = ""  # the partner, or the named account's owner, as written
    company_name: str = ""
    company_domain: str = ""
    contact_email: str = ""
    linkedin_url: str = ""
    duns: str = ""
    country: str = ""

    def describe(self) -> str:
        """One line for /healthz and the CLI: the row, then what to fix in it."""
        return f"{self.where}: {'; '.join(self.problems)}"


@dataclass(frozen=True, slots=True)
class Candidate:
    """One registration (or named account) that the record may be the same account as."""

    registration_id: str
    party: str
    level: MatchLevel
    confidence: int  # 0-100
    evidence: tuple[str, ...]  # ("domain", "name:93", "-domain" …); a leading "-" is evidence against
    submitted_at: datetime | None = None
    expires_at: datetime | None = None  # the resolved protection end
    active: bool = True
    state: str = "open"
    named: bool = False  # a named-account entry rather than a registration


DECISION_FIELDS: tuple[str, ...] = (
    "status", "suppress", "owner", "attribution_primary", "attribution_secondary",
    "matched_registration_id", "match", "match_confidence", "match_evidence", "rule",
    "reason", "registration_id", "expires_at",
)
"""The output contract, in SPEC's order."""


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome for one record (SPEC "Decision fields"), plus what led to it."""

    status: Status
    owner: str
    attribution_primary: str
    attribution_secondary: str
    matched_registration_id: str
    match: MatchLevel
    match_confidence: int
    match_evidence: tuple[str, ...]
    rule: str
    reason: str
    registration_id: str = ""
    expires_at: datetime | None = None
    reasons: tuple[str, ...] = ()  # every reason, e.g. all failed qualification checks
    candidates: tuple[Candidate, ...] = ()
    expired: tuple[str, ...] = ()  # registration ids whose claims expired
    party: str = ""  # the claiming party, spelt as the Partners list spells it
    displaced: tuple[str, ...] = ()
    """When registering: ids of registrations on file whose recorded owner is no longer the
    owner; a store updates their owner (and status `conflict`) in the same write."""

    @property
    def suppress(self) -> bool:
        return self.status is not Status.CLEAR

    def fields(self) -> dict[str, str | bool | int]:
        """The flat decision (SPEC order, same keys every time) for JSON, CSV and Sheets."""
        return {
            "status": self.status.value,
            "suppress": self.suppress,
            "owner": self.owner,
            "attribution_primary": self.attribution_primary,
            "attribution_secondary": self.attribution_secondary,
            "matched_registration_id": self.matched_registration_id,
            "match": self.match.value,
            "match_confidence": self.match_confidence,
            "match_evidence": ";".join(self.match_evidence),
            "rule": self.rule,
            "reason": self.reason,
            "registration_id": self.registration_id,
            "expires_at": self.expires_at.isoformat() if self.expires_at else "",
        }


@dataclass(frozen=True, slots=True)
class DecisionEvent:
    """The audit event stored for every decision: what came in, what was considered,
    which rule decided, under which rules file, and the outcome."""

    event_id: str
    decided_at: datetime
    action: str  # "check" or "register"
    record: Record
    decision: Decision
    rules_hash: str
    extra: dict[str, str] = field(default_factory=dict)
