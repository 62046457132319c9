"""The Listen tab: raters take blind A/B, MOS or CMOS tests; admins create them and read the leaderboard.

Thin by design: every callback calls `ListeningService` and formats its typed results. The
rater's secret token lives in `gr.State`, which stays on the server, so a page cannot vote as
someone else; playback and vote rules are checked by the service, not by this page.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import gradio as gr
import pandas as pd

from studio.adapters.registry import Registry
from studio.listening import KINDS, ListeningService, RaterSession, TestOptions, TrialView
from studio.listening import sources
from studio.listening.kinds import KIND_INFO
from studio.listening.plots import win_rate_heatmap
from studio.ui.common import playable, user_errors

RATER_CONCURRENCY = None  # rater events are short database transactions: let them run side by side
LEADERBOARD_COLUMNS = {"ab": ["rank", "system", "strength", "lower", "upper", "wins", "losses", "ties"],
                       "mos": ["rank", "system", "mean", "lower", "upper", "ratings", "raters"]}
LEADERBOARD_COLUMNS["cmos"] = LEADERBOARD_COLUMNS["mos"]

_default_service: ListeningService | None = None


def default_service() -> ListeningService:
    """The app's service, configured from STUDIO_DATA_DIR / STUDIO_DATABASE_URL / STUDIO_ADMIN_TOKEN."""
    global _default_service
    if _default_service is None:
        _default_service = ListeningService.from_env()
    return _default_service


def build(registry: Registry, service: ListeningService | None = None) -> None:
    """The Listen tab's components and events, inside the current gr.Blocks context."""
    service = service or default_service()
    with gr.Tabs():
        with gr.Tab("Rate"):
            _rater_view(service)
        with gr.Tab("Admin"):
            _admin_view(registry, service)


# --- rater view --------------------------------------------------------------------------------

def _rater_view(service: ListeningService) -> None:
    gr.Markdown("### Blind listening test\nListen to every sample **to the end**, then answer. "
                "System names are hidden and the order is shuffled for you.")
    session = gr.State(None)  # the RaterSession, kept server-side
    with gr.Row():
        test_id = gr.Textbox(label="Test ID", placeholder="from the link you were given", elem_id="listen-test-id")
        rater_name = gr.Textbox(label="Your name or alias (optional)", elem_id="listen-rater-name")
        join = gr.Button("Start", variant="primary", elem_id="listen-join")
    progress = gr.Markdown(elem_id="listen-progress")
    prompt = gr.Markdown(elem_id="listen-prompt")
    with gr.Row():
        audio_a = gr.Audio(label="Sample A", type="numpy", interactive=False, buttons=[], elem_id="listen-audio-a")
        audio_b = gr.Audio(label="Sample B", type="numpy", interactive=False, buttons=[], elem_id="listen-audio-b")
    heard = gr.Markdown(elem_id="listen-heard")
    answer = gr.Radio(label="Your answer", choices=[], elem_id="listen-answer")
    submit = gr.Button("Submit vote", elem_id="listen-vote")
    trial_outputs = [progress, prompt, audio_a, audio_b, answer, heard]

    def from_link(request: gr.Request) -> str:
        return request.query_params.get("test", "") if request else ""

    @user_errors
    def start(test: str, name: str):
        rater = service.join(test, name)
        return (rater, *_trial_updates(rater, service.current_trial(rater.token)))

    @user_errors
    def played(rater: RaterSession | None, slot: str) -> str:
        sides = service.confirm_played(_token(rater), slot)  # type: ignore[arg-type]
        return f"Heard to the end: {', '.join(sides)}"

    @user_errors
    def vote(rater: RaterSession | None, choice: str | None):
        if not choice:
            raise gr.Error("choose an answer before submitting", print_exception=False)
        service.vote(_token(rater), choice)
        return _trial_updates(rater, service.current_trial(_token(rater)))

    gr.on(triggers=None, fn=from_link, inputs=[], outputs=[test_id], api_name="listen_link", queue=False)
    # Progress and errors show on the status line only, so a refused vote never covers the players.
    rater_event = {"concurrency_limit": RATER_CONCURRENCY, "show_progress_on": [progress]}
    join.click(start, [test_id, rater_name], [session, *trial_outputs], api_name="listen_join", **rater_event)
    audio_a.stop(lambda rater: played(rater, "A"), [session], [heard], api_name="listen_played_a", **rater_event)
    audio_b.stop(lambda rater: played(rater, "B"), [session], [heard], api_name="listen_played_b", **rater_event)
    submit.click(vote, [session, answer], trial_outputs, api_name="listen_vote", **rater_event)


def _token(rater: RaterSession | None) -> str:
    if rater is None:
        raise gr.Error("press Start to join the test first", print_exception=False)
    return rater.token


def _trial_updates(rater: RaterSession, trial: TrialView | None) -> tuple:
    """progress, prompt, audio A, audio B, answer, heard: the page for one trial (or the end)."""
    if trial is None:
        done = f"**{rater.test_name}: done.** All your votes are saved. Thank you!"
        hidden = gr.update(value=None, visible=False)
        return done, "", hidden, hidden, gr.update(choices=[], value=None, visible=False), ""
    pairwise = len(trial.slots) == 2
    return (
        f"**{rater.test_name}** · {KIND_INFO[trial.kind].title} · trial {trial.position} of {trial.total}",
        f"Text: *{trial.text}*" if trial.text else "",
        gr.update(value=playable(trial.slots[0]), visible=True, label="Sample A" if pairwise else "Sample"),
        gr.update(value=playable(trial.slots[1]) if pairwise else None, visible=pairwise),
        gr.update(choices=list(trial.choices), value=None, label=trial.question, visible=True),
        "",
    )


# --- admin view --------------------------------------------------------------------------------

def _admin_view(registry: Registry, service: ListeningService) -> None:
    if service.settings.local_mode:
        gr.Markdown("**Local single-user mode:** STUDIO_ADMIN_TOKEN is not set, so anyone who can open this "
                    "page may create, close, export and delete tests. Set it before sharing the app.",
                    elem_id="listen-mode")
    admin_token = gr.Textbox(label="Admin token", type="password", visible=not service.settings.local_mode)

    with gr.Accordion("Create a test", open=True):
        with gr.Row():
            name = gr.Textbox(label="Test name", value="Listening test", elem_id="listen-new-name")
            kind = gr.Radio(list(KINDS), value="ab", label="Kind",
                            info="ab: A/B preference · mos: 1–5 rating · cmos: −3..+3 against a reference")
            checks = gr.Number(value=2, precision=0, minimum=0, label="Attention checks per rater")
            reference = gr.Textbox(label="Reference system (CMOS only)")
        with gr.Tab("From TTS systems"):
            systems = gr.Textbox("\n".join(registry.ids("tts", only_available=True)), lines=3,
                                 label="Systems, one per line: adapter id, then options (piper-joe length_scale=1.2)")
            prompts = gr.Textbox(label="Prompts, one per line", lines=4)
            create_tts = gr.Button("Synthesise and create", variant="primary")
        with gr.Tab("From audio folders"):
            archive = gr.File(label=".zip with one folder per system (same file names in each)", file_types=[".zip"],
                              elem_id="listen-zip")
            create_zip = gr.Button("Create from archive", variant="primary", elem_id="listen-create-zip")
        created = gr.Markdown(elem_id="listen-created")

    with gr.Accordion("Tests and leaderboard", open=True):
        tests = gr.Dataframe(label="Tests", interactive=False, elem_id="listen-tests")
        with gr.Row():
            chosen = gr.Textbox(label="Test ID", elem_id="listen-admin-test-id")
            include_flagged = gr.Checkbox(label="Include flagged raters", value=False)
        with gr.Row():
            refresh = gr.Button("Refresh list")
            show = gr.Button("Show leaderboard", variant="primary", elem_id="listen-show")
            close = gr.Button("Close test")
            export = gr.Button("Export CSV")
            remove = gr.Button("Delete test", variant="stop")
        summary = gr.Markdown(elem_id="listen-summary")
        board = gr.Dataframe(label="Leaderboard", interactive=False, elem_id="listen-leaderboard")
        heatmap = gr.Plot(label="Win rates")
        files = gr.File(label="Export", file_count="multiple", interactive=False)

    def options(test_name: str, test_kind: str, attention: float | None, reference_system: str) -> TestOptions:
        return TestOptions(test_name, test_kind, int(attention or 0), reference_system=reference_system.strip() or None)

    @user_errors
    def make_from_tts(token, test_name, test_kind, attention, reference_system, system_lines, prompt_text,
                      request: gr.Request):
        made = service.create_from_tts(registry, options(test_name, test_kind, attention, reference_system),
                                       sources.systems_from_lines(registry, system_lines),
                                       (prompt_text or "").splitlines(), token)
        return _created(made, request), made.id, _tests_table(service)

    @user_errors
    def make_from_zip(token, test_name, test_kind, attention, reference_system, upload, request: gr.Request):
        if not upload:
            raise gr.Error("upload a .zip archive first", print_exception=False)
        made = service.create_from_zip(options(test_name, test_kind, attention, reference_system), Path(upload), token)
        return _created(made, request), made.id, _tests_table(service)

    @user_errors
    def leaderboard(test: str, flagged: bool):
        result = service.leaderboard(test.strip(), flagged)
        quality = service.rater_quality(test.strip())
        frame = result.to_frame()
        frame = frame[LEADERBOARD_COLUMNS[result.kind]] if not frame.empty else frame
        flagged_note = (f"{result.raters_flagged} flagged rater(s) "
                        f"{'included' if flagged else 'excluded'}: " +
                        "; ".join(f"rater {q.rater_id}: {', '.join(q.reasons)}" for q in quality.values() if q.flagged)
                        if result.raters_flagged else "no rater flagged")
        text = (f"**{result.votes_used} votes** from {result.raters_used} rater(s) counted · {flagged_note}. "
                + ("Ranked by the lower end of the bootstrap 95% interval of the Bradley–Terry strength."
                   if result.kind == "ab" else "Mean with a Student-t 95% interval, ranked by its lower end."))
        plot = win_rate_heatmap(result) if result.kind == "ab" and result.rows else None
        return text, frame.round(3), plot

    @user_errors
    def close_test(token: str, test: str):
        closed = service.close_test(test.strip(), token)
        return f"Closed **{closed.name}** ({closed.id}); it takes no more votes.", _tests_table(service)

    @user_errors
    def export_test(token: str, test: str, flagged: bool):
        # A fresh temporary folder: Gradio serves downloads from there wherever STUDIO_DATA_DIR points.
        download = Path(tempfile.mkdtemp(prefix="listen-export-"))
        exported = service.export(test.strip(), token, download, include_flagged=flagged)
        return [str(exported.votes), str(exported.leaderboard)]

    @user_errors
    def delete_test(token: str, test: str):
        service.delete_test(test.strip(), token)
        return f"Deleted test {test.strip()} with its votes and audio.", _tests_table(service)

    create_inputs = [admin_token, name, kind, checks, reference]
    create_tts.click(make_from_tts, [*create_inputs, systems, prompts], [created, chosen, tests],
                     api_name="listen_create_tts")
    create_zip.click(make_from_zip, [*create_inputs, archive], [created, chosen, tests], api_name="listen_create_zip")
    gr.on(triggers=None, fn=lambda: _tests_table(service), inputs=[], outputs=[tests], api_name="listen_tests_on_load")
    refresh.click(lambda: _tests_table(service), [], [tests], api_name="listen_tests")
    show.click(leaderboard, [chosen, include_flagged], [summary, board, heatmap], api_name="listen_leaderboard")
    close.click(close_test, [admin_token, chosen], [summary, tests], api_name="listen_close")
    export.click(export_test, [admin_token, chosen, include_flagged], [files], api_name="listen_export")
    remove.click(delete_test, [admin_token, chosen], [summary, tests], api_name="listen_delete")


def _tests_table(service: ListeningService) -> pd.DataFrame:
    rows = [{"id": t.id, "name": t.name, "kind": t.kind, "status": t.status, "systems": ", ".join(t.systems),
             "trials": t.trials, "raters": t.raters, "votes": t.votes} for t in service.list_tests()]
    return pd.DataFrame(rows, columns=["id", "name", "kind", "status", "systems", "trials", "raters", "votes"])


def _created(made, request: gr.Request | None) -> str:
    return (f"Created **{made.name}** (`{made.id}`): {len(made.systems)} systems, {made.items} items, "
            f"{made.trials} trials per rater, loudness matched to {made.target_lufs:.1f} LUFS. "
            f"Share this link with raters: {_share_link(made.id, request)}")


def _share_link(test_id: str, request: gr.Request | None) -> str:
    """This page's address (as the browser sent it) with ?test=ID, or just the query to append."""
    page = request.headers.get("referer", "") if request else ""
    if not page:
        return f"this page's address followed by `?test={test_id}`"
    parts = urlsplit(page)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, f"test={test_id}", ""))
