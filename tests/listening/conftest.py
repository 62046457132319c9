"""A listening service on a fresh database (SQLite, then PostgreSQL) with a clock the test moves by hand."""

import pytest

from tests.listening.factories import FakeClock, make_service


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def service(tmp_path, clock, database_url):
    made = make_service(tmp_path / "data", clock, database_url=database_url)
    yield made
    made.store.dispose()
