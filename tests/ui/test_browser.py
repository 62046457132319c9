"""A person's path through the app in a real browser: recognise an example, synthesise a sentence."""

import re

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
    # as a newcomer does: nothing set, the defaults run (the N box shows 0 = all items)
    expect(page.get_by_label("Only the first N items per dataset (0 = all)")).to_have_value("0")
    page.get_by_role("button", name="Run evaluation").click()
    summary = page.locator("[aria-label^='Summary (one row per dataset and system)']").first
    expect(summary).to_contain_text("tiny.en greedy", timeout=600_000)
    expect(summary).to_contain_text("pocketsphinx")
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=60_000)  # speed vs quality, Pareto front
    page.screenshot(path=str(output_dir / "evaluate.png"), full_page=True)


# What a newcomer meets pressing each tab's buttons before setting anything: a result, or one clear
# sentence saying what to do first; never a validation error about a default value.
NEWCOMER_CLICKS = [
    ("Recognize", "Recognize", "upload or record some audio first"),
    ("Evaluate", "Evaluate my data", "upload a .zip, or some audio files with their references, first"),
    ("Decoding lab", "Decode", "upload or record some audio, or pick a bundled example, first"),
    ("Listen", "Start", "check the link you were given"),  # says "no listening test with id ''" (Listen owns it)
    ("Models", "Refresh", None),
    ("About / system", "Refresh", None),
]


def test_every_tab_answers_its_defaults_with_a_result_or_a_clear_next_step(app_url, browser_page):
    page = browser_page
    page.goto(app_url)
    for tab, button, message in NEWCOMER_CLICKS:
        page.get_by_role("tab", name=tab).click()
        page.get_by_role("tabpanel").get_by_role("button", name=button, exact=True).first.click()
        if message:
            expect(page.get_by_text(message).first).to_be_visible(timeout=30_000)
        page.wait_for_timeout(1500)
        toasts = " | ".join(page.locator(".toast-body").all_inner_texts())
        assert not re.search(r"(less|greater) than (minimum|maximum)|is not in the list of choices", toasts), (tab, toasts)
        if message is None:
            assert "Error" not in toasts, (tab, toasts)
        for close in page.locator(".toast-close").all():
            close.click()
