"""Running the program day to day (issue 13), on every store: one account walked through register →
conflict → review resolved → reminder → extension → expiry, reading back the rows and the events at
each step, with what the local Slack webhook and SMTP server received; and a Slack that hangs or
fails never changes an answer, is retried by the sweep, and nothing is sent twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from handlers.app import create_app
from handlers.notifications import Channels
from handlers.sweep import sweep
from integrations.mail import Mailer
from integrations.slack import SlackWebhook
from tests.fakes.slack_webhook import FakeSlackWebhook, fake_slack_webhook
from tests.fakes.smtp import FakeSMTP, fake_smtp
from tests.handlers.support import AUTH, NOW, RULES, Ids

RULES_WITH_EXTENSION = RULES + "  - extension: {times: 1, days: 30}\n"
NORTHWIND, FABRIKAM = "Northwind Partners", "Fabrikam Solutions"
NW_MAIL, FAB_MAIL = "deals@northwind.example", "channel@fabrikam.example"
ACME = {"company_name": "Acme Robotics", "company_domain": "acme-robotics.de", "country": "DE",
        "contact_email": "j.mueller@acme-robotics.de", "deal_value": 48000}


class Clock:
    """The app's clock: moves one second per reading, and by days when the test says so."""

    def __init__(self, start: datetime = NOW) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def slack() -> Iterator[FakeSlackWebhook]:
    yield from fake_slack_webhook()


@pytest.fixture
def smtp() -> Iterator[FakeSMTP]:
    yield from fake_smtp()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ops_app(settings, store, slack, smtp, clock, tmp_path):
    settings.rules.write_text(RULES_WITH_EXTENSION, encoding="utf-8")
    store.write_rows("partners", [{"partner": NORTHWIND, "contact_email": NW_MAIL},
                                  {"partner": FABRIKAM, "contact_email": FAB_MAIL}])
    # Slack's timeout is longer than the fake holds a hanging call (30 s): an answer that waited for
    # Slack could only come after the fake answered, and would find the message posted.
    channels = Channels(SlackWebhook(slack.url, timeout=60), Mailer("127.0.0.1", port=smtp.port,
                                                                    sender="partners@vendor.example", starttls=False))
    app = create_app(settings, store, clock=clock, new_id=Ids(), channels=channels)
    yield app
    app.extensions["dealreg.notifier"].flush()


def register(client, partner: str, **more) -> dict:
    response = client.post("/api/registrations", json={**ACME, "partner": partner, **more}, headers=AUTH)
    assert response.status_code == 200, response.json
    return response.json


def rows(store) -> dict[str, dict[str, str]]:
    return {r["registration_id"]: r for r in store.read_rows("registrations")}


def actions(store) -> list[tuple[str, str, str]]:
    return [(e["action"], e["registration_id"], e["status"]) for e in store.read_rows("decisions")]


def settle(app) -> None:
    app.extensions["dealreg.notifier"].flush()


def test_one_account_through_its_whole_life(ops_app, store, slack, smtp, clock, backend):
    app, client = ops_app, ops_app.test_client()
    service, notifier = app.extensions["dealreg"], app.extensions["dealreg.notifier"]
    first = register(client, NORTHWIND)
    settle(app)
    assert first["status"] == "clear", first["reason"]
    assert slack.texts == []  # a clear registration needs nobody
    assert smtp.subjects() == [f"Registration received: Acme Robotics (acme-robotics.de) ({first['registration_id']})"]

    # A second partner registers the same account: a conflict; Slack says where to resolve it.
    second = register(client, FABRIKAM)
    settle(app)
    r1, r2 = first["registration_id"], second["registration_id"]
    assert (second["status"], second["owner"], second["rule"]) == ("conflict", NORTHWIND, "first_to_register")
    assert rows(store)[r2]["status"] == "conflict"
    [conflict] = slack.texts
    assert conflict.startswith(f":warning: Conflict on Acme Robotics (acme-robotics.de): {FABRIKAM} registered {r2}; "
                               f"{NORTHWIND} owns the account (first_to_register).")
    assert f"dealreg review {r2}" in conflict
    assert smtp.subjects(FAB_MAIL) == [f"Registration conflict: Acme Robotics (acme-robotics.de) ({r2})"]

    # The partner manager resolves it through the API: the account goes to Fabrikam.
    listed = client.get("/api/reviews", headers=AUTH).json["reviews"]
    assert [(w["registration_id"], w["matched_registration_id"]) for w in listed] == [(r2, r1)]
    assert listed[0]["matched"]["partner"] == NORTHWIND
    answer = client.post(f"/api/reviews/{r2}", json={"resolution": f"give:{FABRIKAM.lower()}", "by": "sam",
                                                    "note": "Fabrikam brought the deal", "version": listed[0]["version"]},
                         headers=AUTH)
    assert answer.status_code == 200, answer.json
    assert (answer.json["owner"], answer.json["status"], answer.json["rule"]) == (FABRIKAM, "clear", "review")
    settle(app)
    after = rows(store)
    assert (after[r2]["owner"], after[r2]["status"], after[r2]["review"], after[r2]["reviewed_by"]) == (
        FABRIKAM, "clear", f"give:{FABRIKAM}", "sam")
    assert after[r2]["review_note"] == "Fabrikam brought the deal" and after[r2]["reviewed_at"]
    assert (after[r1]["owner"], after[r1]["status"], after[r1]["attribution_primary"]) == (
        FABRIKAM, "conflict", "partner-sourced")
    assert slack.texts[-1].startswith(f":white_check_mark: Resolved: Acme Robotics (acme-robotics.de) ({r2}): "
                                      f"{FABRIKAM} owns it. sam resolved the review")
    again = client.post(f"/api/reviews/{r2}", json={"resolution": "confirm"}, headers=AUTH)
    assert again.status_code == 409 and "resolved already" in again.json["error"]
    assert client.get("/api/reviews", headers=AUTH).json["reviews"] == []

    # 80 days on: the sweep reminds the owner's partner, once.
    clock.advance(days=80)
    done = sweep(service, notifier, remind_days=14)
    assert (done.reminded, done.expired) == ([r2], [])
    ends = datetime.fromisoformat(after[r2]["expires_at"])
    assert slack.texts[-1] == (f":hourglass: Expiring on {ends:%Y-%m-%d}: {FABRIKAM}'s registration {r2} for Acme "
                               f"Robotics (acme-robotics.de). The partner can ask for an extension: `dealreg extend "
                               f"{r2}`.")
    assert smtp.subjects(FAB_MAIL)[-1] == f"Your registration of Acme Robotics (acme-robotics.de) expires on {ends:%Y-%m-%d}"
    posts, mails = len(slack.posts), len(smtp.messages)
    quiet = sweep(service, notifier, remind_days=14)
    assert (quiet.reminded, quiet.expired, quiet.delivered.sent) == ([], [], [])
    assert (len(slack.posts), len(smtp.messages)) == (posts, mails)  # nothing sent twice

    # Fabrikam asks for more time: granted once (30 days), refused the second time.
    granted = client.post(f"/api/registrations/{r2}/extension", json={"by": "fabrikam"}, headers=AUTH)
    assert granted.status_code == 200 and granted.json["granted"] is True
    assert datetime.fromisoformat(granted.json["expires_at"]) == ends + timedelta(days=30)
    refused = client.post(f"/api/registrations/{r2}/extension", json={}, headers=AUTH)
    assert refused.json["granted"] is False and "allow once" in refused.json["reason"]
    settle(app)
    assert rows(store)[r2]["expires_at"] == granted.json["expires_at"] and rows(store)[r2]["extensions"] == "1"
    assert smtp.subjects(FAB_MAIL)[-2:] == [f"Extension granted: Acme Robotics (acme-robotics.de) ({r2})",
                                            f"Extension refused: Acme Robotics (acme-robotics.de) ({r2})"]

    # Past both ends: the sweep marks both expired, with an event each; a second sweep changes nothing.
    clock.advance(days=45)
    done = sweep(service, notifier, remind_days=14)
    assert sorted(done.expired) == sorted([r1, r2])
    final = rows(store)
    assert (final[r1]["state"], final[r2]["state"]) == ("expired", "expired")
    assert [a for a in actions(store) if a[0] != "register"] == [
        ("review", r2, "clear"), ("extend", r2, "clear"), ("extend", r2, "clear"), ("expire", r1, "conflict"),
        ("expire", r2, "clear")]
    assert sweep(service, notifier, remind_days=14).expired == []
    # An expired claim no longer blocks: a third partner's registration is clear, by the expiry rule.
    third = register(client, "direct")
    assert (third["status"], third["rule"]) == ("clear", "expiry")


@pytest.mark.backends("sqlite")
def test_a_hanging_slack_never_delays_an_answer_and_a_failed_send_is_retried_once(ops_app, store, slack, clock):
    app, client = ops_app, ops_app.test_client()
    register(client, NORTHWIND)
    slack.hang()  # Slack answers nothing until released
    second = register(client, FABRIKAM)
    assert second["status"] == "conflict"
    assert slack.posts == []  # answered while Slack still holds the conflict's message, not after it
    slack.release()
    settle(app)
    assert len(slack.posts) == 1

    slack.fail(500)  # the next conflict's message fails: recorded, and the sweep sends it
    third = register(client, "direct", company_name="Acme Robotics GmbH")
    settle(app)
    assert third["status"] == "conflict" and len(slack.posts) == 1 and slack.calls[-1] == (500, "rollup_error")
    clock.advance(minutes=5)  # past the grace the webhook's own thread has
    service, notifier = app.extensions["dealreg"], app.extensions["dealreg.notifier"]
    done = sweep(service, notifier, remind_days=0)
    assert len(done.delivered.sent) == 1 and len(slack.posts) == 2
    assert f"registered {third['registration_id']}" in slack.texts[-1]
    assert sweep(service, notifier, remind_days=0).delivered.sent == []  # never twice
    assert len(slack.posts) == 2


@pytest.mark.backends("sqlite")
def test_a_removed_webhook_is_not_retried_and_the_sweep_names_the_fix(ops_app, store, slack, clock):
    app, client = ops_app, ops_app.test_client()
    register(client, NORTHWIND)
    slack.fail(404)
    register(client, FABRIKAM)
    settle(app)
    clock.advance(minutes=5)
    done = sweep(app.extensions["dealreg"], app.extensions["dealreg.notifier"], remind_days=0)
    assert done.delivered.sent == [] and slack.posts == []
    assert any("no longer exists" in line and "DEALREG_SLACK_WEBHOOK_URL" in line for line in done.lines())
