"""Evaluate tab: your own data (upload, pick systems, shareable results), a shipped config, earlier runs.

Thin on purpose: uploads become a dataset and a run folder in `studio.evaluation.userdata`
(limits, zip checks, run ids and expiry live there), configs and result folders are picked by
name from `studio.evaluation.catalog` (never a typed path), the run is `run_evaluation`, and
tables and plots come from the engine's summary and figures.
"""

from __future__ import annotations

import shutil
import threading

import gradio as gr
import pandas as pd

from studio.adapters.registry import Registry
from studio.errors import StudioError
from studio.evaluation import userdata
from studio.evaluation.catalog import config_names, load_runs, run_names, shipped_config
from studio.evaluation.plots import PLOTS_FILE, figures
from studio.evaluation.results import (RESULTS_FILE, SHOWN_COLUMNS, SUMMARY_CSV, SUMMARY_PARQUET, ResultRow,
                                       ResultsLog, summarize)
from studio.evaluation.runner import run_evaluation
from studio.metrics import METRICS
from studio.ui.common import bind, playable, user_errors
from studio.ui.systems import selected_systems, system_pickers

DEFAULT_CONFIG = "demo_asr"
PLOT_SLOTS = 4
ASR, TTS = "Recognition (ASR): audio + transcripts", "Synthesis (TTS): prompts"
DEFAULT_ASR = [("whisper-tiny.en", ""), ("pocketsphinx", "")]
DEFAULT_TTS = [("piper-joe", ""), ("espeak-ng", "")]
DEFAULT_SORT = "system, then utterance"
DIFF_COLOURS = {"substitution": "orange", "deletion": "red", "insertion": "blue"}

_cancel_events: dict[str, threading.Event] = {}  # one per browser session: the Cancel button sets it


def summary_table(summary: pd.DataFrame) -> pd.DataFrame:
    shown = summary[[c for c in SHOWN_COLUMNS if c in summary]] if not summary.empty else summary
    return shown.round(4)


def plot_updates(rows: list[ResultRow], summary: pd.DataFrame) -> list:
    made = list(figures(rows, summary).values())[:PLOT_SLOTS]
    return [gr.update(value=f, visible=True) for f in made] + [gr.update(value=None, visible=False)] * (PLOT_SLOTS - len(made))


@user_errors
def run_config(registry: Registry, name: str, limit: float | None, request: gr.Request, progress=gr.Progress()):
    """Run (or resume) a shipped config; returns table, plots, downloads and a status line."""
    config = shipped_config(name, registry).with_overrides(limit=int(limit) if limit and limit > 0 else None)
    progress(0, desc=f"loading models for {name}")
    result = _run(config, registry, request, progress)
    rows = [r for r in ResultsLog(result.results_path).read() if r.system in {s.label for s in config.systems}]
    downloads = [str(result.output / f) for f in (SUMMARY_CSV, SUMMARY_PARQUET, RESULTS_FILE, PLOTS_FILE)
                 if (result.output / f).is_file()]
    state = "cancelled: run again to resume" if result.cancelled else "finished"
    if config.ray:
        state += f" on Ray ({config.ray.address}, {config.ray.workers} workers per system)"
    status = (f"{state} · {result.new_rows} new rows · {result.failed} failed utterances (reported in "
              f"results.jsonl) · results in {result.output.name}/")
    return (summary_table(result.summary), *plot_updates(rows, result.summary), downloads, status,
            gr.update(choices=run_names()))


def _run(config, registry: Registry, request: gr.Request, progress):
    cancel = _cancel_events.setdefault(request.session_hash or "local", threading.Event())
    cancel.clear()
    return run_evaluation(config, registry, progress=lambda done, total, message: progress((done, total), desc=message),
                          cancel=cancel)


@user_errors
def run_my_data(registry: Registry, task: str, archive, audio_files, references, prompts_file, prompts_text, voice,
                metrics, request: gr.Request, progress=gr.Progress(), *pickers):
    """Evaluate an upload with the chosen systems (ASR pickers, then TTS pickers); returns the run id, status,
    summary, plots, per-utterance table and downloads. Nothing is kept when the upload is refused.

    `request` and `progress` come before the pickers: Gradio inserts them at their place in the signature."""
    half = len(pickers) // 2
    tts = task == TTS
    systems = selected_systems(registry, tuple(pickers[half:] if tts else pickers[:half]))
    userdata.check_systems(systems)
    run = userdata.new_run(request.session_hash, "tts" if tts else "asr")
    try:
        progress(0, desc="checking the upload")
        if tts:
            prepared = userdata.prepare_tts(run, prompts_file, prompts_text, voice)
        else:
            prepared = userdata.prepare_asr(run, archive, audio_files or [], references)
        config = userdata.upload_config(registry, run, prepared, systems, metrics or ())
    except Exception:
        shutil.rmtree(run.folder, ignore_errors=True)  # a refused upload leaves nothing behind
        raise
    progress(0, desc=f"loading models ({prepared.describe(config.task)})")
    try:
        result = _run(config, registry, request, progress)
    except StudioError as error:  # e.g. a model that cannot load: what finished before stays readable and shareable
        state, failed = f"stopped: {error}; the finished rows are kept", "?"
    else:
        state = "cancelled (the finished rows are kept)" if result.cancelled else "finished"
        failed = result.failed
    status = (f"{state} · {prepared.describe(config.task)} · {failed} failed · share this result: "
              f"{share_link(request, run.id)} (kept {userdata.UploadLimits.from_env().run_ttl_hours:g} hours)")
    return (run.id, status, *run_view(run), gr.update(value=DEFAULT_SORT))


def share_link(request: gr.Request, run_id: str) -> str:
    page = (request.headers.get("referer") or "").split("?")[0] if request else ""
    return f"{page}?run={run_id}"


def run_view(run: userdata.BrowserRun, sort: str = DEFAULT_SORT) -> tuple:
    """Summary, plots, per-utterance table and downloads of a browser run."""
    rows = run.rows()
    summary = summarize(rows)
    downloads = [str(run.results / f) for f in (SUMMARY_CSV, PLOTS_FILE) if (run.results / f).is_file()]
    return (summary_table(summary), *plot_updates(rows, summary), userdata.utterance_frame(rows, sort),
            downloads or None)


@user_errors
def open_shared(request: gr.Request):
    """`?run=ID`: the run's results, read-only, in any browser."""
    run_id = request.query_params.get("run") if request else None
    if not run_id:
        return (gr.update(),) * (4 + PLOT_SLOTS + 1)
    run = userdata.open_run(run_id)
    expires = run.info.get("expires")
    when = f" until {pd.Timestamp(expires, unit='s'):%Y-%m-%d %H:%M} UTC" if expires else ""
    return (run.id, f"shared result (read-only), kept{when}", *run_view(run))


@user_errors
def resort(run_id: str, sort: str):
    if not run_id:
        return None
    return userdata.utterance_frame(userdata.open_run(run_id).rows(), sort)


@user_errors
def show_utterance(run_id: str, evt: gr.SelectData):
    """The chosen row's audio and word diff."""
    if not run_id or not evt.row_value:
        return None, None, ""
    audio, diff, note = userdata.utterance_view(userdata.open_run(run_id), str(evt.row_value[0]),
                                                str(evt.row_value[1]))
    return (playable(audio) if audio else None), diff, note


def cancel_run(request: gr.Request) -> str:
    cancel_session_run(request.session_hash or "local")
    return "cancelling after the current batch…"


def cancel_session_run(session: str) -> None:
    """Stop the session's run after its current batch (the Cancel button; a run past the wall-time quota)."""
    event = _cancel_events.get(session)
    if event:
        event.set()


@user_errors
def compare_runs(names: list[str]):
    rows, summary = load_runs(names or [])
    return (summary_table(summary), *plot_updates(rows, summary))


def build(registry: Registry):
    """The tab; returns (load callback, outputs) for the app to open `?run=ID` links."""
    gr.Markdown("Evaluate your own recordings or prompts, run a shipped evaluation config, or compare earlier runs. "
                "Corpus WER = total word errors / total reference words; RTFx = audio s / processing s (warm-up "
                "excluded); padding fraction = padded audio / audio the model processed (Whisper pads every clip "
                "to 30 s).")
    with gr.Column(elem_id="your-data"):
        shared_outputs = _your_data(registry)
    gr.Markdown("### Shipped configs")
    with gr.Row():
        config = gr.Dropdown(choices=config_names(), value=DEFAULT_CONFIG if DEFAULT_CONFIG in config_names() else None,
                             label="Config (evals/configs; demo_asr and demo_tts use the bundled demo set)")
        # 0 (the default) means all: an empty Number shows 0 in the browser, so 0 must be a valid value
        limit = gr.Number(value=0, precision=0, minimum=0, label="Only the first N items per dataset (0 = all)")
    with gr.Row():
        run = gr.Button("Run evaluation", variant="primary")
        cancel = gr.Button("Cancel", variant="stop")
    status = gr.Textbox(label="Status", interactive=False)
    table = gr.Dataframe(label="Summary (one row per dataset and system)", wrap=True)
    plots = [gr.Plot(visible=False) for _ in range(PLOT_SLOTS)]
    downloads = gr.File(label="Downloads: summary CSV / Parquet, per-utterance JSONL, plots HTML", file_count="multiple",
                        interactive=False)
    with gr.Accordion("Compare runs", open=False):
        runs = gr.Dropdown(choices=run_names(), multiselect=True, label="Earlier result folders (under the results root)")
        compare = gr.Button("Compare")
        compare_table = gr.Dataframe(label="Runs side by side (systems labelled 'run: system')", wrap=True)
        compare_plots = [gr.Plot(visible=False) for _ in range(PLOT_SLOTS)]
    run_shipped = bind(run_config, registry, admin="running a shipped evaluation config (or a Ray run)", job=True,
                       on_timeout=cancel_session_run)
    run.click(run_shipped, inputs=[config, limit], outputs=[table, *plots, downloads, status, runs], api_name="evaluate")
    cancel.click(cancel_run, outputs=[status], api_name="evaluate_cancel")
    compare.click(compare_runs, inputs=[runs], outputs=[compare_table, *compare_plots], api_name="compare_runs")
    return open_shared, shared_outputs


def _your_data(registry: Registry) -> list:
    limits = userdata.UploadLimits.from_env()
    gr.Markdown(f"### Your data\nUpload a .zip of audio with a JSONL manifest (`audio_filepath`, `duration`, `text`), "
                f"LibriSpeech-style `*.trans.txt` lists, or a `.txt`/`.lab` beside each clip; or a few audio files "
                f"with one reference a line. Limits: {limits.max_upload_mb:g} MB, {limits.max_files} files, "
                f"{limits.max_clip_seconds:g} s a clip, {limits.max_total_seconds:g} s in all, "
                f"{limits.max_systems} systems. Every run gets a private share link, kept "
                f"{limits.run_ttl_hours:g} hours.")
    task = gr.Radio([ASR, TTS], value=ASR, label="What to evaluate", elem_id="your-task")
    with gr.Group(visible=True) as asr_inputs:
        with gr.Row():
            archive = gr.File(label="A .zip of audio and transcripts", file_types=[".zip"], type="filepath",
                              elem_id="your-zip")
            audio_files = gr.File(label="…or audio files", file_count="multiple", type="filepath",
                                  elem_id="your-files")
            references = gr.Textbox(label="References for the audio files, one a line, in order", lines=4)
        asr_pickers = system_pickers(registry, "asr", DEFAULT_ASR)
    with gr.Group(visible=False) as tts_inputs:
        with gr.Row():
            prompts_file = gr.File(label="Prompt list (.txt one a line, or .jsonl with text)",
                                   file_types=[".txt", ".jsonl"], type="filepath")
            prompts_text = gr.Textbox(label="…or type prompts, one a line", lines=4,
                                      value="The weather will be cloudy in the morning.\nPlease call me back before noon.")
            voice = gr.Audio(label="Reference voice (optional, for speaker similarity)", sources=["upload"],
                             type="filepath")
        tts_pickers = system_pickers(registry, "tts", DEFAULT_TTS)
    metrics = gr.CheckboxGroup(list(METRICS), value=[], label="Metrics (none ticked = the task's defaults)")
    with gr.Row():
        run = gr.Button("Evaluate my data", variant="primary", elem_id="your-run")
        cancel = gr.Button("Cancel", variant="stop", elem_id="your-cancel")
    run_id = gr.State("")
    status = gr.Textbox(label="Your run", interactive=False, elem_id="your-status")
    table = gr.Dataframe(label="Your summary (one row per system)", wrap=True, elem_id="your-summary")
    plots = [gr.Plot(visible=False) for _ in range(PLOT_SLOTS)]
    sort = gr.Radio(list(userdata.SORTS), value=DEFAULT_SORT, label="Sort the per-utterance table by",
                    elem_id="your-sort")
    utterances = gr.Dataframe(label="Per utterance: choose a row to hear it and see its word diff", wrap=True,
                              interactive=False, elem_id="your-utterances")
    with gr.Row():
        heard = gr.Audio(label="The chosen utterance", interactive=False, elem_id="your-audio")
        with gr.Column():
            note = gr.Markdown(elem_id="your-note")
            diff = gr.HighlightedText(label="Word diff", combine_adjacent=False, color_map=DIFF_COLOURS,
                                      elem_id="your-diff")
    downloads = gr.File(label="Downloads: summary CSV, plots HTML", file_count="multiple", interactive=False)
    task.change(lambda t: (gr.update(visible=t == ASR), gr.update(visible=t == TTS)), inputs=task,
                outputs=[asr_inputs, tts_inputs], api_name=False)
    outputs = [run_id, status, table, *plots, utterances, downloads]
    run.click(bind(run_my_data, registry, job=True, on_timeout=cancel_session_run),
              inputs=[task, archive, audio_files, references, prompts_file, prompts_text, voice, metrics,
                      *asr_pickers, *tts_pickers],
              outputs=[*outputs, sort], api_name="evaluate_my_data")
    cancel.click(cancel_run, outputs=[status], api_name=False)
    sort.change(resort, inputs=[run_id, sort], outputs=utterances, api_name=False)
    utterances.select(show_utterance, inputs=[run_id], outputs=[heard, diff, note], api_name=False)
    return outputs
