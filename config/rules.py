"""Load a rules file: read the YAML and the CSV files it references, then validate.

The validation itself is pure (`dealreg.rules.parse_rules`); this module does the reading.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from dealreg.errors import RulesError
from dealreg.rules import RuleSet, parse_rules
from integrations.csvfile import CSVFileError, read_aliases, read_named_accounts, read_partners, read_territories

EXAMPLE_RULES = Path(__file__).with_name("rules.example.yaml")


def load_rules(path: str | Path | None = None) -> RuleSet:
    """The validated rules of `path` (default: the example rules shipped in config/).
    `rules_hash` covers the file and every CSV it references."""
    path = Path(path) if path else EXAMPLE_RULES
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RulesError(f"{path}: cannot read the rules file ({exc.strerror or exc})") from None
    digest = hashlib.sha256(raw)
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise RulesError(f"{path}: not UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise RulesError(f"{path}: not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise RulesError(f"{path}: the rules file must be a mapping with a `rules:` list")
    data = dict(data)
    base = path.parent
    try:
        if isinstance(data.get("partners_file"), str):
            file = base / data.pop("partners_file")
            data["partners"] = list(data.get("partners") or []) + _read(file, read_partners, "partners_file", digest)
        if isinstance(data.get("aliases_file"), str):
            file = base / data.pop("aliases_file")
            rows = [vars_of(a) for a in _read(file, read_aliases, "aliases_file", digest)]
            data["aliases"] = list(data.get("aliases") or []) + rows
        items = data.get("rules")
        if isinstance(items, list):
            data["rules"] = [_resolve(i, item, base, digest) for i, item in enumerate(items)]
        return parse_rules(data, rules_hash=digest.hexdigest())
    except RulesError as exc:
        raise RulesError(f"{path}: {exc}") from None


def _resolve(i: int, item: Any, base: Path, digest: Any) -> Any:
    """Merge `file:` CSVs into the inline lists of named_accounts / partner_territory."""
    if not (isinstance(item, dict) and len(item) == 1):
        return item
    kind, params = next(iter(item.items()))
    if kind not in ("named_accounts", "partner_territory") or not isinstance(params, dict) or not params.get("file"):
        return item
    file = base / str(params["file"])
    where = f"rules[{i}].{kind}.file"
    if kind == "named_accounts":
        rows = [vars_of(a) for a in _read(file, read_named_accounts, where, digest)]
        params = {**params, "accounts": list(params.get("accounts") or []) + rows}
    else:
        rows = [vars_of(t) for t in _read(file, read_territories, where, digest)]
        params = {**params, "territories": list(params.get("territories") or []) + rows}
    return {kind: params}


def _read(file: Path, reader: Callable[[Path], list[Any]], where: str, digest: Any) -> list[Any]:
    try:
        digest.update(file.read_bytes())
        return reader(file)
    except OSError as exc:
        raise RulesError(f"{where}: cannot read {file} ({exc.strerror or exc})") from None
    except CSVFileError as exc:
        raise RulesError(f"{where}: {exc}") from None


def vars_of(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__slots__}
