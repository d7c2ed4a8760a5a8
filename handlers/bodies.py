"""Reading a request before anything acts on it: the raw body within its size limit, strict JSON
(no NaN, no duplicate key, no lone surrogate, nothing but an object), and the API key, compared in
constant time. Each refusal is a `Refused` carrying the status and the fields at fault; the app
turns it into the answer."""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

log = logging.getLogger("dealreg.http")


class Refused(Exception):
    """A request refused before anything was written: status, message, and the fields at fault."""

    def __init__(self, status: int, message: str, problems: Sequence[tuple[str, str]] = (),
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.problems = tuple(problems)
        self.headers = dict(headers or {})


class NotText(Refused):
    """A body holding a string that is not Unicode text (a lone surrogate): no store can keep any
    of it, not even as the audit event of a refusal (SQLite and the Sheets API take UTF-8 only)."""


def read_body(limit: int) -> bytes:
    """The raw body, refused with 413 past `limit` before anything parses it."""
    if request.content_length is not None and request.content_length > limit:
        raise Refused(413, f"the body is larger than {limit} bytes")
    try:
        raw = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise Refused(413, f"the body is larger than {limit} bytes") from None
    if len(raw) > limit:  # a body without Content-Length (chunked)
        raise Refused(413, f"the body is larger than {limit} bytes")
    return raw


def authorize(keys: Sequence[str]) -> None:
    """`Authorization: Bearer <key>` or `X-Api-Key: <key>`, compared in constant time."""
    challenge = {"WWW-Authenticate": 'Bearer realm="dealreg"'}
    if not keys:
        raise Refused(401, "no API key is configured on the server; set DEALREG_API_KEY", (), challenge)
    given = request.headers.get("X-Api-Key", "")
    auth = request.headers.get("Authorization", "")
    if not given and auth[:7].casefold() == "bearer ":
        given = auth[7:]
    given = given.strip()
    if not given:
        raise Refused(401, "send the API key as Authorization: Bearer <key> or X-Api-Key: <key>", (), challenge)
    matched = False
    for key in keys:  # no early exit, so timing does not tell which key matched
        matched |= hmac.compare_digest(given.encode("utf-8", "surrogateescape"), key.encode("utf-8"))
    if not matched:
        log.warning("api call refused on %s: wrong API key", request.path)
        raise Refused(401, "the API key is not valid", (), challenge)


class _NonFinite:
    """Stands in for NaN/Infinity while parsing, so the error can name the field."""

    def __init__(self, text: str) -> None:
        self.text = text


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise Refused(400, f"the JSON object has the key {key!r} twice", [(key, "appears twice")])
        out[key] = value
    return out


def json_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object. NaN, Infinity, duplicate keys, non-UTF-8 and non-objects
    are refused with 400 naming the problem (Python's json would accept the first two)."""
    if not raw.strip():
        raise Refused(400, "the body is empty; send a JSON object")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Refused(400, f"the body is not UTF-8 text (byte {exc.start})") from None
    try:
        data = json.loads(text, parse_constant=_NonFinite, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise Refused(400, f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise Refused(400, "the body is nested too deeply") from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise Refused(400, f"the body is not usable JSON: {exc}") from None
    if _SURROGATE_ESCAPE.search(text) and (where := _lone_surrogate(data)):
        raise NotText(400, "the body holds text that is not Unicode (a lone surrogate escape such as \\ud800)",
                      [(where, "contains a lone surrogate (a \\ud800-\\udfff escape without its pair), which is not "
                               "text; send the characters themselves, or the escape with its pair")])
    if not isinstance(data, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(data), "a number")
        raise Refused(400, f"the body must be a JSON object ({{...}}), not {kind}")
    bad = [(str(k), f"{v.text} is not a number JSON allows; send a finite number")
           for k, v in data.items() if isinstance(v, _NonFinite)]
    if bad or _contains_non_finite(data):
        raise Refused(400, "the body contains NaN or Infinity", bad or [("body", "NaN or Infinity inside a nested value")])
    return data


# A JSON escape of a UTF-16 surrogate. A pair decodes to one character; alone (or reversed) it
# decodes to a str no UTF-8 encoder accepts, which SQLite's insert raised as a 500. Bytes cannot
# carry a surrogate (the strict UTF-8 decode refuses them), so only a body with this escape is walked.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")


def _lone_surrogate(value: object, path: str = "") -> str:
    """The path (`answers[2].text`, `hidden.partner`) of the first key or string holding a lone
    surrogate, with such a key written as its escape; "" when there is none."""
    if isinstance(value, str):
        return path if not _is_text(value) else ""
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{_shown_key(key)}" if path else _shown_key(key)
            if not _is_text(key):
                return here
            if found := _lone_surrogate(item, here):
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if found := _lone_surrogate(item, f"{path}[{i}]"):
                return found
    return ""


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shown_key(key: str) -> str:
    return key.encode("utf-8", "backslashreplace").decode("utf-8")


def _contains_non_finite(value: object) -> bool:
    if isinstance(value, _NonFinite):
        return True
    if isinstance(value, dict):
        return any(_contains_non_finite(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_non_finite(v) for v in value)
    return False


def is_json_type() -> bool:
    mimetype = request.mimetype
    return not mimetype or mimetype == "application/json" or mimetype.endswith("+json")
