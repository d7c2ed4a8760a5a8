"""CSV files (integrations/csvfile.py): the registry is read line by line into the store's
converter without a dict per row; it must read every layout exactly as the row-dict way does."""

from __future__ import annotations

import gc
import io
from datetime import UTC, datetime

import pytest

from dealreg.models import REGISTRATION_COLUMNS
from integrations.csvfile import _OTHER_LINE_BREAKS, CSVFileError, _columns, _text_lines, read_registry, read_rows
from integrations.store.rows import registration_from_row

FULL_HEADER = ",".join(REGISTRATION_COLUMNS)
FULL_ROW = ",".join({"registration_id": "R1", "submitted_at": "2026-03-02T10:00:00Z", "partner": "Northwind",
                     "company_name": "Acme", "employees": "12", "deal_value": "48000.0", "state": "won",
                     "expires_at": "2026-06-01", "duns": "15-048-3782", "extensions": "1"}.get(name, f"{name}-x")
                    for name in REGISTRATION_COLUMNS)


def _by_row_dicts(path):
    """The registry read the plain way: a dict per row, renamed to our columns, then the converter."""
    header, rows = read_rows(path)
    cols = _columns(path, header, REGISTRATION_COLUMNS)
    return [registration_from_row({name: row.get(column, "") for name, column in cols.items()}) for row in rows]


LAYOUTS = {  # the file's text, and how many registrations it holds
    "our columns in our order": (FULL_HEADER + "\n" + FULL_ROW + "\nR2,2026-03-03,,,Beta\n", 2),  # a short line
    "our columns, a line too short": (FULL_HEADER + "\nR1,2026-03-02,web,,Acme\n", 1),
    "reordered, some missing": ("company_name,registration_id,state,submitted_at\nAcme,R1,OPEN,2026-03-02\n"
                                "Beta,R2,,2026-03-03T10:00:00+05:30\n", 2),
    "spelt another way": ("Registration ID,Submitted At,Company Name,Deal-Value,PARTNER\n"
                          "R1,2026-03-02,Acme,1e3,Northwind\nR2 , 2026-03-03 , Beta ,, \n", 2),
    "extra columns": ("note,registration_id,submitted_at,company_name,source,notes 2\nx,R1,2026-03-02,Acme,csv,y\n", 1),
    "our columns and one more": (FULL_HEADER + ",note\n" + FULL_ROW + ",x\n", 1),
    "a repeated column: the last one counts": ("registration_id,submitted_at,company_name,company_name\n"
                                               "R1,2026-03-02,first,second\nR2,2026-03-03,,only\n", 2),
    "the first of two spellings counts": ("registration_id,Company Name,submitted_at,company_name\n"
                                          "R1,Acme,2026-03-02,Other\n", 1),
    "blank and whitespace lines": ("registration_id,submitted_at,company_name\n\nR1,2026-03-02,Acme\n , ,\n"
                                   " , , , , , \nR2,2026-03-03,Beta\n", 2),
    "quoted cells over lines": ('registration_id,submitted_at,company_name\nR1,2026-03-02,"Acme,\nInc"\n', 1),
    "a byte order mark and CRLF": ("\ufeffregistration_id,submitted_at,company_name\r\nR1,2026-03-02,Acme\r\n", 1),
    "no rows": (FULL_HEADER + "\n", 0),
}


@pytest.mark.parametrize(("text", "count"), LAYOUTS.values(), ids=LAYOUTS.keys())
def test_every_layout_reads_as_the_row_dicts_do(tmp_path, text, count):
    path = tmp_path / "registry.csv"
    path.write_text(text, encoding="utf-8", newline="")
    got = read_registry(path)
    assert len(got) == count
    assert got == _by_row_dicts(path)


def test_the_values_read(tmp_path):
    def read(text):
        path = tmp_path / "registry.csv"
        path.write_text(text, encoding="utf-8", newline="")
        return read_registry(path)

    regs = {r.registration_id: r for r in read(LAYOUTS["our columns in our order"][0])}
    r1, r2 = regs["R1"], regs["R2"]
    assert (r1.submitted_at, r1.employees, r1.deal_value, r1.state) == (datetime(2026, 3, 2, 10, tzinfo=UTC), 12, 48000.0, "won")
    assert r1.expires_at == datetime(2026, 6, 1, tzinfo=UTC) and r1.external_id == "external_id-x"
    assert (r2.partner, r2.company_name, r2.state, r2.expires_at, r2.deal_value) == ("direct", "Beta", "open", None, None)
    dup = {r.registration_id: r.company_name for r in read(LAYOUTS["a repeated column: the last one counts"][0])}
    assert dup == {"R1": "second", "R2": "only"}


def test_every_line_break_that_splitlines_knows_is_listed():
    breaks = {chr(i) for i in range(0x110000) if len(f"a{chr(i)}b".splitlines()) > 1}
    assert breaks == {"\n", "\r"} | set(_OTHER_LINE_BREAKS)


@pytest.mark.parametrize("text", [
    "", "a", "a\n", "a\r\nb\rc\n\nd", "a\r", "\r\n\r\n", 'a,"b\r\nc"\r\nd\n', "a\n\r",
    *(f'a,"b{c}c"\nd{c}e\r\n' for c in _OTHER_LINE_BREAKS),
])
def test_the_lines_csv_gets_are_those_of_a_string_io(text):
    assert list(_text_lines(text)) == list(io.StringIO(text, newline=""))


def test_rare_line_breaks_stay_inside_their_cell(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text('a,b\r\n"x\u2028y",z\x1cw\r\n"1\r\n2",3\n', encoding="utf-8", newline="")
    assert read_rows(path) == (["a", "b"], [{"a": "x\u2028y", "b": "z\x1cw"}, {"a": "1\r\n2", "b": "3"}])


def test_read_rows_pads_short_lines_and_skips_blank_ones(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(" a , b ,a\n1,2,3\n\n , \n4\n", encoding="utf-8")
    header, rows = read_rows(path)
    assert header == ["a", "b", "a"]
    assert rows == [{"a": "3", "b": "2"}, {"a": "", "b": ""}]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("registration_id,submitted_at,company_name\nR1,2026-03-02,Acme\nR2,2026-03-03,Beta,x\n",
         "row 3: 4 cells but only 3 columns in the header"),
        ("Registration ID,Submitted At,Company Name\nR1,2026-03-02,Acme\nR2,someday,Beta\n",
         "row 3, column Submitted At: 'someday' is not a date"),
        ("registration_id,submitted_at,company_name,State\nR1,2026-03-02,Acme,maybe\n",
         "row 2, column State: 'maybe' is not a state"),
        ("registration_id,submitted_at,company_name\nR1,2026-03-02,Acme\n,2026-03-03,Beta\n",
         "row 3, column registration_id: is required"),
        ("registration_id,submitted_at,company_name\nR1,2026-03-02,Acme\nR1,2026-03-03,Beta\n",
         "row 3, column registration_id: 'R1' repeats row 2"),
        ("registration_id,submitted_at\nR1,2026-03-02\n", "needs at least one of the columns"),
        # the whole file is read as CSV before any cell is judged: a broken line wins over a bad cell before it
        ("registration_id,submitted_at,company_name\nR1,someday,Acme\nR2,2026-03-03,Beta,x\n",
         "row 3: 4 cells but only 3 columns in the header"),
        ("registration_id,company_name\nR1,Acme\nR2,Beta,x\n", "row 3: 3 cells but only 2 columns"),
        # rows numbered as a spreadsheet shows them: blank rows count, a cell over two lines is one row
        ("registration_id,submitted_at,company_name\n\n,,\nR1,someday,Acme\n",
         "row 4, column submitted_at: 'someday' is not a date"),
        ('registration_id,submitted_at,company_name\nR1,2026-03-02,"Acme\nRobotics"\nR2,someday,Beta\n',
         "row 3, column submitted_at: 'someday' is not a date"),
        ("registration_id,submitted_at,company_name\nR1,2026-03-02,Acme\n\nR1,2026-03-03,Beta\n",
         "row 4, column registration_id: 'R1' repeats row 2"),
        ("registration_id,submitted_at,company_name\n\nR2,2026-03-03,Beta,x\n",
         "row 3: 4 cells but only 3 columns in the header"),
    ],
)
def test_bad_files_name_file_row_and_column(tmp_path, text, message):
    path = tmp_path / "registry.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CSVFileError) as err:
        read_registry(path)
    assert str(err.value).startswith(str(path)) and message in str(err.value)


@pytest.mark.parametrize("collecting", [True, False])
def test_the_collector_is_left_as_it_was(tmp_path, collecting):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(LAYOUTS["extra columns"][0], encoding="utf-8")
    bad.write_text("registration_id,submitted_at,company_name\nR1,someday,Acme\n", encoding="utf-8")
    was = gc.isenabled()
    try:
        gc.enable() if collecting else gc.disable()
        read_registry(good)
        assert gc.isenabled() is collecting
        with pytest.raises(CSVFileError):
            read_registry(bad)
        assert gc.isenabled() is collecting
    finally:
        gc.enable() if was else gc.disable()


def test_named_account_and_territory_rows_are_numbered_as_in_a_spreadsheet(tmp_path):
    from integrations.csvfile import read_named_accounts, read_territories

    accounts = tmp_path / "named.csv"
    accounts.write_text("owner,company_name,duns\ndirect,Acme,\n\ndirect,Beta,12\n", encoding="utf-8")
    with pytest.raises(CSVFileError, match=r"row 4, column duns"):
        read_named_accounts(accounts)
    territories = tmp_path / "territories.csv"
    territories.write_text("partner,countries,min_employees\n\nNorthwind,DE,many\n", encoding="utf-8")
    with pytest.raises(CSVFileError, match=r"row 3, column min_employees"):
        read_territories(territories)


# -- the column separator: `,` `;` or tab, from the header ----------------------------------------

SEPARATORS = [
    # (the file's first lines, the separator found)
    ("company,website\nAcme,acme.com\n", ","),
    ("company;website\nAcme;acme.com\n", ";"),  # Excel where the decimal mark is a comma
    ("company\twebsite\nAcme\tacme.com\n", "\t"),  # Excel's "Text (Tab delimited)"
    ("\ufeffcompany;website\r\n", ";"),  # a byte order mark and CRLF, as Excel saves "CSV UTF-8"
    ("company\nAcme\n", ","),  # one column: nothing to count, the default (csv.Sniffer raises here)
    ("", ","),
    ('"Company; Inc",website\n', ","),  # a separator inside a quoted name is not counted
    ('"Name, full";"Website, main";x\n', ";"),
    ('"say ""hi"", then";b;c\n', ";"),  # doubled quotes inside a quoted name
    ("a;b,c\n", ","),  # a tie: comma
    ("partner,countries\nFabrikam,AU;NZ;US;CA;GB\n", ","),  # `;` lists in the rows do not count
    ("company;deal_value\nAcme;48000,50\nBeta;1,5\n", ";"),  # nor decimal commas
    ('company,"notes\nover two lines;;;"\nAcme,x\n', ","),  # a quoted header cell over lines
    ("sep=;\ncompany,website\n", ";"),  # Excel's declaration line wins over counting
    ("\ufeffSEP=;\r\ncompany,website\r\n", ";"),  # after a byte order mark, in capitals
    ("sep=|\ncompany,website\n", ","),  # not a separator dealreg reads: counted as usual
]


@pytest.mark.parametrize(("text", "separator"), SEPARATORS, ids=[repr(s[0][:24]) for s in SEPARATORS])
def test_the_separator_is_read_from_the_header(tmp_path, text, separator):
    from integrations.csvfile import delimiter_of, detect_delimiter

    assert detect_delimiter(text) == separator
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode("utf-8"))
    assert delimiter_of(path) == separator


def test_a_semicolon_file_reads_as_its_comma_twin(tmp_path):
    comma, semicolon = tmp_path / "comma.csv", tmp_path / "semicolon.csv"
    comma.write_text('registration_id,submitted_at,company_name,deal_value\nR1,2026-03-02,"Acme, Inc",48000.5\n'
                     'R2,2026-03-03,"Beta; GmbH","1,250,000"\n', encoding="utf-8")
    semicolon.write_text('registration_id;submitted_at;company_name;deal_value\nR1;2026-03-02;Acme, Inc;48000,50\n'
                         'R2;2026-03-03;"Beta; GmbH";1.250.000\n', encoding="utf-8")
    assert read_registry(semicolon) == read_registry(comma)
    assert [r.deal_value for r in read_registry(semicolon)] == [48000.5, 1250000.0]
    assert read_rows(tmp_path / "semicolon.csv")[0] == ["registration_id", "submitted_at", "company_name", "deal_value"]


def test_every_reader_takes_semicolons(tmp_path):
    from integrations.csvfile import read_named_accounts, read_partners, read_territories

    partners = tmp_path / "partners.csv"
    partners.write_text("partner;contact_email\nNorthwind Partners;a@northwind.com\nContoso;b@contoso.com\n")
    assert read_partners(partners) == ["Northwind Partners", "Contoso"]
    named = tmp_path / "named.csv"
    named.write_text("owner;company_name;company_domain\ndirect;Siemens AG;siemens.com\n")
    [account] = read_named_accounts(named)
    assert (account.owner, account.company_name, account.company_domain) == ("direct", "Siemens AG", "siemens.com")
    territories = tmp_path / "territories.csv"
    territories.write_text('partner;countries;min_employees;max_employees\nFabrikam;"AU;NZ";1.000;5 000\n')
    [territory] = read_territories(territories)
    assert (territory.countries, territory.min_employees, territory.max_employees) == (frozenset({"AU", "NZ"}), 1000, 5000)


@pytest.mark.parametrize(("text", "message"), [
    ("registration_id;submitted_at;company_name\nR1;2026-03-02;Acme;x\n",
     "row 2: 4 cells but only 3 columns in the header (read as semicolon-separated, as the header is; "
     "quote a cell that holds a semicolon)"),
    ("registration_id\tsubmitted_at\tcompany_name\nR1\t2026-03-02\tAcme\tx\n", "(read as tab-separated"),
    ("registration_id;submitted_at;company_name\nR1;someday;Acme\n", "row 2, column submitted_at: 'someday' is not a date"),
])
def test_errors_in_a_semicolon_file_name_the_separator(tmp_path, text, message):
    path = tmp_path / "registry.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CSVFileError) as err:
        read_registry(path)
    assert message in str(err.value)


def test_excels_sep_line_declares_the_separator_and_is_no_row(tmp_path):
    path = tmp_path / "registry.csv"
    path.write_text('sep=;\nregistration_id;submitted_at;company_name;deal_value\nR1;2026-03-02;"Acme, Inc";48000,50\n'
                    "R2;2026-03-03;Beta GmbH;\n", encoding="utf-8")
    header, rows = read_rows(path)
    assert header == ["registration_id", "submitted_at", "company_name", "deal_value"]
    assert [r["company_name"] for r in rows] == ["Acme, Inc", "Beta GmbH"]
    assert [r.deal_value for r in read_registry(path)] == [48000.5, None]
    from integrations.csvfile import read_lines

    assert read_lines(path)[2] == [2, 3]  # the header is row 1, as Excel shows the file
