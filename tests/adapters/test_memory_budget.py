"""The memory budget (STUDIO_MAX_LOADED_MB) with the real bundled models: loading past it unloads the least
recently used idle models, never a running one, and the process's resident memory follows."""

from __future__ import annotations

import threading

import pytest

from studio.adapters.budget import BudgetFull
from studio.bootstrap import build_registry
from studio.errors import OutOfMemory
from studio.memory import memory_in_use, release_freed_memory

pytestmark = pytest.mark.models

BUDGET_MB = 450.0  # above the largest footprint (torch-whisper-tiny.en's first load, torch included), far below the sum
MARGIN_MB = 100.0  # allocator slack and caches the libraries keep after a model is gone


def rss_mb() -> float:
    release_freed_memory()
    return memory_in_use().rss_mb


def test_every_bundled_model_runs_within_a_budget_below_their_sum():
    registry = build_registry()
    models = registry.ids(only_available=True)
    footprints = {}
    for adapter_id in models:  # once without a budget: imports every library and measures every model
        registry.load(adapter_id)
        footprints[adapter_id] = round(registry.resident()[-1].mb)
        registry.unload(adapter_id)
    assert sum(footprints.values()) > BUDGET_MB > max(footprints.values()), footprints
    baseline = rss_mb()

    registry.budget.max_mb = BUDGET_MB
    peak = 0.0
    for adapter_id in models:  # no call fails
        registry.load(adapter_id)
        resident = registry.resident()
        assert resident[-1].adapter_id == adapter_id  # the most recently used
        assert sum(r.mb for r in resident) <= BUDGET_MB, resident
        peak = max(peak, rss_mb() - baseline)
        assert peak <= BUDGET_MB + MARGIN_MB, (adapter_id, peak, resident)
    print(f"resident memory above the baseline peaked at {peak:.0f} MB with a {BUDGET_MB:.0f} MB budget; "
          f"models: {footprints}")


def test_a_running_model_is_never_unloaded_and_a_model_larger_than_the_budget_is_refused():
    registry = build_registry()
    registry.get("piper-joe")
    registry.get("pocketsphinx")
    piper_mb = registry.resident()[0].mb
    registry.budget.max_mb = piper_mb + 1  # room for piper alone: any other load must unload it
    running, release = threading.Event(), threading.Event()

    def hold_piper():  # a call in progress: it holds the model's lock
        with registry.get("piper-joe").lock:
            running.set()
            release.wait(30)

    holder = threading.Thread(target=hold_piper)
    holder.start()
    running.wait(10)
    try:
        with pytest.raises(BudgetFull, match=r"loading hama .* past the memory budget .*STUDIO_MAX_LOADED_MB.*"
                                             r"\(piper-joe\) are running now; try again when they finish"):
            registry.get("hama")
        assert [r.adapter_id for r in registry.resident()] == ["piper-joe"]  # pocketsphinx (idle) made room
        assert registry.resident()[0].running
        assert not registry.unavailable_reason("hama")  # a full budget is passing: not listed as unavailable
    finally:
        release.set()
        holder.join()
    registry.get("hama")  # piper is idle now: it goes
    assert [r.adapter_id for r in registry.resident()] == ["hama"]
    registry.budget.max_mb = 1.0
    with pytest.raises(OutOfMemory, match=r"piper-joe needs about \d+ MB, more than the whole memory budget"):
        registry.get("piper-joe")

