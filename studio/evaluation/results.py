"""Results on disk: one JSONL row per utterance per system, and the summary table built from them.

Rows are appended and flushed one by one, so a killed run loses at most the line it was
writing and resumes from the rest. The summary is a pure function of the rows: the same
rows give the same table whether they came from one run, a resumed run or an old folder.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from studio.errors import ConfigError

RESULTS_FILE = "results.jsonl"
SUMMARY_CSV = "summary.csv"
SUMMARY_PARQUET = "summary.parquet"
RUN_FILE = "run.json"
# The summary columns people read first, in order (the CLI prints them, the Evaluate tab shows them)
SHOWN_COLUMNS = ("dataset", "system", "options", "utterances", "failed", "corpus_wer", "mean_utterance_wer",
                 "corpus_cer", "rtfx", "latency_p50_s", "latency_p90_s", "padding_fraction", "rtf", "ttfa_mean_s",
                 "roundtrip_corpus_wer", "speaker_similarity_mean", "dnsmos_mean", "distillmos_mean", "metrics_skipped")


@dataclass(frozen=True)
class ResultRow:
    """One utterance (ASR) or prompt (TTS) through one system: one line of results.jsonl, field for field.

    >>> ResultRow(key="u1", dataset="demo", task="asr", system="pocketsphinx", system_id="pocketsphinx").ident
    ('demo', 'pocketsphinx', 'u1')
    """

    key: str  # utterance or prompt id
    dataset: str
    task: str  # "asr" or "tts"
    system: str  # the system's label: adapter id plus non-default options, or its name
    system_id: str  # the adapter id
    kind: str = ""  # the adapter's decoding kind: autoregressive, non-autoregressive, HMM or rules
    options: dict[str, Any] = field(default_factory=dict)  # every decoding option used
    options_text: str = ""  # the non-default ones, as name=value text
    audio_filepath: str = ""  # the input audio (ASR) or the synthesised WAV (TTS)
    duration: float | None = None  # seconds of audio
    time: float | None = None  # processing seconds of this item (its share of a batch)
    latency: float | None = None  # wall seconds until its result existed (a batch's whole time)
    text: str = ""  # reference text (ASR) or prompt (TTS)
    pred_text: str = ""  # the transcript (ASR) or the judge's transcript (TTS)
    metrics: dict[str, float] = field(default_factory=dict)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # WER/CER errors and reference lengths
    skipped: dict[str, str] = field(default_factory=dict)  # metric -> why it did not run
    stages: dict[str, float] = field(default_factory=dict)  # measured stage seconds
    processed_seconds: float | None = None  # audio seconds the model processed (with padding)
    batch_size: int = 1  # clips decoded together with this one
    speaker: str | None = None
    reference_audio: str | None = None  # the voice a TTS output was compared with
    device: str | None = None
    error: str | None = None  # why this item failed (None when it did not)
    written: float = 0.0  # time.time() when written

    @property
    def ident(self) -> tuple[str, str, str]:
        """What makes a row unique: dataset, system label, utterance id."""
        return self.dataset, self.system, self.key

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ResultRow":
        """A row as read back; keys this version does not know are ignored, missing ones take their defaults."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


ROW_FIELDS = tuple(f.name for f in dataclasses.fields(ResultRow))


class ResultsLog:
    """Append-only JSONL of utterance rows."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def read(self) -> list[ResultRow]:
        """Rows written so far; a torn last line (the run was killed mid-write) is dropped."""
        if not self.path.is_file():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        rows = []
        for line_no, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError:
                if line_no == len(lines):
                    break
                raise ConfigError(f"{self.path}:{line_no}: not a results row (not JSON); "
                                  "fix or delete the line, or start a fresh output folder") from None
            try:
                if not isinstance(data, dict):
                    raise TypeError(type(data).__name__)
                rows.append(ResultRow.from_dict(data))
            except TypeError:  # not a mapping, or a required field missing
                raise ConfigError(f"{self.path}:{line_no}: not a results row (needs key, dataset, task, system, "
                                  "system_id); fix or delete the line, or start a fresh output folder") from None
        return rows

    def repair(self) -> None:
        """Cut a torn last line so appended rows start on a line of their own."""
        if self.path.is_file():
            rows = self.read()
            text = "".join(json.dumps(r.to_dict()) + "\n" for r in rows)
            if text != self.path.read_text(encoding="utf-8"):
                self.path.write_text(text, encoding="utf-8")

    def append(self, row: ResultRow) -> None:
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(row.to_dict()) + "\n")
            out.flush()


def rows_frame(rows: Iterable[ResultRow]) -> pd.DataFrame:
    """The rows as a table, one column per field."""
    return pd.DataFrame([r.to_dict() for r in rows], columns=list(ROW_FIELDS))


def summarize(rows: Iterable[ResultRow]) -> pd.DataFrame:
    """One line per (dataset, system): quality, speed and failures, each column named for what it is."""
    frame = rows_frame(rows)
    if frame.empty:
        return pd.DataFrame()
    lines = []
    for (dataset, system), group in frame.groupby(["dataset", "system"], sort=False):
        ok = group[group["error"].isna()]
        first = group.iloc[0]
        line = {"dataset": dataset, "system": system, "system_id": first["system_id"], "kind": first["kind"] or "",
                "options": first["options_text"], "task": first["task"], "utterances": len(ok),
                "failed": int(group["error"].notna().sum()),
                "audio_seconds": float(ok["duration"].sum()), "processing_seconds": float(ok["time"].sum())}
        line.update(_asr_columns(ok) if first["task"] == "asr" else _tts_columns(ok))
        line["metrics_skipped"] = _skipped_counts(ok)
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


def _skipped_counts(ok: pd.DataFrame) -> str:
    """How many rows each metric could not score, e.g. 'speaker_similarity: 1' ('' when every metric scored all)."""
    counts = pd.Series([name for skipped in ok["skipped"] for name in (skipped or {})], dtype=object).value_counts()
    return ", ".join(f"{name}: {count}" for name, count in sorted(counts.items()))


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
