"""Speed-quality plots (plotly): Pareto scatter, per-utterance WER spread, latency vs duration.

Every figure is built from the summary table or the JSONL rows alone, so the Evaluate tab,
the CLI and the Compare runs view draw the same pictures. `write_plots` saves them as one
self-contained HTML page next to the results (and PNGs when kaleido is installed).
"""

from __future__ import annotations

import math
from importlib.util import find_spec
from pathlib import Path
from typing import Literal, Sequence

import pandas as pd
import plotly.graph_objects as go

from studio.evaluation.results import ResultRow, rows_frame

Better = Literal["higher", "lower"]
PLOTS_FILE = "plots.html"
# How each kind of decoding is drawn: colour on the speed-quality plots (where the symbol marks the
# Pareto front), symbol on the latency plot. Classical systems (HMM, rules) in greys.
KIND_COLOURS = {"autoregressive": "#1f77b4", "non-autoregressive": "#ff7f0e", "HMM": "#2ca02c", "rules": "#7f7f7f",
                "": "#000000"}
KIND_SYMBOLS = {"autoregressive": "circle", "non-autoregressive": "diamond", "HMM": "square", "rules": "triangle-up",
                "": "x"}


def _kind_label(kind: str) -> str:
    return kind or "kind unknown"


def pareto_front(points: Sequence[tuple[float, float]], better: tuple[Better, Better]) -> list[int]:
    """Indices of the points no other point beats on both axes (NaN points never belong).

    A point is dominated when another is at least as good on both axes and strictly better on one.

    >>> pareto_front([(10, 0.2), (20, 0.3), (5, 0.25), (20, 0.2)], ("higher", "lower"))
    [3]
    """
    signs = [1 if b == "higher" else -1 for b in better]
    valid = [i for i, p in enumerate(points) if not any(math.isnan(v) for v in p)]
    scored = {i: (points[i][0] * signs[0], points[i][1] * signs[1]) for i in valid}

    def dominated(i: int) -> bool:
        a = scored[i]
        return any(b[0] >= a[0] and b[1] >= a[1] and b != a for j, b in scored.items() if j != i)

    return [i for i in valid if not dominated(i)]


def speed_quality(summary: pd.DataFrame, x: str, y: str, better: tuple[Better, Better], title: str) -> go.Figure:
    """One point per system (and dataset), Pareto members marked and joined, config on hover."""
    figure = go.Figure()
    for dataset, group in summary.groupby("dataset", sort=False):
        group = group.reset_index(drop=True)
        group["kind"] = group["kind"].fillna("") if "kind" in group else ""  # older runs did not record it
        front = set(pareto_front(list(zip(group[x], group[y])), better))
        for kind, members in group.groupby("kind", sort=False):  # one trace per kind: colour and legend entry
            hover = [f"<b>{r.system}</b> ({_kind_label(kind)})<br>{r.system_id} {r.options}<br>{x}={getattr(r, x):.3g}"
                     f"<br>{y}={getattr(r, y):.3g}<br>n={r.utterances}, failed={r.failed}" for r in members.itertuples()]
            figure.add_trace(go.Scatter(
                x=members[x], y=members[y], mode="markers+text", text=members["system"], textposition="top center",
                name=f"{dataset}: {_kind_label(kind)}", hovertext=hover, hoverinfo="text",
                marker=dict(size=[16 if i in front else 10 for i in members.index],
                            symbol=["star" if i in front else "circle" for i in members.index],
                            color=KIND_COLOURS.get(kind, KIND_COLOURS[""])),
            ))
        members = group.loc[sorted(front)].sort_values(x)
        if len(members) > 1:
            figure.add_trace(go.Scatter(x=members[x], y=members[y], mode="lines", line=dict(dash="dash", color="#999"),
                                        name=f"{dataset}: Pareto front", hoverinfo="skip"))
    figure.update_layout(title=title + " (★ = Pareto front; colour = decoding kind)", xaxis_title=x, yaxis_title=y,
                         template="plotly_white")
    figure.update_xaxes(type="log")
    return figure


def error_distribution(rows: pd.DataFrame, metric: str = "wer") -> go.Figure:
    """Per-utterance WER per system: box with every utterance as a dot."""
    figure = go.Figure()
    for system, group in rows.groupby("system", sort=False):
        values = [m.get(metric) for m in group["metrics"]]
        figure.add_trace(go.Box(y=values, name=system, boxpoints="all", jitter=0.4, hovertext=list(group["key"])))
    figure.update_layout(title=f"Per-utterance {metric.upper()} by system", yaxis_title=metric, showlegend=False,
                         template="plotly_white")
    return figure


def latency_vs_duration(rows: pd.DataFrame) -> go.Figure:
    figure = go.Figure()
    for system, group in rows.groupby("system", sort=False):
        kind = group["kind"].iloc[0] or "" if "kind" in group else ""
        figure.add_trace(go.Scatter(x=group["duration"], y=group["latency"], mode="markers",
                                    name=f"{system} ({_kind_label(kind)})", hovertext=list(group["key"]),
                                    marker=dict(symbol=KIND_SYMBOLS.get(kind, KIND_SYMBOLS[""]))))
    figure.update_layout(title="Latency vs audio duration (batched rows: the batch's wall time; "
                               "symbol = decoding kind: ● AR, ◆ NAR, ■ HMM, ▲ rules)",
                         xaxis_title="audio duration (s)", yaxis_title="latency (s)", template="plotly_white")
    return figure


def figures(rows: list[ResultRow], summary: pd.DataFrame) -> dict[str, go.Figure]:
    """The figures for one task, by file stem."""
    frame = rows_frame(rows)
    ok = frame[frame["error"].isna()] if not frame.empty else frame
    if summary.empty or ok.empty:
        return {}
    if summary["task"].iloc[0] == "asr":
        made = {"speed_quality": speed_quality(summary, "rtfx", "corpus_wer", ("higher", "lower"),
                                               "Speed vs quality: RTFx (log) vs corpus WER")}
    else:
        made = {
            "speed_wer": speed_quality(summary, "rtf", "roundtrip_corpus_wer", ("lower", "lower"),
                                       "TTS speed vs intelligibility: RTF (log) vs round-trip WER"),
            "speed_dnsmos": speed_quality(summary, "rtf", "dnsmos_mean", ("lower", "higher"),
                                          "TTS speed vs predicted quality: RTF (log) vs DNSMOS"),
        }
    made["wer_distribution"] = error_distribution(ok)
    made["latency_vs_duration"] = latency_vs_duration(ok)
    return made


def write_plots(rows: list[ResultRow], summary: pd.DataFrame, folder: Path) -> list[Path]:
    """plots.html (self-contained, all figures) and one PNG per figure when kaleido is importable."""
    made = figures(rows, summary)
    if not made:
        return []
    page = folder / PLOTS_FILE
    parts = [fig.to_html(full_html=False, include_plotlyjs=(i == 0)) for i, fig in enumerate(made.values())]
    page.write_text("<html><head><meta charset='utf-8'><title>Speech Studio evaluation</title></head><body>"
                    + "\n".join(parts) + "</body></html>", encoding="utf-8")
    written = [page]
    if find_spec("kaleido"):
        for stem, fig in made.items():
            fig.write_image(folder / f"{stem}.png")
            written.append(folder / f"{stem}.png")
    return written
