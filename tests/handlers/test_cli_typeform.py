"""`dealreg typeform-mapping` and `dealreg sign`: offline, on a file or standard input."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from config.settings import Settings
from handlers.cli import main
from integrations.typeform import sign, verify_signature
from tests.payloads import HERE, load_payload

PAYLOADS = Path(HERE)


@pytest.fixture(autouse=True)
def _no_env_file(tmp_path, monkeypatch):
    """Run where no .env file of the developer's can supply a secret or a mapping."""
    monkeypatch.chdir(tmp_path)


def run(args: list[str], env: dict[str, str] | None = None, stdin: bytes | None = None):
    return CliRunner().invoke(main, args, env=env, input=stdin, catch_exceptions=False)


@pytest.mark.parametrize("command, words", [
    ("typeform-mapping", ["RESPONSE_OR_FORM.json", "GET https://api.typeform.com/forms/", "title"]),
    ("sign", ["FILE.json", "Typeform-Signature", "--data-binary", "--secret"]),
])
def test_both_commands_have_help(command, words):
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    for word in words:
        assert word in result.output
    assert command in CliRunner().invoke(main, ["--help"]).output


# -- typeform-mapping -----------------------------------------------------------------------------------

def test_the_mapping_for_a_builder_made_form_is_printed_ready_for_env(tmp_path):
    result = run(["typeform-mapping", str(PAYLOADS / "typeform_form_definition.json")])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert 'Form "Partner deal registration" (Hq3Vb7Lm), read from a form definition: 10 questions, 2 hidden fields.' in out
    assert 'company_name    <- "What\'s the prospect\'s company name?" (ref 01HV8N3J5W0Q8G1F2K7B9C3D4E, short_text)' in out
    assert '"Expected close date" (ref 01HV8N3J5WP3Q5R7S9T1V3W5X7, date): no dealreg field fits' in out
    assert "Fields no question fills: linkedin_url, duns, currency, region, industry." in out
    # The last line goes into .env as it is, and dealreg then reads the form's answers.
    last = out.strip().splitlines()[-1]
    assert last.startswith("DEALREG_TYPEFORM_MAPPING='{")
    (tmp_path / ".env").write_text(last + "\n", encoding="utf-8")  # the test runs in tmp_path
    mapping = Settings().typeform_mapping
    assert mapping is not None and mapping["01HV8N3J5W0Q8G1F2K7B9C3D4E"] == "company_name"


def test_a_saved_response_from_standard_input():
    result = run(["typeform-mapping", "-"], stdin=load_payload("typeform_published_example.json"))
    assert result.exit_code == 0
    out = result.stdout
    assert 'Form "Webhooks example" (lT4Z3j), read from a webhook response: 13 questions, 1 hidden field.' in out
    assert "contact_email  <- " in out
    # Nothing names the partner: the fix is printed with the form's own link.
    assert "no hidden field `partner`" in out and "https://form.typeform.com/to/lT4Z3j#partner=" in out
    mapping = json.loads(shlex.split(out.strip().splitlines()[-1].partition("=")[2])[0])
    assert mapping["readable_ref_email"] == "contact_email" and mapping["readable_ref_calendly"] == ""


def test_a_form_built_with_the_default_refs_is_said_to_need_only_its_extras_switched_off():
    result = run(["typeform-mapping", str(PAYLOADS / "typeform_registration.json")])
    assert result.exit_code == 0
    assert "(its ref is a default)" in result.stdout
    assert result.stdout.strip().endswith(
        '''DEALREG_TYPEFORM_MAPPING='{"contact_phone": "", "products": "", "expected_close": "", "utm_source": ""}\'''')


@pytest.mark.parametrize("content, says", [
    (b"{not json", "not JSON (Expecting property name"),
    (b'{"event_id": "x"}', "neither a Typeform webhook payload"),
    (b"\xff\xfe", "not UTF-8"),
])
def test_a_file_that_is_not_a_payload_or_a_form_exits_2_saying_so(tmp_path, content, says):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    result = run(["typeform-mapping", str(path)])
    assert result.exit_code == 2
    assert says in result.output and "bad.json" in result.output


def test_a_missing_file_exits_2(tmp_path):
    result = run(["typeform-mapping", str(tmp_path / "nope.json")])
    assert result.exit_code == 2 and "cannot read" in result.output


# -- sign -----------------------------------------------------------------------------------------------

def test_sign_prints_the_header_typeform_would_send(tmp_path):
    raw = load_payload("typeform_registration.json")
    path = tmp_path / "payload.json"
    path.write_bytes(raw)
    result = run(["sign", str(path)], {"DEALREG_TYPEFORM_SECRET": "s3cr3t-typeform, the-old-one"})
    assert result.exit_code == 0
    name, _, value = result.stdout.strip().partition(": ")
    assert name == "Typeform-Signature"
    verify_signature(raw, value, ["s3cr3t-typeform"])  # the first secret of a rotation
    assert value == sign(raw, "s3cr3t-typeform")


def test_sign_with_a_secret_given_and_from_standard_input():
    raw = b'{"event_id":"test"}'  # a vector computed by hand: HMAC-SHA256 of these bytes, base64
    result = run(["sign", "-", "--secret", "s3cr3t-typeform"], stdin=raw)
    assert result.stdout.strip() == "Typeform-Signature: sha256=dNGTsOhVhOuwZ0Ogzdcmzt7TC5fM5+B1hCxunWszH/E="


def test_sign_can_print_the_whole_curl_command(tmp_path):
    path = tmp_path / "my payload.json"
    path.write_bytes(load_payload("typeform_registration.json"))
    result = run(["sign", str(path), "--secret", "k", "--url", "http://127.0.0.1:8000/webhooks/typeform"])
    args = shlex.split(result.stdout)
    assert args[:5] == ["curl", "-sS", "-X", "POST", "http://127.0.0.1:8000/webhooks/typeform"]
    assert f"Typeform-Signature: {sign(path.read_bytes(), 'k')}" in args
    assert args[-2:] == ["--data-binary", f"@{path}"]  # the exact bytes, newlines included


def test_sign_without_a_secret_exits_2_naming_the_fix(tmp_path):
    path = tmp_path / "payload.json"
    path.write_bytes(b"{}")
    result = run(["sign", str(path)])
    assert result.exit_code == 2
    assert "set DEALREG_TYPEFORM_SECRET or pass --secret" in result.output

