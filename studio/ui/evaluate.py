"""Evaluate tab: run a shipped config (demo set included) with progress and cancel; compare earlier runs.

Thin on purpose: configs and result folders are picked by name from `studio.evaluation.catalog`
(never a typed path), the run is `run_evaluation`, and tables and plots come from the
engine's summary and figures.
"""

from __future__ import annotations

import threading

import gradio as gr
import pandas as pd

from studio.adapters.registry import Registry
from studio.evaluation.catalog import config_names, load_runs, run_names, shipped_config
from studio.evaluation.plots import PLOTS_FILE, figures
from studio.evaluation.results import (RESULTS_FILE, SHOWN_COLUMNS, SUMMARY_CSV, SUMMARY_PARQUET, ResultRow,
                                       ResultsLog)
from studio.evaluation.runner import run_evaluation
from studio.ui.common import bind, user_errors

DEFAULT_CONFIG = "demo_asr"
PLOT_SLOTS = 4

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
    config = shipped_config(name, registry).with_overrides(limit=int(limit) if limit else None)
    cancel = _cancel_events.setdefault(request.session_hash or "local", threading.Event())
    cancel.clear()
    progress(0, desc=f"loading models for {name}")
    result = run_evaluation(config, registry, progress=lambda done, total, message: progress((done, total), desc=message),
                            cancel=cancel)
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


def cancel_run(request: gr.Request) -> str:
    event = _cancel_events.get(request.session_hash or "local")
    if event:
        event.set()
    return "cancelling after the current batch…"


@user_errors
def compare_runs(names: list[str]):
    rows, summary = load_runs(names or [])
    return (summary_table(summary), *plot_updates(rows, summary))


def build(registry: Registry) -> None:
    gr.Markdown("Run a shipped evaluation config on its datasets, or compare earlier runs. Corpus WER = total "
                "word errors / total reference words; RTFx = audio s / processing s (warm-up excluded); padding "
                "fraction = padded audio / audio the model processed (Whisper pads every clip to 30 s).")
    with gr.Row():
        config = gr.Dropdown(choices=config_names(), value=DEFAULT_CONFIG if DEFAULT_CONFIG in config_names() else None,
                             label="Config (evals/configs; demo_asr and demo_tts use the bundled demo set)")
        limit = gr.Number(value=None, precision=0, minimum=1, label="Only the first N items per dataset (empty = all)")
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
    run.click(bind(run_config, registry), inputs=[config, limit], outputs=[table, *plots, downloads, status, runs],
              api_name="evaluate")
    cancel.click(cancel_run, outputs=[status], api_name="evaluate_cancel")
    compare.click(compare_runs, inputs=[runs], outputs=[compare_table, *compare_plots], api_name="compare_runs")
