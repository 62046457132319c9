"""The adapter registry the UI, the evaluation engine, Ray workers and the benchmarks share.

A `Registry` maps ids to `AdapterSpec`s (what a model is, how to build it, whether it can run
here). `studio.bootstrap.build_registry` assembles one: the bundled models, the decoding lab and
a `studio.yaml` each contribute through their own `register(registry)`. `get` builds and loads
each model on first use, once per (id, device), even when several threads ask at the same moment,
within the memory budget of `registry.budget` when it has one (`studio.adapters.budget`).
A `System` is an adapter id plus decoding options: the unit that gets compared.

>>> registry = Registry()
>>> registry.ids()
[]
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Callable, Mapping

from studio.adapters.base import Adapter
from studio.adapters.budget import BudgetFull, MemoryBudget, Resident
from studio.adapters.options import options_from_mapping, options_from_text, options_to_text
from studio.errors import ConfigError, ModelUnavailable, StudioError
from studio.timing import resolve_device
from studio.types import AdapterInfo, Task


def missing_package(module: str, package: str, *more: tuple[str, str]) -> Callable[[], str | None]:
    """An availability check: None when every module (`module`, then each of `more` as (module, pip name))
    can be imported, else what to install."""
    def reason() -> str | None:
        absent = [pip for name, pip in ((module, package), *more) if find_spec(name) is None]
        if not absent:
            return None
        if len(absent) == 1:
            return f"the {absent[0]} package is not installed (pip install {absent[0]})"
        return f"the packages {', '.join(absent)} are not installed (pip install {' '.join(absent)})"

    return reason


@dataclass(frozen=True)
class AdapterSpec:
    info: AdapterInfo
    factory: Callable[[str], Adapter]  # device -> unloaded adapter
    available: Callable[[], str | None] = lambda: None  # None when usable, else why not
    source: str = "bundled"  # where its weights come from: "bundled", a local folder or a hub id


@dataclass(frozen=True)
class Unoffered:
    """A model a config asked for that could not be offered at all (a broken studio.yaml entry)."""

    name: str  # its id when it has one, else its position ("models[3]")
    task: str
    reason: str


@dataclass(frozen=True)
class System:
    """An adapter with a choice of decoding options: one point on a speed-quality plot.
    Made by `Registry.system`, which checks the id and the options.

    >>> System("pocketsphinx", "asr", None).label
    'pocketsphinx'
    """

    adapter_id: str
    task: Task
    options: Any
    name: str = ""  # optional display name; defaults to id plus non-default options
    options_text: str = ""  # the options that differ from the adapter's defaults, as name=value text
    kind: str = ""  # the adapter's decoding kind (autoregressive, non-autoregressive, HMM, rules)

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        return f"{self.adapter_id} [{self.options_text}]" if self.options_text else self.adapter_id


class Registry:
    """The models this process offers, and the loaded adapters (one per id and device)."""

    def __init__(self, config_path: Path | None = None):
        self.config_path = config_path  # the studio.yaml it was built from: Ray workers build theirs from it
        self.config_problem = ""  # why that file could not be used at all ('' when it could, or when there is none)
        self.unoffered: list[Unoffered] = []  # listed as unavailable beside the offered models
        self._failures: dict[str, str] = {}  # id -> why its last load failed (until `load` tries again)
        self._specs: dict[str, AdapterSpec] = {}
        self._instances: dict[tuple[str, str], Adapter] = {}
        self._lock = threading.Lock()
        self._load_locks: dict[tuple[str, str], threading.Lock] = {}
        self.budget = MemoryBudget()  # with `max_mb` set, loads unload idle models, least recently used first, to fit

    # --- what is offered ---------------------------------------------------------------------
    def add(self, spec: AdapterSpec) -> None:
        if spec.info.id in self._specs:
            raise ConfigError(f"adapter id {spec.info.id!r} is registered twice")
        self._specs[spec.info.id] = spec

    def remove(self, adapter_id: str) -> AdapterSpec:
        """Unload and forget an adapter, so that it is no longer offered."""
        self.unload(adapter_id)
        with self._lock:
            for key in [k for k in self._instances if k[0] == adapter_id]:
                del self._instances[key]
        return self._specs.pop(adapter_id)

    def __contains__(self, adapter_id: str) -> bool:
        return adapter_id in self._specs

    def spec(self, adapter_id: str) -> AdapterSpec:
        try:
            return self._specs[adapter_id]
        except KeyError:
            raise ConfigError(f"unknown adapter {adapter_id!r}; available adapters: {', '.join(self._specs)}") from None

    def ids(self, task: Task | None = None, only_available: bool = False) -> list[str]:
        return [i for i, s in self._specs.items()
                if (task is None or s.info.task == task) and not (only_available and self.unavailable_reason(i))]

    def info(self, adapter_id: str) -> AdapterInfo:
        return self.spec(adapter_id).info

    def unavailable_reason(self, adapter_id: str) -> str | None:
        return self.spec(adapter_id).available() or self._failures.get(adapter_id)

    # --- systems -----------------------------------------------------------------------------
    def system(self, adapter_id: str, options: str | Mapping[str, Any] | None = None, name: str = "") -> System:
        """A checked `System` from `name=value` text (the UI) or a mapping (YAML)."""
        info = self.info(adapter_id)
        if isinstance(options, str) or options is None:
            parsed = options_from_text(info.options_type, options or "", adapter_id, info.defaults)
        else:
            parsed = options_from_mapping(info.options_type, options, adapter_id, info.defaults)
        return System(adapter_id, info.task, parsed, name, options_to_text(parsed, info.defaults), info.kind)

    # --- loaded models -------------------------------------------------------------------------
    def get(self, adapter_id: str, device: str = "auto") -> Adapter:
        """The loaded adapter for `adapter_id`, built on first use and cached."""
        spec = self.spec(adapter_id)
        reason = self.unavailable_reason(adapter_id)
        if reason:
            raise ModelUnavailable(f"{adapter_id} is not available here: {reason}")
        key = (adapter_id, resolve_device(device))
        with self._lock:
            load_lock = self._load_locks.setdefault(key, threading.Lock())
        with load_lock:
            adapter = self._instances.get(key)
            if adapter is None:
                try:
                    adapter = spec.factory(key[1])
                    self.budget.load(key, adapter, self._instances)
                except BudgetFull:
                    raise  # passing: running models hold the memory budget now
                except StudioError as error:  # a model that cannot be built here: listed as unavailable with
                    self._failures[adapter_id] = str(error)  # this reason until `load` tries again
                    raise
                self._instances[key] = adapter  # cached only once it has loaded
        # reloads after an unload (a failure here is passing, e.g. memory: not recorded)
        self.budget.load(key, adapter, self._instances)
        self.budget.touch(key)
        return adapter

    def load(self, adapter_id: str, device: str = "auto") -> Adapter:
        """Load now rather than on first use; tries again after a failed load."""
        self._failures.pop(adapter_id, None)
        return self.get(adapter_id, device)

    def loaded(self) -> list[Adapter]:
        return [a for a in list(self._instances.values()) if a.loaded]

    def resident(self) -> list[Resident]:
        """The loaded models with the memory the budget counts for each, least recently used first."""
        return self.budget.resident(self._instances)

    def unload(self, adapter_id: str) -> None:
        """Drop the weights but keep the adapter object: whoever holds it (an evaluation run, a Ray
        actor) reloads that same object on its next call, so no hidden second copy is ever made."""
        for key, adapter in list(self._instances.items()):
            if key[0] == adapter_id:
                with adapter.lock:  # waits for a running call to finish
                    adapter.unload()
