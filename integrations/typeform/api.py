"""Typeform's Create and Webhooks APIs, for `dealreg init-typeform`: the registration form with
the refs dealreg reads and the hidden field `partner`, and its webhook with the secret.

Safe to run again: the form is found by its exact title and updated in place (never a second
form), and the webhook is written under one tag with PUT, which creates or replaces it.

Vendor facts this module is built on:
- `POST /forms` creates a form (201), `GET /forms?search=…&page=…&page_size=…` lists forms whose
  title *contains* the text (up to 200 a page), `GET /forms/{id}` reads one, `PUT /forms/{id}`
  replaces it whole: "any fields you don't include in your request will be deleted from the
  form" (with their answers), and a form sent without `theme` gets a new copy of the default
  theme. So an update sends every field the form has, ours matched by ref with their ids kept,
  and the theme it has. https://www.typeform.com/developers/create/reference/create-form/,
  …/retrieve-forms/, …/update-form/
- `PUT /forms/{id}/webhooks/{tag}` creates or updates the webhook `tag` (`url`, `enabled`,
  `secret`, `verify_ssl`). https://www.typeform.com/developers/webhooks/reference/create-or-update-webhook/
- A personal access token goes in `Authorization: Bearer …`; the APIs allow 2 requests a second
  per account and answer 429 past that, which is waited out (Retry-After) a few times.
  https://www.typeform.com/developers/get-started/
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from dealreg.errors import DealregError

API_URL = "https://api.typeform.com"
WEBHOOK_TAG = "dealreg"
FORM_TITLE = "Partner deal registration"
TIMEOUT_SECONDS = 30
MAX_RETRIES = 4

# The questions, by the refs the default mapping reads (integrations/typeform/mapping.py, DEFAULT_MAPPING).
QUESTIONS: tuple[dict[str, Any], ...] = (
    {"ref": "company_name", "type": "short_text", "title": "Prospect company name", "required": True},
    {"ref": "company_website", "type": "website", "title": "Prospect company website", "required": True},
    {"ref": "contact_email", "type": "email", "title": "Prospect contact's work email", "required": True},
    {"ref": "contact_name", "type": "short_text", "title": "Prospect contact's name", "required": False},
    {"ref": "deal_value", "type": "number", "title": "Estimated deal value", "required": False},
    {"ref": "currency", "type": "short_text", "title": "Currency of the deal (EUR, USD …)", "required": False},
    {"ref": "country", "type": "short_text", "title": "Prospect's country", "required": False},
)
HIDDEN = ("partner",)


class TypeformAPIError(DealregError):
    """Typeform refused a call, or could not be reached; the message names the fix."""


@dataclass(frozen=True)
class Setup:
    form_id: str
    link: str  # the form's public link (`_links.display`)
    created: bool  # False: an existing form was updated
    webhook_url: str


class TypeformAPI:
    def __init__(self, token: str, *, base_url: str = API_URL, session: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not token.strip():
            raise TypeformAPIError("no Typeform token: create a personal access token (Typeform → Settings → "
                                   "Personal tokens, scopes forms:read forms:write webhooks:read webhooks:write) "
                                   "and pass it with --token or DEALREG_TYPEFORM_TOKEN")
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {token.strip()}", "Accept": "application/json"})
        self.sleep = sleep

    def call(self, method: str, path: str, body: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        for attempt in range(MAX_RETRIES + 1):
            try:
                response = self.session.request(method, self.base_url + path, json=body, params=params,
                                                timeout=TIMEOUT_SECONDS)
            except requests.RequestException as exc:
                raise TypeformAPIError(f"Typeform could not be reached ({type(exc).__name__}); check the network "
                                       f"and run the command again (it is safe to repeat)") from None
            if response.status_code == 429 and attempt < MAX_RETRIES:
                self.sleep(_retry_after(response, attempt))  # 2 requests a second per account
                continue
            if response.status_code in (401, 403):
                raise TypeformAPIError(f"Typeform refused the token ({response.status_code}): use a personal "
                                       f"access token with the scopes forms:read forms:write webhooks:read "
                                       f"webhooks:write")
            if response.status_code >= 400:
                raise TypeformAPIError(f"Typeform answered {response.status_code} to {method} {path}: "
                                       f"{_described(response)}")
            return response.json() if response.content else None
        raise AssertionError("unreachable")

    # -- forms -------------------------------------------------------------------------

    def forms_titled(self, title: str) -> list[dict[str, Any]]:
        """Every form whose title is exactly `title` (the search matches any title containing it)."""
        found, page = [], 1
        while True:
            listing = self.call("GET", "/forms", params={"search": title, "page": page, "page_size": 200})
            found += [f for f in listing.get("items", []) if f.get("title") == title]
            if page >= int(listing.get("page_count") or 1):
                return found
            page += 1

    def ensure_form(self, title: str, form_id: str = "") -> tuple[dict[str, Any], bool]:
        """The registration form: `form_id`'s, else the one titled `title`, updated to carry our
        questions and hidden field; created when there is none. Returns (form, created)."""
        if not form_id:
            same = self.forms_titled(title)
            if len(same) > 1:
                ids = ", ".join(f["id"] for f in same)
                raise TypeformAPIError(f"{len(same)} forms are titled {title!r} ({ids}); pass --form-id with the "
                                       f"one to use")
            form_id = same[0]["id"] if same else ""
        if not form_id:
            return self.call("POST", "/forms", registration_form(title)), True
        current = self.call("GET", f"/forms/{quote(form_id, safe='')}")
        return self.call("PUT", f"/forms/{quote(form_id, safe='')}", registration_form(title, current)), False

    def ensure_webhook(self, form_id: str, url: str, secret: str) -> dict[str, Any]:
        hook: dict[str, Any] = self.call("PUT", f"/forms/{quote(form_id, safe='')}/webhooks/{WEBHOOK_TAG}",
                                         {"url": url, "enabled": True, "secret": secret, "verify_ssl": True})
        return hook


def registration_form(title: str, current: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The form to send: our questions (with the ids they already have, so their answers stay),
    every other question the form has (a PUT deletes what it leaves out), our hidden field beside
    the form's own, and the theme and settings it has."""
    current = current or {}
    fields = list(current.get("fields") or [])
    by_ref = {f.get("ref"): f for f in fields}
    out: list[dict[str, Any]] = []
    for question in QUESTIONS:
        field = {"ref": question["ref"], "type": question["type"], "title": question["title"],
                 "validations": {"required": question["required"]}}
        if question["ref"] in by_ref:
            mine = by_ref[question["ref"]]
            field = {**mine, "type": question["type"], "validations": {**(mine.get("validations") or {}),
                                                                      "required": question["required"]}}
        out.append(field)
    ours = {q["ref"] for q in QUESTIONS}
    out += [f for f in fields if f.get("ref") not in ours]  # the form owner's own questions stay
    hidden = list(current.get("hidden") or [])
    body: dict[str, Any] = {"title": title, "fields": out, "hidden": hidden + [h for h in HIDDEN if h not in hidden]}
    for key in ("theme", "settings", "workspace", "welcome_screens", "thankyou_screens", "logic", "variables"):
        if key in current:
            body[key] = current[key]
    return body


def partner_link(form: Mapping[str, Any], partner: str) -> str:
    """The form's link for one partner: the hidden field `partner` in the fragment (Typeform reads
    hidden fields from the URL's #…, https://www.typeform.com/help/a/use-hidden-fields-360052676612/)."""
    display = str((form.get("_links") or {}).get("display") or f"https://form.typeform.com/to/{form['id']}")
    return f"{display}#partner={quote(partner, safe='')}"


def _retry_after(response: requests.Response, attempt: int) -> float:
    try:
        return min(float(response.headers.get("Retry-After", "")), 30.0)
    except ValueError:
        return min(0.5 * 2.0 ** attempt, 8.0)


def _described(response: requests.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200] or response.reason
    details = "; ".join(f"{d.get('field', '')}: {d.get('description', '')}".strip(": ")
                        for d in data.get("details") or [] if isinstance(d, dict))
    return " ".join(filter(None, [str(data.get("code", "")), str(data.get("description", "")), details]))
