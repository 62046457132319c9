"""Roles through the real running app: with STUDIO_ADMIN_TOKEN set, admin actions need a session signed in with
it and anonymous visitors recognise, synthesise and take tests within the quotas; without it, all is open."""

from __future__ import annotations

from dataclasses import replace

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from studio.access import AccessPolicy
from studio.assets import example_recordings
from studio.quotas import PUBLIC
from studio.ui.systems import NONE
from tests.ui.conftest import free_port

TOKEN = "correct-horse-battery-staple"
RATE = 3  # requests a minute per session: low, so the test reaches it


@pytest.fixture(scope="module")
def public_url(tmp_path_factory):
    with pytest.MonkeyPatch.context() as env:
        env.setenv("STUDIO_DATA_DIR", str(tmp_path_factory.mktemp("public-data")))
        env.setenv("STUDIO_RESULTS_DIR", str(tmp_path_factory.mktemp("public-results")))
        from studio.ui.app import build_app

        policy = AccessPolicy(TOKEN, replace(PUBLIC, requests_per_minute=RATE), max_loaded_mb=2000)
        demo = build_app(policy=policy)
        demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
        yield demo.local_url
        demo.close()


def recognize(client: Client) -> str:
    example = example_recordings()[0]
    transcript, *_ = client.predict(handle_file(str(example.path)), example.text, "pocketsphinx", "", NONE, "",
                                    NONE, "", api_name="/recognize")
    return transcript


def synthesize(client: Client):
    return client.predict("Hello there.", NONE, None, "espeak-ng", "", NONE, "", NONE, "", api_name="/synthesize")


def test_anonymous_visitors_are_refused_admin_actions_and_may_recognise_and_synthesise(public_url):
    anonymous = Client(public_url, verbose=False, download_files=False)
    refusals = {
        "loading a model needs the admin token": lambda: anonymous.predict("pocketsphinx", api_name="/load_model"),
        "unloading a model needs the admin token": lambda: anonymous.predict("pocketsphinx",
                                                                             api_name="/unload_model"),
        r"running a shipped evaluation config \(or a Ray run\) needs the admin token":
            lambda: anonymous.predict("demo_asr", 1, api_name="/evaluate"),
        "that is not the admin token": lambda: anonymous.predict("guess-guess-guess", api_name="/admin_sign_in"),
        "needs the admin token \\(STUDIO_ADMIN_TOKEN\\)": lambda: anonymous.predict(
            "", "test", "ab", 0, "", "espeak-ng", "Hello.", False, 0, api_name="/listen_create_tts"),
    }
    for message, call in refusals.items():
        with pytest.raises(AppError, match=message):
            call()
    for endpoint in ("/listen_close", "/listen_delete"):
        with pytest.raises(AppError, match="needs the admin token"):
            anonymous.predict("", "some-test", api_name=endpoint)
    with pytest.raises(AppError, match="needs the admin token"):
        anonymous.predict("", "some-test", False, api_name="/listen_export")

    assert recognize(anonymous).strip()  # the model loads on demand, within the memory budget
    assert synthesize(anonymous)[0]  # espeak-ng's audio
    assert recognize(anonymous).strip()
    with pytest.raises(AppError, match=rf"too many requests: at most {RATE} a minute per browser session "
                                       r"\(STUDIO_REQUESTS_PER_MINUTE\); try again in \d+ s"):
        synthesize(anonymous)


def test_a_session_signed_in_with_the_token_may_load_and_unload_and_others_still_may_not(public_url):
    admin = Client(public_url, verbose=False, download_files=False)
    assert "Signed in as admin" in admin.predict(TOKEN, api_name="/admin_sign_in")
    _, memory, _ = admin.predict("hama", api_name="/load_model")
    assert "Memory budget for loaded models:" in memory and "of 2,000 MB" in memory and "hama" in memory
    rows, memory, _ = admin.predict("hama", api_name="/unload_model")
    assert "hama" not in memory.split("resident")[-1]
    anonymous = Client(public_url, verbose=False, download_files=False)
    with pytest.raises(AppError, match="loading a model needs the admin token"):
        anonymous.predict("hama", api_name="/load_model")


def test_without_the_token_every_action_is_open(client):
    """The local single-user app (tests/ui/conftest.py: no STUDIO_ADMIN_TOKEN): no sign-in, no quota."""
    _, memory, _ = client.predict("espeak-ng", api_name="/load_model")
    assert "no memory budget" in memory
    client.predict("espeak-ng", api_name="/unload_model")
    assert "/admin_sign_in" not in client.view_api(print_info=False, return_format="dict")["named_endpoints"]
