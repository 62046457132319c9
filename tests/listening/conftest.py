"""A listening service on a fresh SQLite database with a clock the test moves by hand."""

import pytest

from tests.listening.factories import FakeClock, make_service


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def service(tmp_path, clock):
    return make_service(tmp_path / "data", clock)
