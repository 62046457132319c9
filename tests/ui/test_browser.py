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


def test_a_rater_link_opens_the_listen_tab(app_url, browser_page):
    browser_page.goto(f"{app_url}?test=abc123")
    expect(browser_page.get_by_role("tab", name="Listen")).to_have_attribute("aria-selected", "true", timeout=30_000)
    expect(browser_page.locator("#listen-test-id textarea, #listen-test-id input").first).to_have_value("abc123")


def test_evaluate_tab_runs_the_demo_config_and_shows_results(app_url, browser_page, output_dir):
    page = browser_page
    page.goto(app_url)
    page.get_by_role("tab", name="Evaluate").click()
    page.get_by_label("Only the first N items per dataset (empty = all)").fill("3")
    page.get_by_role("button", name="Run evaluation").click()
    summary = page.locator("[aria-label^='Summary (one row per dataset and system)']").first
    expect(summary).to_contain_text("tiny.en greedy", timeout=240_000)
    expect(summary).to_contain_text("pocketsphinx")
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=60_000)  # speed vs quality, Pareto front
    page.screenshot(path=str(output_dir / "evaluate.png"), full_page=True)
