"""Votes that hold up: resuming from a rater token, retries counted once (also when they race), a leaderboard
hidden until the test is closed, and databases made before that setting existed. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from studio.listening import ListeningError
from tests.listening.factories import ab_test, make_service, prefer_higher_pitch, rate_all

ADMIN = "correct-horse-battery"
RACERS = 8  # copies of one vote sent at the same moment


def play_current(service, clock, token: str):
    trial = service.current_trial(token)
    for slot, audio in zip("AB", trial.slots):
        clock.advance(audio.duration)
        service.confirm_played(token, slot)
    return trial


def test_a_rater_resumes_at_the_next_trial_and_a_retried_vote_counts_once(service, tmp_path, clock):
    made = ab_test(service, tmp_path / "src", items=2, attention_checks=1)
    token = service.join(made.id, "ann").token
    first = play_current(service, clock, token)
    service.vote(token, "A", first.position)
    resumed = service.resume(token)  # what a reloaded page does with the token its browser kept
    assert (resumed.test_id, resumed.trials) == (made.id, made.trials)
    assert service.current_trial(token).position == first.position + 1
    service.vote(token, "A", first.position)  # the reply was lost; the page sends it again
    assert service.summary(made.id).votes == 1
    with pytest.raises(ListeningError, match=f"trial {first.position} already has your vote \\(A\\)"):
        service.vote(token, "B", first.position)
    with pytest.raises(ListeningError, match=f"current trial is {first.position + 1}; reload"):
        service.vote(token, "A", first.position + 2)
    with pytest.raises(ListeningError, match="rater session is unknown"):
        service.resume("not-a-token")
    assert service.summary(made.id).votes == 1


def test_copies_of_one_vote_racing_each_other_count_once(service, tmp_path, clock):
    made = ab_test(service, tmp_path / "src", items=2, attention_checks=1)
    token = service.join(made.id).token
    trial = play_current(service, clock, token)
    start = threading.Barrier(RACERS)

    def send(_):
        start.wait()
        service.vote(token, "B", trial.position)

    with ThreadPoolExecutor(RACERS) as pool:
        list(pool.map(send, range(RACERS)))  # every copy is acknowledged: none raises
    records = service.vote_records(made.id)
    assert [(r.answer, r.trial_id) for r in records] == [("B", records[0].trial_id)]


def test_raters_voting_at_once_with_retries_lose_and_duplicate_nothing(tmp_path, database_url):
    ticks = itertools.count(1_000_000.0, 1.0)  # every reading of the clock is a second later: sides count as heard
    service = make_service(tmp_path / "data", lambda: next(ticks), database_url=database_url)
    made = ab_test(service, tmp_path / "src", {"low": 0.3, "high": 0.3}, items=2, attention_checks=1)
    tokens = [service.join(made.id).token for _ in range(6)]

    def rate_with_retries(token: str) -> int:
        votes = 0
        while (trial := service.current_trial(token)) is not None:
            for slot in "AB":
                service.confirm_played(token, slot)
            answer = prefer_higher_pitch(trial)
            service.vote(token, answer, trial.position)
            service.vote(token, answer, trial.position)  # the same vote again, as after a lost reply
            votes += 1
        return votes

    with ThreadPoolExecutor(len(tokens)) as pool:
        assert list(pool.map(rate_with_retries, tokens)) == [made.trials] * len(tokens)
    records = service.vote_records(made.id)
    assert len(records) == len({(r.rater_id, r.trial_id) for r in records}) == len(tokens) * made.trials
    service.store.dispose()


def test_the_leaderboard_can_be_hidden_from_raters_until_the_test_is_closed(tmp_path, clock, database_url):
    service = make_service(tmp_path / "data", clock, admin_token=ADMIN, database_url=database_url)
    made = ab_test(service, tmp_path / "src", attention_checks=0, admin_token=ADMIN)
    rate_all(service, clock, service.join(made.id).token, prefer_higher_pitch)
    with pytest.raises(ListeningError, match="needs the admin token"):
        service.hide_leaderboard(made.id, True)
    assert service.hide_leaderboard(made.id, True, ADMIN).leaderboard_hidden
    for look in (service.leaderboard, service.results):
        with pytest.raises(ListeningError, match="'tones' is hidden until the test is closed"):
            look(made.id)
    assert service.results(made.id, admin_token=ADMIN).board.votes_used == made.trials  # the admin still sees it
    service.close_test(made.id, ADMIN)
    assert service.leaderboard(made.id).votes_used == made.trials  # closed: everyone sees it
    service.store.dispose()


def test_a_database_made_before_the_hidden_setting_gains_it_and_keeps_its_tests(tmp_path, clock, database_url):
    service = make_service(tmp_path / "data", clock, database_url=database_url)
    made = ab_test(service, tmp_path / "src", attention_checks=0)
    with service.store.engine.begin() as connection:  # the table as the first release made it
        connection.execute(text("ALTER TABLE listening_tests DROP COLUMN leaderboard_hidden"))
    service.store.dispose()
    upgraded = make_service(tmp_path / "data", clock, database_url=database_url)
    assert upgraded.summary(made.id).leaderboard_hidden is False
    assert upgraded.hide_leaderboard(made.id, True).leaderboard_hidden
    upgraded.store.dispose()
