"""The Google Sheets store, one module per concern: credentials (signing in), layout (which
column is where), cells (reading and writing values), transport (calling the API with bounded
retries), snapshot (one read), store (the store contract), tables (whole tabs, for import and
export), setup (`dealreg init-sheet`).
The whole story, with the API calls each action costs: docs/sheets.md."""

from integrations.sheets.credentials import emulator_client, service_account_client, service_account_info, spreadsheet_id
from integrations.sheets.layout import TAB_TITLES, Layout, read_layout
from integrations.sheets.setup import InitReport
from integrations.sheets.store import SheetsStore

__all__ = ["TAB_TITLES", "InitReport", "Layout", "SheetsStore", "emulator_client", "read_layout",
           "service_account_client", "service_account_info", "spreadsheet_id"]
