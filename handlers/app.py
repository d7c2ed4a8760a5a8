"""The HTTP way in: a Flask app that translates requests into `Service` calls and
decisions into SPEC's flat JSON. HTTP status codes are chosen here and only here.

Routes (SPEC "Routes"):
    POST /webhooks/typeform                 Typeform deal registration (signed)
    POST /webhooks/clay?mode=check|register one Clay row (shared-secret header)
    POST /api/check, POST /api/registrations the same two actions for any JSON client
    GET  /healthz                           liveness, and whether the store answers
    GET  /report                            the channel report page (API key)
    GET  /api/reviews                       what waits for a person, oldest first (API key)
    POST /api/reviews/<registration_id>     a person's resolution of one (API key)
    POST /api/registrations/<registration_id>/extension
                                            a partner's request for more time (API key)

Order of refusals: not authenticated (401), bad query (400), not JSON (415), body too
large (413, from Content-Length before reading, then from the bytes read), unreadable
JSON (400), bad fields (400). Nothing is written for a refused request. The Typeform route never answers 404 or 410: Typeform disables a
webhook that does (https://www.typeform.com/developers/webhooks/).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from config.settings import Settings
from dealreg.engine import rejected
from dealreg.errors import InputError, Refusal, StoreError, StoreUnavailable
from dealreg.models import Decision, Record
from dealreg.records import parse_record
from handlers.bodies import NotText, Refused, authorize, is_json_type, json_object, read_body
from handlers.notifications import Channels, Notifier, channels_from
from handlers.service import Clock, Service, new_registration_id, utc_now
from handlers.stores import open_store
from integrations.store import Store
from integrations.typeform import (
    DEFAULT_MAPPING,
    SIGNATURE_HEADER,
    SOURCE as TYPEFORM,
    PayloadError,
    SignatureError,
    parse_typeform,
    validate_mapping,
    verify_signature,
)

log = logging.getLogger("dealreg.http")

TYPEFORM_PATH = "/webhooks/typeform"
RETRY_AFTER_SECONDS = "60"


def create_app(settings: Settings, store: Store | None = None, *, clock: Clock | None = None,
               new_id: Callable[[], str] | None = None, channels: Channels | None = None) -> Flask:
    """The app for `settings`; tests pass their own store, clock, id generator and notification channels."""
    from config.rules import load_rules  # reads files; only at start-up

    try:
        mapping = validate_mapping({**DEFAULT_MAPPING, **(settings.typeform_mapping or {})})
    except ValueError as exc:
        raise ValueError(f"DEALREG_TYPEFORM_MAPPING: {exc}") from None
    rules = load_rules(settings.rules)
    channels = channels if channels is not None else channels_from(settings)
    service = Service(store if store is not None else open_store(settings), rules,
                      clock=clock or utc_now, new_id=new_id or new_registration_id)
    notifier = Notifier(service.store, channels, clock=service.clock)
    service.notify = notifier.submit  # after the store write, on the notifier's own thread

    app = Flask("dealreg")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]  # SPEC's field order
    app.extensions["dealreg"] = service
    app.extensions["dealreg.notifier"] = notifier
    limit = settings.max_body_bytes
    api_keys = settings.api_keys()
    typeform_secrets = settings.typeform_secrets()

    # -- routes ------------------------------------------------------------------------

    @app.post(TYPEFORM_PATH)
    @app.post(TYPEFORM_PATH + "/")
    def typeform() -> Response:
        raw = read_body(limit)
        try:
            verify_signature(raw, request.headers.get(SIGNATURE_HEADER), typeform_secrets)
        except SignatureError as exc:
            log.warning("typeform call refused: %s", exc.reason)
            raise Refused(401, f"Typeform signature refused: {exc.reason}") from None
        # Signed from here on: an unusable payload is answered 200 `rejected` (a retry would not fix it).
        try:
            submission = parse_typeform(json_object(raw), mapping)
        except NotText as exc:
            log.warning("typeform body refused, nothing stored: %s", exc.problems)
            return _decision(rejected([f"{field}: {message}" for field, message in exc.problems]))
        except Refused as exc:
            return _decision(service.refuse(Record(source=TYPEFORM), [exc.message]))
        except PayloadError as exc:
            extra = {k: v for k, v in (("token", exc.token), ("event_id", exc.event_id)) if v}
            return _decision(service.refuse(Record(source=TYPEFORM), [exc.reason], extra))
        return _decision(service.receive_typeform(submission))

    @app.post("/webhooks/clay")
    def clay() -> Response:
        mode = request.args.get("mode", "check").strip().casefold() or "check"
        authorize(api_keys)
        if mode not in ("check", "register"):
            raise Refused(400, "mode must be check or register", [("mode", f"{mode!r} is not check or register")])
        record = _record(limit, "clay")
        return _decision(service.check(record) if mode == "check" else service.register(record))

    @app.post("/api/check")
    def api_check() -> Response:
        authorize(api_keys)
        return _decision(service.check(_record(limit, "api")))

    @app.post("/api/registrations")
    def api_register() -> Response:
        authorize(api_keys)
        return _decision(service.register(_record(limit, "api")))

    @app.get("/api/reviews")
    def api_reviews() -> Response:
        authorize(api_keys)
        from handlers.reviews import open_reviews

        now = service.clock()
        return jsonify({"reviews": [w.fields(now) for w in open_reviews(service)]})

    @app.post("/api/reviews/<registration_id>")
    def api_resolve(registration_id: str) -> Response:
        authorize(api_keys)
        from dealreg.reviews import parse_resolution
        from handlers.reviews import resolve

        body = _json_body(limit)
        resolution_text = _text_field(body, "resolution", required=True)
        try:
            resolution = parse_resolution(resolution_text, _text_field(body, "note"), _text_field(body, "by") or "api")
        except ValueError as exc:
            raise Refused(400, "invalid resolution", [("resolution", str(exc))]) from None
        event = resolve(service, registration_id, resolution, version=_text_field(body, "version"))
        return jsonify({**event.decision.fields(), "review": resolution.text,
                        "rows": event.extra.get("rows", "").split(",")})

    @app.post("/api/registrations/<registration_id>/extension")
    def api_extend(registration_id: str) -> Response:
        authorize(api_keys)
        from dealreg.values import parse_amount
        from handlers.extensions import extend

        body = _json_body(limit)
        value = body.get("deal_value")
        deal_value = None
        if value not in (None, ""):
            try:
                deal_value = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
                    else parse_amount(str(value)).value
            except ValueError as exc:
                raise Refused(400, "invalid deal_value", [("deal_value", str(exc))]) from None
        answer, _ = extend(service, registration_id, deal_value=deal_value, by=_text_field(body, "by") or "api")
        return jsonify({"registration_id": answer.row.registration_id, "granted": answer.granted,
                        "expires_at": answer.expires_at.isoformat() if answer.expires_at else "",
                        "extensions": answer.row.extensions, "reason": answer.reason})

    @app.get("/report")
    def report() -> Response:
        # The channel report (`dealreg report`), behind the API key: it names every partner's deals.
        authorize(api_keys)
        from handlers.report_page import report_page

        page = report_page(service.store, rules, as_of=service.clock())
        return Response(page, mimetype="text/html", headers={"Cache-Control": "no-store"})

    @app.get("/healthz")
    def healthz() -> tuple[Response, int]:
        health = service.health()
        body = {"status": health.status, "store": health.backend, **health.facts}
        if health.detail:
            body["detail"] = health.detail
        return jsonify(body), 200 if health.ok else 503

    # -- errors: the one place a status is chosen ----------------------------------------

    @app.errorhandler(Refused)
    def refused(exc: Refused) -> Response:
        return _error(exc.status, exc.message, exc.problems, exc.headers)

    @app.errorhandler(Refusal)
    def refusal(exc: Refusal) -> Response:
        return _error({"not_found": 404, "invalid": 400}.get(exc.kind, 409), str(exc))

    @app.errorhandler(InputError)
    def bad_input(exc: InputError) -> Response:
        return _error(400, "invalid input", exc.problems)

    @app.errorhandler(StoreUnavailable)
    def unavailable(exc: StoreUnavailable) -> Response:
        log.error("store unavailable on %s %s: %s", request.method, request.path, exc)
        return _error(503, "the registration store is unavailable; retry later", (),
                      {"Retry-After": RETRY_AFTER_SECONDS})

    @app.errorhandler(StoreError)
    def store_error(exc: StoreError) -> Response:
        # The store answered but cannot be used as it is (its layout edited by hand, access
        # revoked …): a person must fix it, and the sender must retry afterwards. 503 with
        # Retry-After (Typeform retries 503 for 10 hours, a 500 only five times); /healthz and
        # the log say what to fix. Never a 500: stored data is not a bug in the service.
        log.error("store error on %s %s: %s", request.method, request.path, exc)
        return _error(503, "the registration store cannot be used until it is fixed (see GET /healthz); "
                           "retry later", (), {"Retry-After": RETRY_AFTER_SECONDS})

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        if isinstance(exc, RequestEntityTooLarge):
            return _error(413, f"the body is larger than {limit} bytes")
        if status in (404, 410) and _under_typeform():
            # 404/410 would disable the Typeform webhook for good.
            return _error(400, f"unknown path {request.path}; Typeform posts to {TYPEFORM_PATH}")
        if status == 404:
            return _error(404, f"no route {request.path}; see GET /healthz and the README for the routes")
        allow = {name: value for name, value in exc.get_headers() if name.lower() == "allow"}
        return _error(status, exc.description or exc.name, (), allow)

    @app.errorhandler(Exception)
    def internal(exc: Exception) -> Response:
        log.exception("internal error on %s %s", request.method, request.path)
        return _error(500, "internal error; the details are in the server log")

    @app.before_request
    def started() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def logged(response: Response) -> Response:
        elapsed = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        status = response.headers.get("X-Dealreg-Status", "")
        log.info("%s %s -> %d %s %.1fms", request.method, request.path, response.status_code, status, elapsed)
        return response

    return app


def app_from_settings(settings: Settings) -> Flask:
    """The app as `dealreg serve` and the Lambda entry point build it: the store named
    by the settings, the real clock."""
    return create_app(settings)


# -- helpers (they raise Refused; the handlers above turn it into a response) -------------

def _under_typeform() -> bool:
    return request.path == TYPEFORM_PATH or request.path.startswith(TYPEFORM_PATH + "/")


def _record(limit: int, source: str) -> Record:
    """The request's record: JSON object in, parsed at the edge into a core Record."""
    if not is_json_type():
        raise Refused(415, f"send Content-Type: application/json (got {request.mimetype})")
    return parse_record(json_object(read_body(limit)), source=source)


def _json_body(limit: int) -> dict[str, Any]:
    """A JSON object body (an operation's options); an empty body is an empty object."""
    raw = read_body(limit)
    if not raw.strip():
        return {}
    if not is_json_type():
        raise Refused(415, f"send Content-Type: application/json (got {request.mimetype})")
    return json_object(raw)


def _text_field(body: Mapping[str, Any], name: str, *, required: bool = False) -> str:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise Refused(400, f"{name} is required", [(name, "is required")])
        return ""
    if not isinstance(value, str):
        raise Refused(400, f"{name} must be text", [(name, f"must be a string, not {type(value).__name__}")])
    return value.strip()


def _decision(decision: Decision) -> Response:
    response = jsonify(decision.fields())
    response.headers["X-Dealreg-Status"] = decision.status.value
    return response


def _error(status: int, message: str, problems: Sequence[tuple[str, str]] = (),
           headers: Mapping[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"error": message}
    if problems:
        body["problems"] = [{"field": field, "message": text} for field, text in problems]
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
