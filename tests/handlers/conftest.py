from __future__ import annotations

import pytest

from config.settings import Settings
from handlers.app import create_app
from integrations.sqlite import SQLiteStore
from tests.handlers.support import API_KEY, TYPEFORM_SECRET, Ids, StepClock, write_rules


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings in tests come from the test, never from the developer's shell."""
    import os

    for name in list(os.environ):
        if name.startswith("DEALREG_"):
            monkeypatch.delenv(name)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(_env_file=None, db=tmp_path / "dealreg.db", rules=write_rules(tmp_path),
                    typeform_secret=TYPEFORM_SECRET, api_key=API_KEY)


@pytest.fixture
def store(settings):
    store = SQLiteStore(settings.db)
    yield store
    store.close()


@pytest.fixture
def app(settings, store):
    return create_app(settings, store, clock=StepClock(), new_id=Ids())


@pytest.fixture
def client(app):
    return app.test_client()
