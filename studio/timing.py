"""Device choice and the one timer every adapter and benchmark uses.

Timings are wall-clock `perf_counter` seconds. On CUDA the timer synchronises the device
before reading the clock, so asynchronous kernels are counted where they run.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from functools import lru_cache

log = logging.getLogger(__name__)

DEVICES = ("auto", "cpu", "cuda")


@lru_cache(maxsize=None)
def cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def resolve_device(preference: str = "auto") -> str:
    """'cuda' or 'cpu'. 'auto' takes CUDA when present; an explicit 'cuda' without a GPU falls back to CPU and logs it.

    The environment variable STUDIO_DEVICE (auto/cpu/cuda) overrides 'auto' for the whole app.
    """
    if preference == "auto":
        preference = os.environ.get("STUDIO_DEVICE", "auto").strip().lower() or "auto"
    if preference not in DEVICES:
        from studio.errors import ConfigError

        raise ConfigError(f"device must be one of {', '.join(DEVICES)}; got {preference!r}")
    if preference == "cpu":
        return "cpu"
    if cuda_available():
        return "cuda"
    if preference == "cuda":
        log.warning("device 'cuda' was asked for but no CUDA GPU is visible; running on CPU")
    return "cpu"


def synchronize(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


@dataclass
class StageTimer:
    """Accumulates seconds per named stage: `with timer.stage("encoder"): ...`.

    >>> t = StageTimer()
    >>> with t.stage("decoder"):
    ...     pass
    >>> list(t.seconds)
    ['decoder']
    """

    device: str = "cpu"
    seconds: dict[str, float] = field(default_factory=dict)

    def stage(self, name: str) -> "_Stage":
        return _Stage(self, name)

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds


class _Stage:
    def __init__(self, timer: StageTimer, name: str):
        self.timer, self.name = timer, name

    def __enter__(self) -> "_Stage":
        synchronize(self.timer.device)
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        synchronize(self.timer.device)
        self.timer.add(self.name, time.perf_counter() - self.start)
