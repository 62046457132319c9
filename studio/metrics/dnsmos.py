"""Predicted quality: DNSMOS P.835 (signal, background, overall) and P.808, from speechmos.

DNSMOS wants 16 kHz audio in [-1, 1]; clips under 9 s are tiled to 9 s by the library,
longer ones scored in 9 s windows and averaged. It predicts what listeners would rate
for noisy/processed speech; on clean TTS it separates artefacts, not naturalness.
"""

from __future__ import annotations

import threading

import numpy as np

from studio.metrics.base import Metric, MetricInfo, MetricInput, MetricScore

_PARTS = {"ovrl_mos": "dnsmos", "sig_mos": "dnsmos_sig", "bak_mos": "dnsmos_bak", "p808_mos": "dnsmos_p808"}


class DNSMOS(Metric):
    info = MetricInfo(
        name="dnsmos",
        direction="higher",
        units="MOS 1-5",
        model="speechmos 0.0.1.1 DNSMOS P.835 sig_bak_ovr.onnx + P.808 model_v8.onnx",
        needs=("audio",),
        description="Non-intrusive predicted MOS; the headline is P.835 overall quality.",
    )

    def setup(self) -> None:
        from speechmos import dnsmos

        self._dnsmos = dnsmos
        self._lock = threading.Lock()  # speechmos keeps its ONNX sessions in module globals

    def compute(self, sample: MetricInput) -> list[MetricScore]:
        clip = sample.audio.resample(16000)
        with self._lock:
            result = self._dnsmos.run(np.clip(clip.samples, -1.0, 1.0), sr=16000)
        return [self.score(name, float(result[key])) for key, name in _PARTS.items()]
