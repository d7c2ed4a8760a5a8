"""The Clay body of docs/clay.md is what a Clay user pastes: filled in the way Clay fills column
tokens, it is a body the Clay route decides. Clay writes a token's value as JSON itself
("keep the key in quotes, but do not wrap the value in quotes",
https://docs.clay.com/en/articles/9672489-http-api-with-clay), so a token the page put in
quotes would come out doubled (`""Miro""`) and be refused."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.handlers.support import AUTH

PAGE = (Path(__file__).resolve().parents[2] / "docs" / "clay.md").read_text(encoding="utf-8")
ROW = {  # one row of a Clay table, by column name
    "Company Name": "Miro", "Website": "miro.com", "Work Email": "ana.ruiz@miro.com",
    "Company LinkedIn": "https://www.linkedin.com/company/mirohq/", "Country": "US", "Employee Count": 1700,
}


def documented_clay_body() -> str:
    section = PAGE[PAGE.index("## Set up the HTTP API column"):]
    step = section[section.index("5. **Body**"):]
    return re.search(r"```\w*\n(.*?)```", step, re.S).group(1)


def as_clay_sends_it(template: str, row: dict[str, object]) -> str:
    """Each `/Column Name` token replaced by the cell's value written as JSON, as Clay does."""
    return re.sub(r"/([A-Z][A-Za-z ]*[A-Za-z])", lambda m: json.dumps(row[m.group(1)]), template)


def test_the_documented_clay_body_filled_in_by_clay_is_decided(client, store):
    body = as_clay_sends_it(documented_clay_body(), ROW)
    response = client.post("/webhooks/clay?mode=check", data=body, headers={"Content-Type": "application/json", **AUTH})
    assert response.status_code == 200, (body, response.get_data(as_text=True))
    assert response.json["status"] == "clear"


def test_every_token_of_the_documented_body_is_a_column_of_the_row():
    tokens = re.findall(r"/([A-Z][A-Za-z ]*[A-Za-z])", documented_clay_body())
    assert sorted(tokens) == sorted(ROW)
