"""An admin creates a MUSHRA test from a zip in the browser; a rater plays everything, moves the sliders,
submits, and the results show the ratings with the anchor and the box plot."""

from __future__ import annotations

import re
import zipfile

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from studio.listening.models import StimulusOrderRow, StimulusRow

from tests.listening.factories import launch_listen_tab, make_service, noise_folders

pytestmark = pytest.mark.browser


def play_to_the_end(page: Page, player: str, heard: str) -> None:
    page.locator(f"#{player} button[aria-label='Play']").click()
    expect(page.locator("#listen-heard")).to_contain_text(f"Heard to the end: {heard}", timeout=20_000)


def shown_roles(service) -> list[str]:
    with service.store.transaction() as session:
        return list(session.scalars(select(StimulusRow.role).join(StimulusOrderRow)
                                    .order_by(StimulusOrderRow.position)))


def test_a_mushra_trial_end_to_end_in_the_browser(tmp_path, browser_page, output_dir):
    service = make_service(tmp_path / "data")
    folders = noise_folders(tmp_path / "src", {"original": None, "codec": 8000.0}, items=1)
    archive = tmp_path / "mushra.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for system, folder in folders.items():
            for path in folder.iterdir():
                zipped.write(path, f"{system}/{path.name}")
    demo, url = launch_listen_tab(service)
    page = browser_page
    try:
        page.goto(url)
        page.get_by_role("tab", name="Admin").click()
        page.locator("#listen-new-kind").get_by_label("mushra", exact=True).check()
        page.locator("#listen-new-reference textarea").fill("original")
        page.get_by_role("tab", name="From audio folders").click()
        page.locator("#listen-zip input[type=file]").set_input_files(str(archive))
        page.locator("#listen-create-zip").click()
        created = page.locator("#listen-created")
        expect(created).to_contain_text("Created", timeout=30_000)
        test_id = re.search(r"test=([\w-]+)", created.inner_text()).group(1)
        assert service.summary(test_id).kind == "mushra"

        page.get_by_role("tab", name="Rate").click()
        page.locator("#listen-test-id textarea").fill(test_id)
        page.locator("#listen-join").click()
        expect(page.locator("#listen-progress")).to_contain_text("MUSHRA", timeout=20_000)
        expect(page.locator("#listen-mushra")).to_be_visible()
        for n in (1, 2, 3):
            expect(page.locator(f"#listen-stimulus-{n}")).to_be_visible()
        expect(page.locator("#listen-stimulus-4")).to_be_hidden()  # hidden reference, 3.5 kHz anchor, codec
        page.locator("#listen-rate").click()  # before listening: the server refuses the ratings
        expect(page.get_by_text("play sample R, 1, 2 and 3 to the end before rating").first).to_be_visible()
        play_to_the_end(page, "listen-audio-a", "R")
        for n, heard in ((1, "R, 1"), (2, "R, 1, 2"), (3, "R, 1, 2, 3")):
            play_to_the_end(page, f"listen-stimulus-{n}", heard)
        # A careful rater gives the hidden reference 100 (the test peeks at this rater's shuffled order for it).
        values = iter(["35", "72"])
        for n, role in enumerate(shown_roles(service), start=1):
            box = page.locator(f"#listen-rating-{n} input[type=number]")
            box.fill("100" if role == "hidden_reference" else next(values))
            box.press("Enter")
        page.locator("#listen-loop input").check()  # looping is allowed once everything was heard
        expect(page.locator("#listen-loop input")).to_be_checked()
        page.screenshot(path=str(output_dir / "listen-mushra-trial.png"), full_page=True)
        page.locator("#listen-rate").click()
        expect(page.locator("#listen-progress")).to_contain_text("done", timeout=20_000)

        page.get_by_role("tab", name="Admin").click()
        page.locator("#listen-admin-test-id textarea").fill(test_id)
        page.locator("#listen-show").click()
        expect(page.locator("#listen-summary")).to_contain_text("3 ratings", timeout=30_000)
        board = page.locator("#listen-leaderboard")
        for condition in ("original", "codec", "anchor 3.5 kHz"):
            expect(board).to_contain_text(condition)
        expect(page.locator("#listen-boxplot .js-plotly-plot")).to_be_visible(timeout=30_000)
        expect(page.locator("#listen-coverage")).to_contain_text("anchor 3.5 kHz")
        page.screenshot(path=str(output_dir / "listen-mushra-results.png"), full_page=True)
    finally:
        demo.close()
    ratings = sorted(r.value for r in service.vote_records(test_id))
    assert ratings == [35.0, 72.0, 100.0]
