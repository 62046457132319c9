"""The whole app (`python app.py`) killed with SIGKILL in the middle of a listening test that 50 raters are taking at
once, then restarted on the same data folder: the raters go on with the tokens their browsers kept, resending the
calls the outage cut off, and not one acknowledged vote is lost or counted twice.

Runtime: two app start-ups (about 15-25 s each) plus the raters' listening time: 293 s on 2 cores with a load
average of 13-28 from other jobs (300 votes, killed after 100, 50 calls resent). Marked `models`: the whole app
starts with its bundled models.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from sqlalchemy import select

from studio.listening.export import leaderboard_from_export, read_votes
from studio.listening.models import RaterRow
from tests.listening.factories import TONE_SECONDS, ab_test, make_service, trial_number
from tests.ui.conftest import free_port

pytestmark = pytest.mark.models

ROOT = Path(__file__).resolve().parents[2]
RATERS = 50
SYSTEMS = {"low": 0.2, "mid": 0.3, "high": 0.4}  # 3 pairs x 2 items = 6 trials per rater, no attention checks
KILL_AFTER_VOTES = 100  # acknowledged votes before the server is killed: a third of the test
LISTEN_SECONDS = 2 * TONE_SECONDS + 0.05  # both sides, one after the other
START_SECONDS = 600  # an app start-up on a busy machine
READY_LINE = "To create a public link"  # printed by launch() after its self-check (the URL line comes before)
START_ATTEMPTS = 3  # Gradio quits at start-up when its own 3 s self-check times out on an overloaded machine
OUTAGE_SECONDS = 700  # how long a rater keeps resending a call before giving up
ANSWERS = ("A", "B", "No preference")


class App:
    """app.py as a server process on a port of its own, with the listening data in `data_dir`."""

    def __init__(self, data_dir: Path, results_dir: Path, logs: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.env = {**os.environ, "STUDIO_DATA_DIR": str(data_dir), "STUDIO_RESULTS_DIR": str(results_dir),
                    "GRADIO_SERVER_PORT": str(self.port), "GRADIO_SERVER_NAME": "127.0.0.1", "PYTHONPATH": str(ROOT),
                    "PYTHONUNBUFFERED": "1"}
        self.env.pop("STUDIO_ADMIN_TOKEN", None)  # local mode: the test exports without a token
        self.logs = logs
        self.starts = 0
        self.process: subprocess.Popen | None = None
        self.up = threading.Event()  # raters wait on it while the server is down instead of hammering the port
        self.abandoned = False  # the test failed: raters stop resending

    def start(self) -> None:
        """Start app.py and wait until it answers, starting it again if it quits on the way, as a process
        supervisor (a Space, systemd) would."""
        for _ in range(START_ATTEMPTS):
            if self._start_once():
                return
        pytest.fail(f"app.py quit at start-up {START_ATTEMPTS} times: {self.log_tail()}")

    def _start_once(self) -> bool:
        self.starts += 1
        log = open(self.logs / f"app-{self.starts}.log", "w")
        self.process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=self.env, stdout=log,
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            if READY_LINE in (self.logs / f"app-{self.starts}.log").read_text(errors="replace"):
                self.up.set()
                return True
            time.sleep(0.5)
        pytest.fail(f"app.py did not answer within {START_SECONDS} s: {self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hook, no flush, as when a machine or container dies."""
        self.up.clear()
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def abandon(self) -> None:
        """The test failed: raters stop resending."""
        self.abandoned = True
        self.up.set()

    def stop(self) -> None:
        self.abandon()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def log_tail(self) -> str:
        return (self.logs / f"app-{self.starts}.log").read_text(errors="replace")[-3000:]


class Rater:
    """One rater's browser, driven through the API: keeps its token and resends a call an outage cut off."""

    def __init__(self, app: App, number: int):
        self.app, self.url, self.number = app, app.url, number
        self.client: Client | None = None
        self.token: str | None = None
        self.acknowledged: list[tuple[int, str]] = []  # (trial number, answer) the app confirmed
        self.resent = 0

    def call(self, *arguments, api_name: str):
        deadline = time.monotonic() + OUTAGE_SECONDS
        while True:
            try:
                if self.client is None:  # a reloaded page: a new session, resumed from the kept token
                    client = Client(self.url, verbose=False, download_files=False, httpx_kwargs={"timeout": 120})
                    if self.token:
                        client.predict(self.token, api_name="/listen_resume")  # as the page does on load
                    self.client = client
                return self.client.predict(*arguments, api_name=api_name)
            except AppError as error:
                if not _cut_off(error):
                    raise  # the app refused the call: a real failure, never retried
            except Exception:  # connection refused, reset or ended while the server is down
                pass
            if time.monotonic() > deadline or self.app.abandoned:
                raise TimeoutError(f"rater {self.number}: {api_name} failed for {OUTAGE_SECONDS} s")
            self.client, self.resent = None, self.resent + 1
            time.sleep(0.5)
            self.app.up.wait(OUTAGE_SECONDS)

    def join(self, test_id: str) -> str:
        self.token, progress, *_ = self.call(None, test_id, f"rater-{self.number}", api_name="/listen_join")
        return progress

    def rate_to_the_end(self, progress: str, acknowledged: "Counter") -> None:
        while (trial := trial_number(progress)) is not None:
            time.sleep(LISTEN_SECONDS)
            self.call(self.token, api_name="/listen_played_a")
            self.call(self.token, api_name="/listen_played_b")
            answer = ANSWERS[(self.number + trial) % len(ANSWERS)]
            progress, *_ = self.call(self.token, answer, trial, api_name="/listen_vote")
            self.acknowledged.append((trial, answer))
            acknowledged.add()


def _cut_off(error: AppError) -> bool:
    """An error the client reports when the server went away mid-call, not a refusal by the app."""
    return not str(error).strip() or "connection" in str(error).lower()


class Counter:
    def __init__(self):
        self.value, self._lock = 0, threading.Lock()

    def add(self) -> None:
        with self._lock:
            self.value += 1


def test_fifty_raters_lose_and_duplicate_no_vote_when_the_app_is_killed_and_restarted(tmp_path):
    started = time.monotonic()
    service = make_service(tmp_path / "data")
    made = ab_test(service, tmp_path / "src", SYSTEMS, items=2, attention_checks=0)
    app = App(tmp_path / "data", tmp_path / "results", tmp_path)
    app.start()
    acknowledged = Counter()
    raters = [Rater(app, n) for n in range(RATERS)]
    try:
        with ThreadPoolExecutor(RATERS) as pool:
            try:
                first_trials = list(pool.map(lambda rater: rater.join(made.id), raters))
                running = [pool.submit(rater.rate_to_the_end, progress, acknowledged)
                           for rater, progress in zip(raters, first_trials)]
                while acknowledged.value < KILL_AFTER_VOTES and not any(r.done() for r in running):
                    assert app.process.poll() is None, f"app.py quit on its own: {app.log_tail()}"
                    time.sleep(0.05)
                killed_at = acknowledged.value
                app.kill()
                time.sleep(1.0)  # calls in flight fail; raters start resending
                app.start()
                for finished in running:
                    finished.result()
            except BaseException:
                app.abandon()  # else the pool waits for raters resending to a server that will not come
                raise
        exporter = Client(app.url, verbose=False, httpx_kwargs={"timeout": 120})
        votes_csv, board_csv = exporter.predict("", made.id, True, api_name="/listen_export")
    finally:
        app.stop()
    elapsed = time.monotonic() - started

    assert 0 < killed_at < RATERS * made.trials  # the kill came mid-test
    assert sum(r.resent for r in raters) > 0  # some calls were cut off and sent again
    records = read_votes(Path(votes_csv))
    with service.store.transaction() as session:
        rater_ids = dict(session.execute(select(RaterRow.name, RaterRow.id)).all())
    assert len(rater_ids) == RATERS  # everyone joined once
    for rater in raters:
        assert [t for t, _ in rater.acknowledged] == list(range(1, made.trials + 1))
        exported = [r.answer for r in sorted(records, key=lambda r: r.vote_id)
                    if r.rater_id == rater_ids[f"rater-{rater.number}"]]
        assert exported == [answer for _, answer in rater.acknowledged]  # 0 lost, 0 duplicated, in order
    assert len(records) == len({(r.rater_id, r.trial_id) for r in records}) == RATERS * made.trials
    recomputed = leaderboard_from_export(Path(votes_csv), include_flagged=True).to_frame()
    live = pd.read_csv(board_csv)
    pd.testing.assert_frame_equal(live, pd.read_csv(io.StringIO(recomputed.to_csv(index=False))))
    print(f"{RATERS} raters, {len(records)} votes, killed after {killed_at}, {sum(r.resent for r in raters)} calls "
          f"resent, {elapsed:.0f} s")
