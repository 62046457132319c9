"""What every model adapter does: load lazily, then `transcribe` (ASR) or `synthesize` (TTS).

An adapter declares itself with an `AdapterInfo`, takes its decoding options as a frozen
dataclass and returns the `Transcription` / `Synthesis` of `studio.types`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Iterator

import numpy as np

from studio.assets import example_recordings, example_texts
from studio.audio import Audio, load_audio
from studio.errors import failure_message
from studio.timing import StageTimer, synchronize
from studio.types import ASR_SAMPLE_RATE, AdapterInfo, Synthesis, Transcription

log = logging.getLogger(__name__)


class _Abandoned(Exception):
    """Raised inside a streamed synthesis whose caller has gone away."""


class Adapter(ABC):
    """A lazily loaded model. The registry builds, loads and caches one per (id, device)."""

    info: ClassVar[AdapterInfo]

    def __init__(self, device: str = "cpu"):
        self.device = device
        self.load_seconds = 0.0
        self.warm_up_seconds = 0.0  # the untimed first call right after the load, reported apart from it
        self.calls = 0  # calls completed since the last load, the warm-up included: a call before any is cold
        # Loading, inference and unloading are serialised per model: concurrent calls would share
        # CPU cores and blur every timing, several engines here are not thread-safe, and an unload
        # must not pull the weights from under a running call. Re-entrant: calls load under it.
        # Public so that callers that drive the model themselves (the decoding view) can hold it.
        self.lock = threading.RLock()

    def ensure_loaded(self) -> None:
        """Load, then warm up with one untimed call, so that every caller (the tabs, evaluations, Ray
        actors, the decoding view) times warm calls: a first call pays for allocations, lazy
        initialisation and thread pools, and would rank a fast model behind a slow one."""
        with self.lock:
            if not self.loaded:
                start = time.perf_counter()
                self._load()
                self.load_seconds = time.perf_counter() - start
                self.calls = 0
                start = time.perf_counter()
                try:
                    self.warm_up()
                except Exception as error:  # noqa: BLE001 - the first timed call is then marked cold, not lost
                    log.warning("%s could not warm up (%s); its first call will be marked cold",
                                self.info.id, failure_message(error))
                self.warm_up_seconds = time.perf_counter() - start

    def warm_up(self) -> None:
        """One untimed call with the default options on a bundled example (called once per load)."""

    @property
    @abstractmethod
    def loaded(self) -> bool: ...

    @abstractmethod
    def _load(self) -> None: ...

    def unload(self) -> None:
        """Drop the weights; the next call loads them again."""

    def default_options(self) -> Any:
        return self.info.defaults


class ASRAdapter(Adapter):
    def batch_limit(self, options: Any) -> int | None:
        """How many clips one `transcribe_batch` call decodes together with `options` (None: as many as
        it is given). The evaluation groups clips only up to this, so one clip's latency is its own.
        One by default: `transcribe_batch` then runs the clips one after another."""
        return 1

    def warm_up(self) -> None:
        recordings = example_recordings()
        audio = load_audio(recordings[0].path) if recordings else Audio(np.zeros(ASR_SAMPLE_RATE, np.float32),
                                                                         ASR_SAMPLE_RATE)
        self.transcribe(audio)

    def transcribe(self, audio: Audio, options: Any = None) -> Transcription:
        """Recognise one utterance. Audio at any rate is resampled to 16 kHz first (not timed)."""
        return self.transcribe_batch([audio], options)[0]

    def transcribe_batch(self, audios: list[Audio], options: Any = None) -> list[Transcription]:
        """Recognise several utterances. The default runs them one by one; engines that batch override `_recognize_batch`."""
        options = options if options is not None else self.default_options()
        clips = [a.resample(ASR_SAMPLE_RATE) for a in audios]
        with self.lock:
            self.ensure_loaded()
            warm = self.calls > 0
            timer = StageTimer(self.device)
            synchronize(self.device)
            start = time.perf_counter()
            outputs = self._recognize_batch([c.samples for c in clips], options, timer)
            synchronize(self.device)
            elapsed = time.perf_counter() - start
            self.calls += 1
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
                    warm=warm,
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

    def warm_up(self) -> None:
        self.synthesize(example_texts()[0])

    def synthesize(self, text: str, options: Any = None) -> Synthesis:
        """Speak `text` (already checked by `studio.text.check_text`)."""
        options = options if options is not None else self.default_options()
        spoken = self.front_end(text)
        return self._timed_synthesis(spoken, options, [spoken])

    def stream(self, text: str, options: Any = None) -> Iterator[Audio | Synthesis]:
        """Speak `text` (already checked) chunk by chunk: yields each chunk as `Audio` as soon as the voice
        makes it, then the `Synthesis` of the whole, whose time to first audio is when the first
        yielded chunk was ready.

        The voice works in a thread of its own holding the model lock, so synthesis goes on while the
        caller plays or sends the chunks it has, and a caller that resumes this generator from other
        threads (Gradio does) never touches the lock; do not call it while holding `lock` yourself. A
        caller that stops reading (closes the generator) stops the synthesis after the chunk in hand.
        Text is handed to the voice in `stream_units`.
        """
        options = options if options is not None else self.default_options()
        spoken = self.front_end(text)
        handoff: queue.Queue = queue.Queue()
        abandoned = threading.Event()  # the caller went away (closed this generator): stop synthesising

        def emit(chunk: Audio) -> None:
            if abandoned.is_set():
                raise _Abandoned
            handoff.put(chunk)

        def produce() -> None:
            try:
                units = [unit for unit in self.stream_units(spoken) if unit.strip()]
                handoff.put(self._timed_synthesis(spoken, options, units, emit))
            except _Abandoned:
                pass  # nobody is listening; the model lock is released on the way out
            except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread below
                handoff.put(error)

        threading.Thread(target=produce, name=f"stream-{self.info.id}", daemon=True).start()
        try:
            while True:
                item = handoff.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
                if isinstance(item, Synthesis):
                    return
        finally:
            abandoned.set()

    def stream_units(self, text: str) -> list[str]:
        """The pieces `stream` hands to the voice one after another; the whole text unless the voice
        gains from a short first piece (Piper: its first phrase)."""
        return [text]

    def _timed_synthesis(self, spoken: str, options: Any, units: list[str], emit=None) -> Synthesis:
        """Synthesise `units` one after another under the model lock, timed; `emit` gets each chunk as it comes."""
        chunks: list[np.ndarray] = []
        with self.lock:
            self.ensure_loaded()
            warm = self.calls > 0
            timer = StageTimer(self.device)
            synchronize(self.device)
            start = time.perf_counter()
            first = None
            for unit in units:
                for chunk in self._stream(unit, options, timer):
                    if first is None:
                        first = time.perf_counter() - start
                    chunk = np.clip(chunk, -1.0, 1.0).astype(np.float32)
                    chunks.append(chunk)
                    if emit:
                        emit(Audio(chunk, self.sample_rate))
            synchronize(self.device)
            elapsed = time.perf_counter() - start
            self.calls += 1
            details = self.run_details()
        if emit:
            details = {**details, "streamed": True, "first_unit": units[0] if units else ""}
        return Synthesis(
            audio=Audio(np.concatenate(chunks) if chunks else np.zeros(0, np.float32), self.sample_rate),
            text=spoken,
            adapter_id=self.info.id,
            options=options,
            processing_seconds=elapsed,
            time_to_first_audio=first if first is not None else elapsed,
            chunks=len(chunks),
            stage_seconds=dict(timer.seconds),
            not_measured=self.info.not_measured,
            load_seconds=self.load_seconds,
            warm=warm,
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
