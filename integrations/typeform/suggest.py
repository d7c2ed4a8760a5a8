"""Suggest `DEALREG_TYPEFORM_MAPPING` for a form, from its questions' titles and types.

Typeform generates each question's `ref` (e.g. `01H531GWT0DN41H4C16PFP05NS`); readable refs
are set through its Create API. So a form owner who built the form in Typeform's builder has
refs the default mapping does not know, and without a mapping every answer is dropped. This
module reads what the owner has at hand (one webhook payload as saved from
the webhook's delivery log, or the form definition from `GET /forms/{form_id}`), places
each question on a dealreg field by its title and type, and says what it could not place.

Pure: no I/O. `handlers/cli/typeform.py` reads the file and prints the result.
Vendor facts: https://www.typeform.com/developers/webhooks/example-payload/ (payload) and
https://www.typeform.com/developers/create/reference/retrieve-form/ (form definition).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from integrations.typeform.mapping import DEFAULT_MAPPING, MAPPABLE_FIELDS

_TEXT = frozenset({"short_text", "dropdown", "multiple_choice"})  # questions whose answer is a name

# (field, title pattern, question types it can fill). The first rule whose pattern is in the
# title and whose types include the question's type places it; None means "no dealreg field"
# (it stops a later, looser rule: "Company size" is not a company name, "Contact phone" not a
# contact name). Order matters: specific words before the catch-all company words.
_RULES: tuple[tuple[str | None, str, frozenset[str] | None], ...] = (
    ("linkedin_url", r"linked\s*in", frozenset({"website", "short_text"})),
    ("duns", r"\bd-?u-?n-?s\b", frozenset({"short_text", "number"})),
    ("contact_email", r"e-?mail", frozenset({"email", "short_text"})),
    ("company_domain", r"web\s*site|domain|\burl\b|home\s*page", frozenset({"website", "short_text"})),
    ("employees", r"employees|head\s*count|\bstaff\b|company size|number of (people|employees)", frozenset({"number"})),
    ("deal_value", r"deal (value|size|amount)|\bamount\b|\bbudget\b|\bvalue\b|revenue|\bprice\b|\bacv\b|\barr\b",
     frozenset({"number", "short_text"})),
    ("currency", r"currency", _TEXT),
    ("country", r"country", _TEXT),
    ("region", r"\bregion\b|territory", _TEXT),
    ("industry", r"industry|vertical|sector", _TEXT),
    ("partner", r"partner|reseller|agency|your (company|organi[sz]ation|firm|business)", _TEXT),
    (None, r"phone|mobile|\bsize\b|address|\bdate\b|\bwhen\b|\bstage\b|\bnotes?\b|comment|describe|tell us", None),
    ("contact_name", r"contact.*\bname\b|name of (the )?contact|contact person|\b(first|full) name\b",
     frozenset({"short_text"})),
    ("company_name", r"company|account|organi[sz]ation|business|customer|prospect|client", _TEXT),
)

# When no title rule places a question, its type may: Typeform's Email and Website questions.
_BY_TYPE = {"email": "contact_email", "website": "company_domain"}

# A contact question phrased "your …" is usually about the partner's own rep, not the prospect.
_YOURS = re.compile(r"\byour\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Question:
    ref: str  # what the mapping is keyed on (the field id when the form has no ref for it)
    title: str
    type: str
    id: str = ""


@dataclass(frozen=True, slots=True)
class Placed:
    question: Question
    field: str
    how: str  # "default ref", "title", "type"


@dataclass(frozen=True, slots=True)
class Suggestion:
    """What the form's questions become, and the mapping to set."""

    source: str  # "a webhook response" or "a form definition"
    form_id: str
    form_title: str
    placed: tuple[Placed, ...]
    unplaced: tuple[tuple[Question, str], ...]  # (question, why), in form order
    hidden: tuple[tuple[str, str], ...]  # (hidden field name, the field it fills or "")
    unfilled: tuple[str, ...]  # dealreg fields no question or hidden field fills
    mapping: dict[str, str]  # DEALREG_TYPEFORM_MAPPING: only what differs from the defaults

    @property
    def names_partner(self) -> bool:
        return any(field == "partner" for _, field in self.hidden) or any(p.field == "partner" for p in self.placed)


def read_form(document: Mapping[str, Any]) -> tuple[str, str, str, list[Question], list[str]]:
    """(source, form id, form title, questions, hidden field names) of a webhook payload or a
    form definition; ValueError when the document is neither."""
    if not isinstance(document, Mapping):
        raise ValueError("the file is not a JSON object")
    response = document.get("form_response")
    if isinstance(response, Mapping):
        definition = _object(response.get("definition"))
        questions = list(_questions(definition.get("fields")))
        # An answer to a question the definition does not list is still a question of the form
        # (read under its ref, else its id, as parse_typeform reads it).
        known = {q.ref for q in questions} | {q.id for q in questions}
        for answer in _array(response.get("answers")):
            field = _object(_object(answer).get("field"))
            ref, field_id = str(field.get("ref") or ""), str(field.get("id") or "")
            if (ref or field_id) and not {ref, field_id} & known:
                questions.append(Question(ref or field_id, "", str(field.get("type") or ""), field_id))
                known |= {ref, field_id}
        return ("a webhook response", str(response.get("form_id") or definition.get("id") or ""),
                str(definition.get("title") or ""), questions, [str(name) for name in _object(response.get("hidden"))])
    if isinstance(document.get("fields"), list):  # GET https://api.typeform.com/forms/{form_id}
        return ("a form definition", str(document.get("id") or ""), str(document.get("title") or ""),
                list(_questions(document["fields"])), [str(name) for name in _array(document.get("hidden"))])
    raise ValueError("this is neither a Typeform webhook payload (an object with form_response) nor a form "
                     "definition (an object with fields, as GET https://api.typeform.com/forms/{form_id} answers)")


def _object(value: object) -> Mapping[str, Any]:
    """`value` when it is a JSON object, else an empty one: a part Typeform left out reads as empty."""
    return value if isinstance(value, Mapping) else {}


def _array(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _questions(fields: object) -> Iterable[Question]:
    for field in _array(fields):
        if not isinstance(field, Mapping):
            continue
        kind = str(field.get("type") or "")
        if kind in ("group", "inline_group"):  # a question group: its questions are answered one by one
            yield from _questions(_object(field.get("properties")).get("fields"))
        elif kind != "statement":  # a statement asks nothing
            ref = str(field.get("ref") or field.get("id") or "")
            if ref:
                yield Question(ref, _plain_title(str(field.get("title") or "")), kind, str(field.get("id") or ""))


def _plain_title(title: str) -> str:
    """The title as the respondent reads it: recall markers ({{field:…}}) and *bold* marks out."""
    title = re.sub(r"\{\{[^}]*\}\}", "…", title)
    return " ".join(title.replace("*", "").replace("_", " ").split())


def suggest(document: Mapping[str, Any]) -> Suggestion:
    """Place every question of the form on a dealreg field; ValueError when the document is
    not a Typeform payload or form definition."""
    source, form_id, form_title, questions, hidden_names = read_form(document)
    placed: list[Placed] = []
    unplaced: list[tuple[Question, str]] = []
    taken: dict[str, Question] = {}

    # A ref the defaults already know is read as it is, whatever its title says.
    for question in questions:
        target = DEFAULT_MAPPING.get(question.ref)
        if target:
            placed.append(Placed(question, target, "default ref"))
            taken.setdefault(target, question)

    # The rest by title, then by type; the clearest claim on a field wins it (a "your e-mail"
    # question loses contact_email to "Prospect contact e-mail"), ties to the first asked.
    candidates = []
    for position, question in enumerate(questions):
        if question.ref in DEFAULT_MAPPING:
            if not DEFAULT_MAPPING[question.ref]:
                unplaced.append((question, "switched off by default"))
            continue
        field, how = _guess(question)
        if field is None:
            unplaced.append((question, "no dealreg field fits"))
            continue
        yours = field.startswith("contact_") and _YOURS.search(question.title)
        score = (2 if how == "title" else 1) - (1 if yours else 0)
        candidates.append((-score, position, question, field, how))
    for _, _, question, field, how in sorted(candidates, key=lambda c: (c[0], c[1])):
        if field in taken:
            unplaced.append((question, f"{field} is already read from {_describe(taken[field])}"))
        else:
            placed.append(Placed(question, field, how))
            taken[field] = question

    hidden: list[tuple[str, str]] = []
    for name in hidden_names:
        target = DEFAULT_MAPPING.get(name)
        if target is None and re.search(r"partner|reseller|agency", name, re.IGNORECASE) and "partner" not in {
                f for _, f in hidden}:
            target = "partner"  # e.g. a hidden field `partner_name` filled by the partner's own link
        hidden.append((name, target or ""))

    order = {q.ref: i for i, q in enumerate(questions)}
    placed.sort(key=lambda p: order[p.question.ref])
    unplaced.sort(key=lambda item: order[item[0].ref])
    # The mapping holds what the defaults do not already say. Questions and hidden fields that
    # nothing reads are switched off (""), so that later decision events list only what is new
    # or renamed (a ref nobody switched off is reported as unused).
    mapping = {p.question.ref: p.field for p in placed if DEFAULT_MAPPING.get(p.question.ref) != p.field}
    mapping.update((q.ref, "") for q, _ in unplaced if q.ref not in DEFAULT_MAPPING)
    mapping.update((name, target) for name, target in hidden if name not in DEFAULT_MAPPING)
    filled = {p.field for p in placed} | {target for _, target in hidden if target}
    return Suggestion(source=source, form_id=form_id, form_title=form_title, placed=tuple(placed),
                      unplaced=tuple(unplaced), hidden=tuple(hidden),
                      unfilled=tuple(f for f in MAPPABLE_FIELDS if f not in filled), mapping=mapping)


def _guess(question: Question) -> tuple[str | None, str]:
    """The field the question's title (else its type) points at, and which of the two did."""
    title = question.title.casefold()
    for field, pattern, types in _RULES:
        if re.search(pattern, title) and (types is None or question.type in types):
            return field, "title"
    field = _BY_TYPE.get(question.type)
    return (field, "type") if field else (None, "")


def _describe(question: Question) -> str:
    return f'"{question.title}" (ref {question.ref})' if question.title else f"ref {question.ref}"
