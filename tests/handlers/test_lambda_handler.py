"""The Lambda adapter: API Gateway HTTP API 2.0 events in, v2 responses out.

First the translation, against a tiny Flask app that echoes what it received; then the
real app, where every answer must be the one the same request gets through Flask.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from flask import Flask, Response, jsonify, request

from dealreg.models import DECISION_FIELDS
from handlers import lambda_handler
from handlers.lambda_handler import handler_for
from integrations.typeform import sign
from tests.handlers.support import is_setting
from tests.payloads import delivered_now, load_json, load_payload

ROOT = Path(__file__).resolve().parents[2]
HOST = "abc123def4.execute-api.us-east-1.amazonaws.com"


def v2_event(
    method: str,
    path: str,
    body: bytes = b"",
    *,
    headers: dict[str, str] | None = None,
    query: str = "",
    base64_body: bool = False,
    cookies: list[str] | None = None,
) -> dict:
    """An HTTP API 2.0 event shaped like the recorded one, for this request."""
    event = load_json("apigw_v2_event.json")
    event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} {path}"
    event["rawPath"], event["rawQueryString"] = path, query
    event["requestContext"]["http"].update(method=method, path=path)
    sent = {k: v for k, v in event["headers"].items() if k not in ("content-length", "content-type", "typeform-signature")}
    sent.update({k.lower(): v for k, v in (headers or {}).items()})
    if query:
        # API Gateway also sends the parsed form, duplicates comma-joined; adapters must use rawQueryString.
        parsed: dict[str, str] = {}
        for key, value in parse_qsl(query, keep_blank_values=True):
            parsed[key] = f"{parsed[key]},{value}" if key in parsed else value
        event["queryStringParameters"] = parsed
    if cookies:
        event["cookies"] = cookies
    if body:
        sent["content-length"] = str(len(body))
        event["body"] = base64.b64encode(body).decode("ascii") if base64_body else body.decode("utf-8")
        event["isBase64Encoded"] = base64_body
    else:
        del event["body"]
        event["isBase64Encoded"] = False
    event["headers"] = sent
    return event


# --- translation, against an echo app -------------------------------------------------

echo = Flask("echo")


@echo.route("/", defaults={"rest": ""}, methods=["GET", "POST", "PUT", "DELETE"])
@echo.route("/<path:rest>", methods=["GET", "POST", "PUT", "DELETE"])
def _echo(rest: str):
    data = request.get_data()
    return jsonify(
        method=request.method,
        path=request.path,
        script_root=request.script_root,
        url=request.url,
        query=request.query_string.decode("latin-1"),
        args=request.args.to_dict(flat=False),
        headers={k.lower(): v for k, v in request.headers.items()},
        cookies=request.cookies,
        remote_addr=request.remote_addr,
        content_length=request.content_length,
        sha256=hashlib.sha256(data).hexdigest(),
        length=len(data),
    )


@echo.route("/binary")
def _binary():
    return Response(bytes(range(256)), mimetype="image/png")


@echo.route("/latin1")
def _latin1():
    return Response("Müller".encode("latin-1"), content_type="text/plain; charset=latin-1")


@echo.route("/cookies")
def _cookies():
    response = Response("ok", mimetype="text/plain")
    response.set_cookie("a", "1")
    response.set_cookie("b", "2")
    response.headers.add("Vary", "Accept")
    response.headers.add("Vary", "Cookie")
    return response


@echo.route("/empty", methods=["DELETE"])
def _empty():
    return Response(status=204)


handle_echo = handler_for(echo)


def echoed(event: dict) -> dict:
    response = handle_echo(event, None)
    assert response["statusCode"] == 200, response
    assert response["isBase64Encoded"] is False
    return json.loads(response["body"])


def test_the_recorded_event_reaches_the_app_unchanged():
    got = echoed(load_json("apigw_v2_event.json"))
    assert got["method"] == "POST"
    assert got["path"] == "/webhooks/typeform"
    assert got["sha256"] == hashlib.sha256(b'{"event_id":"test"}').hexdigest()
    assert got["content_length"] == got["length"] == 19
    assert got["headers"]["typeform-signature"] == "sha256=dNGTsOhVhOuwZ0Ogzdcmzt7TC5fM5+B1hCxunWszH/E="
    assert got["headers"]["content-type"] == "application/json"
    assert got["headers"]["x-forwarded-for"] == "3.90.1.2"
    assert got["remote_addr"] == "3.90.1.2"
    assert got["url"] == f"https://{HOST}/webhooks/typeform"
    assert got["script_root"] == ""


def test_a_plain_utf8_body_keeps_its_exact_bytes():
    raw = load_payload("typeform_registration.json")  # carries "Jana Müller"
    got = echoed(v2_event("POST", "/webhooks/typeform", raw, headers={"content-type": "application/json"}))
    assert got["sha256"] == hashlib.sha256(raw).hexdigest()
    assert got["content_length"] == len(raw)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(load_payload("typeform_registration.json"), id="json"),
        pytest.param(bytes(range(256)) * 3, id="binary"),
        pytest.param(b"caf\xe9 \xff\xfe not utf-8", id="not-utf8"),
    ],
)
def test_a_base64_body_is_decoded_to_the_exact_bytes(raw):
    got = echoed(v2_event("POST", "/upload", raw, headers={"content-type": "application/octet-stream"}, base64_body=True))
    assert got["sha256"] == hashlib.sha256(raw).hexdigest()
    assert got["content_length"] == len(raw)


def test_content_length_is_the_decoded_length_not_the_header():
    event = v2_event("POST", "/x", b"hello", base64_body=True)
    event["headers"]["content-length"] = "999"  # whatever the header said
    assert echoed(event)["content_length"] == 5


def test_a_request_without_body_has_none():
    got = echoed(v2_event("GET", "/healthz"))
    assert got["method"] == "GET"
    assert got["length"] == 0
    assert got["content_length"] in (None, 0)


def test_the_raw_query_string_is_passed_as_sent():
    got = echoed(v2_event("POST", "/webhooks/clay", b"{}", query="mode=register&tag=a%20b&tag=c%2Cd"))
    assert got["query"] == "mode=register&tag=a%20b&tag=c%2Cd"
    assert got["args"] == {"mode": ["register"], "tag": ["a b", "c,d"]}


def test_headers_arrive_lower_cased_and_are_readable_by_any_case():
    got = echoed(v2_event("POST", "/x", b"{}", headers={"authorization": "Bearer k", "x-api-key": "k2", "x-custom": "ü"}))
    assert got["headers"]["authorization"] == "Bearer k"
    assert got["headers"]["x-api-key"] == "k2"
    assert got["headers"]["x-custom"].encode("latin-1").decode("utf-8") == "ü"


def test_the_cookies_array_becomes_the_cookie_header():
    got = echoed(v2_event("GET", "/x", cookies=["session=abc", "theme=dark"]))
    assert got["cookies"] == {"session": "abc", "theme": "dark"}


def test_a_percent_encoded_path_is_decoded():
    got = echoed(v2_event("GET", "/files/a%20b/%C3%BC"))
    assert got["path"] == "/files/a b/ü"


def test_a_named_stage_prefix_becomes_the_script_root():
    event = v2_event("GET", "/prod/webhooks/clay")
    event["requestContext"]["stage"] = "prod"
    got = echoed(event)
    assert (got["script_root"], got["path"]) == ("/prod", "/webhooks/clay")


def test_the_default_stage_path_is_left_alone():
    got = echoed(v2_event("GET", "/$default-looking/path"))
    assert (got["script_root"], got["path"]) == ("", "/$default-looking/path")


def test_a_json_answer_comes_back_as_text():
    response = handle_echo(v2_event("GET", "/x"), None)
    assert response["statusCode"] == 200
    assert response["headers"]["content-type"] == "application/json"
    assert response["isBase64Encoded"] is False
    assert json.loads(response["body"])["path"] == "/x"


def test_a_binary_answer_comes_back_base64():
    response = handle_echo(v2_event("GET", "/binary"), None)
    assert response["isBase64Encoded"] is True
    assert base64.b64decode(response["body"]) == bytes(range(256))


def test_text_that_is_not_utf8_comes_back_base64():
    response = handle_echo(v2_event("GET", "/latin1"), None)
    assert response["isBase64Encoded"] is True
    assert base64.b64decode(response["body"]) == "Müller".encode("latin-1")


def test_several_set_cookies_go_to_the_cookies_array_and_other_repeats_are_joined():
    response = handle_echo(v2_event("GET", "/cookies"), None)
    assert [c.split(";")[0] for c in response["cookies"]] == ["a=1", "b=2"]
    assert "set-cookie" not in response["headers"]
    assert response["headers"]["vary"] == "Accept, Cookie"
    assert response["body"] == "ok"


def test_an_empty_answer_keeps_its_status_and_an_empty_body():
    response = handle_echo(v2_event("DELETE", "/empty"), None)
    assert (response["statusCode"], response["body"], response["isBase64Encoded"]) == (204, "", False)


def test_the_apps_own_errors_pass_through():
    response = handle_echo(v2_event("PATCH", "/x"), None)
    assert response["statusCode"] == 405
    assert "GET" in response["headers"]["allow"]


@pytest.mark.parametrize(
    ("event", "says"),
    [
        pytest.param({"httpMethod": "POST", "path": "/webhooks/typeform", "body": "{}"}, "version 1.0", id="rest-api-v1"),
        pytest.param({"version": "1.0", "httpMethod": "POST"}, "version 1.0", id="v1-explicit"),
        pytest.param({"source": "aws.events", "detail-type": "Scheduled Event"}, "version none", id="scheduled"),
        pytest.param([], "JSON object", id="not-an-object"),
        pytest.param({"version": "2.0", "rawPath": "/x"}, "requestContext.http.method", id="no-method"),
    ],
)
def test_an_event_that_is_not_http_api_v2_gets_a_clear_400(event, says):
    response = handle_echo(event, None)
    assert response["statusCode"] == 400
    assert response["headers"]["content-type"] == "application/json"
    assert says in json.loads(response["body"])["error"]


def test_a_body_marked_base64_that_is_not_gets_a_400():
    event = v2_event("POST", "/x", b"{}")
    event["isBase64Encoded"], event["body"] = True, "not base64!"
    response = handle_echo(event, None)
    assert response["statusCode"] == 400
    assert "base64" in json.loads(response["body"])["error"]


@pytest.mark.parametrize("body", [
    pytest.param("Zm9v====", id="padding-after-a-complete-group"),  # b64decode reads it as "foo"
    pytest.param("e31=", id="stray-bits-in-the-last-character"),  # read as "e30=", i.e. {}
    pytest.param("eyJjb21wYW55X25hbWUiOiJBY21lIn0", id="padding-cut"),
    pytest.param("eyJjb21wYW55X25hbWUiOiJBY21lIn0=\n", id="trailing-newline"),
])
def test_invalid_base64_is_named_as_such_not_as_bad_json(tmp_path, body):
    event = v2_event("POST", "/api/check", b"{}", headers={"content-type": "application/json",
                                                          "authorization": f"Bearer {API_KEY}"})
    event["isBase64Encoded"], event["body"] = True, body
    response = handler_for(make_app(tmp_path, "lambda"))(event, None)
    assert response["statusCode"] == 400
    error = json.loads(response["body"])["error"]
    assert "is marked isBase64Encoded but is not valid base64" in error
    assert "JSON" not in error


def test_the_base64_api_gateway_sends_still_decodes(tmp_path):
    raw = b'{"company_name":"Acme Robotics","website":"acme-robotics.de"}'
    event = v2_event("POST", "/api/check", raw, headers={"content-type": "application/json",
                                                        "authorization": f"Bearer {API_KEY}"}, base64_body=True)
    response = handler_for(make_app(tmp_path, "lambda"))(event, None)
    assert response["statusCode"] == 200 and json.loads(response["body"])["status"] == "clear"


def test_importing_the_module_loads_neither_flask_nor_the_app():
    code = "import sys, handlers.lambda_handler; print(sorted(m for m in ('flask', 'handlers.app', 'pydantic') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- the real app: the same answers as through Flask ----------------------------------

SECRET = "test-typeform-secret"
API_KEY = "test-api-key"
NOW = datetime(2026, 3, 2, 14, 10, 0, tzinfo=UTC)
_ID = re.compile(r"^[A-Z]-[0-9a-f]{6,}$")  # registration / event ids: random per app


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch, tmp_path):
    """Neither the developer's DEALREG_* variables nor a .env file leak into these tests."""
    for name in [n for n in os.environ if is_setting(n)]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def make_app(tmp_path: Path, name: str):
    from config.settings import Settings
    from handlers.app import create_app

    settings = Settings(_env_file=None, db=tmp_path / f"{name}.db", typeform_secret=SECRET, api_key=API_KEY)
    return create_app(settings, clock=lambda: NOW)


def _masked(value):
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    if isinstance(value, str) and _ID.match(value):
        return "<id>"
    return value


def through_both(tmp_path, method, path, body=b"", *, headers=None, query="", base64_body=False):
    """The same request through Flask's test client and through the Lambda handler, each
    on a fresh app of its own: (status, JSON) from each."""
    headers = headers or {}
    client = make_app(tmp_path, "flask").test_client()
    via_flask = client.open(path, method=method, data=body, headers=headers, query_string=query)
    via_lambda = handler_for(make_app(tmp_path, "lambda"))(
        v2_event(method, path, body, headers=headers, query=query, base64_body=base64_body), None
    )
    assert via_lambda["isBase64Encoded"] is False
    flask_json = via_flask.get_json(silent=True)
    lambda_json = json.loads(via_lambda["body"]) if via_lambda["body"] else None
    assert via_lambda["statusCode"] == via_flask.status_code
    assert _masked(lambda_json) == _masked(flask_json)
    return via_lambda["statusCode"], lambda_json


def _typeform_headers(raw: bytes, secret: str = SECRET) -> dict[str, str]:
    return {"content-type": "application/json", "typeform-signature": sign(raw, secret)}


@pytest.mark.parametrize("base64_body", [False, True], ids=["plain", "base64"])
def test_a_signed_typeform_registration_is_decided(tmp_path, base64_body):
    raw = load_payload("typeform_registration.json")
    status, body = through_both(tmp_path, "POST", "/webhooks/typeform", raw, headers=_typeform_headers(raw), base64_body=base64_body)
    assert status == 200
    assert set(DECISION_FIELDS) <= set(body)
    assert body["owner"] == "Northwind Partners"


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"content-type": "application/json"}, id="missing"),
        pytest.param({"content-type": "application/json", "typeform-signature": "sha1=abc"}, id="malformed"),
        pytest.param(_typeform_headers(load_payload("typeform_registration.json"), "wrong-secret"), id="wrong-secret"),
    ],
)
def test_a_bad_typeform_signature_is_401(tmp_path, headers):
    raw = load_payload("typeform_registration.json")
    status, _ = through_both(tmp_path, "POST", "/webhooks/typeform", raw, headers=headers)
    assert status == 401


def test_a_typeform_body_changed_after_signing_is_401(tmp_path):
    raw = load_payload("typeform_registration.json")
    headers = _typeform_headers(raw)
    changed = raw.replace(b"48000", b"98000")
    status, _ = through_both(tmp_path, "POST", "/webhooks/typeform", changed, headers=headers, base64_body=True)
    assert status == 401


def test_typeforms_test_request_is_answered_rejected(tmp_path):
    raw = load_payload("typeform_test_request.json")
    status, body = through_both(tmp_path, "POST", "/webhooks/typeform", raw, headers=_typeform_headers(raw))
    assert status == 200
    assert body["status"] == "rejected"
    assert "test" in body["reason"].lower()


@pytest.mark.parametrize(
    "auth",
    [pytest.param({"authorization": f"Bearer {API_KEY}"}, id="bearer"), pytest.param({"x-api-key": API_KEY}, id="x-api-key")],
)
def test_a_clay_check_with_the_key_gets_the_flat_decision(tmp_path, auth):
    raw = load_payload("clay_check.json")
    status, body = through_both(
        tmp_path, "POST", "/webhooks/clay", raw, headers={"content-type": "application/json", **auth}, query="mode=check"
    )
    assert status == 200
    assert set(DECISION_FIELDS) <= set(body)
    assert body["status"] == "clear"
    assert body["suppress"] is False


@pytest.mark.parametrize(
    "auth",
    [
        pytest.param({}, id="no-key"),
        pytest.param({"authorization": "Bearer wrong-key"}, id="wrong-key"),
        pytest.param({"authorization": API_KEY}, id="no-bearer-prefix"),
    ],
)
def test_a_clay_check_without_the_key_is_401(tmp_path, auth):
    raw = load_payload("clay_check.json")
    status, _ = through_both(tmp_path, "POST", "/webhooks/clay", raw, headers={"content-type": "application/json", **auth})
    assert status == 401


def test_a_clay_register_through_lambda_registers(tmp_path):
    raw = load_payload("clay_register.json")
    headers = {"content-type": "application/json", "authorization": f"Bearer {API_KEY}"}
    status, body = through_both(tmp_path, "POST", "/webhooks/clay", raw, headers=headers, query="mode=register")
    assert status == 200
    assert body["registration_id"].startswith("R-")


def test_healthz_answers_through_lambda(tmp_path):
    status, _ = through_both(tmp_path, "GET", "/healthz")
    assert status == 200


def test_the_default_handler_builds_the_app_once_from_the_environment(tmp_path, monkeypatch, backend, request):
    monkeypatch.setenv("DEALREG_DB", str(tmp_path / "lambda.db"))
    if backend != "sqlite":  # DEALREG_STORE and the store's settings, as serverless.yml would set them
        from tests.handlers.support import store_environment

        for name, value in store_environment(backend, request).items():
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("DEALREG_TYPEFORM_SECRET", SECRET)
    monkeypatch.setenv("DEALREG_API_KEY", API_KEY)
    monkeypatch.setattr(lambda_handler, "_app", None)

    first = lambda_handler.handler(v2_event("GET", "/healthz"), None)
    app = lambda_handler._app
    raw = delivered_now("typeform_registration.json")  # the handler runs on the real clock
    second = lambda_handler.handler(v2_event("POST", "/webhooks/typeform", raw, headers=_typeform_headers(raw)), None)

    assert first["statusCode"] == 200
    assert second["statusCode"] == 200
    assert json.loads(second["body"])["owner"] == "Northwind Partners"
    assert lambda_handler._app is app is not None  # built once, reused
    assert app.extensions["dealreg"].store.backend == backend


def test_a_refused_event_does_not_start_the_app(monkeypatch):
    monkeypatch.setattr(lambda_handler, "_app", None)
    response = lambda_handler.handler({"httpMethod": "GET", "path": "/healthz"}, None)
    assert response["statusCode"] == 400
    assert lambda_handler._app is None


def test_a_failed_start_answers_503_and_is_retried_on_the_next_call(tmp_path, monkeypatch):
    import handlers.app

    monkeypatch.setattr(lambda_handler, "_app", None)
    monkeypatch.setenv("DEALREG_DB", str(tmp_path / "retry.db"))
    real = handlers.app.app_from_settings
    calls = []

    def flaky(settings):
        calls.append(settings)
        if len(calls) == 1:
            raise RuntimeError("the Sheet did not answer")
        return real(settings)

    monkeypatch.setattr(handlers.app, "app_from_settings", flaky)
    first = lambda_handler.handler(v2_event("GET", "/healthz"), None)
    second = lambda_handler.handler(v2_event("GET", "/healthz"), None)

    assert first["statusCode"] == 503  # Typeform retries a 503 for hours
    assert first["headers"]["retry-after"] == "60"
    assert "RuntimeError" in json.loads(first["body"])["error"]
    assert "Sheet" not in first["body"]  # details go to the log, not to the caller
    assert second["statusCode"] == 200
    assert len(calls) == 2
