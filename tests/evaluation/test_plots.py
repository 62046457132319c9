import math

import pandas as pd

from studio.evaluation.plots import figures, pareto_front
from studio.evaluation.results import ResultRow


def test_pareto_front_on_hand_made_points():
    # (RTFx higher is better, WER lower is better)
    points = [(10.0, 0.20), (50.0, 0.30), (5.0, 0.25), (50.0, 0.35), (2.0, 0.10), (10.0, 0.20), (math.nan, 0.0)]
    # 0 and 5 tie (neither dominates the other, both kept); 2 is beaten by 0; 3 by 1; NaN never belongs
    assert pareto_front(points, ("higher", "lower")) == [0, 1, 4, 5]


def test_pareto_front_other_directions():
    # TTS: RTF lower is better, DNSMOS higher is better
    points = [(0.1, 3.0), (0.2, 3.5), (0.3, 3.4), (0.05, 2.0)]
    assert pareto_front(points, ("lower", "higher")) == [0, 1, 3]


def test_figures_from_rows():
    rows = [ResultRow(key=f"u{i}", dataset="d", task="asr", system=s, system_id="x", duration=1.0 + i,
                      latency=0.1 * (i + 1), metrics={"wer": 0.1 * i}) for s in ("a", "b") for i in range(3)]
    summary = pd.DataFrame([
        {"dataset": "d", "system": "a", "system_id": "x", "options": "", "task": "asr", "utterances": 3,
         "failed": 0, "rtfx": 10.0, "corpus_wer": 0.2},
        {"dataset": "d", "system": "b", "system_id": "x", "options": "beam_size=1", "task": "asr", "utterances": 3,
         "failed": 0, "rtfx": 20.0, "corpus_wer": 0.3},
    ])
    made = figures(rows, summary)
    assert set(made) == {"speed_quality", "wer_distribution", "latency_vs_duration"}
    scatter = made["speed_quality"]
    assert scatter.layout.xaxis.type == "log"
    assert list(scatter.data[0].marker.symbol) == ["star", "star"]  # both on the front
    assert "beam_size=1" in scatter.data[0].hovertext[1]
