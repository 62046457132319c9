"""How much memory the studio holds right now: process RSS and, with a GPU, what PyTorch has allocated."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys
from dataclasses import dataclass
from functools import lru_cache

import psutil

MIB = 2**20


@dataclass(frozen=True)
class MemoryUse:
    """A snapshot in MiB; the GPU fields are None without CUDA (or when torch was never imported)."""

    rss_mb: float  # resident set size of this process (weights, activations, libraries)
    gpu_allocated_mb: float | None = None  # tensors PyTorch holds on the current GPU
    gpu_reserved_mb: float | None = None  # allocated plus PyTorch's cache
    gpu_total_mb: float | None = None  # the card's memory

    def summary(self) -> str:
        """One line for people, e.g. 'process RSS 812 MiB · GPU 1,204 of 81,559 MiB allocated (1,536 reserved)'."""
        text = f"process RSS {self.rss_mb:,.0f} MiB"
        if self.gpu_allocated_mb is not None:
            text += (f" · GPU {self.gpu_allocated_mb:,.0f} of {self.gpu_total_mb:,.0f} MiB allocated"
                     f" ({self.gpu_reserved_mb:,.0f} reserved)")
        return text


def memory_in_use() -> MemoryUse:
    rss = psutil.Process().memory_info().rss / MIB
    torch = sys.modules.get("torch")  # no GPU tensors can exist before torch is imported; do not import it here
    if torch is None or not torch.cuda.is_available():
        return MemoryUse(rss)
    return MemoryUse(
        rss,
        gpu_allocated_mb=torch.cuda.memory_allocated() / MIB,
        gpu_reserved_mb=torch.cuda.memory_reserved() / MIB,
        gpu_total_mb=torch.cuda.get_device_properties(0).total_memory / MIB,
    )


def release_freed_memory() -> None:
    """Hand memory freed by unloaded models back to the system, so process RSS shows the unload.

    glibc keeps freed heap pages for reuse; `malloc_trim(0)` returns them (no library offers this; a no-op
    where the C library has no malloc_trim). CUDA tensors go back through PyTorch's cache."""
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


@lru_cache(maxsize=1)
def _malloc_trim():
    name = ctypes.util.find_library("c")
    library = ctypes.CDLL(name) if name else None
    return getattr(library, "malloc_trim", None)
