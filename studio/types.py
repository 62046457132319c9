"""The shared vocabulary: what a model is and what it returns. Free of side effects, so anything may import it.

An adapter declares itself with an `AdapterInfo` and returns a `Transcription` (ASR) or a
`Synthesis` (TTS) that carries the options used and honest timings: processing time excludes
model load, and each stage is either measured or listed in `not_measured` with the engine
that hides it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from studio.audio import Audio

Task = Literal["asr", "tts"]
# How a model generates, in one word, for tables and plot markers (`AdapterInfo.decoding` is the free-text detail)
DecodingKind = Literal["autoregressive", "non-autoregressive", "HMM", "rules"]
KINDS: tuple[str, ...] = get_args(DecodingKind)
ASR_SAMPLE_RATE = 16000


@dataclass(frozen=True)
class AdapterInfo:
    """What a model is, for people and for the registry."""

    id: str  # registry key, e.g. "whisper-tiny.en"
    task: Task
    label: str  # shown in the UI
    options_type: type  # frozen dataclass of decoding options
    family: str  # e.g. "Whisper (CTranslate2)"
    decoding: str  # how it generates, in words: "autoregressive encoder-decoder, beam or greedy search"
    model: str  # what weights it runs and where they come from
    stages: tuple[str, ...] = ()  # the per-stage timings it measures
    not_measured: tuple[str, ...] = ()  # stages it has but cannot time separately
    description: str = ""
    input_window_seconds: float | None = None  # fixed input every clip is padded to (Whisper: 30 s); None = as is
    default_options: Any = None  # an `options_type` instance to start from (studio.yaml defaults); None = its defaults
    kind: DecodingKind | Literal[""] = ""  # one of KINDS ("" = not stated); `studio models --json` prints it as "decoding"
    parameters: int | None = None  # weights in the model, as its authors count them (None = unknown)
    size_mb: float | None = None  # weight files on disk, MB (10^6 bytes)
    licence: str = ""  # of the weights, e.g. "MIT", "Apache-2.0"

    @property
    def defaults(self) -> Any:
        """The options every caller starts from."""
        return self.default_options if self.default_options is not None else self.options_type()


@dataclass(frozen=True)
class Transcription:
    """One recognised utterance and what it cost."""

    text: str
    adapter_id: str
    options: Any
    audio_duration: float  # seconds of input audio
    processing_seconds: float  # wall time of recognition, model load excluded
    stage_seconds: dict[str, float] = field(default_factory=dict)  # measured stages only
    not_measured: tuple[str, ...] = ()
    load_seconds: float = 0.0  # one-off model load, reported apart
    warm: bool = True  # False for the first call after a load (the load-time warm-up failed): it pays first-call costs
    device: str = "cpu"
    details: dict[str, Any] = field(default_factory=dict)  # e.g. detected language, token count

    @property
    def rtfx(self) -> float:
        """Inverse real-time factor: seconds of audio recognised per second of compute."""
        return self.audio_duration / self.processing_seconds if self.processing_seconds > 0 else float("inf")


@dataclass(frozen=True)
class Synthesis:
    """One synthesised utterance and what it cost."""

    audio: Audio
    text: str  # the text as the voice read it, after the front end
    adapter_id: str
    options: Any
    processing_seconds: float  # wall time of synthesis, model load excluded
    time_to_first_audio: float  # seconds until the first audio chunk was ready
    chunks: int = 1
    stage_seconds: dict[str, float] = field(default_factory=dict)
    not_measured: tuple[str, ...] = ()
    load_seconds: float = 0.0
    warm: bool = True  # as in Transcription
    device: str = "cpu"
    details: dict[str, Any] = field(default_factory=dict)  # e.g. peak GPU memory, dtype

    @property
    def rtf(self) -> float:
        """Real-time factor: seconds of compute per second of audio (lower is faster)."""
        return self.processing_seconds / self.audio.duration if self.audio.duration > 0 else float("inf")
