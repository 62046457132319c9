"""The one adapter registry the UI, the evaluation engine and the benchmarks share.

Adapters register a factory under an id; `get_adapter` builds and loads each model on
first use, once per (id, device), even when several threads ask at the same moment.
A `System` is an adapter id plus decoding options: the unit that gets compared.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from studio.adapters.base import Adapter, AdapterInfo, Task
from studio.adapters.options import options_from_mapping, options_from_text, options_to_text
from studio.errors import ConfigError
from studio.timing import resolve_device


@dataclass(frozen=True)
class AdapterSpec:
    info: AdapterInfo
    factory: Callable[[str], Adapter]  # device -> unloaded adapter
    available: Callable[[], str | None] = lambda: None  # None when usable, else why not


_specs: dict[str, AdapterSpec] = {}
_instances: dict[tuple[str, str], Adapter] = {}
_registry_lock = threading.Lock()
_load_locks: dict[tuple[str, str], threading.Lock] = {}


def register(spec: AdapterSpec, replace: bool = False) -> None:
    if spec.info.id in _specs and not replace:
        raise ConfigError(f"adapter id {spec.info.id!r} is registered twice")
    _specs[spec.info.id] = spec


def unregister(adapter_id: str) -> AdapterSpec:
    """Unload and remove an adapter, so that it is no longer offered (a config's allow-list)."""
    unload(adapter_id)
    with _registry_lock:
        for key in [k for k in _instances if k[0] == adapter_id]:
            del _instances[key]
    return _specs.pop(adapter_id)


def adapter_spec(adapter_id: str) -> AdapterSpec:
    return _spec(adapter_id)


def adapter_ids(task: Task | None = None, only_available: bool = False) -> list[str]:
    return [
        i for i, s in _specs.items()
        if (task is None or s.info.task == task) and not (only_available and s.available())
    ]


def adapter_info(adapter_id: str) -> AdapterInfo:
    return _spec(adapter_id).info


def unavailable_reason(adapter_id: str) -> str | None:
    return _spec(adapter_id).available()


def get_adapter(adapter_id: str, device: str = "auto") -> Adapter:
    """The loaded adapter for `adapter_id`, built on first use and cached."""
    spec = _spec(adapter_id)
    reason = spec.available()
    if reason:
        from studio.errors import ModelUnavailable

        raise ModelUnavailable(f"{adapter_id} is not available here: {reason}")
    key = (adapter_id, resolve_device(device))
    with _registry_lock:
        lock = _load_locks.setdefault(key, threading.Lock())
    with lock:
        adapter = _instances.get(key)
        if adapter is None:
            adapter = spec.factory(key[1])
            adapter.ensure_loaded()
            _instances[key] = adapter  # cached only once it has loaded
    adapter.ensure_loaded()  # reloads after an unload
    return adapter


def loaded_adapters() -> list[Adapter]:
    return [a for a in list(_instances.values()) if a.loaded]


def unload(adapter_id: str) -> None:
    """Drop the weights but keep the adapter object: whoever holds it (an evaluation run, a Ray
    actor) reloads that same object on its next call, so no hidden second copy is ever made."""
    for key, adapter in list(_instances.items()):
        if key[0] == adapter_id:
            with adapter._lock:  # waits for a running call to finish
                adapter.unload()


def _spec(adapter_id: str) -> AdapterSpec:
    try:
        return _specs[adapter_id]
    except KeyError:
        raise ConfigError(f"unknown adapter {adapter_id!r}; available adapters: {', '.join(_specs)}") from None


@dataclass(frozen=True)
class System:
    """An adapter with a choice of decoding options: one point on a speed-quality plot.

    >>> System.parse("pocketsphinx").label
    'pocketsphinx'
    """

    adapter_id: str
    options: Any
    name: str = ""  # optional display name; defaults to id plus non-default options

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        extra = options_to_text(self.options)
        return f"{self.adapter_id} [{extra}]" if extra else self.adapter_id

    @property
    def task(self) -> Task:
        return adapter_info(self.adapter_id).task

    @classmethod
    def from_mapping(cls, adapter_id: str, options: Mapping[str, Any] | None = None, name: str = "") -> "System":
        info = adapter_info(adapter_id)
        return cls(adapter_id, options_from_mapping(info.options_type, options, adapter_id), name)

    @classmethod
    def parse(cls, adapter_id: str, options_text: str = "", name: str = "") -> "System":
        info = adapter_info(adapter_id)
        return cls(adapter_id, options_from_text(info.options_type, options_text, adapter_id), name)
