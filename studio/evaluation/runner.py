"""The evaluation run shared by `studio eval`, `python -m evals` and the Evaluate tab.

For every system and dataset an executor (`LocalExecutor` here, `RayExecutor` on a cluster)
warms up (untimed), runs the pending items in duration-bucketed batches (ASR) or one by one
(TTS) through the work functions of `work.py`, and hands back typed rows; this process is the
one writer, appending one JSONL row each, flushed as written (TTS audio is kept as WAV files
beside the rows). A bad utterance becomes a row with an `error` and the run goes on; config
mistakes raise `ConfigError` before anything runs. Finished rows are never redone, so a killed
or cancelled run picks up where it stopped. At the end the summary table, run.json and the
plots are rebuilt from all rows.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from studio.adapters.registry import Registry
from studio.errors import ConfigError
from studio.evaluation.config import EvalConfig
from studio.evaluation.datasets import Dataset, load_dataset
from studio.evaluation.longform import make_generated
from studio.evaluation.results import RESULTS_FILE, RUN_FILE, ResultsLog, summarize, write_summary
from studio.evaluation.executors import Executor, LocalExecutor, ProgressCallback, RunControl



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
    datasets = [load_dataset(d.path, config.task, d.name, d.keep_unreadable) for d in config.datasets]
    names = [d.name for d in datasets]
    if len(set(names)) < len(names):
        raise ConfigError("two datasets share a name; give one a `name:` in the config")
    if config.limit:
        datasets = [Dataset(d.name, d.task, d.source, d.items[:config.limit]) for d in datasets]
    return datasets


def run_evaluation(config: EvalConfig, registry: Registry, progress: ProgressCallback | None = None,
                   cancel: threading.Event | None = None, max_new_rows: int | None = None) -> RunResult:
    """Run (or resume) `config` on `registry`'s models; stop early, keeping every finished row, on `cancel`
    or after `max_new_rows`.

    With `config.ray` set, the work goes to Ray actors (`studio.evaluation.distributed`), which build
    their registry from the same studio.yaml; this process stays the one writer, so the results
    folder is the same as a local run's.
    """
    if config.task == "tts" and "wer" in config.metrics and config.judge is None:
        raise ConfigError("round-trip WER for TTS needs a judge ASR system, e.g. `judge: {adapter: whisper-tiny.en}`")
    for dataset in config.datasets:
        if dataset.generated:  # made once into the cache (minutes), reused afterwards
            make_generated(dataset.generated, registry)
    datasets = load_datasets(config)
    output = Path(config.output)
    output.mkdir(parents=True, exist_ok=True)
    with _writers_lock:
        writer = _writers.setdefault(output.resolve(), threading.Lock())
    if not writer.acquire(blocking=False):  # two writers would both redo the same pending rows
        raise ConfigError(f"a run is already writing to {output}; wait for it to finish or cancel it")
    try:
        return _run(config, registry, datasets, output, progress, cancel, max_new_rows)
    finally:
        writer.release()


_writers: dict[Path, threading.Lock] = {}  # one writer per results folder in this process
_writers_lock = threading.Lock()


def _run(config: EvalConfig, registry: Registry, datasets: list[Dataset], output: Path,
         progress: ProgressCallback | None, cancel: threading.Event | None, max_new_rows: int | None) -> RunResult:
    log = ResultsLog(output / RESULTS_FILE)
    log.repair()
    done = {row.ident for row in log.read()}
    wanted = {(d.name, s.label, i.id) for s in config.systems for d in datasets for i in d.items}
    control = RunControl(log, done & wanted, len(wanted), progress, cancel or threading.Event(), max_new_rows)
    executor: Executor
    if config.ray:
        from studio.evaluation.distributed import RayExecutor  # Ray is imported only when a run asks for it

        executor = RayExecutor(config.ray, config, registry.config_path)
    else:
        executor = LocalExecutor(registry, config)
    started = datetime.now(timezone.utc)
    # The models this run loads itself; those loaded before it (by hand in the Models tab, by a tab) stay loaded.
    loads = needed_from(config, 0) - {adapter.info.id for adapter in registry.loaded()}
    try:
        for index, system in enumerate(config.systems):
            for dataset in datasets:
                if control.stopped:
                    break
                pending = [i for i in dataset.items if (dataset.name, system.label, i.id) not in control.done]
                if pending:
                    executor.run(system, dataset, pending, control)
            release(registry, loads - needed_from(config, index + 1))
    finally:
        release(registry, loads)
        cluster = executor.close()
    return finish(config, output, log, started, control.new_rows, control.stopped, cluster)


def needed_from(config: EvalConfig, index: int) -> set[str]:
    """The adapters that `config.systems[index:]` and the judge use."""
    return {s.adapter_id for s in config.systems[index:]} | ({config.judge.adapter_id} if config.judge else set())


def release(registry: Registry, adapter_ids: set[str]) -> None:
    """Unload these models (a no-op for one that is not loaded).

    A run unloads each model it loaded as soon as no later system and no judge needs it, and the rest
    when it ends, so that it leaves the registry as it found it. An idle model left in memory still
    holds its engine's thread pools, and in a three-system run on a 2-core CPU the systems that ran
    while earlier models were resident were timed at 0.69-0.93 of the raw engine (issue 14; see
    bench/eval_overhead.py). Ray runs load their models in their actors: nothing to release here.
    """
    for adapter_id in sorted(adapter_ids):
        registry.unload(adapter_id)


def finish(config: EvalConfig, output: Path, log: ResultsLog, started: datetime, new_rows: int,
           cancelled: bool, cluster: dict | None = None) -> RunResult:
    """Rebuild summary, run.json and plots from every row of the systems and datasets in `config`."""
    from studio.evaluation.plots import write_plots
    from studio.system_info import system_report

    labels = {s.label for s in config.systems}
    rows = [r for r in log.read() if r.system in labels]
    summary = summarize(rows)
    if not summary.empty:
        write_summary(summary, output)
    plots = write_plots(rows, summary, output) if not summary.empty else ()
    run_info = {
        "config": config.to_dict(),
        "started": started.isoformat(), "finished": datetime.now(timezone.utc).isoformat(),
        "cancelled": cancelled, "new_rows": new_rows, "rows": len(rows),
        "failed": int(sum(1 for r in rows if r.error)),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "system": system_report(),
        "cluster": cluster,  # Ray runs: nodes, resources, workers
    }
    (output / RUN_FILE).write_text(json.dumps(run_info, indent=2, default=str), encoding="utf-8")
    return RunResult(output, summary, new_rows, run_info["failed"], cancelled, tuple(plots))


__all__ = ["RunResult", "load_datasets", "run_evaluation"]
