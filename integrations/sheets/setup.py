"""`dealreg init-sheet`: create the missing tabs with their header rows, write the header of an
empty tab, add the optional columns a tab made before them lacks (the review columns of
Registrations, `joined_at` of Partners), and check every other header (a misspelt or missing column
is named with its fix)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dealreg.errors import StoreUnavailable
from integrations.sheets.cells import cell_text, string_cell
from integrations.sheets.layout import ALL_TABS, Layout, letter, read_layout
from integrations.sheets.transport import Ambiguous, SheetsAPI
from integrations.store.rows import COLUMNS, OPTIONAL_COLUMNS


@dataclass
class InitReport:
    """What `init_sheet` did and found."""

    created: list[str] = field(default_factory=list)
    headers_written: list[str] = field(default_factory=list)
    columns_added: list[str] = field(default_factory=list)  # "Registrations: review (AA1)"
    layouts: dict[str, Layout] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def init_sheet(api: SheetsAPI) -> InitReport:
    """Set the spreadsheet up for dealreg (safe to repeat); the caller forgets its cached state."""
    report = InitReport()
    deadline = api.deadline()
    tabs = api.metadata(deadline, fresh=True)
    missing = [t for t in ALL_TABS if t not in tabs]
    if missing:
        try:
            api.write([{"addSheet": {"properties": {"title": ALL_TABS[t], "gridProperties": {
                "rowCount": 1000, "columnCount": max(26, len(COLUMNS[t])), "frozenRowCount": 1}}}}
                for t in missing], "adding the tabs", deadline)
        except Ambiguous as exc:
            api.forget_tabs()
            raise StoreUnavailable(f"Google Sheets answered {exc} while adding the tabs; run "
                                   f"`dealreg init-sheet` again (it is safe to repeat)") from None
        report.created = [ALL_TABS[t] for t in missing]
        tabs = api.metadata(deadline, fresh=True)
    headers = api.batch_get([api.range(tabs[t], "1:1") for t in ALL_TABS], "the header rows", deadline)
    empty = []
    added: list[dict[str, Any]] = []
    for table, header in zip(ALL_TABS, headers):
        if not any(cell_text(h).strip() for h in (header[0] if header else [])):
            empty.append(table)
            report.layouts[table] = Layout(table, tabs[table].title, {c: i for i, c in enumerate(COLUMNS[table])})
        else:
            layout = read_layout(table, tabs[table].title, header[0])
            report.problems.extend(layout.problems)
            lacking = [c for c in OPTIONAL_COLUMNS.get(table, ()) if c not in layout.columns]
            if lacking and not layout.problems:
                # After the last header cell, so no column a person uses moves.
                start = len(header[0])
                wider = start + len(lacking) - tabs[table].columns
                if wider > 0:
                    added.append({"appendDimension": {"sheetId": tabs[table].sheet_id, "dimension": "COLUMNS",
                                                      "length": wider}})
                added.append({"updateCells": {"start": {"sheetId": tabs[table].sheet_id, "rowIndex": 0,
                                                        "columnIndex": start}, "fields": "userEnteredValue",
                                              "rows": [{"values": [string_cell(c) for c in lacking]}]}})
                report.columns_added += [f"{tabs[table].title}: {c} ({letter(start + i)}1)" for i, c in enumerate(lacking)]
                layout = Layout(table, layout.title, {**layout.columns, **{c: start + i for i, c in enumerate(lacking)}},
                                layout.extra)
            report.layouts[table] = layout
    if added:
        api.write(added, "adding the optional columns", deadline, retry_ambiguous=True)
    if empty:
        grow: list[dict[str, Any]] = [{"appendDimension": {"sheetId": tabs[t].sheet_id, "dimension": "COLUMNS",
                                     "length": len(COLUMNS[t]) - tabs[t].columns}}
                for t in empty if tabs[t].columns < len(COLUMNS[t])]
        write = [{"updateCells": {"start": {"sheetId": tabs[t].sheet_id, "rowIndex": 0, "columnIndex": 0},
                                  "fields": "userEnteredValue",
                                  "rows": [{"values": [string_cell(c) for c in COLUMNS[t]]}]}} for t in empty]
        api.write(grow + write, "writing the header rows", deadline, retry_ambiguous=True)
        report.headers_written = [tabs[t].title for t in empty if ALL_TABS[t] not in report.created]
    api.forget_tabs()
    return report
