"""About / system panel: the hardware, software and models behind every number shown."""

from __future__ import annotations

from typing import Callable

import gradio as gr
import pandas as pd

from studio.adapters.registry import Registry
from studio.metrics import METRICS
from studio.system_info import system_report
from studio.ui.common import bind


def models_table(registry: Registry) -> pd.DataFrame:
    loaded = {a.info.id: a for a in registry.loaded()}
    return pd.DataFrame([
        {"id": i, "task": registry.info(i).task, "model": registry.info(i).model, "decoding": registry.info(i).decoding,
         "status": registry.unavailable_reason(i) or ("loaded on " + loaded[i].device if i in loaded else "not loaded yet"),
         "load s": round(loaded[i].load_seconds, 3) if i in loaded else None,
         "warm-up s (one untimed call after the load)": round(loaded[i].warm_up_seconds, 3) if i in loaded else None}
        for i in registry.ids()
    ])


def metrics_table() -> pd.DataFrame:
    return pd.DataFrame([
        {"metric": m.info.name, "better": m.info.direction, "units": m.info.units, "model": m.info.model,
         "description": m.info.description}
        for m in METRICS.values()
    ])


def refresh(registry: Registry):
    return system_report(), models_table(registry), metrics_table()


def build(registry: Registry) -> tuple[list[gr.components.Component], Callable]:
    """The panel's outputs and their refresh callback, so the app can fill them on page load."""
    gr.Markdown("Every timing in the studio was measured on this machine with this software. "
                "Timings exclude model load; the first run of each model includes its warm-up.")
    report = gr.JSON(label="System")
    models = gr.Dataframe(label="Models", wrap=True)
    metrics = gr.Dataframe(label="Metrics", wrap=True)
    button = gr.Button("Refresh")
    refresh_panel = bind(refresh, registry)
    button.click(refresh_panel, outputs=[report, models, metrics], api_name="system_info")
    return [report, models, metrics], refresh_panel
