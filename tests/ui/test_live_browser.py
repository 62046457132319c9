"""Live microphone in a real browser: Chromium's fake capture device plays a Piper sentence into the Live tab."""

from __future__ import annotations

import re
import shutil
import time

import numpy as np
import pytest
import soundfile
from playwright.sync_api import expect, sync_playwright

from tests.ui.conftest import BROWSER_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.models]
WORDS = ("recognition", "spoken", "words", "written", "please", "call", "back", "tomorrow")


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory, piper_speech):
    """Two sentences, then silence (the endpointer's cue), as 16-bit 48 kHz WAV. Chromium loops the file and starts
    it when the page opens the device, so the test waits for a whole sentence rather than timing the start."""
    (_, first), (_, second) = piper_speech[1], piper_speech[2]
    speech = np.concatenate([first.samples, second.samples])
    audio = type(first)(speech, first.sample_rate).resample(48000)
    samples = np.concatenate([np.zeros(48000 // 2, np.float32), audio.samples, np.zeros(48000 * 3, np.float32)])
    path = tmp_path_factory.mktemp("live") / "speech.wav"
    soundfile.write(path, samples, 48000, subtype="PCM_16")
    return path


def test_partial_then_final_transcript_from_the_microphone(app_url, speech_wav, output_dir):
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    args = BROWSER_ARGS + ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                           f"--use-file-for-fake-audio-capture={speech_wav}"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=args)
        page = browser.new_page(viewport={"width": 1400, "height": 1200})
        page.goto(app_url)
        page.get_by_role("tab", name="Live").click()
        page.locator("#live-mic button").filter(has_text="Record").first.click()
        partial, final = page.locator("#live-partial textarea"), page.locator("#live-final textarea")
        partial_before_final, deadline = None, time.monotonic() + 120
        while time.monotonic() < deadline:
            now_partial, now_final = partial.input_value(), final.input_value()
            if now_partial and partial_before_final is None and not _heard_all(now_final):
                partial_before_final = now_partial  # a partial while the sentence was not final yet
            if _heard_all(now_final):
                break
            page.wait_for_timeout(250)
        assert partial_before_final, "no partial transcript appeared before the final one"
        assert _heard_all(final.input_value()), final.input_value()
        page.locator("#live-mic button").filter(has_text="Stop").first.click()
        expect(page.locator("#live-stats")).to_contain_text(re.compile(r"End of speech → final text: [\d.]+ s"))
        page.screenshot(path=str(output_dir / "live.png"), full_page=True)
        print("live stats:", page.locator("#live-stats").inner_text(), "| first partial:", partial_before_final)
        browser.close()


def _heard_all(text: str) -> bool:
    heard = set(re.sub(r"[^a-z ]", " ", text.lower()).split())
    return sum(word in heard for word in WORDS) >= len(WORDS) - 1  # tiny.en may mishear one word
