"""How a backend finds the first decision of a registration (integrations/store/first_decisions.py):
remembered, else the row's own columns, else needs_review naming the row: never clear, never an
error the sender retries for ever."""

from __future__ import annotations

import pytest

from dealreg.models import Decision, MatchLevel, Quarantined, Status
from integrations.store.first_decisions import Remembered, row_decision, unreadable


def decision(owner: str = "Northwind Partners", rid: str = "R-1") -> Decision:
    return Decision(Status.CLEAR, owner, "partner-sourced", "", "", MatchLevel.NONE, 0, (), "no_match", "first",
                    registration_id=rid)


def test_a_decision_is_remembered_by_registration_id_and_by_external_id():
    memory = Remembered()
    first = decision()
    memory.remember(first, "R-1", "typeform", "tok-1")
    assert memory.of_registration("R-1") is first
    assert memory.of_external("typeform", "tok-1") is first
    assert memory.of_external("clay", "tok-1") is None  # the same id from another source is another record
    assert memory.of_external("typeform", "") is None


def test_a_registration_without_an_external_id_is_remembered_by_its_id_only():
    memory = Remembered()
    memory.remember(decision(), "R-1", "api", "")
    assert memory.of_registration("R-1") is not None and memory.of_external("api", "") is None


def test_the_oldest_are_forgotten_past_the_size():
    memory = Remembered(size=4)
    for n in range(3):  # two entries each: by id and by external id
        memory.remember(decision(rid=f"R-{n}"), f"R-{n}", "typeform", f"tok-{n}")
    assert memory.of_registration("R-0") is None and memory.of_external("typeform", "tok-0") is None
    assert memory.of_registration("R-2") is not None and memory.of_external("typeform", "tok-1") is not None


ROW = {"registration_id": "R-7", "partner": "Northwind Partners", "status": "conflict", "owner": "Contoso",
       "attribution_primary": "partner-sourced", "matched_registration_id": "R-3", "match": "match",
       "match_confidence": "100", "match_evidence": "domain;country", "rule": "first_to_register",
       "reason": "Contoso registered Acme first.", "registration_id_typo": "ignored"}


def test_a_rows_own_columns_are_its_decision():
    found = row_decision(ROW)
    assert (found.status, found.owner, found.matched_registration_id, found.match_confidence, found.match_evidence,
            found.rule, found.party) == (Status.CONFLICT, "Contoso", "R-3", 100, ("domain", "country"),
                                         "first_to_register", "Northwind Partners")


def test_a_row_with_no_status_was_taken_as_a_claim_and_reads_as_clear():
    found = row_decision({"registration_id": "R-7", "partner": "Northwind Partners", "owner": "Northwind Partners",
                          "rule": "no_match", "reason": "imported"})
    assert found.status is Status.CLEAR


@pytest.mark.parametrize("row", [
    {**ROW, "status": "bogus"},
    {**ROW, "match_confidence": "high"},
    {**ROW, "expires_at": "soon"},
    {name: value for name, value in ROW.items() if name != "rule"},  # the column deleted
], ids=["status", "match_confidence", "expires_at", "no rule"])
def test_a_row_edited_into_something_unanswerable_is_needs_review_naming_it(row):
    found = row_decision(row)
    assert (found.status, found.rule, found.owner, found.matched_registration_id) == (
        Status.NEEDS_REVIEW, "quarantine", "", "R-7")
    assert found.reason == ("This submission was registered before as R-7, which cannot be read; "
                            "a person should check it.")


def test_needs_review_names_where_the_registration_is_and_the_cells_to_fix():
    unread = Quarantined("registrations", "Registrations row 9 (R-7)", ("duns (H9) '12': DUNS must have 9 digits",))
    found = unreadable("R-7", " (HubSpot deal 42)", unread)
    assert found.reason == ("This submission was registered before as R-7 (HubSpot deal 42), which cannot be read; "
                            "a person should check it. Fix: Registrations row 9 (R-7): duns (H9) '12': DUNS must "
                            "have 9 digits.")
    assert row_decision({**ROW, "status": "bogus"}, unread).reason.endswith(f"Fix: {unread.describe()}.")
