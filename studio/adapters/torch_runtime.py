"""What every PyTorch adapter shares: device and precision, peak GPU memory, out-of-memory errors, module timers.

Importing this module does not import torch; the functions that need it import it when called,
so that reading a config stays fast.
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from studio.errors import ConfigError, OutOfMemory
from studio.timing import StageTimer, resolve_device, synchronize

log = logging.getLogger(__name__)

DTYPES = ("auto", "float32", "float16", "bfloat16")


@dataclass(frozen=True)
class Placement:
    """Where a model runs and in which precision, and why that differs from what was asked, if it does.

    >>> Placement.choose("cpu", "float16")
    Placement(device='cpu', dtype='float32', note='float16 was asked for, but it is slow or unsupported on CPU; using float32')
    """

    device: str  # "cpu" or "cuda"
    dtype: str  # "float32", "float16" or "bfloat16" (what "auto" became)
    note: str = ""  # the fallback, said with every result and in the Models panel

    @classmethod
    def choose(cls, device: str, dtype: str = "auto") -> "Placement":
        """'auto' device takes CUDA when present; 'auto' dtype is float16 on CUDA and float32 on CPU."""
        if dtype not in DTYPES:
            raise ConfigError(f"dtype must be one of {', '.join(DTYPES)}; got {dtype!r}")
        resolved = resolve_device(device)
        notes = []
        if device == "cuda" and resolved == "cpu":
            notes.append("CUDA was asked for, but no GPU is visible; running on CPU")
        if dtype == "auto":
            dtype = "float16" if resolved == "cuda" else "float32"
        elif dtype == "float16" and resolved == "cpu":
            notes.append("float16 was asked for, but it is slow or unsupported on CPU; using float32")
            dtype = "float32"
        return cls(resolved, dtype, "; ".join(notes))

    @property
    def torch_dtype(self) -> Any:
        import torch

        return getattr(torch, self.dtype)

    def details(self) -> dict[str, Any]:
        return {"dtype": self.dtype, **({"device_note": self.note} if self.note else {})}


def is_out_of_memory(error: BaseException) -> bool:
    """CUDA's OutOfMemoryError, Python's MemoryError, or torch's CPU allocator failing."""
    import torch

    if isinstance(error, (torch.OutOfMemoryError, MemoryError)):
        return True
    return isinstance(error, RuntimeError) and "can't allocate memory" in str(error)


def out_of_memory(model_id: str, device: str, doing: str) -> OutOfMemory:
    from studio.memory import memory_in_use

    where = "GPU" if device == "cuda" else "host"
    return OutOfMemory(
        f"{model_id} ran out of {where} memory while {doing} ({memory_in_use().summary()}). "
        "Unload other models in the Models panel, use shorter input, or choose dtype float16/bfloat16 "
        "or a smaller model in studio.yaml."
    )


@contextmanager
def measured_run(model_id: str, device: str) -> Iterator[dict[str, Any]]:
    """Yields a dict that receives the run's peak GPU memory; turns running out of memory into `OutOfMemory`."""
    import torch

    details: dict[str, Any] = {}
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    try:
        with torch.inference_mode():
            yield details
    except Exception as error:
        if is_out_of_memory(error):
            if device == "cuda":
                torch.cuda.empty_cache()
            raise out_of_memory(model_id, device, "running") from error
        raise
    if device == "cuda":
        details["peak_gpu_memory_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)


@contextmanager
def timed_modules(timer: StageTimer, modules: Mapping[str, Any]) -> Iterator[None]:
    """Time every forward call of each module as the named stage, through forward hooks.

    Hooks time the model's own submodules where they run inside `generate`, so no model
    code is copied here. Each stage synchronises CUDA on entry and exit (`StageTimer`).
    """
    handles = []
    for name, module in modules.items():
        stage = timer.stage(name)

        def start(*_, stage=stage) -> None:
            stage.__enter__()

        def stop(*_, stage=stage) -> None:
            stage.__exit__()

        handles.append(module.register_forward_pre_hook(start))
        handles.append(module.register_forward_hook(stop))
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


@contextmanager
def generate_stages(timer: StageTimer, encoder: Any, device: str) -> Iterator[None]:
    """Time an autoregressive `generate`: the encoder's forward calls as "encoder", all the rest as "decoder"."""
    encoder_before = timer.seconds.get("encoder", 0.0)
    with timed_modules(timer, {"encoder": encoder}):
        synchronize(device)
        start = time.perf_counter()
        yield
        synchronize(device)
        total = time.perf_counter() - start
    timer.add("decoder", total - (timer.seconds.get("encoder", 0.0) - encoder_before))


def weights_mb(*models: Any) -> float:
    """Memory held by the parameters and buffers of torch modules, in MiB."""
    total = 0
    for model in models:
        for tensor in [*model.parameters(), *model.buffers()]:
            total += tensor.numel() * tensor.element_size()
    return total / 2**20


def release(device: str) -> None:
    """Return freed memory: collect garbage and, on CUDA, empty PyTorch's cache."""
    import gc

    gc.collect()
    if device == "cuda":
        import torch

        torch.cuda.empty_cache()
