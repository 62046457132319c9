"""Decoding options of the Hugging Face adapters, apart from the adapters so a config can be read without torch."""

from __future__ import annotations

from dataclasses import dataclass

from studio.errors import ConfigError


@dataclass(frozen=True)
class CTCOptions:
    """CTC decoding here is one greedy pass (the best token per frame, repeats and blanks removed): nothing to tune."""


@dataclass(frozen=True)
class Seq2SeqOptions:
    beam_size: int = 1  # 1 = greedy search
    max_new_tokens: int = 128  # stop generating after this many tokens
    language: str | None = None  # e.g. "en" for a multilingual Whisper; None = the model's own default

    def __post_init__(self):
        if not 1 <= self.beam_size <= 20:
            raise ConfigError(f"beam_size must be between 1 and 20; got {self.beam_size}")
        if not 1 <= self.max_new_tokens <= 1024:
            raise ConfigError(f"max_new_tokens must be between 1 and 1024; got {self.max_new_tokens}")


@dataclass(frozen=True)
class VitsOptions:
    speaking_rate: float = 1.0  # > 1 speaks faster, < 1 slower
    noise_scale: float = 0.667  # prior noise: variation in the voice; 0 = deterministic
    noise_scale_duration: float = 0.8  # duration noise: variation in rhythm; 0 = deterministic
    seed: int | None = 0  # fixed seed makes the noise repeatable run to run; None = a fresh draw each time

    def __post_init__(self):
        if not 0.25 <= self.speaking_rate <= 4.0:
            raise ConfigError(f"speaking_rate must be between 0.25 and 4; got {self.speaking_rate}")
        for name in ("noise_scale", "noise_scale_duration"):
            if not 0.0 <= getattr(self, name) <= 2.0:
                raise ConfigError(f"{name} must be between 0 and 2; got {getattr(self, name)}")


@dataclass(frozen=True)
class SpeechT5Options:
    threshold: float = 0.5  # stop when the decoder's stop probability passes this; 1 = never stop early
    minlenratio: float = 0.0  # shortest spectrogram, as a multiple of the text length
    maxlenratio: float = 20.0  # longest spectrogram, as a multiple of the text length

    def __post_init__(self):
        if not 0.0 < self.threshold <= 1.0:
            raise ConfigError(f"threshold must be in (0, 1]; got {self.threshold}")
        if not 0.0 <= self.minlenratio < self.maxlenratio <= 100.0:
            raise ConfigError(f"need 0 <= minlenratio < maxlenratio <= 100; got {self.minlenratio} and {self.maxlenratio}")
