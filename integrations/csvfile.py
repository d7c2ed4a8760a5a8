"""CSV files in the Sheet layout of SPEC: the registry (Registrations tab downloaded as CSV),
named accounts, territories, partners; and the decision output of `dealreg check`.

A file that cannot be used is refused whole with a message naming the file, the row and
the column (fail closed: a registry we could only half read would report "clear" for
accounts that are taken).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO

from dealreg.errors import DealregError
from dealreg.models import (
    REGISTRATION_COLUMNS,
    STATES,
    NamedAccount,
    Registration,
    Territory,
)
from dealreg.normalise import defang, duns_key
from dealreg.records import canonical_key, field_for, parse_datetime


class CSVFileError(DealregError):
    """A CSV file is unreadable or lacks what it needs; the message names file, row and column."""


def open_text(path: str | Path) -> str:
    """Read a CSV file as text (UTF-8, with or without a BOM)."""
    try:
        return Path(path).read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise CSVFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CSVFileError(f"{path}: is a directory, not a CSV file") from None
    except PermissionError:
        raise CSVFileError(f"{path}: permission denied") from None
    except UnicodeDecodeError as exc:
        raise CSVFileError(f"{path}: not UTF-8 text (byte {exc.start}); save the file as CSV UTF-8") from None


def read_rows(path: str | Path, text: str | None = None) -> tuple[list[str], list[dict[str, str]]]:
    """The header and the rows (as header -> value) of a CSV file."""
    text = open_text(path) if text is None else text
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise CSVFileError(f"{path}: the file is empty (a header row is needed)") from None
    except csv.Error as exc:
        raise CSVFileError(f"{path}: not a CSV file ({exc})") from None
    header = [h.strip() for h in header]
    if not any(header):
        raise CSVFileError(f"{path}: the first row is empty (a header row is needed)")
    rows: list[dict[str, str]] = []
    try:
        for line in reader:
            if not any(cell.strip() for cell in line):
                continue
            if len(line) > len(header):
                raise CSVFileError(f"{path} row {reader.line_num}: {len(line)} cells but only {len(header)} columns in the header")
            rows.append({h: (line[i] if i < len(line) else "") for i, h in enumerate(header)})
    except csv.Error as exc:
        raise CSVFileError(f"{path} row {reader.line_num}: not valid CSV ({exc})") from None
    return header, rows


def _columns(path: str | Path, header: Sequence[str], known: Iterable[str]) -> dict[str, str]:
    """Map our column names to the file's (case-insensitive, spaces/dashes as underscores)."""
    known = set(known)
    found: dict[str, str] = {}
    for h in header:
        key = canonical_key(h)
        if key in known and key not in found:
            found[key] = h
    return found


def read_registry(path: str | Path) -> list[Registration]:
    """Registrations from a CSV in the Registrations layout. Refused whole on any bad row."""
    header, rows = read_rows(path)
    cols = _columns(path, header, REGISTRATION_COLUMNS)
    for column in ("registration_id", "submitted_at"):
        if column not in cols:
            raise CSVFileError(f"{path}: missing column {column!r} (the registry needs the Registrations columns "
                               f"of the Sheet layout; found: {', '.join(header)})")
    if not ({"company_name", "company_domain", "linkedin_url", "duns"} & cols.keys()):
        raise CSVFileError(f"{path}: needs at least one of the columns company_name, company_domain, linkedin_url, duns")
    registrations: list[Registration] = []
    seen: dict[str, int] = {}
    for n, row in enumerate(rows, start=2):
        registrations.append(_registration(path, n, row, cols, seen))
    return registrations


def _registration(path: str | Path, n: int, row: Mapping[str, str], cols: Mapping[str, str],
                  seen: dict[str, int]) -> Registration:
    def get(column: str) -> str:
        return row.get(cols[column], "").strip() if column in cols else ""

    def bad(column: str, why: str) -> CSVFileError:
        return CSVFileError(f"{path} row {n}, column {cols.get(column, column)}: {why}")

    rid = get("registration_id")
    if not rid:
        raise bad("registration_id", "is empty")
    if rid in seen:
        raise bad("registration_id", f"{rid!r} repeats row {seen[rid]}")
    seen[rid] = n
    values: dict[str, object] = {c: get(c) for c in REGISTRATION_COLUMNS if c in cols}
    try:
        values["submitted_at"] = parse_datetime(get("submitted_at"))
    except ValueError as exc:
        raise bad("submitted_at", str(exc)) from None
    expires = get("expires_at")
    try:
        values["expires_at"] = parse_datetime(expires) if expires else None
    except ValueError as exc:
        raise bad("expires_at", str(exc)) from None
    for column, kind in (("deal_value", float), ("employees", int)):
        text = get(column)
        try:
            values[column] = kind(text) if text else None
        except ValueError:
            raise bad(column, f"{text!r} is not a {'whole ' if kind is int else ''}number") from None
    state = get("state").casefold() or "open"
    if state not in STATES:
        raise bad("state", f"{state!r} is not a state (use one of: {', '.join(sorted(STATES))})")
    values["state"] = state
    if get("duns"):
        try:
            duns_key(get("duns"))
        except ValueError as exc:
            raise bad("duns", str(exc)) from None
    if not any(get(c) for c in ("company_name", "company_domain", "linkedin_url", "duns", "contact_email")):
        raise bad("company_name", "the row names no company (no name, domain, LinkedIn, DUNS or email)")
    values["partner"] = get("partner") or "direct"
    return Registration(**values)  # type: ignore[arg-type]


def read_named_accounts(path: str | Path) -> list[NamedAccount]:
    header, rows = read_rows(path)
    cols = _columns(path, header, ("owner", "company_name", "company_domain", "linkedin_url", "duns", "note"))
    if "owner" not in cols:
        raise CSVFileError(f"{path}: missing column 'owner' (who holds the account: a partner or direct)")
    accounts = []
    for n, row in enumerate(rows, start=2):
        values = {c: row.get(h, "").strip() for c, h in cols.items()}
        if not values.get("owner"):
            raise CSVFileError(f"{path} row {n}, column {cols['owner']}: is empty")
        if not any(values.get(c) for c in ("company_name", "company_domain", "linkedin_url", "duns")):
            raise CSVFileError(f"{path} row {n}: names no company (company_name, company_domain, linkedin_url or duns)")
        accounts.append(NamedAccount(**values))
    return accounts


def _list(value: str) -> frozenset[str]:
    return frozenset(v.strip() for v in value.replace(";", ",").split(",") if v.strip())


def read_territories(path: str | Path) -> list[Territory]:
    header, rows = read_rows(path)
    cols = _columns(path, header, ("partner", "countries", "regions", "industries", "min_employees", "max_employees"))
    if "partner" not in cols:
        raise CSVFileError(f"{path}: missing column 'partner'")
    territories = []
    for n, row in enumerate(rows, start=2):
        values = {c: row.get(h, "").strip() for c, h in cols.items()}
        if not values.get("partner"):
            raise CSVFileError(f"{path} row {n}, column {cols['partner']}: is empty")
        bounds: dict[str, int | None] = {}
        for column in ("min_employees", "max_employees"):
            text = values.get(column, "")
            try:
                bounds[column] = int(text) if text else None
            except ValueError:
                raise CSVFileError(f"{path} row {n}, column {cols[column]}: {text!r} is not a whole number") from None
        territories.append(Territory(
            partner=values["partner"],
            countries=_list(values.get("countries", "")),
            regions=_list(values.get("regions", "")),
            industries=_list(values.get("industries", "")),
            **bounds,
        ))
    return territories


def read_partners(path: str | Path) -> list[str]:
    header, rows = read_rows(path)
    cols = _columns(path, header, ("partner", "name", "partner_name"))
    column = cols.get("partner") or cols.get("partner_name") or cols.get("name")
    if column is None:
        raise CSVFileError(f"{path}: missing column 'partner'")
    return [row[column].strip() for row in rows if row.get(column, "").strip()]


def input_field_columns(header: Sequence[str]) -> dict[str, str]:
    """Which input columns feed which record fields (first alias wins)."""
    found: dict[str, str] = {}
    for h in header:
        field = field_for(h)
        if field is not None and field not in found:
            found[field] = h
    return found


def cell(value: object) -> str:
    """A value as CSV text, defanged so that a spreadsheet opening the file never runs it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return defang(str(value))


def write_rows(out: IO[str], header: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([cell(h) for h in header])
    count = 0
    for row in rows:
        writer.writerow([cell(v) for v in row])
        count += 1
    return count


def registration_row(reg: Registration) -> list[object]:
    return [getattr(reg, column) for column in REGISTRATION_COLUMNS]


def iter_registration_rows(registrations: Iterable[Registration]) -> Iterator[list[object]]:
    for reg in registrations:
        yield registration_row(reg)
