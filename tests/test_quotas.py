"""Quotas: each limit refuses with a message naming it and its variable; a finished request frees its slots."""

from __future__ import annotations

import threading
import time

import pytest

from studio.access import AccessPolicy
from studio.errors import ConfigError
from studio.quotas import PUBLIC, QuotaExceeded, Quotas, QuotaSettings


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def blocked(quotas: Quotas, session: str, runs: bool = True) -> tuple[threading.Event, threading.Thread, list]:
    """A request from `session` that runs until the returned event is set (a thread drives it); returns once
    it runs (`runs`), else once it is admitted (it waits in the queue)."""
    release, started, results = threading.Event(), threading.Event(), []
    admitted = quotas.admitted

    def work():
        started.set()
        release.wait(10)
        yield "done"

    thread = threading.Thread(target=lambda: results.extend(quotas.run(session, work)))
    thread.start()
    wait_until(started.is_set if runs else lambda: quotas.admitted > admitted)
    return release, thread, results


def wait_until(condition, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError("condition not reached")


def test_one_running_request_per_session():
    quotas = Quotas(QuotaSettings(jobs_per_session=1))
    release, thread, results = blocked(quotas, "alice")
    with pytest.raises(QuotaExceeded, match=r"your previous request is still running: one browser session may "
                                            r"have 1 running at a time \(STUDIO_JOBS_PER_SESSION\)"):
        list(quotas.run("alice", lambda: iter(["second"])))
    assert list(quotas.run("bob", lambda: iter(["other session"]))) == ["other session"]
    release.set()
    thread.join()
    assert results == ["done"]
    assert list(quotas.run("alice", lambda: iter(["after"]))) == ["after"]


def test_a_full_queue_says_how_many_requests_are_ahead():
    quotas = Quotas(QuotaSettings(running_jobs=1, queue_size=1))
    first = blocked(quotas, "a")
    second = blocked(quotas, "b", runs=False)  # waits for the one running slot
    with pytest.raises(QuotaExceeded, match=r"busy: 2 requests ahead of yours and the queue is full \(1 run at once, "
                                            r"1 wait: STUDIO_RUNNING_JOBS, STUDIO_QUEUE_SIZE\); try again"):
        list(quotas.run("c", lambda: iter(["refused"])))
    for release, thread, _ in (first, second):
        release.set()
        thread.join()
    assert first[2] == second[2] == ["done"]  # the queued request ran once the first was done
    assert list(quotas.run("c", lambda: iter(["now"]))) == ["now"]


def test_the_request_rate_names_the_limit_and_when_to_retry():
    clock = FakeClock()
    quotas = Quotas(QuotaSettings(requests_per_minute=2), clock)
    for _ in range(2):
        assert list(quotas.run("alice", lambda: iter([1]))) == [1]
    clock.now += 15
    with pytest.raises(QuotaExceeded, match=r"too many requests: at most 2 a minute per browser session "
                                            r"\(STUDIO_REQUESTS_PER_MINUTE\); try again in 45 s"):
        list(quotas.run("alice", lambda: iter([1])))
    assert list(quotas.run("bob", lambda: iter([1]))) == [1]  # each session has its own window
    clock.now += 46
    assert list(quotas.run("alice", lambda: iter([1]))) == [1]


def test_a_request_past_its_wall_time_is_stopped_and_keeps_its_slot_until_its_work_ends():
    quotas = Quotas(QuotaSettings(jobs_per_session=1, request_seconds=0.2))
    release, steps = threading.Event(), []

    def work():
        steps.append("first")
        yield "first"
        release.wait(10)  # a model call that cannot be interrupted
        steps.append("second")
        yield "second"
        steps.append("never: stopped after the result in hand")

    shown, asked_to_stop = [], []
    with pytest.raises(QuotaExceeded, match=r"stopped: this request ran past 0.2 s, the limit per request "
                                            r"\(STUDIO_REQUEST_SECONDS\)"):
        for item in quotas.run("alice", work, on_timeout=lambda: asked_to_stop.append(True)):
            shown.append(item)
    assert shown == ["first"] and asked_to_stop == [True]
    with pytest.raises(QuotaExceeded, match="still running"):  # the timed-out work still holds the session
        list(quotas.run("alice", lambda: iter([1])))
    release.set()
    wait_until(lambda: quotas.admitted == 0)
    assert steps == ["first", "second"]
    assert list(quotas.run("alice", lambda: iter([1]))) == [1]


def test_errors_inside_a_request_reach_the_caller_and_free_the_slot():
    quotas = Quotas(QuotaSettings(jobs_per_session=1))

    def failing():
        raise ConfigError("bad option")
        yield

    with pytest.raises(ConfigError, match="bad option"):
        list(quotas.run("alice", failing))
    assert list(quotas.run("alice", lambda: iter([1]))) == [1]


def test_settings_come_from_the_environment_with_public_defaults():
    assert AccessPolicy.from_env({}).quotas == QuotaSettings()  # local mode: no quota unless set
    assert not QuotaSettings().any and QuotaSettings().describe() == "no quotas"
    assert PUBLIC.describe() == ("1 running request(s) per session · 20 requests a minute · 300 s per request · "
                                 "2 requests run at once · 8 wait")
    public = AccessPolicy.from_env({"STUDIO_ADMIN_TOKEN": "correct-horse-battery", "STUDIO_REQUESTS_PER_MINUTE": "5",
                                    "STUDIO_REQUEST_SECONDS": "0"})
    assert public.quotas == QuotaSettings(jobs_per_session=PUBLIC.jobs_per_session, running_jobs=PUBLIC.running_jobs,
                                          queue_size=PUBLIC.queue_size, requests_per_minute=5, request_seconds=None)
    assert AccessPolicy.from_env({"STUDIO_JOBS_PER_SESSION": "1"}).quotas == QuotaSettings(jobs_per_session=1)
    with pytest.raises(ConfigError, match="STUDIO_QUEUE_SIZE must be a whole number; got 'many'"):
        AccessPolicy.from_env({"STUDIO_QUEUE_SIZE": "many"})
    with pytest.raises(ConfigError, match="set STUDIO_RUNNING_JOBS too"):
        AccessPolicy.from_env({"STUDIO_QUEUE_SIZE": "3"})
    with pytest.raises(ConfigError, match="STUDIO_ADMIN_TOKEN is shorter than 8"):
        AccessPolicy.from_env({"STUDIO_ADMIN_TOKEN": "short"})
    with pytest.raises(ConfigError, match="STUDIO_MAX_LOADED_MB must be a number"):
        AccessPolicy.from_env({"STUDIO_MAX_LOADED_MB": "lots"})
