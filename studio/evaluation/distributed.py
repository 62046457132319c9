"""Evaluation sharded over Ray: actors recognise or synthesise, this process stays the one writer.

Each actor builds its registry from the same studio.yaml as the driver (the path is passed to
it, never through the environment), loads its system's adapter (and a TTS run's judge) once
and keeps it; it runs the same work functions (`work.py`) as a local run; it asks Ray
for one GPU when the run's device is CUDA, else for `cpus_per_worker` CPUs. The driver plans
the engine's own duration buckets (ASR) or groups of prompts (TTS, the first prompt first: its
audio is the voice the others are compared with), hands them to idle actors, and writes the
rows (and WAVs) they return to the same JSONL and folders as a local run, so resume, summary,
plots and the Evaluate tab see no difference. A unit whose actor died is re-queued on a fresh
actor up to `max_retries` times, then reported as failed rows; nothing is dropped. Every actor is killed on the way
out, Ctrl-C included. Ray is imported only here, only when a run asks for it.
"""

from __future__ import annotations

import time
import uuid
from collections import deque
from pathlib import Path

from studio.adapters.registry import System
from studio.audio import load_audio
from studio.bootstrap import build_registry
from studio.errors import ConfigError, ModelUnavailable
from studio.evaluation.config import EvalConfig, RaySettings
from studio.evaluation.datasets import Dataset, Prompt, Utterance
from studio.evaluation.results import ResultRow
from studio.evaluation.executors import RunControl, judge_of
from studio.evaluation.work import failed_row, own_voice_path, plan_recognition, recognise, synthesise, warm_up

REPO_ROOT = Path(__file__).resolve().parents[2]
POLL_SECONDS = 0.5  # how often the driver looks at the cancel flag while batches run
ACTOR_NAMESPACE = "speech-studio"  # actors are named here, so `ray list actors` shows whose they are


class RecognitionWorker:
    """A Ray actor's body for ASR: one system's adapter, loaded once, recognising and scoring whole batches."""

    def __init__(self, config: EvalConfig, models_config: Path | None, system: System, warmup: list[Utterance]):
        self.config, self.system = config, system
        self.adapter = build_registry(models_config, strict=False).get(system.adapter_id, config.device)
        warm_up(self.adapter, system, warmup)

    def describe(self) -> tuple[int | None, float | None]:
        """(clips it decodes together, input window seconds): what the driver needs to plan batches."""
        return self.adapter.batch_limit(self.system.options), self.adapter.info.input_window_seconds

    def work(self, dataset: str, items: list[Utterance]) -> list[tuple[ResultRow, None]]:
        return [(row, None) for row in recognise(self.adapter, self.system, self.config, dataset, items)]


class SynthesisWorker:
    """A Ray actor's body for TTS: the voice and the judge, loaded once; returns rows and WAV bytes."""

    def __init__(self, config: EvalConfig, models_config: Path | None, system: System, warmup: list[Prompt]):
        self.config, self.system = config, system
        registry = build_registry(models_config, strict=False)
        self.adapter = registry.get(system.adapter_id, config.device)
        self.judge = judge_of(registry, config)
        warm_up(self.adapter, system, warmup)

    def describe(self) -> tuple[int | None, float | None]:
        return 1, self.adapter.info.input_window_seconds

    def work(self, dataset: str, prompts: list[Prompt],
             own_voice: tuple[str, bytes] | None = None) -> list[tuple[ResultRow, bytes | None]]:
        voice = (Path(own_voice[0]), load_audio(own_voice[1])) if own_voice else None
        return [synthesise(self.adapter, self.judge, self.system, self.config, dataset, p, voice) for p in prompts]


class RayExecutor:
    """Connects to (or starts) Ray, runs each system's pending items on its actors."""

    def __init__(self, settings: RaySettings, config: EvalConfig, models_config: Path | None = None):
        try:
            import ray
        except ImportError:
            raise ModelUnavailable("Ray is not installed; install the cluster extra: pip install '.[cluster]' "
                                   "(or pip install ray==2.60.0), or run without --ray") from None
        self.ray, self.settings, self.config, self.models_config = ray, settings, config, models_config
        self.owns_ray = not ray.is_initialized()  # started (or connected) here, so shut down here
        if self.owns_ray:
            try:
                ray.init(address=None if settings.address == "local" else settings.address,
                         runtime_env={"env_vars": {"PYTHONPATH": str(REPO_ROOT)}},  # actors import the studio
                         include_dashboard=False, log_to_driver=False)
            except (ConnectionError, RuntimeError, ValueError) as error:
                reason = " ".join(str(error).split())  # one line: the CLI prints errors as one
                raise ConfigError(f"cannot reach the Ray cluster at {settings.address!r} ({reason}); start one "
                                  "with `ray start --head`, or use --ray local") from None
        resources = {"num_gpus": 1} if config.device == "cuda" else {"num_cpus": settings.cpus_per_worker}
        worker = RecognitionWorker if config.task == "asr" else SynthesisWorker
        self.actor_class = ray.remote(**resources)(worker)
        self.actors: list = []
        self.started = 0  # actors started, replacements included
        self.replaced = 0  # actors that died and were replaced
        self.startup_seconds = 0.0  # waiting for actors to start, load their models and warm up

    def run(self, system: System, dataset: Dataset, pending: list, control: RunControl) -> None:
        """Every pending item of `dataset` through `system` on `settings.workers` actors."""
        start = time.perf_counter()
        actors = [self.start_actor(system, pending[:self.config.warmup]) for _ in range(self.settings.workers)]
        try:
            batch_limit, window = self.ray.get([a.describe.remote() for a in actors])[0]
        except self.ray.exceptions.RayActorError as error:
            self.stop_actors()
            raise ModelUnavailable(f"{system.label} could not start on the Ray workers: {error}") from None
        self.startup_seconds += time.perf_counter() - start  # actors up, models loaded and warmed up
        if self.config.task == "asr":
            plan = plan_recognition(self.config, pending, batch_limit, window)
            self.dispatch(control, system, dataset, actors, [tuple(pending[i] for i in b) for b in plan.batches])
        else:
            first = dataset.items[0]  # the system's own first utterance is the voice the others are compared with
            if first in pending:
                self.dispatch(control, system, dataset, actors, [(first,)])
                pending = [p for p in pending if p != first]
            path = own_voice_path(self.config, system, dataset.name, first)
            own_voice = (str(path), path.read_bytes()) if path.is_file() else None
            size = self.config.max_batch_size
            units = [tuple(pending[i:i + size]) for i in range(0, len(pending), size)]
            self.dispatch(control, system, dataset, actors, units, own_voice)
        self.stop_actors()

    def dispatch(self, control: RunControl, system: System, dataset: Dataset, actors: list, units: list[tuple],
                 *extra) -> None:
        """Hand units of work to idle actors and keep what comes back; a dead actor's unit is re-queued."""
        ray = self.ray
        queue = deque((unit, 0) for unit in units)
        idle = deque(a for a in actors if a in self.actors)
        running: dict = {}  # ObjectRef -> (actor, unit, attempts)
        while (queue or running) and not control.stopped:
            while queue and idle:
                actor = idle.popleft()
                unit, attempts = queue.popleft()
                running[actor.work.remote(dataset.name, list(unit), *extra)] = (actor, unit, attempts)
            ready, _ = ray.wait(list(running), num_returns=1, timeout=POLL_SECONDS)
            for ref in ready:
                actor, unit, attempts = running.pop(ref)
                try:
                    results = ray.get(ref)
                except ray.exceptions.RayActorError as error:
                    self.actors.remove(actor)
                    self.replaced += 1
                    replacement = self.start_actor(system, [])
                    actors.append(replacement)
                    idle.append(replacement)
                    if attempts < self.settings.max_retries:
                        queue.appendleft((unit, attempts + 1))
                    else:
                        for item in unit:
                            control.write(failed_row(system, dataset.name, item, f"Ray worker died {attempts + 1} "
                                                     f"times on this batch ({type(error).__name__})"))
                    continue
                idle.append(actor)
                for row, wav in results:  # a finished unit is kept even when the run is stopping
                    control.write(row, wav)

    def start_actor(self, system: System, warmup: list):
        self.started += 1
        actor = self.actor_class.options(name=f"studio-eval-{uuid.uuid4().hex[:12]}", namespace=ACTOR_NAMESPACE
                                         ).remote(self.config, self.models_config, system, warmup)
        self.actors.append(actor)
        return actor

    def stop_actors(self) -> None:
        for actor in self.actors:
            self.ray.kill(actor)
        self.actors = []

    def close(self) -> dict:
        """Kill every actor left and describe the cluster for run.json."""
        self.stop_actors()
        ray = self.ray
        cluster = {"address": self.settings.address, "nodes": len([n for n in ray.nodes() if n.get("Alive")]),
                   "resources": ray.cluster_resources(), "workers_per_system": self.settings.workers,
                   "actors_started": self.started, "actors_replaced": self.replaced,
                   "startup_seconds": round(self.startup_seconds, 3)}
        if self.owns_ray:
            ray.shutdown()
        return cluster
