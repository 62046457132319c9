"""The evaluation run shared by `studio eval`, `python -m evals` and the Evaluate tab.

For every system and dataset: warm up (untimed), run the pending items in duration-bucketed
batches (ASR) or one by one (TTS), score them, and append one JSONL row each, flushed as
written (TTS audio is kept as WAV files beside the rows). A bad utterance becomes a row with an `error` and the run goes on; config
mistakes raise `ConfigError` before anything runs. Finished rows are never redone, so a
killed or cancelled run picks up where it stopped. At the end the summary table, run.json
and the plots are rebuilt from all rows.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import pandas as pd

from studio.adapters import System, get_adapter
from studio.adapters.base import ASRAdapter, Transcription, TTSAdapter
from studio.audio import Audio, load_audio
from studio.engine import score
from studio.errors import ConfigError, StudioError, failure_message
from studio.evaluation.batching import BatchPlan, plan_batches, processed_seconds
from studio.evaluation.config import EvalConfig, system_record
from studio.evaluation.datasets import Dataset, Prompt, Utterance, load_dataset
from studio.evaluation.results import RESULTS_FILE, RUN_FILE, ResultsLog, row_key, summarize, write_summary
from studio.metrics import MetricInput
from studio.text import check_text

ProgressCallback = Callable[[int, int, str], None]  # (items done, items in total, what just finished)

@dataclass(frozen=True)
class RunResult:
    """Where a run wrote its files and what it found."""

    output: Path
    summary: pd.DataFrame
    new_rows: int  # rows written by this call (resumed rows excluded)
    failed: int  # utterances reported and skipped, over all rows
    cancelled: bool
    plots: tuple[Path, ...] = ()

    @property
    def results_path(self) -> Path:
        return self.output / RESULTS_FILE


def load_datasets(config: EvalConfig) -> list[Dataset]:
    """Every dataset of the config, cut to `limit` items; `ConfigError` naming file and line on bad input."""
    datasets = [load_dataset(d.path, config.task, d.name) for d in config.datasets]
    names = [d.name for d in datasets]
    if len(set(names)) < len(names):
        raise ConfigError("two datasets share a name; give one a `name:` in the config")
    if config.limit:
        datasets = [Dataset(d.name, d.task, d.source, d.items[:config.limit]) for d in datasets]
    return datasets


def run_evaluation(config: EvalConfig, progress: ProgressCallback | None = None,
                   cancel: threading.Event | None = None, max_new_rows: int | None = None) -> RunResult:
    """Run (or resume) `config`; stop early, keeping every finished row, on `cancel` or after `max_new_rows`.

    With `config.ray` set, ASR batches go to Ray actors (`studio.evaluation.distributed`); this
    process stays the one writer, so the results folder is the same as a local run's.
    """
    if config.task == "tts" and "wer" in config.metrics and config.judge is None:
        raise ConfigError("round-trip WER for TTS needs a judge ASR system, e.g. `judge: {adapter: whisper-tiny.en}`")
    datasets = load_datasets(config)
    output = Path(config.output)
    output.mkdir(parents=True, exist_ok=True)
    with _writers_lock:
        writer = _writers.setdefault(output.resolve(), threading.Lock())
    if not writer.acquire(blocking=False):  # two writers would both redo the same pending rows
        raise ConfigError(f"a run is already writing to {output}; wait for it to finish or cancel it")
    try:
        return _run(config, datasets, output, progress, cancel, max_new_rows)
    finally:
        writer.release()


_writers: dict[Path, threading.Lock] = {}  # one writer per results folder in this process
_writers_lock = threading.Lock()


def _run(config: EvalConfig, datasets: list[Dataset], output: Path, progress: ProgressCallback | None,
         cancel: threading.Event | None, max_new_rows: int | None) -> RunResult:
    log = ResultsLog(output / RESULTS_FILE)
    log.repair()
    done = {row_key(r) for r in log.read()}
    run = RunState(config, log.append, done, progress, cancel or threading.Event(), max_new_rows)
    if config.ray:
        from studio.evaluation.distributed import RayExecutor

        run.executor = RayExecutor(config.ray, config)
    run.total = sum(len(d.items) for d in datasets) * len(config.systems)
    run.finished = sum(1 for s in config.systems for d in datasets for i in d.items if (d.name, s.label, i.id) in done)
    started = datetime.now(timezone.utc)
    try:
        for system in config.systems:
            for dataset in datasets:
                if run.stopped:
                    break
                run.system_on_dataset(system, dataset)
    finally:
        cluster = run.executor.close() if run.executor else None
    return finish(config, output, log, started, run.new_rows, run.stopped, cluster)


def finish(config: EvalConfig, output: Path, log: ResultsLog, started: datetime, new_rows: int,
           cancelled: bool, cluster: dict | None = None) -> RunResult:
    """Rebuild summary, run.json and plots from every row of the systems and datasets in `config`."""
    from studio.evaluation.plots import write_plots
    from studio.system_info import system_report

    labels = {s.label for s in config.systems}
    rows = [r for r in log.read() if r["system"] in labels]
    summary = summarize(rows)
    if not summary.empty:
        write_summary(summary, output)
    plots = write_plots(rows, summary, output) if not summary.empty else ()
    run_info = {
        "config": config.to_dict(),
        "started": started.isoformat(), "finished": datetime.now(timezone.utc).isoformat(),
        "cancelled": cancelled, "new_rows": new_rows, "rows": len(rows),
        "failed": int(sum(1 for r in rows if r.get("error"))),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "system": system_report(),
        "cluster": cluster,  # Ray runs: nodes, resources, workers
    }
    (output / RUN_FILE).write_text(json.dumps(run_info, indent=2, default=str), encoding="utf-8")
    return RunResult(output, summary, new_rows, run_info["failed"], cancelled, tuple(plots))


class RunState:
    """One run in progress: where rows go (`sink`), what is done, progress, and whether to stop.

    Local runs write rows to the JSONL; a Ray actor collects them for the driver to write.
    """

    def __init__(self, config: EvalConfig, sink: Callable[[dict], None], done: set,
                 progress: ProgressCallback | None = None, cancel: threading.Event | None = None,
                 max_new_rows: int | None = None):
        self.config, self.sink, self.done = config, sink, done
        self.progress, self.cancel, self.max_new_rows = progress, cancel or threading.Event(), max_new_rows
        self.total = self.finished = self.new_rows = 0
        self.executor = None  # a RayExecutor when the work runs on a cluster

    @property
    def stopped(self) -> bool:
        return self.cancel.is_set() or (self.max_new_rows is not None and self.new_rows >= self.max_new_rows)

    def write(self, row: dict) -> None:
        self.sink(row)
        self.done.add(row_key(row))
        self.new_rows += 1
        self.finished += 1
        if self.progress:
            status = f"failed: {row['error']}" if row["error"] else row["pred_text"][:60]
            self.progress(self.finished, self.total, f"{row['system']} · {row['key']} · {status}")

    def system_on_dataset(self, system: System, dataset: Dataset) -> None:
        pending = [i for i in dataset.items if (dataset.name, system.label, i.id) not in self.done]
        if not pending:
            return
        if self.executor:
            self.executor.run(self, system, dataset, pending)
            return
        adapter = get_adapter(system.adapter_id, self.config.device)
        if system.task == "asr":
            self.recognise(adapter, system, dataset, pending)
        else:
            self.synthesise(adapter, system, dataset, pending)

    # --- ASR -----------------------------------------------------------------------------
    def recognise(self, adapter: ASRAdapter, system: System, dataset: Dataset, pending: list[Utterance]) -> None:
        warm_up(adapter, system, pending[:self.config.warmup])
        window = adapter.info.input_window_seconds
        for batch in plan_recognition(self.config, pending, batches_natively(adapter), window).batches:
            if self.stopped:
                return
            items = [pending[i] for i in batch]
            if self.max_new_rows is not None:
                items = items[:self.max_new_rows - self.new_rows]
            self.recognise_items(adapter, system, dataset.name, items, window)

    def recognise_items(self, adapter: ASRAdapter, system: System, dataset: str, items: list[Utterance],
                        window: float | None) -> None:
        """Read, recognise and score one batch; an unreadable file becomes an error row."""
        audios: list[tuple[Utterance, Audio]] = []
        for item in items:
            try:
                audios.append((item, load_audio(item.audio_filepath)))
            except StudioError as error:
                self.write(self.row(system, dataset, item, error=str(error)))
        if audios:
            self.recognise_batch(adapter, system, dataset, audios, window)

    def recognise_batch(self, adapter: ASRAdapter, system: System, dataset: str,
                        audios: list[tuple[Utterance, Audio]], window: float | None) -> None:
        try:
            results = adapter.transcribe_batch([a for _, a in audios], system.options)
        except Exception as error:  # noqa: BLE001 - reported as a failed row (failure_message logs bugs)
            if len(audios) == 1:
                self.write(self.row(system, dataset, audios[0][0], error=failure_message(error)))
            else:  # find the one that failed; the others still count
                for pair in audios:
                    self.recognise_batch(adapter, system, dataset, [pair], window)
            return
        batch_seconds = sum(r.processing_seconds for r in results)
        processed = processed_seconds([r.audio_duration for r in results], window)
        for (item, _), result, seconds in zip(audios, results, processed):
            metrics, counts, skipped = self.scores(MetricInput(hypothesis=result.text, reference=item.text,
                                                               transcription=result))
            self.write(self.row(system, dataset, item, result=result, metrics=metrics, counts=counts,
                                skipped=skipped, latency=batch_seconds, processed_seconds=seconds,
                                batch_size=len(results)))

    # --- TTS -----------------------------------------------------------------------------
    def synthesise(self, adapter: TTSAdapter, system: System, dataset: Dataset, pending: list[Prompt]) -> None:
        warm_up(adapter, system, pending[:self.config.warmup])
        judge = judge_adapter(self.config)
        own_voice_path = synthesis_path(self.config, system, dataset.name, dataset.items[0])
        own_voice = None  # the system's first utterance: the voice to compare with when a prompt gives none
        for prompt in pending:
            if self.stopped:
                return
            if own_voice is None and own_voice_path.is_file():
                own_voice = (own_voice_path, load_audio(own_voice_path))
            self.keep(*self.synthesise_prompt(adapter, judge, system, dataset.name, prompt, own_voice))

    def synthesise_prompt(self, adapter: TTSAdapter, judge: ASRAdapter | None, system: System, dataset: str,
                          prompt: Prompt, own_voice: tuple[Path, Audio] | None) -> tuple[dict, bytes | None]:
        """The row for one prompt and the WAV bytes to keep (None when it failed)."""
        wav = synthesis_path(self.config, system, dataset, prompt)
        try:
            result = adapter.synthesize(check_text(prompt.text), system.options)
            if prompt.reference_audio:
                reference_path, reference = prompt.reference_audio, load_audio(prompt.reference_audio)
            elif own_voice and own_voice[0] != wav:
                reference_path, reference = own_voice
            else:
                reference_path, reference = None, None
            judged = judge.transcribe(result.audio, self.config.judge.options) if judge else None
            metrics, counts, skipped = self.scores(MetricInput(
                hypothesis=judged.text if judged else None, reference=prompt.text, audio=result.audio,
                reference_audio=reference, synthesis=result))
        except Exception as error:  # noqa: BLE001 - reported as a failed row (failure_message logs bugs)
            return self.row(system, dataset, prompt, error=failure_message(error)), None
        row = self.row(system, dataset, prompt, synthesis=result, audio_path=wav, metrics=metrics, counts=counts,
                       skipped=skipped, pred_text=judged.text if judged else "", reference=reference_path)
        return row, result.audio.to_wav_bytes()

    def keep(self, row: dict, wav: bytes | None) -> None:
        """Save a synthesised WAV where its row says, then write the row."""
        if wav is not None:
            path = Path(row["audio_filepath"])
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(wav)
        self.write(row)

    # --- shared ----------------------------------------------------------------------------
    def scores(self, sample: MetricInput) -> tuple[dict, dict, dict]:
        """Metric values, WER/CER error counts for corpus rates, and metrics skipped with the reason."""
        metrics, counts, skipped = {}, {}, {}
        for name in self.config.metrics:
            try:
                scored = score([name], sample)
            except StudioError as error:  # this sample cannot be scored by this metric; others still can
                skipped[name] = str(error)
                continue
            skipped.update(scored.skipped)
            for s in scored.scores:
                metrics[s.name] = s.value
                if s.name in ("wer", "cer"):
                    counts[s.name] = {"errors": s.details["errors"], "reference_length": s.details["reference_length"]}
        return metrics, counts, skipped

    def row(self, system: System, dataset: str, item: Utterance | Prompt, *, error: str | None = None,
            result: Transcription | None = None, synthesis=None, audio_path: Path | None = None,
            metrics: dict | None = None, counts: dict | None = None, skipped: dict | None = None,
            latency: float | None = None, processed_seconds: float | None = None, batch_size: int = 1,
            pred_text: str = "", reference: Path | None = None) -> dict:
        timed = result or synthesis
        is_asr = isinstance(item, Utterance)
        if is_asr:
            duration = result.audio_duration if result else item.duration
        else:
            duration = synthesis.audio.duration if synthesis else None
        return {
            "key": item.id, "dataset": dataset, "task": system.task, **system_record(system),
            "audio_filepath": str(item.audio_filepath if is_asr else audio_path or ""),
            "duration": duration,
            "time": timed.processing_seconds if timed else None,
            "latency": (latency if latency is not None else timed.processing_seconds) if timed else None,
            "text": item.text,
            "pred_text": result.text if result else pred_text,
            "metrics": metrics or {}, "counts": counts or {}, "skipped": skipped or {},
            "stages": dict(timed.stage_seconds) if timed else {},
            "processed_seconds": processed_seconds if processed_seconds is not None else duration,
            "batch_size": batch_size,
            "speaker": getattr(item, "speaker", None),
            "reference_audio": str(reference) if reference else None,
            "device": timed.device if timed else None,
            "error": error,
            "written": time.time(),
        }


def warm_up(adapter: ASRAdapter | TTSAdapter, system: System, items: list[Utterance] | list[Prompt]) -> None:
    """Untimed runs first: first-call allocations, caches and thread pools are not what is measured."""
    for item in items:
        try:
            if isinstance(adapter, ASRAdapter):
                adapter.transcribe(load_audio(item.audio_filepath), system.options)
            else:
                adapter.synthesize(check_text(item.text), system.options)
        except StudioError:
            pass  # the timed pass reports it


def judge_adapter(config: EvalConfig) -> ASRAdapter | None:
    """The ASR model that transcribes synthesised speech for round-trip WER, when the config names one."""
    return get_adapter(config.judge.adapter_id, config.device) if config.judge else None


def synthesis_path(config: EvalConfig, system: System, dataset: str, prompt: Prompt) -> Path:
    """Where a system's audio for a prompt is kept: output/audio/<system>/<dataset>/<prompt id>.wav."""
    return Path(config.output) / "audio" / _slug(system.label) / _slug(dataset) / f"{_slug(prompt.id)}.wav"


def plan_recognition(config: EvalConfig, pending: list[Utterance], natively: bool,
                     window: float | None) -> BatchPlan:
    """Duration-bucketed batches of `pending` (indices) for an adapter that batches `natively` or not and
    pads every clip to `window` seconds (None: processes each clip as it is)."""
    # An adapter without its own `_recognize_batch` runs a batch one clip after another: batching it
    # would gain nothing and blur each utterance's latency into the batch's.
    batch_size = config.max_batch_size if natively else 1
    return plan_batches([u.duration for u in pending], config.batch_seconds, batch_size, window)


def batches_natively(adapter: ASRAdapter) -> bool:
    """Whether the adapter decodes a batch in one go (it overrides `_recognize_batch`)."""
    return type(adapter)._recognize_batch is not ASRAdapter._recognize_batch


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "item"


__all__ = ["RunResult", "load_datasets", "run_evaluation"]
