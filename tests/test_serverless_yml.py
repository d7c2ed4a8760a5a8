"""serverless.yml stays true to the code: the routes are the Flask app's, the environment
is the Settings', secrets come from SSM, and only the application is packaged."""

from __future__ import annotations

import importlib
import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SECRET_VARIABLES = ("DEALREG_TYPEFORM_SECRET", "DEALREG_API_KEY", "DEALREG_GOOGLE_CREDENTIALS", "DEALREG_HUBSPOT_TOKEN")


class _Loader(yaml.SafeLoader):
    """Serverless variables (`${ssm:…}`) are plain strings to YAML; CloudFormation tags
    (`!Ref`, `!GetAtt`) are kept as text so adding one does not break this test."""


_Loader.add_multi_constructor("!", lambda loader, tag, node: f"{tag} {loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else ''}")


@pytest.fixture(scope="module")
def config() -> dict:
    return yaml.load((ROOT / "serverless.yml").read_text(encoding="utf-8"), Loader=_Loader)


@pytest.fixture(scope="module")
def function(config) -> dict:
    """The function that serves every route (the other one, `sweep`, runs on a schedule)."""
    (api,) = [f for f in config["functions"].values() if any("httpApi" in e for e in f["events"])]
    return api


def test_the_sweep_runs_on_a_schedule_with_its_own_handler(config):
    sweep = config["functions"]["sweep"]
    assert sweep["handler"] == "handlers/lambda_handler.sweep"
    assert [list(e) for e in sweep["events"]] == [["schedule"]]
    assert sweep["events"][0]["schedule"].startswith("rate(")
    from handlers import lambda_handler

    assert callable(lambda_handler.sweep)


def _routes(function: dict) -> set[tuple[str, str]]:
    """The routes listed one by one (the `*` catch-all aside)."""
    routes = set()
    for event in function["events"]:
        spec = event["httpApi"]
        if spec == "*":
            continue
        method, path = spec.split(" ", 1) if isinstance(spec, str) else (spec["method"], spec["path"])
        routes.add((method.upper(), path))
    return routes


def test_the_service_runs_python_312_within_typeforms_timeout(config):
    provider = config["provider"]
    assert config["service"] == "dealreg"
    assert str(config["frameworkVersion"]) == "3"
    assert (provider["name"], provider["runtime"]) == ("aws", "python3.12")
    assert provider["architecture"] in ("x86_64", "arm64")
    assert provider["memorySize"] == 512
    assert provider["timeout"] <= 25  # Typeform and API Gateway give up at 30 s


def test_the_handler_is_the_lambda_adapter(function):
    module_path, attribute = function["handler"].rsplit(".", 1)
    module = importlib.import_module(module_path.replace("/", "."))
    assert callable(getattr(module, attribute))
    assert (ROOT / f"{module_path}.py").is_file()


def test_the_routes_are_the_flask_apps(function, tmp_path):
    from config.settings import Settings
    from handlers.app import create_app

    app = create_app(Settings(_env_file=None, db=tmp_path / "routes.db"))
    flask_routes = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    # Trailing-slash aliases (POST /webhooks/typeform/) reach the app through the catch-all;
    # Flask's <name> is API Gateway's {name}.
    canonical = {(method, re.sub(r"<([a-z_]+)>", r"{\1}", path)) for method, path in flask_routes
                 if path == "/" or not path.endswith("/")}
    assert _routes(function) == canonical


def test_every_other_request_reaches_the_app_not_api_gateways_404(function):
    assert {"httpApi": "*"} in function["events"]


def test_the_routes_are_specs(function):
    assert _routes(function) == {
        ("POST", "/webhooks/typeform"),
        ("POST", "/webhooks/clay"),
        ("POST", "/api/check"),
        ("POST", "/api/registrations"),
        ("GET", "/healthz"),
        ("GET", "/report"),  # the channel report page (issue 14)
        ("GET", "/api/reviews"),  # running the program (issue 13)
        ("POST", "/api/reviews/{registration_id}"),
        ("POST", "/api/registrations/{registration_id}/extension"),
    }


def test_every_dealreg_variable_is_a_setting(config):
    from config.settings import Settings

    prefix = Settings.model_config["env_prefix"]
    known = {prefix + name.upper() for name in Settings.model_fields}
    ours = {name for name in config["provider"]["environment"] if name.startswith(prefix)}
    assert ours <= known, f"not settings: {sorted(ours - known)}"
    assert {"DEALREG_STORE", "DEALREG_DB", "DEALREG_SHEET_ID", *SECRET_VARIABLES} <= ours


@pytest.mark.parametrize("name", SECRET_VARIABLES)
def test_secrets_come_from_this_stages_ssm_parameters(config, name):
    value = config["provider"]["environment"][name]
    assert re.fullmatch(r"\$\{ssm:/dealreg/\$\{sls:stage\}/[a-z-]+(, '')?\}", value), value


def test_the_required_secrets_have_no_empty_fallback(config):
    # A missing Typeform secret or API key must fail the deploy, not deploy a service
    # that refuses every call.
    environment = config["provider"]["environment"]
    for name in ("DEALREG_TYPEFORM_SECRET", "DEALREG_API_KEY"):
        assert "," not in environment[name]


def test_production_uses_the_sheet_and_sqlite_stays_in_tmp(config):
    environment = config["provider"]["environment"]
    assert environment["DEALREG_STORE"] == "${param:store}"
    assert config["params"]["default"]["store"] == "sheets"
    assert environment["DEALREG_DB"].startswith("/tmp/")  # the only writable path on Lambda


def test_only_the_application_packages_are_deployed(config):
    patterns = config["package"]["patterns"]
    assert patterns[0] == "!**"  # nothing by default: no tests, bench, .venv, .env, *.db
    included = {p.removesuffix("/**") for p in patterns if not p.startswith("!")}
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    assert included == {name.split(".")[0] for name in packages}  # dealreg.data ships inside dealreg/**


def test_requirements_are_built_for_lambda_without_the_test_tools(config):
    assert "serverless-python-requirements" in config["plugins"]
    options = config["custom"]["pythonRequirements"]
    assert options["dockerizePip"] == "non-linux"
    assert options["slim"] is True
    runtime, dev = _pinned(ROOT / "requirements.txt"), _pinned(ROOT / "requirements-dev.txt")
    assert {"pytest", "mypy", "setuptools"} <= dev.keys()
    assert not runtime.keys() & dev.keys()  # the plugin packages requirements.txt: none of the dev tools
    assert all(runtime.values())  # every runtime package pinned, so Lambda runs what the tests ran


def _pinned(path: Path) -> dict[str, str]:
    """The packages a requirements file names (lower case, "-" for "_"), each with its pinned version."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-r"):
            name, _, version = line.partition("==")
            out[name.strip().lower().replace("_", "-")] = version.strip()
    return out
