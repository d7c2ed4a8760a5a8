"""`dealreg init-sheet`: create the missing tabs with their header rows, write the header of an
empty tab, and check every other header (a misspelt or missing column is named with its fix)."""

from __future__ import annotations

from dataclasses import dataclass, field

from dealreg.errors import StoreUnavailable
from integrations.sheets.cells import cell_text, string_cell
from integrations.sheets.layout import TAB_TITLES, Layout, read_layout
from integrations.sheets.transport import Ambiguous, SheetsAPI
from integrations.store.rows import COLUMNS


@dataclass
class InitReport:
    """What `init_sheet` did and found."""

    created: list[str] = field(default_factory=list)
    headers_written: list[str] = field(default_factory=list)
    layouts: dict[str, Layout] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def init_sheet(api: SheetsAPI) -> InitReport:
    """Set the spreadsheet up for dealreg (safe to repeat); the caller forgets its cached state."""
    report = InitReport()
    deadline = api.deadline()
    tabs = api.metadata(deadline, fresh=True)
    missing = [t for t in TAB_TITLES if t not in tabs]
    if missing:
        try:
            api.write([{"addSheet": {"properties": {"title": TAB_TITLES[t], "gridProperties": {
                "rowCount": 1000, "columnCount": max(26, len(COLUMNS[t])), "frozenRowCount": 1}}}}
                for t in missing], "adding the tabs", deadline)
        except Ambiguous as exc:
            api.forget_tabs()
            raise StoreUnavailable(f"Google Sheets answered {exc} while adding the tabs; run "
                                   f"`dealreg init-sheet` again (it is safe to repeat)") from None
        report.created = [TAB_TITLES[t] for t in missing]
        tabs = api.metadata(deadline, fresh=True)
    headers = api.batch_get([api.range(tabs[t], "1:1") for t in TAB_TITLES], "the header rows", deadline)
    empty = []
    for table, header in zip(TAB_TITLES, headers):
        if not any(cell_text(h).strip() for h in (header[0] if header else [])):
            empty.append(table)
            report.layouts[table] = Layout(table, tabs[table].title, {c: i for i, c in enumerate(COLUMNS[table])})
        else:
            layout = read_layout(table, tabs[table].title, header[0])
            report.layouts[table] = layout
            report.problems.extend(layout.problems)
    if empty:
        grow = [{"appendDimension": {"sheetId": tabs[t].sheet_id, "dimension": "COLUMNS",
                                     "length": len(COLUMNS[t]) - tabs[t].columns}}
                for t in empty if tabs[t].columns < len(COLUMNS[t])]
        write = [{"updateCells": {"start": {"sheetId": tabs[t].sheet_id, "rowIndex": 0, "columnIndex": 0},
                                  "fields": "userEnteredValue",
                                  "rows": [{"values": [string_cell(c) for c in COLUMNS[t]]}]}} for t in empty]
        api.write(grow + write, "writing the header rows", deadline, retry_ambiguous=True)
        report.headers_written = [tabs[t].title for t in empty if TAB_TITLES[t] not in report.created]
    api.forget_tabs()
    return report
