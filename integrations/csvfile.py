"""CSV files in the Sheet layout of SPEC: the registry (Registrations tab downloaded as CSV),
named accounts, territories, partners; and the decision output of `dealreg check`.

A file that cannot be used is refused whole with a message naming the file, the row and
the column (fail closed: a registry we could only half read would report "clear" for
accounts that are taken).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, TypeVar

from dealreg.errors import DealregError, InputError
from dealreg.models import REGISTRATION_COLUMNS, NamedAccount, Registration, Territory
from dealreg.normalise import defang
from dealreg.records import canonical_key, field_for
from integrations.store import (
    NAMED_ACCOUNT_COLUMNS,
    TERRITORY_COLUMNS,
    named_account_from_row,
    registration_from_row,
    territory_from_row,
    text_of,
)

T = TypeVar("T")


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
    for n, reg in _parsed(path, rows, cols, registration_from_row):
        if reg.registration_id in seen:
            raise CSVFileError(f"{path} row {n}, column {cols['registration_id']}: "
                               f"{reg.registration_id!r} repeats row {seen[reg.registration_id]}")
        seen[reg.registration_id] = n
        registrations.append(reg)
    return registrations


def _parsed(path: str | Path, rows: list[dict[str, str]], cols: Mapping[str, str],
            convert: Callable[[Mapping[str, str]], T]) -> Iterator[tuple[int, T]]:
    """Each row through the store's own converter (one set of rules for every way rows
    come in); the first bad cell stops the read, named by file, row and column."""
    same = all(name == column for name, column in cols.items())  # headers already our names: no copy
    for n, row in enumerate(rows, start=2):  # row 1 is the header
        try:
            yield n, convert(row if same else {name: row.get(column, "") for name, column in cols.items()})
        except InputError as exc:
            field, message = exc.problems[0]
            raise CSVFileError(f"{path} row {n}, column {cols.get(field, field)}: {message}") from None


def read_named_accounts(path: str | Path) -> list[NamedAccount]:
    header, rows = read_rows(path)
    cols = _columns(path, header, NAMED_ACCOUNT_COLUMNS)
    if "owner" not in cols:
        raise CSVFileError(f"{path}: missing column 'owner' (who holds the account: a partner or direct)")
    return [account for _, account in _parsed(path, rows, cols, named_account_from_row)]


def read_territories(path: str | Path) -> list[Territory]:
    header, rows = read_rows(path)
    cols = _columns(path, header, TERRITORY_COLUMNS)
    if "partner" not in cols:
        raise CSVFileError(f"{path}: missing column 'partner'")
    return [territory for _, territory in _parsed(path, rows, cols, territory_from_row)]


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
    """A value as CSV text (as every store writes it), defanged so that a spreadsheet
    opening the file never runs it."""
    return defang(text_of(value))


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
