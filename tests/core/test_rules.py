"""The rules file: validated with pydantic, refused with the path of the bad key and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.rules import EXAMPLE_RULES, load_rules
from dealreg.errors import RulesError
from dealreg.rules import DEFAULT_RULES, parse_rules

GOOD = {"version": 1, "rules": ["same_party", "first_to_register"]}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rules": ["qualification", "expiry", "same_party", {"direct_above_deal_size": {"threshold": -5}}]},
         "rules[3].direct_above_deal_size.threshold: must be a positive number"),
        ({"rules": [{"direct_above_deal_size": {"threshold": "lots"}}]},
         "rules[0].direct_above_deal_size.threshold: input should be a valid number"),
        ({"rules": [{"direct_above_deal_size": {}}]}, "rules[0].direct_above_deal_size.threshold: is required"),
        ({"rules": [{"direct_above_deal_size": {"threshold": 5, "treshold": 6}}]},
         "rules[0].direct_above_deal_size.treshold: unknown key"),
        ({"rules": ["first_to_registr"]}, "rules[0]: unknown rule 'first_to_registr'"),
        ({"rules": ["same_party", "same_party"]}, "rules[1].same_party: appears twice"),
        ({"rules": [{"a": 1, "b": 2}]}, "rules[0]: each rule is one kind"),
        ({"rules": []}, "rules: must be a non-empty list"),
        ({}, "rules: must be a non-empty list"),
        ("just text", "the rules file must be a mapping"),
        ({"rules": ["expiry"], "protection_days": 0}, "protection_days: input should be greater than 0"),
        ({"rules": ["expiry"], "version": 2}, "version: input should be 1"),
        ({"rules": [{"qualification": {"require": ["company_nam"]}}]},
         "rules[0].qualification.require: unknown field 'company_nam'"),
        ({"rules": [{"qualification": {"min_deal_value": -1}}]},
         "rules[0].qualification.min_deal_value: must be zero or a positive number"),
        ({"rules": [{"partner_territory": {"territories": [{"countries": ["DE"]}]}}]},
         "rules[0].partner_territory.territories[0].partner: is required"),
        ({"rules": [{"named_accounts": {"accounts": [{"company_name": "Siemens"}]}}]},
         "rules[0].named_accounts.accounts[0].owner: is required"),
        ({"rules": ["expiry"], "colour": "blue"}, "colour: unknown key"),
        ({"rules": ["expiry"], "divisions": "maybe"}, "divisions: input should be 'review' or 'ignore'"),
    ],
)
def test_bad_rules_are_refused_with_the_key_and_the_reason(data, message):
    with pytest.raises(RulesError) as err:
        parse_rules(data)
    assert str(err.value).startswith(message)


def test_bare_names_and_empty_params_are_the_same():
    a = parse_rules({"rules": ["expiry", {"same_party": None}, {"first_to_register": {}}]})
    assert [r.kind for r in a.rules] == ["expiry", "same_party", "first_to_register"]


def test_the_shipped_rules_files_load():
    for path in (EXAMPLE_RULES, Path("examples/rules.yaml")):
        ruleset = load_rules(path)
        assert ruleset.rules[-1].kind == "first_to_register" and len(ruleset.rules_hash) == 64
    example = load_rules("examples/rules.yaml")
    assert example.partners == ("Northwind Partners", "Contoso Consulting", "Fabrikam Solutions")
    assert [a.company_domain for a in example.named_accounts] == ["siemens.com"]
    assert example.territories[0].countries == frozenset({"AU", "NZ"})
    parse_rules(DEFAULT_RULES)


def test_csv_files_are_resolved_relative_to_the_rules_file_and_hashed(tmp_path):
    (tmp_path / "named.csv").write_text("owner,company_name,company_domain\ndirect,Siemens AG,siemens.com\n")
    (tmp_path / "t.csv").write_text("partner,countries,min_employees\nNorthwind,\"DE, AT\",10\n")
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - named_accounts: {file: named.csv}\n  - partner_territory: {file: t.csv}\n  - first_to_register\n")
    first = load_rules(rules)
    assert first.named_accounts[0].owner == "direct"
    assert first.territories[0].countries == frozenset({"DE", "AT"}) and first.territories[0].min_employees == 10
    (tmp_path / "named.csv").write_text("owner,company_name\ndirect,Siemens AG\n")
    assert load_rules(rules).rules_hash != first.rules_hash  # the hash covers the referenced CSVs


def test_the_alias_table_is_read_from_its_csv_and_hashed(tmp_path):
    (tmp_path / "aliases.csv").write_text("Alias,Account Domain,note\nPhilip Morris Companies,altria.com,until 2003\n")
    rules = tmp_path / "rules.yaml"
    rules.write_text("aliases_file: aliases.csv\nrules: [first_to_register]\n")
    first = load_rules(rules)
    assert [(a.alias, a.account_domain, a.note) for a in first.aliases] == [
        ("Philip Morris Companies", "altria.com", "until 2003")]
    (tmp_path / "aliases.csv").write_text("alias,account_domain\nFacebook,meta.com\n")
    assert load_rules(rules).rules_hash != first.rules_hash


@pytest.mark.parametrize(
    ("text", "files", "message"),
    [
        ("rules: [first_to_register\n", {}, "not valid YAML at line 2"),
        ("aliases_file: a.csv\nrules: [first_to_register]\n", {"a.csv": "alias,account_domain\nFacebook,\n"},
         "aliases_file: "),
        ("aliases_file: a.csv\nrules: [first_to_register]\n", {"a.csv": "name,account_domain\nFacebook,meta.com\n"},
         "missing column 'alias'"),
        ("rules:\n  - named_accounts: {file: missing.csv}\n", {}, "rules[0].named_accounts.file: cannot read"),
        ("rules:\n  - named_accounts: {file: n.csv}\n", {"n.csv": "company_name\nSiemens\n"},
         "rules[0].named_accounts.file: "),
        ("rules:\n  - partner_territory: {file: t.csv}\n", {"t.csv": "partner,min_employees\nNorthwind,many\n"},
         "rules[0].partner_territory.file: "),
    ],
)
def test_bad_files_name_the_file_and_the_key(tmp_path, text, files, message):
    for name, content in files.items():
        (tmp_path / name).write_text(content)
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    with pytest.raises(RulesError) as err:
        load_rules(path)
    assert message in str(err.value) and str(path) in str(err.value)


def test_missing_rules_file_is_a_clear_error(tmp_path):
    with pytest.raises(RulesError, match="cannot read the rules file"):
        load_rules(tmp_path / "nope.yaml")


@pytest.mark.parametrize(("setting", "alone", "with_site"), [
    ({}, ("possible", "needs_review"), ("match", "conflict")),  # the default: a person decides
    ({"divisions": "review"}, ("possible", "needs_review"), ("match", "conflict")),
    ({"divisions": "ignore"}, ("none", "clear"), ("match", "conflict")),  # only beside another signal
])
def test_divisions_are_reviewed_or_ignored_as_the_rules_file_says(setting, alone, with_site):
    from datetime import UTC, datetime

    from dealreg.engine import Engine
    from dealreg.models import Record, Registration

    when = datetime(2026, 3, 1, tzinfo=UTC)
    siemens = Registration(registration_id="R-1", submitted_at=datetime(2026, 2, 1, tzinfo=UTC), partner="Northwind",
                           company_name="Siemens AG", company_domain="siemens.com")
    engine = Engine(parse_rules({"rules": ["expiry", "first_to_register"], **setting}), registrations=[siemens])
    d = engine.decide(Record(company_name="Siemens Mobility"), when)
    assert (d.match.value, d.status.value) == alone
    if d.match.value == "possible":  # the reviewer is told what kind of question it is
        assert d.reason.startswith("Siemens Mobility may be a product or division of Siemens AG (R-1"), d.reason
    d = engine.decide(Record(company_name="Siemens Mobility", company_domain="mobility.siemens.com"), when)
    assert (d.match.value, d.status.value) == with_site
