"""Where an evaluation's work runs: one interface, two executors (this process, or Ray actors in
`distributed.py`), and the run's control (progress, cancel, the one writer of rows)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable, Protocol

from studio.adapters.registry import Registry, System
from studio.audio import load_audio
from studio.engine import Judge, judge_for
from studio.evaluation.config import EvalConfig
from studio.evaluation.datasets import Dataset, Prompt, Utterance
from studio.evaluation.results import ResultRow, ResultsLog
from studio.evaluation.work import own_voice_path, plan_recognition, recognise, synthesise, warm_up

ProgressCallback = Callable[[int, int, str], None]  # (items done, items in total, what just finished)


class RunControl:
    """One run in progress: which rows are done, progress, whether to stop, and the one place rows are written."""

    def __init__(self, log: ResultsLog, done: set, total: int, progress: ProgressCallback | None,
                 cancel: threading.Event, max_new_rows: int | None):
        self.log, self.done, self.total = log, done, total
        self.progress, self.cancel, self.max_new_rows = progress, cancel, max_new_rows
        self.finished = len(done)
        self.new_rows = 0

    @property
    def stopped(self) -> bool:
        return self.cancel.is_set() or (self.max_new_rows is not None and self.new_rows >= self.max_new_rows)

    def room(self) -> int | None:
        """How many more rows this call may write (None: no limit)."""
        return None if self.max_new_rows is None else max(0, self.max_new_rows - self.new_rows)

    def write(self, row: ResultRow, wav: bytes | None = None) -> None:
        """Save a synthesised WAV where its row says, then append the row."""
        if wav is not None:
            path = Path(row.audio_filepath)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(wav)
        self.log.append(row)
        self.done.add(row.ident)
        self.new_rows += 1
        self.finished += 1
        if self.progress:
            status = f"failed: {row.error}" if row.error else row.pred_text[:60]
            self.progress(self.finished, self.total, f"{row.system} · {row.key} · {status}")


class Executor(Protocol):
    """Runs one system's pending items of one dataset and writes each row through `control`."""

    def run(self, system: System, dataset: Dataset, pending: list, control: RunControl) -> None: ...

    def close(self) -> dict | None:
        """Release what it holds; a description of where it ran for run.json (None for this process)."""


class LocalExecutor:
    """The work in this process, on the registry's adapters."""

    def __init__(self, registry: Registry, config: EvalConfig):
        self.registry, self.config = registry, config

    def run(self, system: System, dataset: Dataset, pending: list, control: RunControl) -> None:
        adapter = self.registry.get(system.adapter_id, self.config.device)
        warm_up(adapter, system, pending[:self.config.warmup])
        if system.task == "asr":
            self._recognise(adapter, system, dataset, pending, control)
        else:
            self._synthesise(adapter, system, dataset, pending, control)

    def _recognise(self, adapter, system: System, dataset: Dataset, pending: list[Utterance],
                   control: RunControl) -> None:
        plan = plan_recognition(self.config, pending, adapter.batch_limit(system.options),
                                adapter.info.input_window_seconds)
        for batch in plan.batches:
            if control.stopped:
                return
            items = [pending[i] for i in batch][:control.room()]
            for row in recognise(adapter, system, self.config, dataset.name, items):
                control.write(row)

    def _synthesise(self, adapter, system: System, dataset: Dataset, pending: list[Prompt],
                    control: RunControl) -> None:
        judge = judge_of(self.registry, self.config)
        voice_path = own_voice_path(self.config, system, dataset.name, dataset.items[0])
        own_voice = None  # read once the system's first output exists (this run's first prompt, or an earlier run's)
        for prompt in pending:
            if control.stopped:
                return
            if own_voice is None and voice_path.is_file():
                own_voice = (voice_path, load_audio(voice_path))
            control.write(*synthesise(adapter, judge, system, self.config, dataset.name, prompt, own_voice))

    def close(self) -> None:
        return None


def judge_of(registry: Registry, config: EvalConfig) -> Judge | None:
    """The judge that transcribes synthesised speech for round-trip WER, when the config names one."""
    if config.judge is None:
        return None
    registry.get(config.judge.adapter_id, config.device)  # loaded before the first prompt (once per Ray actor)
    return judge_for(registry, config.judge, config.device)
