"""Predicted quality, second opinion: DistillMOS (Stahl & Gamper 2025), a small student of an XLS-R MOS model.

A CNN over compressed complex spectra plus a transformer, 16.9 MB of weights inside `distillmos`;
it takes 16 kHz audio (peak-normalised inside the model), crops it into 7.68 s windows and averages.
Seen here: clean read speech 4.2-4.7, the same clips with noise 1.2-2.1.

`distillmos` imports `torchaudio` at the top of its module but uses it only in its command-line
file reader, never in the model. torchaudio must not be installed here: its only build for this
platform was made for another torch and breaks `import transformers` (the decoding lab). So
`import distillmos` runs with a placeholder `torchaudio` in `sys.modules`, and only while that
import runs; the placeholder fails loudly if anything ever calls it.
"""

from __future__ import annotations

import contextlib
import io
import sys
import threading
import types
from importlib.util import find_spec

import numpy as np

from studio.errors import ConfigError
from studio.metrics.base import Metric, MetricInfo, MetricInput, MetricScore


def _torchaudio_placeholder() -> types.ModuleType:
    module = types.ModuleType("torchaudio")
    module.__doc__ = "Placeholder: distillmos imports torchaudio but its model never uses it."

    def missing(name: str):
        raise ImportError(f"torchaudio.{name} was called through distillmos, but torchaudio is not installed "
                          "(on purpose: its build breaks transformers); pass 16 kHz arrays instead")

    module.__getattr__ = missing
    return module


def import_distillmos() -> types.ModuleType:
    """`distillmos`, imported with a placeholder torchaudio if (and only while) the real one is absent."""
    if "distillmos" in sys.modules or find_spec("torchaudio") is not None:
        import distillmos

        return distillmos
    import torch  # noqa: F401  -- imported before the placeholder exists, so torch never sees it

    placeholder = _torchaudio_placeholder()
    sys.modules["torchaudio"] = placeholder
    try:
        import distillmos
    finally:
        # Only the placeholder is taken out again (the modules distillmos brought in stay), so a later
        # `import torchaudio` or transformers' probe for it finds nothing, as before. distillmos keeps its
        # own reference to the placeholder, which its model never touches.
        if sys.modules.get("torchaudio") is placeholder:
            del sys.modules["torchaudio"]
    return distillmos


class DistillMOS(Metric):
    info = MetricInfo(
        name="distillmos",
        direction="higher",
        units="MOS 1-5",
        model="distillmos 0.9.1 ConvTransformerSQAModel (variant 7 weights)",
        needs=("audio",),
        description="Non-intrusive predicted MOS from a model distilled from XLS-R; a second opinion beside DNSMOS.",
    )

    def setup(self) -> None:
        if find_spec("distillmos") is None or find_spec("xls_r_sqa") is None:
            raise ConfigError("the distillmos metric needs the distillmos and xls_r_sqa packages: "
                              "pip install --no-deps distillmos==0.9.1 xls_r_sqa==0.1.0 (never with their "
                              "dependencies: they would install torchaudio)")
        import torch

        distillmos = import_distillmos()
        self._torch = torch
        with contextlib.redirect_stdout(io.StringIO()):  # it prints the weights' path on every load
            self._model = distillmos.ConvTransformerSQAModel().eval()
        self._lock = threading.Lock()  # one forward at a time: the model is shared

    def predict(self, samples: np.ndarray) -> float:
        """MOS for 16 kHz mono float samples."""
        with self._lock, self._torch.inference_mode():
            x = self._torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))[None, :]
            return float(self._model(x).reshape(-1)[0])

    def compute(self, sample: MetricInput) -> list[MetricScore]:
        clip = sample.audio.resample(16000)
        return [self.score("distillmos", self.predict(np.clip(clip.samples, -1.0, 1.0)))]
