"""The Listen tab through the real running app: many raters voting at the same moment lose no vote."""

from __future__ import annotations

import time
import zipfile
from concurrent.futures import ThreadPoolExecutor

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from sqlalchemy import func, select

from studio.listening import ListeningService, ListeningSettings, Store
from studio.listening.models import RaterRow, VoteRow
from tests.listening.factories import (TONE_SECONDS, ab_test, launch_listen_tab, make_service, tone_folders,
                                       trial_number)

RATERS = 24
LISTEN_SECONDS = 2 * TONE_SECONDS + 0.05  # both sides, one after the other


@pytest.fixture
def listen_app(tmp_path):
    service = make_service(tmp_path / "data")
    made = ab_test(service, tmp_path / "src", items=2, attention_checks=1)
    demo, url = launch_listen_tab(service)
    yield service, made, url
    demo.close()


def rate_through_the_api(url: str, test_id: str, rater: int) -> int:
    """One rater's session as a browser would drive it; returns the votes the app accepted."""
    client = Client(url, verbose=False, download_files=False, httpx_kwargs={"timeout": 120})  # 24 at once: slow /info
    token, progress, *_ = client.predict(None, test_id, f"rater-{rater}", api_name="/listen_join")
    votes = 0
    while "done" not in progress:
        time.sleep(LISTEN_SECONDS)
        client.predict(token, api_name="/listen_played_a")
        client.predict(token, api_name="/listen_played_b")
        progress, *_ = client.predict(token, ["A", "B"][(rater + votes) % 2], trial_number(progress),
                                      api_name="/listen_vote")
        votes += 1
    return votes


def test_twenty_four_raters_voting_at_once_lose_no_vote(listen_app, tmp_path):
    service, made, url = listen_app
    with ThreadPoolExecutor(RATERS) as pool:
        accepted = list(pool.map(lambda rater: rate_through_the_api(url, made.id, rater), range(RATERS)))
    assert accepted == [made.trials] * RATERS
    summary = service.summary(made.id)
    assert (summary.raters, summary.votes) == (RATERS, RATERS * made.trials)
    with service.store.transaction() as session:
        per_rater = session.execute(select(VoteRow.rater_id, func.count()).group_by(VoteRow.rater_id)).all()
        names = set(session.scalars(select(RaterRow.name)))
    assert sorted(count for _, count in per_rater) == [made.trials] * RATERS
    assert names == {f"rater-{n}" for n in range(RATERS)}
    # A restarted app (a fresh engine on the same data folder) sees every vote.
    service.store.dispose()
    restarted = ListeningService(Store(ListeningSettings(data_dir=tmp_path / "data")))
    assert restarted.summary(made.id).votes == RATERS * made.trials
    board = restarted.leaderboard(made.id, include_flagged=True)  # all picked a side on the identical pair
    assert (board.votes_used, board.raters_flagged) == (RATERS * (made.trials - 1), RATERS)


def test_a_vote_without_playback_is_refused_by_the_app(tmp_path):
    # 5 s samples: the "ended" event below comes sooner than that even on a busy machine
    service = make_service(tmp_path / "data")
    made = ab_test(service, tmp_path / "src", items=2, attention_checks=1, seconds=5.0)
    demo, url = launch_listen_tab(service)
    client = Client(url, verbose=False, download_files=False)
    token, *_ = client.predict(None, made.id, "", api_name="/listen_join")
    with pytest.raises(AppError, match="play sample A and B to the end"):
        client.predict(token, "A", 1, api_name="/listen_vote")
    with pytest.raises(AppError, match="play it to the end"):  # an "ended" event sent straight away
        client.predict(token, api_name="/listen_played_a")
    with pytest.raises(AppError, match="press Start"):  # no token, no rater
        client.predict(None, api_name="/listen_played_a")
    demo.close()


def test_admin_endpoints_need_the_token_and_accept_a_zip_of_system_folders(tmp_path):
    service = make_service(tmp_path / "data", admin_token="correct-horse-battery")
    folders = tone_folders(tmp_path / "src", {"one": 0.2, "two": 0.4})
    archive = tmp_path / "systems.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for system, folder in folders.items():
            for path in folder.iterdir():
                zipped.write(path, f"{system}/{path.name}")
    demo, url = launch_listen_tab(service)
    try:
        client = Client(url, verbose=False, download_files=False)
        create = {"test_name": "zip", "test_kind": "ab", "attention": 1, "reference_system": "",
                  "upload": handle_file(str(archive)), "api_name": "/listen_create_zip"}
        with pytest.raises(Exception, match="needs the admin token"):
            client.predict(token="wrong-token", **create)
        created, test_id, _ = client.predict(token="correct-horse-battery", **create)
        assert f"?test={test_id}" in created or f"test={test_id}" in created
        assert service.summary(test_id).systems == ("one", "two")
        with pytest.raises(Exception, match="needs the admin token"):
            client.predict("", test_id, False, api_name="/listen_export")
        exported = client.predict("correct-horse-battery", test_id, False, api_name="/listen_export")
        assert len(exported) == 2
    finally:
        demo.close()
