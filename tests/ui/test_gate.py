"""Quotas as a browser meets them: callbacks bound through the gate in a running Gradio app, one session per
gradio_client, each refusal shown with the limit it hit. The callbacks wait on events, so nothing here is timed."""

from __future__ import annotations

import threading
import time

import gradio as gr
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from studio.access import AccessPolicy
from studio.quotas import QuotaSettings
from studio.ui.common import bind
from studio.ui.gate import Gate, gated
from tests.ui.conftest import free_port

LIMIT_SECONDS = 1.0


class Jobs:
    """What the callbacks wait on: one event per name, released by the test."""

    def __init__(self):
        self.started = {name: threading.Event() for name in ("first", "second", "late")}
        self.release = {name: threading.Event() for name in self.started}


def wait_for(jobs: Jobs, name: str, request: gr.Request) -> str:
    jobs.started[name].set()
    jobs.release[name].wait(30)
    return f"{name} done"


def echo(jobs: Jobs, first: str, request: gr.Request, progress=gr.Progress(), *rest: str) -> str:
    """The Evaluate tab's shape: its own request and progress before varargs."""
    progress(0.5, desc="halfway")
    return f"{first}|{request.session_hash is not None}|{','.join(rest)}"


def count_to(jobs: Jobs, n: float):
    for i in range(int(n)):
        yield str(i + 1)


@pytest.fixture
def gated_app():
    jobs = Jobs()
    policy = AccessPolicy("correct-horse-battery", QuotaSettings(jobs_per_session=1, running_jobs=1, queue_size=1,
                                                                 request_seconds=LIMIT_SECONDS))
    gate = Gate(policy)
    with gr.Blocks() as demo, gated(gate):
        name, number, out = gr.Textbox(), gr.Number(), gr.Textbox()
        gr.Button().click(bind(wait_for, jobs, job=True), name, out, api_name="wait")
        gr.Button().click(bind(count_to, jobs, job=True), number, out, api_name="count")
        gr.Button().click(bind(echo, jobs, job=True), [name, name, name], out, api_name="echo")
        gr.Button().click(bind(wait_for, jobs, admin="waiting as an admin"), name, out, api_name="admin_wait")
    demo.queue(default_concurrency_limit=8)
    demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
    yield jobs, gate, demo.local_url
    for event in jobs.release.values():
        event.set()
    demo.close()


def test_session_queue_and_wall_time_limits_reach_the_browser_by_name(gated_app):
    jobs, gate, url = gated_app
    alice, bob, carol = (Client(url, verbose=False) for _ in range(3))
    assert alice.predict(3, api_name="/count") == "3"  # a streamed callback: its last value
    assert alice.predict("a", "b", "c", api_name="/echo") == "a|True|b,c"  # its request, progress and varargs
    first = alice.submit("first", api_name="/wait")
    assert jobs.started["first"].wait(30)
    with pytest.raises(AppError, match=r"your previous request is still running: one browser session may have 1 "
                                       r"running at a time \(STUDIO_JOBS_PER_SESSION\)"):
        alice.predict(2, api_name="/count")
    second = bob.submit("second", api_name="/wait")  # waits for the one running slot
    for _ in range(300):  # until bob's request waits in the queue
        if gate.quotas.admitted == 2:
            break
        time.sleep(0.1)
    with pytest.raises(AppError, match=r"busy: 2 requests ahead of yours and the queue is full"):
        carol.predict(2, api_name="/count")
    # alice's request has run past its wall time since it started: she is told so, naming the limit
    with pytest.raises(AppError, match=rf"stopped: this request ran past {LIMIT_SECONDS:g} s, the limit per request "
                                       r"\(STUDIO_REQUEST_SECONDS\)"):
        first.result(timeout=30)
    assert not jobs.started["second"].is_set()  # alice's work still holds the slot until it really ends
    jobs.release["first"].set()
    assert jobs.started["second"].wait(30)
    jobs.release["second"].set()
    assert second.result(timeout=30) == "second done"  # bob's wall time started when his request did
    assert carol.predict(2, api_name="/count") == "2"


def test_admin_only_callbacks_need_a_signed_in_session(gated_app):
    jobs, _, url = gated_app
    anonymous = Client(url, verbose=False)
    with pytest.raises(AppError, match="waiting as an admin needs the admin token: sign in with STUDIO_ADMIN_TOKEN"):
        anonymous.predict("late", api_name="/admin_wait")
    assert not jobs.started["late"].is_set()
