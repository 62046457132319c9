"""About / system panel: the hardware, software and models behind every number shown."""

from __future__ import annotations

import gradio as gr
import pandas as pd

from studio.adapters import adapter_ids, adapter_info, loaded_adapters, unavailable_reason
from studio.metrics import METRICS
from studio.system_info import system_report


def models_table() -> pd.DataFrame:
    loaded = {a.info.id: a for a in loaded_adapters()}
    return pd.DataFrame([
        {"id": i, "task": adapter_info(i).task, "model": adapter_info(i).model, "decoding": adapter_info(i).decoding,
         "status": unavailable_reason(i) or ("loaded on " + loaded[i].device if i in loaded else "not loaded yet"),
         "load s": round(loaded[i].load_seconds, 3) if i in loaded else None}
        for i in adapter_ids()
    ])


def metrics_table() -> pd.DataFrame:
    return pd.DataFrame([
        {"metric": m.info.name, "better": m.info.direction, "units": m.info.units, "model": m.info.model,
         "description": m.info.description}
        for m in METRICS.values()
    ])


def refresh():
    return system_report(), models_table(), metrics_table()


def build() -> list[gr.components.Component]:
    """The panel's outputs, so the app can fill them on page load."""
    gr.Markdown("Every timing in the studio was measured on this machine with this software. "
                "Timings exclude model load; the first run of each model includes its warm-up.")
    report = gr.JSON(label="System")
    models = gr.Dataframe(label="Models", wrap=True)
    metrics = gr.Dataframe(label="Metrics", wrap=True)
    button = gr.Button("Refresh")
    button.click(refresh, outputs=[report, models, metrics], api_name="system_info")
    return [report, models, metrics]
