"""A person's path through the app in a real browser: recognise an example, synthesise a sentence."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.models]


def test_recognize_and_synthesize_in_the_browser(app_url, browser_page, output_dir):
    page = browser_page
    page.goto(app_url)
    page.get_by_text("piper-weather.wav").first.click()  # a bundled example fills audio and reference
    page.get_by_role("button", name="Recognize", exact=True).click()
    table = page.locator("[aria-label^='Error rates and latency']").first
    expect(table).to_contain_text("pocketsphinx", timeout=120_000)  # the last system finished
    transcript = page.get_by_label("whisper-tiny.en [beam_size=5]", exact=True)
    assert "cloudy in the morning" in transcript.input_value().lower()
    page.screenshot(path=str(output_dir / "recognize.png"), full_page=True)

    page.get_by_role("tab", name="Synthesize").click()
    page.get_by_role("button", name="Synthesize", exact=True).click()
    scores = page.locator("[aria-label^='Speed and automatic scores']").first
    expect(scores).to_contain_text("espeak-ng", timeout=120_000)  # the last system finished
    expect(scores).to_contain_text("DNSMOS OVRL")
    assert page.locator("audio").count() >= 3  # one player per system
    page.screenshot(path=str(output_dir / "synthesize.png"), full_page=True)
