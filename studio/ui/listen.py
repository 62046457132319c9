"""The Listen tab: raters take blind A/B, MOS, CMOS or MUSHRA tests; admins create them and read the leaderboard.

Thin by design: every callback calls `ListeningService` and formats its typed results. The
rater's secret token, issued by the server, is kept in the browser (`gr.BrowserState`): a reload
or a restarted server resumes at the next trial, and no page can vote as someone else without
their token. Each vote names the trial it answers, so a resent vote is never counted twice;
playback and vote rules are checked by the service, not by this page.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import gradio as gr
import pandas as pd

from studio.adapters.registry import Registry
from studio.listening import KINDS, ListeningError, ListeningService, RaterSession, TestOptions, TestResults, TrialView
from studio.listening import sources
from studio.listening.kinds import KIND_INFO, MUSHRA_SCALE
from studio.listening.mushra import HIDDEN_REFERENCE_MIN, MAX_MISSED_FRACTION, MAX_STIMULI
from studio.listening.plots import rating_boxplot, win_rate_heatmap
from studio.ui.common import playable, user_errors

RATER_CONCURRENCY = None  # rater events are short database transactions: let them run side by side
LEADERBOARD_COLUMNS = {"ab": ["rank", "system", "strength", "lower", "upper", "wins", "losses", "ties"],
                       "mos": ["rank", "system", "mean", "lower", "upper", "ratings", "raters"]}
LEADERBOARD_COLUMNS["cmos"] = LEADERBOARD_COLUMNS["mushra"] = LEADERBOARD_COLUMNS["mos"]
# Where the browser keeps the rater's token. Both stay fixed so a token saved before a restart still
# reads back after it; the "secret" only obscures localStorage (it is sent to the page), the token is the secret.
RATER_STORAGE_KEY = "speech-studio-listen-rater"
RATER_STORAGE_SECRET = "speech-studio-listen-rater-token"
SCALE_TEXT = " · ".join(f"{high}–{low} {label}" for low, high, label in MUSHRA_SCALE)

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
    saved = gr.BrowserState(None, storage_key=RATER_STORAGE_KEY, secret=RATER_STORAGE_SECRET)  # the rater token
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
    position = gr.Number(visible=False, precision=0, elem_id="listen-position")  # the trial shown; sent with a vote
    # MUSHRA: every stimulus with its own player and slider on one screen, hidden until a MUSHRA trial comes.
    with gr.Column(visible=False, elem_id="listen-mushra") as mushra_panel:
        gr.Markdown(f"Rate each sample against the reference **R** on the quality scale: {SCALE_TEXT}. "
                    "Play them in any order and as often as you like.")
        loop = gr.Checkbox(label="Loop playback (a sample counts as heard when it plays to its end with looping off)",
                           value=False, elem_id="listen-loop")
        stimulus_columns, stimulus_audios, sliders = [], [], []
        with gr.Row():
            for n in range(1, MAX_STIMULI + 1):
                with gr.Column(visible=False, min_width=240) as column:
                    stimulus_audios.append(gr.Audio(label=f"Sample {n}", type="numpy", interactive=False, buttons=[],
                                                    elem_id=f"listen-stimulus-{n}"))
                    sliders.append(gr.Slider(0, 100, value=0, step=1, label=f"Sample {n}", info=SCALE_TEXT,
                                             elem_id=f"listen-rating-{n}"))
                stimulus_columns.append(column)
        rate = gr.Button("Submit ratings", variant="primary", elem_id="listen-rate")
    shown = gr.State(0)  # MUSHRA: how many stimuli the current trial shows (the sliders past it are hidden)
    view = _TrialComponents(progress, prompt, audio_a, audio_b, answer, heard, submit, mushra_panel, shown, position,
                            tuple(stimulus_columns), tuple(stimulus_audios), tuple(sliders))

    def from_link(request: gr.Request) -> str:
        return request.query_params.get("test", "") if request else ""

    def resumable(token: str | None, test: str | None) -> RaterSession | None:
        """The saved rater, unless there is none, it is for another test than `test`, or its test is gone."""
        if not token:
            return None
        try:
            rater = service.resume(token)
        except ListeningError:  # the test was deleted: the saved token is stale, start afresh
            return None
        return rater if not test or rater.test_id == test.strip() else None

    @user_errors
    def start(token: str | None, test: str, name: str):
        rater = resumable(token, test) or service.join(test, name)  # Start again in the same browser: same rater
        return {saved: rater.token, **view.updates(rater, service.current_trial(rater.token))}

    @user_errors
    def resume(token: str | None, request: gr.Request = None):
        """On page load: a rater whose browser kept a token goes on at their next trial."""
        rater = resumable(token, from_link(request) or None)
        return view.updates(rater, service.current_trial(rater.token)) if rater else {}

    @user_errors
    def played(token: str | None, slot: str) -> str:
        sides = service.confirm_played(_token(token), slot)
        return f"Heard to the end: {', '.join(sides)}"

    @user_errors
    def played_first(token: str | None) -> str:
        return played(token, "R" if service.resume(_token(token)).kind == "mushra" else "A")

    @user_errors
    def vote(token: str | None, choice: str | None, trial: float | None):
        if not choice:
            raise gr.Error("choose an answer before submitting", print_exception=False)
        service.vote(_token(token), choice, int(trial) if trial else None)
        return view.updates(service.resume(token), service.current_trial(token))

    @user_errors
    def rate_trial(token: str | None, trial: float | None, stimuli: int, *ratings: float):
        service.rate(_token(token), ratings[:stimuli], int(trial) if trial else None)
        return view.updates(service.resume(token), service.current_trial(token))

    gr.on(triggers=None, fn=from_link, inputs=[], outputs=[test_id], api_name="listen_link", queue=False)
    # Progress and errors show on the status line only, so a refused vote never covers the players.
    rater_event = {"concurrency_limit": RATER_CONCURRENCY, "show_progress_on": [progress]}
    gr.on(triggers=None, fn=resume, inputs=[saved], outputs=view.outputs, api_name="listen_resume", **rater_event)
    join.click(start, [saved, test_id, rater_name], [saved, *view.outputs], api_name="listen_join", **rater_event)
    audio_a.stop(played_first, [saved], [heard], api_name="listen_played_a", **rater_event)
    audio_b.stop(lambda token: played(token, "B"), [saved], [heard], api_name="listen_played_b", **rater_event)
    for n, stimulus in enumerate(stimulus_audios, start=1):
        stimulus.stop(lambda token, slot=str(n): played(token, slot), [saved], [heard],
                      api_name=f"listen_played_{n}", **rater_event)
    submit.click(vote, [saved, answer, position], view.outputs, api_name="listen_vote", **rater_event)
    rate.click(rate_trial, [saved, position, shown, *sliders], view.outputs, api_name="listen_rate", **rater_event)
    loop.change(lambda on: [gr.update(loop=on)] * (1 + MAX_STIMULI), [loop], [audio_a, *stimulus_audios],
                queue=False, api_visibility="private")


class _TrialComponents:
    """The rater page's components, and the updates that show one trial (or the end) on them."""

    def __init__(self, progress, prompt, audio_a, audio_b, answer, heard, submit, mushra_panel, shown, position,
                 stimulus_columns, stimulus_audios, sliders):
        self.progress, self.prompt, self.audio_a, self.audio_b = progress, prompt, audio_a, audio_b
        self.answer, self.heard, self.submit, self.mushra_panel = answer, heard, submit, mushra_panel
        self.shown, self.position = shown, position
        self.stimulus_columns, self.stimulus_audios, self.sliders = stimulus_columns, stimulus_audios, sliders

    @property
    def outputs(self) -> list:
        return [self.progress, self.prompt, self.audio_a, self.audio_b, self.answer, self.heard, self.submit,
                self.mushra_panel, self.shown, self.position, *self.stimulus_columns, *self.stimulus_audios, *self.sliders]

    def updates(self, rater: RaterSession, trial: TrialView | None) -> dict:
        if trial is None:
            hidden = gr.update(value=None, visible=False)
            return {self.progress: f"**{rater.test_name}: done.** All your votes are saved. Thank you!",
                    self.prompt: "", self.audio_a: hidden, self.audio_b: hidden,
                    self.answer: gr.update(choices=[], value=None, visible=False), self.heard: "",
                    self.submit: gr.update(visible=False), self.mushra_panel: gr.update(visible=False),
                    self.shown: 0, self.position: None}
        mushra = trial.kind == "mushra"
        pairwise = len(trial.slots) == 2 and not mushra
        stimuli = trial.slots[1:] if mushra else ()
        first_label = "Reference (R)" if mushra else "Sample A" if pairwise else "Sample"
        updates = {
            self.progress: f"**{rater.test_name}** · {KIND_INFO[trial.kind].title} · "
                           f"trial {trial.position} of {trial.total}",
            self.prompt: f"Text: *{trial.text}*" if trial.text else "",
            self.audio_a: gr.update(value=playable(trial.slots[0]), visible=True, label=first_label),
            self.audio_b: gr.update(value=playable(trial.slots[1]) if pairwise else None, visible=pairwise),
            self.answer: gr.update(choices=list(trial.choices), value=None, label=trial.question, visible=not mushra),
            self.heard: "",
            self.submit: gr.update(visible=not mushra),
            self.mushra_panel: gr.update(visible=mushra),
            self.shown: len(stimuli),
            self.position: trial.position,
        }
        for n, (column, audio, slider) in enumerate(zip(self.stimulus_columns, self.stimulus_audios, self.sliders)):
            shown = n < len(stimuli)
            updates[column] = gr.update(visible=shown)
            updates[audio] = gr.update(value=playable(stimuli[n]) if shown else None)
            updates[slider] = gr.update(value=0)
        return updates


def _token(token: str | None) -> str:
    if not token:
        raise gr.Error("press Start to join the test first", print_exception=False)
    return token


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
            kind = gr.Radio(list(KINDS), value="ab", label="Kind", elem_id="listen-new-kind",
                            info="ab: A/B preference · mos: 1–5 rating · cmos: −3..+3 against a reference · "
                                 "mushra: 0–100 against a reference, with hidden reference and anchors (BS.1534-3)")
            checks = gr.Number(value=2, precision=0, minimum=0, label="Attention checks per rater",
                               info="MUSHRA: none needed, the hidden reference in every trial is the check")
            reference = gr.Textbox(label="Reference system (CMOS, MUSHRA)", elem_id="listen-new-reference")
        with gr.Row():
            mid_anchor = gr.Checkbox(label="MUSHRA: add the 7 kHz mid anchor (the 3.5 kHz anchor is always there)",
                                     value=False, elem_id="listen-new-mid-anchor")
            per_rater = gr.Number(value=0, precision=0, minimum=0, label="Trials per rater (0 = every trial)",
                                  info="large tests: each rater gets a balanced subset of this many trials, "
                                       "plus the attention checks", elem_id="listen-new-per-rater")
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
            hide = gr.Checkbox(label="Hide the leaderboard from raters until the test is closed", value=False,
                               elem_id="listen-hide-board")
        summary = gr.Markdown(elem_id="listen-summary")
        board = gr.Dataframe(label="Leaderboard", interactive=False, elem_id="listen-leaderboard")
        heatmap = gr.Plot(label="Win rates")
        boxplot = gr.Plot(label="Ratings per condition", elem_id="listen-boxplot")
        with gr.Row():
            coverage = gr.Dataframe(label="Coverage: votes per system pair / system (attention checks left out)",
                                    interactive=False, elem_id="listen-coverage")
            per_item = gr.Dataframe(label="Per item", interactive=False, elem_id="listen-per-item")
        files = gr.File(label="Export", file_count="multiple", interactive=False)

    def options(test_name: str, test_kind: str, attention: float | None, reference_system: str,
                mid: bool = False, trials: float | None = 0) -> TestOptions:
        return TestOptions(test_name, test_kind, int(attention or 0), reference_system=reference_system.strip() or None,
                           mid_anchor=bool(mid), trials_per_rater=int(trials) if trials else None)

    @user_errors
    def make_from_tts(token, test_name, test_kind, attention, reference_system, system_lines, prompt_text,
                      mid=False, trials=0, request: gr.Request = None):
        made = service.create_from_tts(registry, options(test_name, test_kind, attention, reference_system, mid,
                                                         trials),
                                       sources.systems_from_lines(registry, system_lines),
                                       (prompt_text or "").splitlines(), token)
        return _created(made, request), made.id, _tests_table(service)

    @user_errors
    def make_from_zip(token, test_name, test_kind, attention, reference_system, upload, mid=False, trials=0,
                      request: gr.Request = None):
        if not upload:
            raise gr.Error("upload a .zip archive first", print_exception=False)
        made = service.create_from_zip(options(test_name, test_kind, attention, reference_system, mid, trials),
                                       Path(upload), token)
        return _created(made, request), made.id, _tests_table(service)

    @user_errors
    def leaderboard(token: str, test: str, flagged: bool):
        results = service.results(test.strip(), flagged, admin_token=token)
        result = results.board
        frame = result.to_frame()
        frame = frame[LEADERBOARD_COLUMNS[result.kind]] if not frame.empty else frame
        text = (f"**{result.votes_used} {'ratings' if result.kind == 'mushra' else 'votes'}** from "
                f"{result.raters_used} rater(s) counted · {_flagged_note(results, flagged)}. "
                + ("Ranked by the lower end of the bootstrap 95% interval of the Bradley–Terry strength."
                   if result.kind == "ab" else "Mean with a Student-t 95% interval, ranked by its lower end.")
                + (" The reference system's row is its hidden reference; anchors are the reference low-passed."
                   if result.kind == "mushra" else ""))
        plot = win_rate_heatmap(result) if result.kind == "ab" and result.rows else None
        boxes = (rating_boxplot(results.counted, result.systems) if result.kind == "mushra" and result.rows
                 else None)
        items = results.per_item.round(3) if results.per_item is not None else None
        return (text, frame.round(3), gr.update(value=plot, visible=result.kind == "ab"),
                gr.update(value=boxes, visible=result.kind == "mushra"), results.coverage, items)

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
    def hide_leaderboard(token: str, test: str, hidden: bool):
        changed = service.hide_leaderboard(test.strip(), bool(hidden), token)
        shown = "hidden from raters until the test is closed" if changed.leaderboard_hidden else "shown to everyone"
        return f"The leaderboard of **{changed.name}** is {shown}.", _tests_table(service)

    @user_errors
    def delete_test(token: str, test: str):
        service.delete_test(test.strip(), token)
        return f"Deleted test {test.strip()} with its votes and audio.", _tests_table(service)

    create_inputs = [admin_token, name, kind, checks, reference]
    create_tts.click(make_from_tts, [*create_inputs, systems, prompts, mid_anchor, per_rater], [created, chosen, tests],
                     api_name="listen_create_tts")
    create_zip.click(make_from_zip, [*create_inputs, archive, mid_anchor, per_rater], [created, chosen, tests],
                     api_name="listen_create_zip")
    gr.on(triggers=None, fn=lambda: _tests_table(service), inputs=[], outputs=[tests], api_name="listen_tests_on_load")
    refresh.click(lambda: _tests_table(service), [], [tests], api_name="listen_tests")
    show.click(leaderboard, [admin_token, chosen, include_flagged], [summary, board, heatmap, boxplot, coverage, per_item],
               api_name="listen_leaderboard")
    close.click(close_test, [admin_token, chosen], [summary, tests], api_name="listen_close")
    export.click(export_test, [admin_token, chosen, include_flagged], [files], api_name="listen_export")
    remove.click(delete_test, [admin_token, chosen], [summary, tests], api_name="listen_delete")
    hide.input(hide_leaderboard, [admin_token, chosen, hide], [summary, tests], api_name="listen_hide_leaderboard")


def _flagged_note(results: TestResults, included: bool) -> str:
    """Who quality checks flag, and (MUSHRA) how many raters post-screening excludes."""
    flagged = [q for q in results.quality.values() if q.flagged]
    if not flagged:
        return "no rater flagged"
    note = (f"{len(flagged)} flagged rater(s) {'included' if included else 'excluded'}: "
            + "; ".join(f"rater {q.rater_id}: {', '.join(q.reasons)}" for q in flagged))
    if results.board.kind == "mushra":
        screened = sum(q.missed_references > MAX_MISSED_FRACTION * q.references for q in flagged)
        note = (f"post-screening (BS.1534-3: hidden reference below {HIDDEN_REFERENCE_MIN:g} in more than "
                f"{MAX_MISSED_FRACTION:.0%} of trials) {'flags' if included else 'excludes'} {screened} rater(s); "
                f"tick “Include flagged raters” to count them · " + note)
    return note


def _tests_table(service: ListeningService) -> pd.DataFrame:
    rows = [{"id": t.id, "name": t.name, "kind": t.kind, "status": t.status, "systems": ", ".join(t.systems),
             "trials": t.trials, "per rater": t.trials_per_rater or "all", "raters": t.raters, "votes": t.votes,
             "leaderboard": "hidden" if t.leaderboard_hidden else "shown"} for t in service.list_tests()]
    return pd.DataFrame(rows, columns=["id", "name", "kind", "status", "systems", "trials", "per rater", "raters",
                                       "votes", "leaderboard"])


def _created(made, request: gr.Request | None) -> str:
    per_rater = (f"{made.trials} trials, each rater gets a balanced subset of {made.trials_per_rater} plus the "
                 f"attention checks" if made.trials_per_rater else f"{made.trials} trials per rater")
    conditions = "conditions (hidden reference and anchors included)" if made.kind == "mushra" else "systems"
    return (f"Created **{made.name}** (`{made.id}`): {len(made.systems)} {conditions}, {made.items} items, "
            f"{per_rater}, loudness matched to {made.target_lufs:.1f} LUFS. "
            f"Share this link with raters: {_share_link(made.id, request)}")


def _share_link(test_id: str, request: gr.Request | None) -> str:
    """This page's address (as the browser sent it) with ?test=ID, or just the query to append."""
    page = request.headers.get("referer", "") if request else ""
    if not page:
        return f"this page's address followed by `?test={test_id}`"
    parts = urlsplit(page)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, f"test={test_id}", ""))
