"""A local Typeform Create and Webhooks API, for `dealreg init-typeform` tests: the real client
(integrations/typeform_api.py, plain requests) talks to it over loopback.

What it models, because it hurts a client that ignores it:
- `PUT /forms/{id}` replaces the form whole: a field left out of the body is deleted, with its
  answers ("any fields you don't include in your request will be deleted from the form"), a field
  sent without its `id` is a new field (new id, the old answers stay with the deleted one), and a
  body without `theme` gets a new copy of the default theme.
  https://www.typeform.com/developers/create/reference/update-form/
- `GET /forms?search=` matches every title that *contains* the text, case-insensitively, and pages
  (`page`, `page_size` up to 200; `total_items`, `page_count`).
  https://www.typeform.com/developers/create/reference/retrieve-forms/
- `PUT /forms/{id}/webhooks/{tag}` creates or replaces the webhook `tag`; a form has any number of
  webhooks, one per tag. https://www.typeform.com/developers/webhooks/reference/create-or-update-webhook/
- A request without the right `Authorization: Bearer <token>` is refused (403), and past the rate
  limit (2 requests a second per account, https://www.typeform.com/developers/get-started/) the API
  answers 429 with Retry-After: here on demand (`throttle(n)`), as tests never wait for a clock.
- A form body Typeform would refuse is answered 400 with `{"code": "VALIDATION_ERROR",
  "description", "details": [{"field", "description"}]}`: no title, a field without a title or
  with an unknown type, two fields with one ref, a hidden field that is not a string.
- A form's public link is `_links.display`, `https://<account>.typeform.com/to/<id>`.
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

FIELD_TYPES = {"short_text", "long_text", "email", "website", "number", "dropdown", "multiple_choice", "date",
               "yes_no", "phone_number", "rating", "opinion_scale", "statement", "legal", "file_upload"}


class FakeTypeformAPI:
    def __init__(self, token: str = "tfp_test_token", account: str = "acme") -> None:
        self.token = token
        self.account = account
        self.forms: dict[str, dict[str, Any]] = {}
        self.webhooks: dict[str, dict[str, dict[str, Any]]] = {}  # form id -> tag -> webhook
        self.deleted_fields: list[tuple[str, str]] = []  # (form id, ref) of fields a PUT deleted
        self.themes = itertools.count(1)
        self.requests: list[tuple[str, str]] = []
        self._throttle = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeTypeformAPI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def throttle(self, n: int) -> None:
        """The next `n` requests are answered 429 (Retry-After: 1)."""
        self._throttle = n

    # -- the API -----------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: Any,
               auth: str) -> tuple[int, Any, dict[str, str]]:
        self.requests.append((method, path))
        if self._throttle:
            self._throttle -= 1
            return 429, {"code": "RATE_LIMITED", "description": "too many requests"}, {"Retry-After": "1"}
        if auth != f"Bearer {self.token}":
            return 403, {"code": "AUTHENTICATION_FAILED", "description": "Authentication credentials not found on "
                                                                        "the Request Headers"}, {}
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts == ["forms"] and method == "GET":
            return self._list(query)
        if parts == ["forms"] and method == "POST":
            return self._save(None, body)
        if len(parts) >= 2 and parts[0] == "forms" and parts[1] not in self.forms:
            return 404, {"code": "FORM_NOT_FOUND", "description": "Non existing form with uid " + parts[1]}, {}
        if len(parts) == 2 and method == "GET":
            return 200, self.forms[parts[1]], {}
        if len(parts) == 2 and method == "PUT":
            return self._save(parts[1], body)
        if len(parts) == 3 and parts[2] == "webhooks" and method == "GET":
            return 200, {"items": list(self.webhooks.get(parts[1], {}).values())}, {}
        if len(parts) == 4 and parts[2] == "webhooks" and method == "PUT":
            return self._webhook(parts[1], parts[3], body)
        return 404, {"code": "NOT_FOUND", "description": f"{method} {path}"}, {}

    def _list(self, query: dict[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        size = int(query.get("page_size", ["10"])[0])
        if not 1 <= size <= 200:
            return 400, _invalid("page_size", "must be between 1 and 200"), {}
        page = int(query.get("page", ["1"])[0])
        text = query.get("search", [""])[0].casefold()
        items = [self._summary(f) for f in self.forms.values() if text in f["title"].casefold()]
        pages = max(1, -(-len(items) // size))
        return 200, {"total_items": len(items), "page_count": pages,
                     "items": items[(page - 1) * size: page * size]}, {}

    def _summary(self, form: dict[str, Any]) -> dict[str, Any]:
        return {"id": form["id"], "title": form["title"], "_links": form["_links"],
                "self": {"href": f"{self.base_url}/forms/{form['id']}"}, "theme": form["theme"]}

    def _save(self, form_id: str | None, body: Any) -> tuple[int, Any, dict[str, str]]:
        problems = _problems(body)
        if problems:
            return 400, {"code": "VALIDATION_ERROR", "description": "the form is not valid",
                         "details": [{"field": f, "description": d} for f, d in problems]}, {}
        with self._lock:
            old = self.forms.get(form_id or "", {})
            kept_ids = {f["id"] for f in body["fields"] if f.get("id")}
            for field in old.get("fields", []):
                if field["id"] not in kept_ids:  # a PUT deletes every field it leaves out, with its answers
                    self.deleted_fields.append((form_id or "", field.get("ref", "")))
            fields = [{**f, "id": f.get("id") or secrets.token_hex(6)} for f in body["fields"]]
            fid = form_id or secrets.token_urlsafe(6).replace("-", "x").replace("_", "y")[:8]
            theme = body.get("theme") or {"href": f"https://api.typeform.com/themes/default-copy-{next(self.themes)}"}
            form = {**body, "id": fid, "fields": fields, "hidden": list(body.get("hidden") or []), "theme": theme,
                    "_links": {"display": f"https://{self.account}.typeform.com/to/{fid}"}}
            self.forms[fid] = form
        return (200 if form_id else 201), form, {}

    def _webhook(self, form_id: str, tag: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        if not isinstance(body, dict) or not str(body.get("url", "")).startswith(("https://", "http://")):
            return 400, _invalid("url", "must be a URL"), {}
        hook = {"id": secrets.token_hex(6), "form_id": form_id, "tag": tag, "url": body["url"],
                "enabled": bool(body.get("enabled", False)), "verify_ssl": bool(body.get("verify_ssl", True)),
                "secret": body.get("secret", "")}
        self.webhooks.setdefault(form_id, {})[tag] = {**self.webhooks.get(form_id, {}).get(tag, {}), **hook}
        return 200, self.webhooks[form_id][tag], {}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                url = urlsplit(self.path)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    self._send(400, {"code": "BAD_REQUEST", "description": "invalid JSON"}, {})
                    return
                status, data, headers = fake.handle(self.command, url.path, parse_qs(url.query), body,
                                                    self.headers.get("Authorization", ""))
                self._send(status, data, headers)

            def _send(self, status: int, data: Any, headers: dict[str, str]) -> None:
                out = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(out)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, *args: object) -> None:
                pass

        return Handler


def _invalid(field: str, description: str) -> dict[str, Any]:
    return {"code": "VALIDATION_ERROR", "description": "invalid request",
            "details": [{"field": field, "description": description}]}


def _problems(body: Any) -> list[tuple[str, str]]:
    if not isinstance(body, dict):
        return [("", "the body must be a JSON object")]
    problems = []
    if not str(body.get("title", "")).strip():
        problems.append(("/title", "is required"))
    refs: set[str] = set()
    for i, field in enumerate(body.get("fields") or []):
        if not str(field.get("title", "")).strip():
            problems.append((f"/fields/{i}/title", "is required"))
        if field.get("type") not in FIELD_TYPES:
            problems.append((f"/fields/{i}/type", f"{field.get('type')!r} is not a field type"))
        ref = field.get("ref")
        if ref and ref in refs:
            problems.append((f"/fields/{i}/ref", f"{ref!r} is used by another field"))
        refs.add(ref)
    if not all(isinstance(h, str) and h for h in body.get("hidden") or []):
        problems.append(("/hidden", "must be a list of names"))
    return problems
