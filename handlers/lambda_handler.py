"""AWS Lambda entry point: API Gateway HTTP API (payload format 2.0) <-> the Flask WSGI app.

It only translates: event -> WSGI environ, the app's answer -> the v2 response dict.
The app is built once per container, on the first call, from `Settings()` (the
environment, which serverless.yml fills from SSM), so importing this module stays cheap
(stdlib only; Flask and the app are imported on the first call).

Event and response shapes:
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
(header names lower-cased, duplicates comma-joined, cookies in their own array).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import logging
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import unquote_to_bytes

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Handler = Callable[[Mapping[str, Any], Any], dict[str, Any]]

log = logging.getLogger("dealreg.lambda")

# Bodies of these types go back as text; anything else is base64 (API Gateway decodes it).
TEXT_TYPES = ("text/", "application/json", "application/javascript", "application/xml",
              "application/x-www-form-urlencoded")


class EventError(ValueError):
    """The Lambda event is not an API Gateway HTTP API 2.0 request."""


def handler_for(app: WSGIApp) -> Handler:
    """A Lambda handler that serves `app` (tests pass their own)."""
    return lambda event, context: _handle(event, context, lambda: app)


_app: WSGIApp | None = None


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """The function serverless.yml points at: `handlers/lambda_handler.handler`. The app is built
    from the environment on the first event that is a request, then kept for the container."""
    return _handle(event, context, _started_app)


def _started_app() -> WSGIApp:
    global _app
    if _app is None:
        _app = _default_app()
    return _app


def _handle(event: Mapping[str, Any], context: Any, app: Callable[[], WSGIApp]) -> dict[str, Any]:
    """event -> environ -> the app -> the v2 response, the one body of both handlers. `app` is
    called only once the event is known to be a request, so a refused event starts nothing."""
    try:
        environ = environ_for(event, context)
    except EventError as exc:
        return _error(400, str(exc))
    try:
        wsgi_app = app()
    except Exception as exc:  # noqa: BLE001 - any start-up failure is answered the same way
        # A bad setting or an unreachable store at start-up: answer 503, which Typeform
        # retries for 10 hours (other 5xx only five times), and try again on the next call.
        log.exception("dealreg could not start")
        return _error(503, f"dealreg could not start ({type(exc).__name__}); the details are in the log",
                      {"retry-after": "60"})
    return _call(wsgi_app, environ)


def sweep(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """The function serverless.yml's `schedule` event runs: `dealreg sweep` (handlers/sweep.py), with
    the settings from the environment. Returns what it did; what needs a person is logged as an error."""
    from config.rules import load_rules
    from config.settings import Settings
    from handlers.notifications import Notifier, channels_from
    from handlers.service import Service
    from handlers.stores import open_store
    from handlers.sweep import sweep as sweep_once

    settings = Settings()
    store = open_store(settings)
    try:
        service = Service(store, load_rules(settings.rules))
        notifier = Notifier(store, channels_from(settings), clock=service.clock)
        done = sweep_once(service, notifier, remind_days=settings.remind_days)
    finally:
        store.close()
    lines = done.lines()
    needs_person = bool(done.problems or done.delivered.refused)
    (log.error if needs_person else log.info)("dealreg sweep: %s", " | ".join(lines))
    return {"ok": not needs_person, "summary": lines}


def _default_app() -> WSGIApp:
    # Imported here, not at module level: Flask, pydantic and the store cost hundreds of
    # milliseconds of cold start, and a refused event should not pay for them.
    from config.settings import Settings
    from handlers.app import app_from_settings

    return app_from_settings(Settings())


# --- event -> environ ---------------------------------------------------------------


def environ_for(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    """The WSGI environ for one v2 event; EventError when it is not one."""
    if not isinstance(event, Mapping):
        raise EventError("expected an API Gateway HTTP API event (a JSON object)")
    if event.get("version") != "2.0":
        found = event.get("version") or ("1.0" if "httpMethod" in event else "none")
        raise EventError(
            f"expected an API Gateway HTTP API payload format 2.0 event, got version {found}; "
            "use an httpApi event in serverless.yml (payload format 2.0 is its default)"
        )
    request_context: Any = event.get("requestContext")
    http = request_context.get("http") if isinstance(request_context, Mapping) else None
    if not isinstance(request_context, Mapping) or not isinstance(http, Mapping) or not http.get("method"):
        raise EventError("the event has no requestContext.http.method")
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    body = _body(event)

    raw_path = event.get("rawPath") or http.get("path") or "/"
    script_name = ""
    stage = request_context.get("stage") or "$default"
    # A named stage (not $default) prefixes rawPath; the app's routes do not know it.
    if stage != "$default" and (raw_path == f"/{stage}" or raw_path.startswith(f"/{stage}/")):
        script_name, raw_path = f"/{stage}", raw_path[len(stage) + 1 :] or "/"
    host = headers.get("host") or request_context.get("domainName") or "localhost"

    environ: dict[str, Any] = {
        "REQUEST_METHOD": str(http["method"]).upper(),
        "SCRIPT_NAME": script_name,
        # WSGI wants the decoded path as latin-1 characters standing for the raw bytes (PEP 3333).
        "PATH_INFO": unquote_to_bytes(raw_path).decode("latin-1"),
        "QUERY_STRING": _latin1(event.get("rawQueryString") or ""),
        "SERVER_NAME": host.split(":")[0],
        "SERVER_PORT": headers.get("x-forwarded-port", "443"),
        "SERVER_PROTOCOL": http.get("protocol") or "HTTP/1.1",
        "REMOTE_ADDR": http.get("sourceIp") or "",
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": headers.get("content-type", ""),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": headers.get("x-forwarded-proto", "https"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "lambda.event": event,
        "lambda.context": context,
    }
    for name, value in headers.items():
        if name in ("content-type", "content-length"):
            continue  # CONTENT_TYPE above; CONTENT_LENGTH is the decoded body's real length
        environ["HTTP_" + name.upper().replace("-", "_")] = _latin1(value)
    cookies = event.get("cookies")
    if cookies:
        # HTTP API moves the Cookie header into this array.
        environ["HTTP_COOKIE"] = _latin1("; ".join(str(c) for c in cookies))
    return environ


def _body(event: Mapping[str, Any]) -> bytes:
    """The request body as the sender's bytes (what the Typeform signature covers)."""
    body = event.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise EventError("the event body is not a string")
    if event.get("isBase64Encoded"):
        return _base64(body)
    return body.encode("utf-8")


def _base64(body: str) -> bytes:
    """The bytes of a base64 body, or EventError saying the base64 is invalid.

    b64decode(validate=True) still takes padding after a complete group ("Zm9v====" reads as
    "foo") and stray bits in the last character ("e31=" reads as "e30="), so text that is not what API
    Gateway sends came through and was then refused for its content ("the body is not valid
    JSON"), which sends the caller looking at the wrong layer. API Gateway encodes canonically,
    so a body whose re-encoding differs is refused here, naming the base64.
    """
    try:
        data = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EventError(f"the event body is marked isBase64Encoded but is not valid base64 ({exc})") from None
    if base64.b64encode(data).decode("ascii") != body:
        raise EventError("the event body is marked isBase64Encoded but is not valid base64 (padding or final "
                         "character is not as a base64 encoder writes it)")
    return data


def _latin1(value: str) -> str:
    """A header value as WSGI wants it: each byte of its UTF-8 form as one latin-1 character."""
    return value.encode("utf-8").decode("latin-1")


# --- WSGI answer -> v2 response -------------------------------------------------------


def _call(app: WSGIApp, environ: dict[str, Any]) -> dict[str, Any]:
    started: dict[str, Any] = {}
    chunks: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        started["status"], started["headers"] = status, headers
        return chunks.append  # the legacy write() callable

    result = app(environ, start_response)
    try:
        chunks.extend(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return _response(started["status"], started["headers"], b"".join(chunks))


def _response(status: str, header_list: list[tuple[str, str]], body: bytes) -> dict[str, Any]:
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in header_list:
        key = name.lower()
        if key == "set-cookie":
            cookies.append(value)  # Set-Cookie cannot be comma-joined; v2 has a cookies array
        elif key in headers:
            headers[key] = f"{headers[key]}, {value}"
        else:
            headers[key] = value
    response: dict[str, Any] = {"statusCode": int(status.split(" ", 1)[0]), "headers": headers}
    if cookies:
        response["cookies"] = cookies
    text = _as_text(body, headers.get("content-type", ""))
    if text is None:
        response["body"], response["isBase64Encoded"] = base64.b64encode(body).decode("ascii"), True
    else:
        response["body"], response["isBase64Encoded"] = text, False
    return response


def _as_text(body: bytes, content_type: str) -> str | None:
    if not body:
        return ""
    mime = content_type.split(";", 1)[0].strip().lower()
    if not (mime.startswith(TEXT_TYPES) or mime.endswith(("+json", "+xml"))):
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _error(status: int, message: str, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json", **(headers or {})},
        "body": json.dumps({"error": message}),
        "isBase64Encoded": False,
    }
