"""What every model adapter is and returns.

An adapter wraps one model behind `transcribe` (ASR) or `synthesize` (TTS). It declares
itself with an `AdapterInfo`, takes its decoding options as a frozen dataclass, and
returns a `Transcription` or `Synthesis` that carries the options used and honest
timings: processing time excludes model load, and each stage is either measured or
listed in `not_measured` with the engine that hides it.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterator, Literal

import numpy as np

from studio.audio import Audio
from studio.timing import StageTimer, synchronize

Task = Literal["asr", "tts"]
ASR_SAMPLE_RATE = 16000
# How a model generates, in one word, for tables and plot markers (`decoding` below is the free-text detail).
KINDS = ("autoregressive", "non-autoregressive", "HMM", "rules")


@dataclass(frozen=True)
class AdapterInfo:
    """What a model is, for people and for the registry."""

    id: str  # registry key, e.g. "whisper-tiny.en"
    task: Task
    label: str  # shown in the UI
    options_type: type  # frozen dataclass of decoding options
    family: str  # e.g. "Whisper (CTranslate2)"
    decoding: str  # how it generates: "autoregressive", "non-autoregressive", "HMM/WFST", "formant rules"
    model: str  # what weights it runs and where they come from
    stages: tuple[str, ...] = ()  # the per-stage timings it measures
    not_measured: tuple[str, ...] = ()  # stages it has but cannot time separately
    description: str = ""
    input_window_seconds: float | None = None  # fixed input every clip is padded to (Whisper: 30 s); None = as is
    kind: str = ""  # one of KINDS ("" = not stated); what `studio models --json` prints as "decoding"
    parameters: int | None = None  # weights in the model, as its authors count them (None = unknown)
    size_mb: float | None = None  # weight files on disk, MB (10^6 bytes)
    licence: str = ""  # of the weights, e.g. "MIT", "Apache-2.0"


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
    device: str = "cpu"
    details: dict[str, Any] = field(default_factory=dict)  # e.g. peak GPU memory, dtype

    @property
    def rtf(self) -> float:
        """Real-time factor: seconds of compute per second of audio (lower is faster)."""
        return self.processing_seconds / self.audio.duration if self.audio.duration > 0 else float("inf")


class Adapter(ABC):
    """A lazily loaded model. The registry builds, loads and caches one per (id, device)."""

    info: ClassVar[AdapterInfo]

    def __init__(self, device: str = "cpu"):
        self.device = device
        self.load_seconds = 0.0
        # Loading, inference and unloading are serialised per model: concurrent calls would share
        # CPU cores and blur every timing, several engines here are not thread-safe, and an unload
        # must not pull the weights from under a running call. Re-entrant: calls load under it.
        self._lock = threading.RLock()

    def ensure_loaded(self) -> None:
        with self._lock:
            if not self.loaded:
                start = time.perf_counter()
                self._load()
                self.load_seconds = time.perf_counter() - start

    @property
    @abstractmethod
    def loaded(self) -> bool: ...

    @abstractmethod
    def _load(self) -> None: ...

    def unload(self) -> None:
        """Drop the weights; the next call loads them again."""

    def default_options(self) -> Any:
        return self.info.options_type()


class ASRAdapter(Adapter):
    def transcribe(self, audio: Audio, options: Any = None) -> Transcription:
        """Recognise one utterance. Audio at any rate is resampled to 16 kHz first (not timed)."""
        return self.transcribe_batch([audio], options)[0]

    def transcribe_batch(self, audios: list[Audio], options: Any = None) -> list[Transcription]:
        """Recognise several utterances. The default runs them one by one; engines that batch override `_recognize_batch`."""
        options = options if options is not None else self.default_options()
        clips = [a.resample(ASR_SAMPLE_RATE) for a in audios]
        with self._lock:
            self.ensure_loaded()
            timer = StageTimer(self.device)
            synchronize(self.device)
            start = time.perf_counter()
            outputs = self._recognize_batch([c.samples for c in clips], options, timer)
            synchronize(self.device)
            elapsed = time.perf_counter() - start
        if timer.seconds:  # time outside every measured stage: the engine's own glue code
            timer.add("other", max(0.0, elapsed - sum(timer.seconds.values())))
        total_audio = sum(c.duration for c in clips)
        results = []
        for clip, (text, details) in zip(clips, outputs):
            # A batch's time is shared out by audio duration; one clip gets all of it.
            share = clip.duration / total_audio if total_audio else 1.0 / len(clips)
            results.append(
                Transcription(
                    text=text.strip(),
                    adapter_id=self.info.id,
                    options=options,
                    audio_duration=clip.duration,
                    processing_seconds=elapsed * share,
                    stage_seconds={k: v * share for k, v in timer.seconds.items()},
                    not_measured=self.info.not_measured,
                    load_seconds=self.load_seconds,
                    device=self.device,
                    details={**details, "batch_size": len(clips)} if len(clips) > 1 else details,
                )
            )
        return results

    def _recognize_batch(self, clips: list[np.ndarray], options: Any, timer: StageTimer) -> list[tuple[str, dict]]:
        return [self._recognize(clip, options, timer) for clip in clips]

    @abstractmethod
    def _recognize(self, samples: np.ndarray, options: Any, timer: StageTimer) -> tuple[str, dict]:
        """Text and details for 16 kHz float32 mono samples; time named stages with `timer`."""


class TTSAdapter(Adapter):
    sample_rate: int = 22050

    def synthesize(self, text: str, options: Any = None) -> Synthesis:
        """Speak `text` (already checked by `studio.text.check_text`)."""
        options = options if options is not None else self.default_options()
        spoken = self.front_end(text)
        chunks: list[np.ndarray] = []
        with self._lock:
            self.ensure_loaded()
            timer = StageTimer(self.device)
            synchronize(self.device)
            start = time.perf_counter()
            first = None
            for chunk in self._stream(spoken, options, timer):
                if first is None:
                    first = time.perf_counter() - start
                chunks.append(chunk)
            synchronize(self.device)
            elapsed = time.perf_counter() - start
            details = self.run_details()
        samples = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
        return Synthesis(
            audio=Audio(np.clip(samples, -1.0, 1.0).astype(np.float32), self.sample_rate),
            text=spoken,
            adapter_id=self.info.id,
            options=options,
            processing_seconds=elapsed,
            time_to_first_audio=first if first is not None else elapsed,
            chunks=len(chunks),
            stage_seconds=dict(timer.seconds),
            not_measured=self.info.not_measured,
            load_seconds=self.load_seconds,
            device=self.device,
            details=details,
        )

    def run_details(self) -> dict[str, Any]:
        """Details of the synthesis that just finished (read once `_stream` is exhausted); none by default."""
        return {}

    def front_end(self, text: str) -> str:
        """Text normalisation before the voice; identity unless the voice needs one."""
        return text

    @abstractmethod
    def _stream(self, text: str, options: Any, timer: StageTimer) -> Iterator[np.ndarray]:
        """Yield float32 mono chunks at `self.sample_rate` as soon as each is ready."""
