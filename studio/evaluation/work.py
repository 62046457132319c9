"""The work of an evaluation, as plain functions: recognise a batch, synthesise a prompt, warm up.

Each takes a loaded adapter and returns typed `ResultRow`s; nothing here writes files or
knows whether it runs in this process or on a Ray actor (`executors.py` and `distributed.py`
call the same functions). A bad utterance becomes a row with an `error`.
"""

from __future__ import annotations

import dataclasses
import re
import time
from pathlib import Path

from studio.adapters.base import ASRAdapter, TTSAdapter
from studio.adapters.registry import System
from studio.audio import Audio, load_audio
from studio.engine import Judge, Scored, score_recognition, score_synthesis
from studio.errors import StudioError, failure_message
from studio.evaluation.batching import BatchPlan, plan_batches, processed_seconds
from studio.evaluation.config import EvalConfig, system_record
from studio.evaluation.datasets import Prompt, Utterance
from studio.evaluation.results import ResultRow
from studio.text import check_text
from studio.types import Synthesis, Transcription


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


def plan_recognition(config: EvalConfig, pending: list[Utterance], batch_limit: int | None,
                     window: float | None) -> BatchPlan:
    """Duration-bucketed batches of `pending` (indices) for an adapter that decodes up to `batch_limit` clips
    together (None: any number) and pads every clip to `window` seconds (None: processes each as it is)."""
    # Grouping more clips than the adapter decodes together would gain nothing and blur each
    # utterance's latency into the group's.
    batch_size = config.max_batch_size if batch_limit is None else max(1, min(config.max_batch_size, batch_limit))
    return plan_batches([u.duration for u in pending], config.batch_seconds, batch_size, window)


def failed_row(system: System, dataset: str, item: Utterance | Prompt, error: str) -> ResultRow:
    """The row of an item that could not be processed."""
    duration = item.duration if isinstance(item, Utterance) else None
    return _row(system, dataset, item, error=error, duration=duration, processed_seconds=duration,
                audio_filepath=str(item.audio_filepath) if isinstance(item, Utterance) else "")


def recognise(adapter: ASRAdapter, system: System, config: EvalConfig, dataset: str,
              items: list[Utterance]) -> list[ResultRow]:
    """Read, recognise and score one batch; an unreadable file or a failing clip becomes an error row."""
    rows: list[ResultRow] = []
    audios: list[tuple[Utterance, Audio]] = []
    for item in items:
        try:
            audios.append((item, load_audio(item.audio_filepath)))
        except StudioError as error:
            rows.append(failed_row(system, dataset, item, str(error)))
    if audios:
        rows += _recognise_batch(adapter, system, config, dataset, audios)
    return rows


def _recognise_batch(adapter: ASRAdapter, system: System, config: EvalConfig, dataset: str,
                     audios: list[tuple[Utterance, Audio]]) -> list[ResultRow]:
    try:
        results = adapter.transcribe_batch([a for _, a in audios], system.options)
    except Exception as error:  # noqa: BLE001 - reported as a failed row (failure_message logs bugs)
        if len(audios) == 1:
            return [failed_row(system, dataset, audios[0][0], failure_message(error))]
        # find the one that failed; the others still count
        return [row for pair in audios for row in _recognise_batch(adapter, system, config, dataset, [pair])]
    batch_seconds = sum(r.processing_seconds for r in results)
    processed = processed_seconds([r.audio_duration for r in results], adapter.info.input_window_seconds)
    rows = []
    for (item, _), result, seconds in zip(audios, results, processed):
        scored = score_recognition(result, item.text, tuple(config.metrics))
        rows.append(_row(system, dataset, item, scored=scored, timed=result, pred_text=result.text,
                         duration=result.audio_duration, latency=batch_seconds, processed_seconds=seconds,
                         batch_size=len(results), audio_filepath=str(item.audio_filepath)))
    return rows


def synthesise(adapter: TTSAdapter, judge: Judge | None, system: System, config: EvalConfig, dataset: str,
               prompt: Prompt, own_voice: tuple[Path, Audio] | None) -> tuple[ResultRow, bytes | None]:
    """The row for one prompt and the WAV bytes to keep (None when it failed).

    Speaker similarity compares with the prompt's reference voice, else with `own_voice` (the
    system's own first output), never with the output itself."""
    wav = synthesis_path(config, system, dataset, prompt)
    try:
        result = adapter.synthesize(check_text(prompt.text), system.options)
        if prompt.reference_audio:
            reference_path, reference = prompt.reference_audio, load_audio(prompt.reference_audio)
        elif own_voice and own_voice[0] != wav:
            reference_path, reference = own_voice
        else:
            reference_path, reference = None, None
        scored = score_synthesis(result, prompt.text, judge, reference, tuple(config.metrics))
    except Exception as error:  # noqa: BLE001 - reported as a failed row (failure_message logs bugs)
        return failed_row(system, dataset, prompt, failure_message(error)), None
    row = _row(system, dataset, prompt, scored=scored, timed=result, audio_filepath=str(wav),
               duration=result.audio.duration, processed_seconds=result.audio.duration,
               pred_text=scored.judge_transcription.text if scored.judge_transcription else "",
               reference_audio=str(reference_path) if reference_path else None)
    return row, result.audio.to_wav_bytes()


def own_voice_path(config: EvalConfig, system: System, dataset: str, first: Prompt) -> Path:
    """Where the system's first output of a dataset is kept: the voice the other outputs are compared with."""
    return synthesis_path(config, system, dataset, first)


def synthesis_path(config: EvalConfig, system: System, dataset: str, prompt: Prompt) -> Path:
    """Where a system's audio for a prompt is kept: output/audio/<system>/<dataset>/<prompt id>.wav."""
    return Path(config.output) / "audio" / _slug(system.label) / _slug(dataset) / f"{_slug(prompt.id)}.wav"


def _row(system: System, dataset: str, item: Utterance | Prompt, *, scored: Scored | None = None,
         timed: Transcription | Synthesis | None = None, **fields) -> ResultRow:
    row = ResultRow(key=item.id, dataset=dataset, task=system.task, **system_record(system), text=item.text,
                    speaker=getattr(item, "speaker", None), written=time.time())
    if timed is not None:
        fields = {"time": timed.processing_seconds, "latency": timed.processing_seconds,
                  "stages": dict(timed.stage_seconds), "device": timed.device, **fields}
    if scored is not None:
        fields = {"metrics": scored.values(), "counts": scored.error_counts(), "skipped": dict(scored.skipped),
                  **fields}
    return dataclasses.replace(row, **fields)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "item"
