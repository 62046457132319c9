"""A researcher's own recordings in a real browser: upload a zip, compare two systems, share the result.

The zip is built here from the project's own Piper voice reading the test sentences; nothing
comes from outside the project.
"""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.models]
DOCS = Path(__file__).resolve().parents[2] / "docs"
# The README picture is refreshed only on request (STUDIO_UPDATE_DOCS=1), so a test run leaves the checkout clean
UPDATE_DOCS = os.environ.get("STUDIO_UPDATE_DOCS") == "1"


@pytest.fixture(scope="module")
def recordings_zip(tmp_path_factory, piper_speech) -> Path:
    """Three clips with a transcript beside each, plus a stray file the upload skips."""
    path = tmp_path_factory.mktemp("upload") / "my-recordings.zip"
    with zipfile.ZipFile(path, "w") as zipped:
        for number, (text, audio) in enumerate(piper_speech, start=1):
            zipped.writestr(f"my-recordings/clip{number}.wav", audio.to_wav_bytes())
            zipped.writestr(f"my-recordings/clip{number}.txt", text)
        zipped.writestr("my-recordings/notes.md", "recorded in the kitchen")
    return path


def open_your_data(page: Page, url: str) -> None:
    page.goto(url)
    page.get_by_role("tab", name="Evaluate").click()
    expect(page.locator("#your-run")).to_be_visible(timeout=30_000)


def upload(page: Page, selector: str, path: Path) -> None:
    page.locator(f"{selector} input[type=file]").set_input_files(str(path))
    expect(page.locator(selector).get_by_role("cell", name=path.name)).to_be_visible(timeout=30_000)


def test_upload_compare_two_systems_and_share_the_result(app_url, browser_page, recordings_zip):
    page = browser_page
    open_your_data(page, app_url)
    upload(page, "#your-zip", recordings_zip)
    # two systems: whisper-tiny.en with greedy search typed into its options, and pocketsphinx
    mine = page.locator("#your-data")
    expect(mine.get_by_label("System 1").first).to_have_value("whisper-tiny.en")
    expect(mine.get_by_label("System 2").first).to_have_value("pocketsphinx")
    mine.get_by_label("options").first.fill("beam_size=1")
    page.locator("#your-run").click()
    status = page.locator("#your-status textarea")
    expect(status).to_have_value(re.compile(r"finished .*3 clips.*1 other files skipped.*\?run="), timeout=300_000)
    summary = page.locator("#your-summary")
    expect(summary).to_contain_text("whisper-tiny.en [beam_size=1]")
    expect(summary).to_contain_text("pocketsphinx")
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=30_000)  # speed vs quality, Pareto front
    table = page.locator("#your-utterances")
    for number in (1, 2, 3):
        expect(table).to_contain_text(f"my-recordings/clip{number}")
    table.get_by_text("my-recordings/clip1").first.click()  # a row plays its clip and shows its word diff
    expect(page.locator("#your-note")).to_contain_text("my-recordings/clip1", timeout=30_000)
    expect(page.locator("#your-audio audio, #your-audio button[aria-label='Play']").first).to_be_attached()
    expect(page.locator("#your-diff")).to_contain_text("quick", timeout=30_000)
    page.locator("#your-sort").get_by_label("latency (slowest first)").check()  # re-sorted on the server
    expect(table.locator("tbody tr").first).to_contain_text("whisper-tiny.en", timeout=30_000)  # the slower system
    page.wait_for_timeout(1000)
    table.get_by_text("my-recordings/clip2").first.click()
    expect(page.locator("#your-note")).to_contain_text("my-recordings/clip2", timeout=30_000)
    expect(page.locator("#your-diff")).to_contain_text("recognition", timeout=30_000)
    if UPDATE_DOCS:
        page.locator("#your-data").screenshot(path=str(DOCS / "evaluate-your-data.png"))  # the README picture

    link = re.search(r"\?run=[A-Za-z0-9_-]+", status.input_value()).group(0)
    stranger = page.context.browser.new_context().new_page()  # another browser, no cookies, no session
    stranger.goto(f"{app_url}{link}")
    expect(stranger.get_by_role("tab", name="Evaluate")).to_have_attribute("aria-selected", "true", timeout=30_000)
    shared = stranger.locator("#your-utterances")
    for number in (1, 2, 3):
        expect(shared).to_contain_text(f"my-recordings/clip{number}", timeout=30_000)
    expect(stranger.locator("#your-summary")).to_contain_text("pocketsphinx")
    expect(stranger.locator("#your-status textarea")).to_have_value(re.compile("shared result"))
    stranger.goto(f"{app_url}?run=not-a-real-run-id-at-all")
    expect(stranger.get_by_text("the link is incomplete or the run has expired").first).to_be_visible(timeout=30_000)


def test_a_zip_with_a_parent_path_and_an_oversized_upload_are_refused(app_url, browser_page, tmp_path,
                                                                       recordings_zip, monkeypatch, piper_speech):
    page = browser_page
    open_your_data(page, app_url)
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zipped:
        zipped.writestr("clip.wav", piper_speech[0][1].to_wav_bytes())
        zipped.writestr("clip.txt", "hello")
        zipped.writestr("../escape.txt", "outside")
    upload(page, "#your-zip", evil)
    page.locator("#your-run").click()
    expect(page.get_by_text("../escape.txt would land outside the upload folder").first).to_be_visible(timeout=30_000)

    monkeypatch.setenv("STUDIO_MAX_UPLOAD_MB", "0.05")  # the app reads its limits on every request
    page.reload()
    page.get_by_role("tab", name="Evaluate").click()
    upload(page, "#your-zip", recordings_zip)
    page.locator("#your-run").click()
    expect(page.get_by_text(re.compile(r"the upload is [\d.]+ MB; the limit is 0.05 \(set STUDIO_MAX_UPLOAD_MB")).first
           ).to_be_visible(timeout=30_000)
