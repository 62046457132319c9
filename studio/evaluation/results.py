"""Results on disk: one JSONL row per utterance per system, and the summary table built from them.

Rows are appended and flushed one by one, so a killed run loses at most the line it was
writing and resumes from the rest. The summary is a pure function of the rows: the same
rows give the same table whether they came from one run, a resumed run or an old folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from studio.errors import ConfigError

RESULTS_FILE = "results.jsonl"
SUMMARY_CSV = "summary.csv"
SUMMARY_PARQUET = "summary.parquet"
RUN_FILE = "run.json"


def row_key(row: dict) -> tuple[str, str, str]:
    """What makes a row unique: dataset, system label, utterance id."""
    return row["dataset"], row["system"], row["key"]


class ResultsLog:
    """Append-only JSONL of utterance rows."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def read(self) -> list[dict]:
        """Rows written so far; a torn last line (the run was killed mid-write) is dropped."""
        if not self.path.is_file():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        rows = []
        for line_no, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                if line_no == len(lines):
                    break
                raise ConfigError(f"{self.path}:{line_no}: not a results row (not JSON); "
                                  "fix or delete the line, or start a fresh output folder") from None
        return rows

    def repair(self) -> None:
        """Cut a torn last line so appended rows start on a line of their own."""
        if self.path.is_file():
            rows = self.read()
            text = "".join(json.dumps(r) + "\n" for r in rows)
            if text != self.path.read_text(encoding="utf-8"):
                self.path.write_text(text, encoding="utf-8")

    def append(self, row: dict) -> None:
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(row) + "\n")
            out.flush()


def summarize(rows: Iterable[dict]) -> pd.DataFrame:
    """One line per (dataset, system): quality, speed and failures, each column named for what it is."""
    frame = pd.DataFrame(list(rows))
    if frame.empty:
        return pd.DataFrame()
    lines = []
    for (dataset, system), group in frame.groupby(["dataset", "system"], sort=False):
        ok = group[group["error"].isna()]
        first = group.iloc[0]
        line = {"dataset": dataset, "system": system, "system_id": first["system_id"],
                "options": first["options_text"], "task": first["task"], "utterances": len(ok),
                "failed": int(group["error"].notna().sum()),
                "audio_seconds": float(ok["duration"].sum()), "processing_seconds": float(ok["time"].sum())}
        line.update(_asr_columns(ok) if first["task"] == "asr" else _tts_columns(ok))
        lines.append(line)
    return pd.DataFrame(lines)


def _asr_columns(ok: pd.DataFrame) -> dict:
    metrics = pd.DataFrame(list(ok["metrics"])) if len(ok) else pd.DataFrame()
    columns = {
        "corpus_wer": _corpus_rate(ok, "wer"),  # total word errors / total reference words
        "mean_utterance_wer": _mean(metrics, "wer"),
        "corpus_cer": _corpus_rate(ok, "cer"),
        "rtfx": _ratio(ok["duration"].sum(), ok["time"].sum()),  # total audio s / total processing s
        "latency_p50_s": _quantile(ok["latency"], 0.5),
        "latency_p90_s": _quantile(ok["latency"], 0.9),
        "padding_fraction": _ratio(ok["processed_seconds"].sum() - ok["duration"].sum(), ok["processed_seconds"].sum()),
        "mean_batch_size": float(ok["batch_size"].mean()) if len(ok) else np.nan,
    }
    columns.update(_stage_columns(ok))
    return columns


def _tts_columns(ok: pd.DataFrame) -> dict:
    metrics = pd.DataFrame(list(ok["metrics"])) if len(ok) else pd.DataFrame()
    columns = {
        "rtf": _ratio(ok["time"].sum(), ok["duration"].sum()),  # total compute s / total audio s
        "ttfa_mean_s": _mean(metrics, "ttfa"),
        "latency_p50_s": _quantile(ok["latency"], 0.5),
        "latency_p90_s": _quantile(ok["latency"], 0.9),
        "roundtrip_corpus_wer": _corpus_rate(ok, "wer"),
        "roundtrip_mean_utterance_wer": _mean(metrics, "wer"),
        "speaker_similarity_mean": _mean(metrics, "speaker_similarity"),
        "dnsmos_mean": _mean(metrics, "dnsmos"),
        "distillmos_mean": _mean(metrics, "distillmos"),
    }
    columns.update(_stage_columns(ok))
    return columns


def _stage_columns(ok: pd.DataFrame) -> dict:
    stages = pd.DataFrame(list(ok["stages"])) if len(ok) else pd.DataFrame()
    return {f"stage_{name}_s": float(stages[name].sum()) for name in stages.columns}


def _corpus_rate(ok: pd.DataFrame, name: str) -> float:
    counts = [c[name] for c in ok["counts"] if c and name in c]
    words = sum(c["reference_length"] for c in counts)
    return sum(c["errors"] for c in counts) / words if words else np.nan


def _mean(metrics: pd.DataFrame, name: str) -> float:
    return float(metrics[name].mean()) if name in metrics else np.nan


def _quantile(values: pd.Series, q: float) -> float:
    return float(values.quantile(q)) if len(values) else np.nan


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator > 0 else np.nan


def write_summary(summary: pd.DataFrame, folder: Path) -> tuple[Path, Path]:
    csv_path, parquet_path = folder / SUMMARY_CSV, folder / SUMMARY_PARQUET
    summary.to_csv(csv_path, index=False)
    summary.to_parquet(parquet_path, index=False)
    return csv_path, parquet_path
