"""ASR evaluation sharded over Ray: actors recognise, this process stays the one writer.

Each actor loads its system's adapter once and keeps it; it asks Ray for one GPU when the
run's device is CUDA, else for `cpus_per_worker` CPUs. The driver plans the engine's own
duration buckets, hands batches to idle actors, and appends the rows they return to the
same JSONL a local run writes (so resume, summary, plots and the Evaluate tab see no
difference). A batch whose actor died is re-queued on a fresh actor up to `max_retries`
times, then reported as failed rows; nothing is dropped. Every actor is killed on the way
out, Ctrl-C included. Ray is imported only here, only when a run asks for it.
"""

from __future__ import annotations

import time
import uuid
from collections import deque
from pathlib import Path

from studio.adapters import System, get_adapter
from studio.errors import ConfigError, ModelUnavailable
from studio.evaluation.config import EvalConfig, RaySettings
from studio.evaluation.datasets import Dataset, Utterance
from studio.evaluation.runner import (WINDOW_SECONDS, _Run, batches_natively, plan_recognition,
                                      warm_up_recognition)

REPO_ROOT = Path(__file__).resolve().parents[2]
POLL_SECONDS = 0.5  # how often the driver looks at the cancel flag while batches run
ACTOR_NAMESPACE = "speech-studio"  # actors are named here, so `ray list actors` shows whose they are


class RecognitionWorker:
    """A Ray actor's body: one system's adapter, loaded once, recognising and scoring whole batches."""

    def __init__(self, config: EvalConfig, system: System, warmup: list[Utterance]):
        self.config, self.system = config, system
        self.adapter = get_adapter(system.adapter_id, config.device)
        warm_up_recognition(self.adapter, system, warmup)

    def describe(self) -> tuple[bool, str]:
        """(batches natively, adapter family): what the driver needs to plan batches."""
        return batches_natively(self.adapter), self.adapter.info.family

    def recognise(self, dataset: str, items: list[Utterance]) -> list[dict]:
        rows: list[dict] = []
        _Run(self.config, rows.append, set()).recognise_items(
            self.adapter, self.system, dataset, items, WINDOW_SECONDS.get(self.adapter.info.family))
        return rows


class RayExecutor:
    """Connects to (or starts) Ray, runs each system's pending utterances on its actors."""

    def __init__(self, settings: RaySettings, config: EvalConfig):
        try:
            import ray
        except ImportError:
            raise ModelUnavailable("Ray is not installed; install the cluster extra: pip install '.[cluster]' "
                                   "(or pip install ray==2.60.0), or run without --ray") from None
        self.ray, self.settings, self.config = ray, settings, config
        self.owns_ray = not ray.is_initialized()  # started (or connected) here, so shut down here
        if self.owns_ray:
            try:
                ray.init(address=None if settings.address == "local" else settings.address,
                         runtime_env={"env_vars": {"PYTHONPATH": str(REPO_ROOT)}},
                         include_dashboard=False, log_to_driver=False)
            except (ConnectionError, RuntimeError, ValueError) as error:
                raise ConfigError(f"cannot reach the Ray cluster at {settings.address!r} ({error}); start one "
                                  "with `ray start --head`, or use --ray local") from None
        resources = {"num_gpus": 1} if config.device == "cuda" else {"num_cpus": settings.cpus_per_worker}
        self.actor_class = ray.remote(**resources)(RecognitionWorker)
        self.actors: list = []
        self.started = 0  # actors started, replacements included
        self.replaced = 0  # actors that died and were replaced
        self.startup_seconds = 0.0  # waiting for actors to start, load their model and warm up

    def recognise(self, run: _Run, system: System, dataset: Dataset, pending: list[Utterance]) -> None:
        ray = self.ray
        start = time.perf_counter()
        warmup = pending[:self.config.warmup]
        actors = [self.start_actor(system, warmup) for _ in range(self.settings.workers)]
        try:
            natively, family = ray.get(actors[0].describe.remote())
        except ray.exceptions.RayActorError as error:
            self.stop_actors()
            raise ModelUnavailable(f"{system.label} could not start on the Ray workers: {error}") from None
        ray.get([a.describe.remote() for a in actors[1:]])
        self.startup_seconds += time.perf_counter() - start  # actors up, model loaded and warmed up
        plan = plan_recognition(self.config, pending, natively, family)
        queue = deque((tuple(pending[i] for i in batch), 0) for batch in plan.batches)
        idle = deque(actors)
        running: dict = {}  # ObjectRef -> (actor, items, attempts)
        while (queue or running) and not run.stopped:
            while queue and idle:
                actor = idle.popleft()
                items, attempts = queue.popleft()
                running[actor.recognise.remote(dataset.name, list(items))] = (actor, items, attempts)
            ready, _ = ray.wait(list(running), num_returns=1, timeout=POLL_SECONDS)
            for ref in ready:
                actor, items, attempts = running.pop(ref)
                try:
                    rows = ray.get(ref)
                except ray.exceptions.RayActorError as error:
                    self.actors.remove(actor)
                    self.replaced += 1
                    idle.append(self.start_actor(system, []))
                    if attempts < self.settings.max_retries:
                        queue.appendleft((items, attempts + 1))
                    else:
                        for item in items:
                            run.write(run.row(system, dataset.name, item, error=f"Ray worker died {attempts + 1} "
                                              f"times on this batch ({type(error).__name__})"))
                    continue
                idle.append(actor)
                for row in rows:  # a finished batch is kept even when the run is stopping
                    run.write(row)
        self.stop_actors()

    def start_actor(self, system: System, warmup: list[Utterance]):
        self.started += 1
        actor = self.actor_class.options(name=f"studio-eval-{uuid.uuid4().hex[:12]}", namespace=ACTOR_NAMESPACE
                                         ).remote(self.config, system, warmup)
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
