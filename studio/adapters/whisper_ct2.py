"""Whisper through faster-whisper (CTranslate2): tiny.en and base ship as PyPI packages.

faster-whisper hides its stages inside `transcribe`; a thin proxy around the CTranslate2
model times `encode` and `generate` where they are called, and a wrapper times the
log-mel feature extractor. Nothing is computed twice, so the adapter stays as fast as the
raw engine (see bench/adapter_overhead.py). What is left, "other", is faster-whisper's
Python around the model: tokenisation, segment splitting and fallback bookkeeping.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from studio.adapters.base import AdapterInfo, ASRAdapter
from studio.errors import ConfigError
from studio.timing import StageTimer


@dataclass(frozen=True)
class WhisperOptions:
    beam_size: int = 5  # 1 = greedy search
    temperature: float = 0.0  # 0 = deterministic; > 0 samples (no fallback schedule)
    language: str | None = "en"  # None = detect (multilingual models only)
    vad_filter: bool = False  # drop non-speech with Silero VAD before decoding

    def __post_init__(self):
        if not 1 <= self.beam_size <= 20:
            raise ConfigError(f"beam_size must be between 1 and 20; got {self.beam_size}")
        if not 0.0 <= self.temperature <= 1.0:
            raise ConfigError(f"temperature must be between 0 and 1; got {self.temperature}")


class _TimedModel:
    """Forwards to a ctranslate2 Whisper model, timing encode and generate."""

    def __init__(self, model, owner: "FasterWhisperAdapter"):
        self._model, self._owner = model, owner

    def encode(self, *args, **kwargs):
        with self._owner.timer.stage("encoder"):
            return self._model.encode(*args, **kwargs)

    def generate(self, *args, **kwargs):
        with self._owner.timer.stage("decoder"):
            return self._model.generate(*args, **kwargs)

    def detect_language(self, *args, **kwargs):
        with self._owner.timer.stage("language_id"):
            return self._model.detect_language(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._model, name)


class _TimedFeatures:
    def __init__(self, extractor, owner: "FasterWhisperAdapter"):
        self._extractor, self._owner = extractor, owner

    def __call__(self, *args, **kwargs):
        with self._owner.timer.stage("features"):
            return self._extractor(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._extractor, name)


def compute_type_for(device: str, requested: str = "auto") -> str:
    """int8 on CPU, float16 on CUDA, unless a compute type is asked for."""
    if requested != "auto":
        return requested
    return "float16" if device == "cuda" else "int8"


class FasterWhisperAdapter(ASRAdapter):
    """Any CTranslate2 Whisper model in a folder (or a hub id faster-whisper can fetch)."""

    def __init__(self, info: AdapterInfo, model_source: Callable[[], Path | str], device: str = "cpu",
                 compute_type: str = "auto", cpu_threads: int = 0):
        super().__init__(device)
        self.info = info
        self._model_source = model_source
        self.compute_type = compute_type_for(device, compute_type)
        self.cpu_threads = cpu_threads  # 0 = CTranslate2's default (all cores)
        self.model = None
        self.timer = StageTimer(device)

    @property
    def loaded(self) -> bool:
        return self.model is not None

    def _load(self) -> None:
        from faster_whisper import WhisperModel

        model = WhisperModel(str(self._model_source()), device=self.device, compute_type=self.compute_type,
                             cpu_threads=self.cpu_threads)
        model.model = _TimedModel(model.model, self)
        model.feature_extractor = _TimedFeatures(model.feature_extractor, self)
        self.model = model

    def unload(self) -> None:
        self.model = None

    @property
    def multilingual(self) -> bool:
        self.ensure_loaded()
        return bool(self.model.model.is_multilingual)

    def _recognize(self, samples: np.ndarray, options: WhisperOptions, timer: StageTimer) -> tuple[str, dict]:
        if options.language not in (None, "en") and not self.multilingual:
            raise ConfigError(f"{self.info.id} is English-only; use language=en or a multilingual model")
        self.timer = timer
        segments, info = self.model.transcribe(
            samples,
            beam_size=options.beam_size,
            temperature=options.temperature,
            language=options.language,
            vad_filter=options.vad_filter,
        )
        segments = list(segments)  # decoding happens while the generator is consumed
        text = "".join(s.text for s in segments)
        details = {"language": info.language, "language_probability": round(float(info.language_probability), 3),
                   "segments": len(segments), "tokens": sum(len(s.tokens) for s in segments),
                   "compute_type": self.compute_type}
        return text, details
