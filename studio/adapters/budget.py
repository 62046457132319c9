"""The memory budget of the loaded models (STUDIO_MAX_LOADED_MB), kept by the `Registry`.

Each loaded model counts for its footprint: the memory its last load added (process RSS plus PyTorch's
GPU allocation, measured around the load), or its size on disk when that is larger or before it has
loaded once. Before a load that would take the total past the budget, the least recently used models
are unloaded first, but only idle ones: a model whose lock is held (a call running on it) is never
touched. Loads are serialised while a budget is set, so each measured growth is that model's own.

The footprint of a model's first load also holds the libraries it imported (faster-whisper's first
load adds ~270 MB of RSS, later ones ~55 MB), so the budget errs on the safe side until it reloads.
An evaluation holds its adapters between batches: one unloaded meanwhile reloads on its next batch, outside
the budget's view, and is counted (and made room for) at the next load through the registry.

>>> budget = MemoryBudget(max_mb=100)
>>> budget.resident({})
[]
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Mapping

from studio.adapters.base import Adapter
from studio.errors import OutOfMemory
from studio.memory import memory_in_use, release_freed_memory

Key = tuple[str, str]  # (adapter id, device)


class BudgetFull(OutOfMemory):
    """A load refused because the models that would have to make room are running; passing, not recorded."""


@dataclass(frozen=True)
class Resident:
    """A loaded model as the budget counts it."""

    adapter_id: str
    device: str
    mb: float  # its footprint
    measured: bool  # False: its size on disk stands in (not loaded through the registry yet)
    running: bool  # a call holds its lock now


class MemoryBudget:
    def __init__(self, max_mb: float | None = None):
        self.max_mb = max_mb  # None: no budget (loads are still measured, for the Models tab)
        self._lock = threading.Lock()  # one load at a time under a budget
        self._footprints: dict[Key, float] = {}
        self._last_used: dict[Key, float] = {}

    def touch(self, key: Key) -> None:
        """`key` was just asked for: it becomes the most recently used."""
        self._last_used[key] = time.monotonic()

    def resident(self, instances: Mapping[Key, Adapter]) -> list[Resident]:
        """The loaded models, least recently used first."""
        return [Resident(key[0], key[1], self._footprint(key, adapter), key in self._footprints, _running(adapter))
                for key, adapter in self._by_age(instances)]

    def resident_mb(self, instances: Mapping[Key, Adapter]) -> float:
        return sum(self._footprint(key, adapter) for key, adapter in self._by_age(instances))

    def load(self, key: Key, adapter: Adapter, instances: Mapping[Key, Adapter]) -> None:
        """`adapter.ensure_loaded()`, first unloading idle models, least recently used first, when the budget
        would be exceeded. Raises `OutOfMemory` when the model alone is larger than the budget, and
        `BudgetFull` when only running models could make room."""
        if adapter.loaded:
            return
        if self.max_mb is None:
            self._measured_load(key, adapter)
            return
        with self._lock:
            if adapter.loaded:  # another thread loaded it while this one waited
                return
            need = self._footprint(key, adapter)
            if need > self.max_mb:
                raise OutOfMemory(f"{key[0]} needs about {need:,.0f} MB, more than the whole memory budget for "
                                  f"loaded models, {self.max_mb:,.0f} MB (STUDIO_MAX_LOADED_MB)")
            self._make_room(key, need, instances)
            self._measured_load(key, adapter)
            # The measured footprint may exceed the estimate: settle up with the idle models that are left.
            self._make_room(key, self._footprints[key], instances, settling=True)

    def _make_room(self, key: Key, need: float, instances: Mapping[Key, Adapter], settling: bool = False) -> None:
        """Unload idle models, least recently used first, until the others and `need` fit in the budget."""
        others = {k: a for k, a in instances.items() if k != key}
        freed = False
        for _, other in self._by_age(others):
            if self.resident_mb(others) + need <= self.max_mb:
                break
            freed |= _unload_if_idle(other)
        if freed:
            release_freed_memory()
        if self.resident_mb(others) + need > self.max_mb and not settling:  # loaded already: over only while models run
            running = ", ".join(k[0] for k, a in self._by_age(others))
            raise BudgetFull(f"loading {key[0]} (about {need:,.0f} MB) would take the loaded models past the memory "
                             f"budget of {self.max_mb:,.0f} MB (STUDIO_MAX_LOADED_MB), and the models holding it "
                             f"({running}) are running now; try again when they finish")

    def _measured_load(self, key: Key, adapter: Adapter) -> None:
        before = _used_mb()
        adapter.ensure_loaded()
        self._footprints[key] = max(_used_mb() - before, adapter.info.size_mb or 0.0)

    def _footprint(self, key: Key, adapter: Adapter) -> float:
        return self._footprints.get(key, adapter.info.size_mb or 0.0)

    def _by_age(self, instances: Mapping[Key, Adapter]) -> list[tuple[Key, Adapter]]:
        loaded = [(key, adapter) for key, adapter in list(instances.items()) if adapter.loaded]
        return sorted(loaded, key=lambda item: self._last_used.get(item[0], 0.0))


def _running(adapter: Adapter) -> bool:
    # RLock offers no public "held by anyone?": `_is_owned` says whether this thread holds it (this thread
    # is inside a call on it, e.g. a model that loads another); a failed non-blocking acquire says another does.
    if adapter.lock._is_owned():
        return True
    if not adapter.lock.acquire(blocking=False):
        return True
    adapter.lock.release()
    return False


def _unload_if_idle(adapter: Adapter) -> bool:
    """Unload `adapter` unless a call is running on it; True when its weights were dropped."""
    if adapter.lock._is_owned() or not adapter.lock.acquire(blocking=False):  # see `_running`
        return False
    try:
        adapter.unload()
        return not adapter.loaded
    finally:
        adapter.lock.release()


def _used_mb() -> float:
    memory = memory_in_use()
    return memory.rss_mb + (memory.gpu_allocated_mb or 0.0)
