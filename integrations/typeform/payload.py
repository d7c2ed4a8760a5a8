"""A Typeform webhook's `form_response` as a Record (`parse_typeform`), once its signature is
verified (integrations/typeform/signature.py).

Pure: no I/O, no clock, no environment. The route (handlers/) reads the raw body and
the `Typeform-Signature` header, calls `verify_signature`, parses the JSON and calls
`parse_typeform`; it decides the HTTP status.

Vendor facts: https://www.typeform.com/developers/webhooks/ (delivery and retries) and
https://www.typeform.com/developers/webhooks/example-payload/ (payload).

What `parse_typeform` raises and returns:

- `PayloadError` when the envelope is not a `form_response` Typeform would send (not an
  object, another `event_type`, no `form_response.token`, a field of the wrong type).
  It carries `token` and `event_id` when the payload had them, so the route can still
  record a rejection keyed on the token.
- Otherwise a `TypeformSubmission`. Its `problems` lists in plain sentences why the
  submission cannot be registered as it is: a field that `dealreg.records.parse_record`
  refuses (deal value not a number, negative …), no company named at all, no partner
  named (the form link lacks `#partner=…`: the partner form never makes a direct claim),
  Typeform's test request. When answers went unread because no mapping knows their ref,
  the last problem says so. The route records such a submission as `rejected` with these
  reasons.
  `notes` holds what a reviewer may want to see but that does not block (two answers
  for one field, the form link naming another partner than the answer).

Precedence when several sources give the same field: a hidden field beats an answer
(hidden fields come from the partner-specific link the channel team built, answers from
whoever fills in the form), and among answers the first non-empty one wins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, StringConstraints, ValidationError

from dealreg.errors import DealregError, InputError
from dealreg.models import Record, is_direct
from dealreg.records import parse_record
from integrations.typeform.mapping import DEFAULT_MAPPING, validate_mapping

SOURCE = "typeform"


# --- envelope ---------------------------------------------------------------------


class PayloadError(DealregError):
    """The payload is not a Typeform `form_response` we can read at all."""

    def __init__(self, reason: str, *, token: str = "", event_id: str = ""):
        self.reason = reason
        self.token = token
        self.event_id = event_id
        super().__init__(reason)


class _FieldRef(BaseModel):
    id: str = ""
    ref: str = ""
    type: str = ""


class _Answer(BaseModel):
    model_config = ConfigDict(extra="allow")  # the value sits under a key named after `type`

    type: str
    field: _FieldRef


class _Definition(BaseModel):
    id: str = ""
    title: str = ""
    fields: list[_FieldRef] = []


class _FormResponse(BaseModel):
    form_id: str = ""
    token: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    landed_at: str | None = None
    submitted_at: AwareDatetime | None = None
    hidden: dict[str, str | None] | None = None
    definition: _Definition | None = None
    answers: list[_Answer] | None = None  # null in partial responses


class _Envelope(BaseModel):
    event_id: str = ""
    event_type: str
    form_response: _FormResponse


@dataclass(frozen=True, slots=True)
class TypeformSubmission:
    """One Typeform response, parsed. `record` is filled as far as the answers allow."""

    record: Record
    token: str
    event_id: str
    form_id: str
    submitted_at: datetime | None
    is_test: bool
    problems: tuple[str, ...]
    unmapped_refs: tuple[str, ...]  # answers' refs, then hidden field names, that no mapping knows
    notes: tuple[str, ...] = ()
    unmapped_hidden: tuple[str, ...] = ()  # the hidden field names among unmapped_refs

    def event_extra(self) -> dict[str, str]:
        """What the decision event keeps beside the decision: the refs nothing read (so a
        misspelt or renamed ref shows up) and the notes for reviewers."""
        extra = {}
        if self.unmapped_refs:
            extra["unmapped_refs"] = "; ".join(self.unmapped_refs)
        if self.notes:
            extra["notes"] = "\n".join(self.notes)
        return extra


def parse_typeform(payload: Mapping[str, Any], mapping: Mapping[str, str] = DEFAULT_MAPPING) -> TypeformSubmission:
    """Parse a webhook payload (the decoded JSON) into a TypeformSubmission.

    Raises PayloadError for an unreadable envelope, ValueError for a bad `mapping`.
    """
    mapping = validate_mapping(mapping)
    envelope = _envelope(payload)
    response = envelope.form_response
    token = response.token
    answers = response.answers or []
    hidden = {k: v for k, v in (response.hidden or {}).items() if v is not None and v.strip()}

    values, unmapped, unmapped_hidden, notes = _mapped_values(answers, hidden, mapping, response.definition)
    record, refused = _to_record(values, token)
    if response.submitted_at is not None:
        record = replace(record, submitted_at=response.submitted_at.astimezone(UTC))
    problems = [f"{field}: {message}" for field, message in refused]
    named = record.company_name or record.company_domain or record.linkedin_url or record.duns
    if not named and "company_name" not in {field for field, _ in refused}:
        # parse_record accepts a contact email alone (its domain is an account key), but a
        # deal registration is a claim on a company and must say which one.
        problems.append("The registration names no company (no company name, website, LinkedIn page or DUNS number).")
    partner_problem = _partner_problem(record.partner, mapping, response.form_id)
    if partner_problem:
        problems.append(partner_problem)
    is_test = _is_test_request(envelope, answers)
    if is_test:
        problems.insert(0, "This is Typeform's test request (placeholder answers), not a registration.")
    if problems and unmapped:
        problems.append(_unread_note(unmapped, unmapped_hidden))
    return TypeformSubmission(
        record=record,
        token=token,
        event_id=envelope.event_id,
        form_id=response.form_id,
        submitted_at=record.submitted_at,
        is_test=is_test,
        problems=tuple(problems),
        unmapped_refs=tuple(unmapped),
        notes=tuple(notes),
        unmapped_hidden=tuple(unmapped_hidden),
    )


FORM_LINK = "https://form.typeform.com/to/{form_id}#{field}=Northwind%20Partners"
"""A partner's own form link: the hidden field carries the partner's name (spaces as %20)."""


def _partner_problem(partner: str, mapping: Mapping[str, str], form_id: str) -> str | None:
    """Why the partner named by the submission cannot register, or None when one is named.

    The partner form registers partners' deals. Read as the direct team, a response without
    a partner would hand the account to direct and the partner would never hear of it.
    """
    fields = [ref for ref, target in mapping.items() if target == "partner"]
    if not fields:
        return ("No partner is named, and DEALREG_TYPEFORM_MAPPING maps nothing to partner: map the hidden "
                'field that names the partner, e.g. {"partner": "partner"}.')
    field = "partner" if "partner" in fields else fields[0]
    link = FORM_LINK.format(form_id=form_id or "<form_id>", field=field)
    if not partner.strip():
        return (f"No partner is named: the form link lacks #{field}=<partner name>. Send each partner its own "
                f"link, e.g. {link} (the partner's name as on the Partners list, spaces written %20).")
    if is_direct(partner):
        return (f"'{partner.strip()}' is the direct team, not a partner: the partner form registers partners' "
                f"deals only. Give each partner its own link, e.g. {link}.")
    return None


def _unread_note(unmapped: Sequence[str], unmapped_hidden: Sequence[str]) -> str:
    """The sentence that tells the form owner which answers were never read, and the fix."""
    answers = [ref for ref in unmapped if ref not in unmapped_hidden]
    parts = []
    if answers:
        parts.append(f"answers under refs {', '.join(answers)}")
    if unmapped_hidden:
        parts.append(f"hidden fields {', '.join(unmapped_hidden)}")
    return (f"The {' and the '.join(parts)} were not used: set DEALREG_TYPEFORM_MAPPING "
            "(`dealreg typeform-mapping RESPONSE.json` prints it from one saved response).")


def _envelope(payload: Mapping[str, Any]) -> _Envelope:
    if not isinstance(payload, Mapping):
        raise PayloadError("the body is not a JSON object")
    ids = _ids(payload)
    event_type = payload.get("event_type")
    if event_type == "form_response_partial":
        # A partial response is not a claim, and it likely shares its token with the full
        # response that may follow, so it must not be recorded under that token.
        raise PayloadError(
            "form_response_partial is not a registration; turn partial responses off on the webhook", **ids
        )
    if event_type != "form_response":
        raise PayloadError(f"event_type {event_type!r} is not form_response", **ids)
    try:
        return _Envelope.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise PayloadError(f"{where}: {first['msg']}", **ids) from None


def _ids(payload: Mapping[str, Any]) -> dict[str, str]:
    response = payload.get("form_response")
    token = response.get("token") if isinstance(response, Mapping) else None
    event_id = payload.get("event_id")
    return {
        "token": token if isinstance(token, str) else "",
        "event_id": event_id if isinstance(event_id, str) else "",
    }


# --- answers ----------------------------------------------------------------------


def _answer_value(answer: _Answer) -> object | None:
    """The answer's value as a string or a number; None when it is empty."""
    raw = (answer.model_extra or {}).get(answer.type)
    if answer.type == "choice" and isinstance(raw, Mapping):
        raw = raw.get("label") or raw.get("other")  # "other" is set when the free-text option was picked
    elif answer.type == "choices" and isinstance(raw, Mapping):
        picked = [str(label) for label in raw.get("labels") or [] if label]
        if raw.get("other"):
            picked.append(str(raw["other"]))
        raw = "; ".join(picked)
    elif answer.type == "payment" and isinstance(raw, Mapping):
        raw = raw.get("amount")
    elif isinstance(raw, bool):
        raw = "true" if raw else "false"
    if isinstance(raw, str):
        return raw if raw.strip() else None
    if isinstance(raw, (int, float)):
        return raw  # parse_record judges whether it fits the field (NaN, negative …)
    return None


def _mapped_values(
    answers: list[_Answer],
    hidden: Mapping[str, str],
    mapping: Mapping[str, str],
    definition: _Definition | None,
) -> tuple[dict[str, object], list[str], list[str], list[str]]:
    """Record field -> value, the refs no mapping knows (answers, then hidden fields), the
    hidden field names among them, and notes on disagreeing sources."""
    # Older payloads leave `field.ref` out of answers; the definition still has it.
    ref_by_id = {f.id: f.ref for f in (definition.fields if definition else []) if f.id and f.ref}
    values: dict[str, object] = {}
    source_of: dict[str, str] = {}
    unmapped: list[str] = []
    unmapped_hidden: list[str] = []
    notes: list[str] = []

    def add(target: str, value: object, source: str, *, wins: bool) -> None:
        if target in values:
            if _same(values[target], value):
                if wins:  # the same name, spelled as the winning source spells it
                    values[target], source_of[target] = value, source
                return
            kept, dropped = (value, values[target]) if wins else (values[target], value)
            kept_from, dropped_from = (source, source_of[target]) if wins else (source_of[target], source)
            notes.append(f"{target}: kept {kept!r} from {kept_from}, not {dropped!r} from {dropped_from}.")
            if not wins:
                return
        values[target] = value
        source_of[target] = source

    for answer in answers:
        ref = answer.field.ref or ref_by_id.get(answer.field.id) or answer.field.id
        target = mapping.get(ref)
        if target is None:
            if ref not in unmapped:
                unmapped.append(ref)
            continue
        value = _answer_value(answer)
        if target and value is not None:
            add(target, value, f"answer {ref!r}", wins=False)
    for name, value in hidden.items():
        target = mapping.get(name)
        if target is None:
            if name not in unmapped:
                unmapped.append(name)
                unmapped_hidden.append(name)
        elif target:
            add(target, value, f"hidden field {name!r}", wins=True)
    return values, unmapped, unmapped_hidden, notes


def _same(a: object, b: object) -> bool:
    return " ".join(str(a).split()).casefold() == " ".join(str(b).split()).casefold()


def _to_record(values: dict[str, object], token: str) -> tuple[Record, tuple[tuple[str, str], ...]]:
    """The Record parse_record makes of `values`, and the (field, message) pairs it refused.

    A field parse_record refuses is left out, so the rejected record keeps everything else.
    """
    try:
        return parse_record(values, source=SOURCE, external_id=token), ()
    except InputError as exc:
        refused = exc.problems
    bad = {field for field, _ in refused}
    kept = {k: v for k, v in values.items() if k not in bad}
    try:
        return parse_record(kept, source=SOURCE, external_id=token), refused
    except InputError:
        # A record-level problem (nothing identifies the account): keep the text as received.
        text: dict[str, Any] = {k: v.strip() for k, v in kept.items() if isinstance(v, str) and k in _TEXT_FIELDS}
        return Record(**text, source=SOURCE, external_id=token), refused


_TEXT_FIELDS = frozenset(f.name for f in fields(Record) if f.type in ("str", str))


# --- Typeform's "send test request" ---------------------------------------------------

# Observed, not documented (a captured test payload in the public repository
# usman-maqbool/predoc_doctor, appoinments/parser.py): the test send fills every answer
# with these placeholders and carries no hidden fields.
_PLACEHOLDERS: dict[str, object] = {
    "text": "Lorem ipsum dolor",
    "email": "an_account@example.com",
    "url": "http://example-url.com",
    "phone_number": "+34123456789",
    "date": "2017-02-06",
    "choice": "Barcelona",
    "choices": "Barcelona",
    "number": 42,
}


def _is_test_request(envelope: _Envelope, answers: list[_Answer]) -> bool:
    """True for Typeform's test send: token == event_id, no hidden object, and a placeholder answer.

    The structural traits alone could in theory occur on a real form without hidden
    fields; a real response also carrying a placeholder value there is not plausible.
    """
    response = envelope.form_response
    if response.token != envelope.event_id or response.hidden:
        return False
    for answer in answers:
        placeholder = _PLACEHOLDERS.get(answer.type)
        value = _answer_value(answer)
        if placeholder is not None and value == placeholder:
            return True
    return False
