"""A rater completes a short blind A/B test in a real browser, and the leaderboard shows the result."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.listening.factories import ab_test, launch_listen_tab, make_service

pytestmark = pytest.mark.browser

def play_to_the_end(page: Page, side: str, heard: str) -> None:
    page.locator(f"#listen-audio-{side.lower()} button[aria-label='Play']").click()
    expect(page.locator("#listen-heard")).to_contain_text(f"Heard to the end: {heard}", timeout=20_000)


def test_a_rater_completes_an_ab_test_and_the_leaderboard_shows_it(tmp_path, browser_page, output_dir):
    service = make_service(tmp_path / "data")
    made = ab_test(service, tmp_path / "src", {"alpha": 0.2, "beta": 0.4}, items=2, attention_checks=0)
    demo, url = launch_listen_tab(service)
    page = browser_page
    try:
        page.goto(f"{url}?test={made.id}")  # the shareable link fills in the test
        expect(page.locator("#listen-test-id textarea")).to_have_value(made.id, timeout=20_000)
        page.locator("#listen-join").click()
        for number in (1, 2):
            expect(page.locator("#listen-progress")).to_contain_text(f"trial {number} of 2", timeout=20_000)
            page.locator("#listen-answer").get_by_label("A", exact=True).check()
            if number == 1:
                page.locator("#listen-vote").click()  # before listening: the server refuses the vote
                expect(page.get_by_text("play sample A and B to the end before voting").first).to_be_visible()
            play_to_the_end(page, "A", "A")
            play_to_the_end(page, "B", "A, B")
            if number == 1:
                page.screenshot(path=str(output_dir / "listen-trial.png"), full_page=True)
            page.locator("#listen-vote").click()
        expect(page.locator("#listen-progress")).to_contain_text("done", timeout=20_000)
        page.screenshot(path=str(output_dir / "listen-rater.png"), full_page=True)

        page.get_by_role("tab", name="Admin").click()
        expect(page.locator("#listen-mode")).to_contain_text("Local single-user mode")
        page.locator("#listen-admin-test-id textarea").fill(made.id)
        page.locator("#listen-show").click()
        expect(page.locator("#listen-summary")).to_contain_text("2 votes", timeout=30_000)
        board = page.locator("#listen-leaderboard")
        expect(board).to_contain_text("alpha")
        expect(board).to_contain_text("beta")
        page.screenshot(path=str(output_dir / "listen-leaderboard.png"), full_page=True)
    finally:
        demo.close()
    assert service.summary(made.id).votes == 2
    rows = service.leaderboard(made.id).rows
    assert sorted(row.wins + row.losses for row in rows) == [2, 2]


def test_a_rater_who_reloads_the_page_goes_on_at_the_next_trial(tmp_path, browser_page, output_dir):
    service = make_service(tmp_path / "data")
    made = ab_test(service, tmp_path / "src", {"alpha": 0.2, "beta": 0.4}, items=2, attention_checks=1)
    demo, url = launch_listen_tab(service)
    page = browser_page
    try:
        page.goto(f"{url}?test={made.id}")
        expect(page.locator("#listen-test-id textarea")).to_have_value(made.id, timeout=20_000)
        page.locator("#listen-join").click()
        expect(page.locator("#listen-progress")).to_contain_text("trial 1 of 3", timeout=20_000)
        page.locator("#listen-answer").get_by_label("A", exact=True).check()
        play_to_the_end(page, "A", "A")
        play_to_the_end(page, "B", "A, B")
        page.locator("#listen-vote").click()
        expect(page.locator("#listen-progress")).to_contain_text("trial 2 of 3", timeout=20_000)
        page.reload()  # the token kept in the browser brings the rater back where they were
        expect(page.locator("#listen-progress")).to_contain_text("trial 2 of 3", timeout=20_000)
        page.screenshot(path=str(output_dir / "listen-resumed.png"), full_page=True)
        assert (service.summary(made.id).raters, service.summary(made.id).votes) == (1, 1)
        page.locator("#listen-answer").get_by_label("B", exact=True).check()
        play_to_the_end(page, "A", "A")
        play_to_the_end(page, "B", "A, B")
        page.locator("#listen-vote").click()
        expect(page.locator("#listen-progress")).to_contain_text("trial 3 of 3", timeout=20_000)
        page.reload()
        page.locator("#listen-join").click()  # Start again in the same browser: the same rater, not a new one
        expect(page.locator("#listen-progress")).to_contain_text("trial 3 of 3", timeout=20_000)
    finally:
        demo.close()
    summary = service.summary(made.id)
    assert (summary.raters, summary.votes) == (1, 2)
    assert [r.answer for r in service.vote_records(made.id)] == ["A", "B"]
