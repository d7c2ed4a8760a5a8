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
from operator import itemgetter
from pathlib import Path
from typing import IO, TypeVar

from dealreg.errors import DealregError, InputError
from dealreg.models import REGISTRATION_COLUMNS, Alias, NamedAccount, Quarantined, Registration, Territory
from dealreg.normalise import defang
from dealreg.records import canonical_key, field_for
from integrations.store.rows import (
    ALIAS_COLUMNS,
    NAMED_ACCOUNT_COLUMNS,
    PARTNER_COLUMNS,
    TERRITORY_COLUMNS,
    alias_from_row,
    cell_problem,
    named_account_from_row,
    quarantined_registration,
    registration_from_cells,
    territory_from_row,
    text_of,
)

R = TypeVar("R")
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


DELIMITERS: dict[str, str] = {",": "commas", ";": "semicolons", "\t": "tabs"}
"""The column separators a CSV file may use, and how a message names them. Excel writes `;`
where the decimal mark is a comma (most of Europe), and "Text (Tab delimited)" writes tabs."""
HEAD_CHARS = 65_536  # `delimiter_of` reads this much of a file: a header is far shorter


def declared_delimiter(text: str) -> str | None:
    """The separator a first line `sep=;` declares (Excel writes and honours it: such a file opens
    in columns whatever the reader's locale), or None without one."""
    first = text.removeprefix("\ufeff")[:8].split("\n", 1)[0].rstrip("\r")
    if len(first) == 5 and first[:4].lower() == "sep=" and first[4] in DELIMITERS:
        return first[4]
    return None


def without_declaration(text: str) -> str:
    """The text without its `sep=` line (`declared_delimiter`), if it has one."""
    return text.split("\n", 1)[1] if "\n" in text else ""


def detect_delimiter(text: str) -> str:
    """The column separator of a CSV text: the one a first line `sep=;` declares, else whichever of
    `,` `;` tab appears most often in the header line outside quoted names (`,` when none does, or
    on a tie).

    Only the header is counted: it holds column names, which never contain an unquoted
    separator, while data rows may hold `;` lists (territories) or decimal commas (48000,50).
    csv.Sniffer guesses from the rows as well, raises on a one-column file ("Could not
    determine delimiter"), and its own documentation calls it a rough heuristic."""
    declared = declared_delimiter(text)
    if declared is not None:
        return declared
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted  # a doubled quote inside a quoted name toggles twice: no change
        elif quoted:
            continue
        elif char in "\r\n":
            break
        elif char in counts:
            counts[char] += 1
    best = max(counts.values())
    return next(d for d, n in counts.items() if n == best)  # dicts keep order: `,` wins a tie


def delimiter_of(path: str | Path) -> str:
    """The column separator of a CSV file, from its header (see `detect_delimiter`)."""
    try:
        with Path(path).open("rb") as file:
            head = file.read(HEAD_CHARS)
    except OSError:
        return ","  # reading the file itself reports the problem
    return detect_delimiter(head.decode("utf-8-sig", errors="ignore"))


def separated_by(delimiter: str) -> str:
    """`comma-separated`, for messages."""
    return f"{DELIMITERS[delimiter].removesuffix('s')}-separated"


def read_rows(path: str | Path, text: str | None = None) -> tuple[list[str], list[dict[str, str]]]:
    """The header and the rows (as header -> value) of a CSV file."""
    header, lines, _ = read_lines(path, text)
    return header, _as_dicts(header, lines)


def _as_dicts(header: list[str], lines: list[list[str]]) -> list[dict[str, str]]:
    width = len(header)
    # dict(zip()) builds each row in C; a short line is padded first (its missing cells read
    # as ""), and a repeated header name keeps its last cell, as a dict comprehension did.
    return [dict(zip(header, line if len(line) == width else line + [""] * (width - len(line)))) for line in lines]


def read_lines(path: str | Path, text: str | None = None) -> tuple[list[str], list[list[str]], list[int]]:
    """The header (stripped) and the non-empty lines of a CSV file, as lists of cells (a line
    may be shorter than the header, never longer), and each line's row number as a spreadsheet
    shows it: the header is row 1, and blank rows count (a quoted cell over several lines of
    text is still one row). The columns may be separated by `,` `;` or tabs (`detect_delimiter`)."""
    text = open_text(path) if text is None else text
    delimiter = detect_delimiter(text)
    if declared_delimiter(text) is not None:  # Excel shows no row for it: the header is still row 1
        text = without_declaration(text)
    reader = csv.reader(_text_lines(text), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise CSVFileError(f"{path}: the file is empty (a header row is needed)") from None
    except csv.Error as exc:
        raise CSVFileError(f"{path}: not a CSV file ({exc})") from None
    header = [h.strip() for h in header]
    if not any(header):
        raise CSVFileError(f"{path}: the first row is empty (a header row is needed)")
    width = len(header)
    lines: list[list[str]] = []
    numbers: list[int] = []
    n = 1
    try:
        for n, line in enumerate(reader, start=2):
            # "".join(line).strip() is empty exactly when every cell is blank (one C call, not one per cell)
            if not "".join(line).strip():
                continue
            if len(line) > width:
                raise CSVFileError(f"{path} row {n}: {len(line)} cells but only {width} columns in the header "
                                   f"(read as {separated_by(delimiter)}, as the header is; quote a cell that "
                                   f"holds a {DELIMITERS[delimiter].removesuffix('s')})")
            lines.append(line)
            numbers.append(n)
    except csv.Error as exc:
        raise CSVFileError(f"{path} row {n + 1}: not valid CSV ({exc})") from None
    return header, lines, numbers


# Line breaks that str.splitlines() knows and StringIO(newline="") does not: both split after
# "\n", "\r\n" and a lone "\r" (and keep them, which a quoted cell over lines needs).
_OTHER_LINE_BREAKS = "\v\f\x1c\x1d\x1e\x85\u2028\u2029"


def _text_lines(text: str) -> Iterable[str]:
    """The text's lines as csv.reader must get them (the split of StringIO(newline=""))."""
    if any(c in text for c in _OTHER_LINE_BREAKS):
        return io.StringIO(text, newline="")
    return text.splitlines(keepends=True)  # the same lines, made in one C call (a tenth of the parse)


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
    """Registrations from a CSV in the Registrations layout, refused whole on any bad row (what
    `dealreg import` needs: nothing half-written)."""
    registrations, quarantined = read_registry_rows(path)
    if quarantined:
        first = quarantined[0]  # "FILE row 3, column Amount: …", as every CSV reader words it
        more = f" (and {len(quarantined) - 1} more rows)" if len(quarantined) > 1 else ""
        raise CSVFileError(f"{first.where}, {'; '.join(first.problems)}{more}")
    return registrations


def read_registry_rows(path: str | Path) -> tuple[list[Registration], list[Quarantined]]:
    """Registrations from a CSV in the Registrations layout, and the rows that cannot be read
    (quarantined, naming the row and column: what `dealreg check` decides around). A file without
    the columns a registry needs is refused whole."""
    # The collector is the caller's: `dealreg check` pauses it for a large registry (handlers/cli/check.py).
    header, lines, numbers = read_lines(path)
    cols = _columns(path, header, REGISTRATION_COLUMNS)
    for column in ("registration_id", "submitted_at"):
        if column not in cols:
            raise CSVFileError(f"{path}: missing column {column!r} (the registry needs the Registrations columns "
                               f"of the Sheet layout; found: {', '.join(header)})")
    if not ({"company_name", "company_domain", "linkedin_url", "duns"} & cols.keys()):
        raise CSVFileError(f"{path}: needs at least one of the columns company_name, company_domain, linkedin_url, duns")
    registrations: list[Registration] = []
    quarantined: list[Quarantined] = []
    seen: dict[str, int] = {}
    cells = _cells_picker(header, cols, REGISTRATION_COLUMNS)
    for n, row in zip(numbers, map(cells, lines), strict=True):
        problems: list[tuple[str, str]] = []
        try:
            reg = registration_from_cells(row)
            if reg.registration_id in seen:
                problems.append(("registration_id", f"{reg.registration_id!r} repeats row {seen[reg.registration_id]}"))
            else:
                seen[reg.registration_id] = n
                registrations.append(reg)
        except InputError as exc:
            problems.extend(exc.problems)
        if problems:
            values = dict(zip(REGISTRATION_COLUMNS, row))
            quarantined.append(quarantined_registration(values, f"{path} row {n}", [
                cell_problem(f"column {cols.get(field, field)}", values.get(field, ""), message)
                for field, message in problems]))
    return registrations, quarantined


def _cells_picker(header: Sequence[str], cols: Mapping[str, str],
                  names: Sequence[str]) -> Callable[[list[str]], Sequence[str]]:
    """A function from a line (as `read_lines` gives it) to its cells for `names` (two or more),
    in that order: the cells `read_rows` would map them to, and "" for a column the file
    lacks or a line too short to reach."""
    width = len(header)
    index = {h: i for i, h in enumerate(header)}  # a repeated header name: its last cell, as in read_rows
    positions = [index[cols[name]] if name in cols else width for name in names]  # width: past every line
    padding = [""] * (width + 1)
    if positions == list(range(width)):  # exactly our columns, in our order: a line is its cells
        return lambda line: line if len(line) == width else line + padding[len(line):width]
    pick = itemgetter(*positions)  # one C call picks a line's cells
    reach = max(positions) + 1
    return lambda line: pick(line) if len(line) >= reach else pick(line + padding[len(line):])


def _parsed(path: str | Path, rows: Iterable[R], numbers: Iterable[int], cols: Mapping[str, str],
            convert: Callable[[R], T]) -> Iterator[tuple[int, T]]:
    """Each row through the store's own converter (one set of rules for every way rows
    come in); the first bad cell stops the read, named by file, row number and column."""
    for n, row in zip(numbers, rows, strict=True):
        try:
            yield n, convert(row)
        except InputError as exc:
            field, message = exc.problems[0]
            raise CSVFileError(f"{path} row {n}, column {cols.get(field, field)}: {message}") from None


def _renamed(rows: list[dict[str, str]], cols: Mapping[str, str]) -> Iterable[Mapping[str, str]]:
    """The rows keyed by our column names rather than the file's."""
    if all(name == column for name, column in cols.items()):  # headers already our names: no copy
        return rows
    return ({name: row.get(column, "") for name, column in cols.items()} for row in rows)


def read_named_accounts(path: str | Path) -> list[NamedAccount]:
    header, lines, numbers = read_lines(path)
    cols = _columns(path, header, NAMED_ACCOUNT_COLUMNS)
    if "owner" not in cols:
        raise CSVFileError(f"{path}: missing column 'owner' (who holds the account: a partner or direct)")
    rows = _renamed(_as_dicts(header, lines), cols)
    return [account for _, account in _parsed(path, rows, numbers, cols, named_account_from_row)]


def read_aliases(path: str | Path) -> list[Alias]:
    """The alias table (alias, account_domain, account_name, note), refused whole on a bad row."""
    header, lines, numbers = read_lines(path)
    cols = _columns(path, header, ALIAS_COLUMNS)
    if "alias" not in cols:
        raise CSVFileError(f"{path}: missing column 'alias' (the other name of the account)")
    rows = _renamed(_as_dicts(header, lines), cols)
    return [alias for _, alias in _parsed(path, rows, numbers, cols, alias_from_row)]


def read_territories(path: str | Path) -> list[Territory]:
    header, lines, numbers = read_lines(path)
    cols = _columns(path, header, TERRITORY_COLUMNS)
    if "partner" not in cols:
        raise CSVFileError(f"{path}: missing column 'partner'")
    rows = _renamed(_as_dicts(header, lines), cols)
    return [territory for _, territory in _parsed(path, rows, numbers, cols, territory_from_row)]


def read_partners(path: str | Path) -> list[str]:
    header, rows = read_rows(path)
    cols = _columns(path, header, ("partner", "name", "partner_name"))
    column = cols.get("partner") or cols.get("partner_name") or cols.get("name")
    if column is None:
        raise CSVFileError(f"{path}: missing column 'partner'")
    return [row[column].strip() for row in rows if row.get(column, "").strip()]


def read_partner_rows(path: str | Path) -> list[dict[str, str]]:
    """The Partners layout (`partner`, `contact_email`, `note`, `joined_at`) of a CSV: what
    `dealreg import partners` writes. Only `partner` is required (a file of names still reads)."""
    header, rows = read_rows(path)
    cols = _columns(path, header, (*PARTNER_COLUMNS, "name", "partner_name"))
    cols.setdefault("partner", cols.get("partner_name") or cols.get("name") or "")
    if not cols["partner"]:
        raise CSVFileError(f"{path}: missing column 'partner'")
    return [{name: row.get(cols[name], "").strip() if name in cols else "" for name in PARTNER_COLUMNS}
            for row in rows if row.get(cols["partner"], "").strip()]


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
