"""Live recognition from a microphone stream: partial transcripts while you speak, a final one when you stop.

Method: none of the bundled recognisers is a streaming model, so the stream is re-decoded.
Chunks (as they come; resampled once per decode) are appended to a buffer by `feed`, which returns at once; a
decoder thread per session re-decodes the whole buffer about once a second (`partial_every`)
and that text is the partial transcript. The buffer is bounded: when it reaches
`window_seconds` it is decoded one last time, its text is committed and a new buffer starts,
so no decode ever sees more than `window_seconds` of audio. An energy endpointer closes an
utterance after `endpoint_seconds` of silence following speech (chunk RMS above `VOICE_DBFS`,
the quiet chunk before speech kept for the first word's onset): the utterance is decoded once
more and becomes final, and the latency from the end of speech (the arrival of the last voiced
chunk) to the final text is measured. Stopping finalises whatever is left the same way.

Cost: for Whisper every decode pays the full 30 s encoder window, so a partial costs about as
much as recognising a short clip; for PocketSphinx it grows with the buffer. A partial starts a
second after the previous one started, or twice that one's decode time when that is longer, so
decoding takes at most half of the time and a busy machine shows fewer partials instead of
falling behind. Decoding
runs beside the chunk handler, so no microphone audio waits for (or is dropped behind) a decode.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np

from studio import engine
from studio.adapters.registry import Registry, System
from studio.audio import Audio
from studio.errors import ConfigError, StudioError

RATE = 16000
VOICE_DBFS = -40.0  # a chunk whose RMS is above this holds speech
MIN_DECODE_SECONDS = 1.0  # shorter stretches hold a syllable at most, and Whisper tends to ramble on them
IDLE_SECONDS = 30.0  # a stream that sends nothing for this long (closed tab) is finalised and its thread ends


@dataclass(frozen=True)
class _Segment:
    audio: np.ndarray
    end_of_speech: float | None  # monotonic time of the last voiced chunk when the utterance ends here


class LiveSession:
    """One microphone stream: `feed` chunks, read `partial`/`final`/`stats()`, `stop` at the end."""

    def __init__(self, registry: Registry, system: System, window_seconds: float = 20.0, partial_every: float = 1.0,
                 endpoint_seconds: float = 0.8):
        self.registry, self.system = registry, system
        self.window_seconds, self.partial_every, self.endpoint_seconds = window_seconds, partial_every, endpoint_seconds
        self.partial, self.final = "", ""
        self.decode_seconds: list[float] = []
        self.partial_times: list[float] = []  # monotonic times partials were ready
        self.partial_gaps: list[float] = []  # seconds between consecutive partials of one utterance
        self._last_partial: float | None = None
        self.latencies: list[float] = []  # end of speech -> final text, per utterance
        self._rate: int | None = None  # the stream's sample rate; chunks are kept as they come, resampled per decode
        self._buffer: list[np.ndarray] = []
        self._pending: list[_Segment] = []
        self._committed: list[str] = []  # full windows of the open utterance
        self._preroll: np.ndarray | None = None
        self._voiced = False
        self._last_voice: float | None = None
        self._fresh = False  # audio arrived since the last partial
        self._next_partial = 0.0
        self._closed = False
        self._last_feed = time.monotonic()
        self._work = threading.Condition()
        self._thread = threading.Thread(target=self._decoder, name="live-decoder", daemon=True)
        self._thread.start()

    def feed(self, rate: int, samples: np.ndarray) -> None:
        """Add one microphone chunk (any rate, int or float, mono or channels); returns at once."""
        chunk = _as_float(samples)
        if chunk is None:
            return
        if self._rate is None:
            self._rate = int(rate)
        elif int(rate) != self._rate:  # a device switch mid-stream; rare, so the cost of a resample is fine
            chunk = Audio(chunk, int(rate)).resample(self._rate).samples
        now = time.monotonic()
        self._last_feed = now
        voiced = float(np.sqrt(np.mean(chunk ** 2))) > 10 ** (VOICE_DBFS / 20)
        with self._work:
            if voiced and not self._voiced and self._preroll is not None:
                self._buffer.append(self._preroll)  # speech often starts inside the quiet chunk before
            self._preroll = None if voiced or self._voiced else chunk
            if voiced:
                self._voiced, self._last_voice = True, now
            if not self._voiced:
                return
            self._buffer.append(chunk)
            self._fresh = True
            if not voiced and now - self._last_voice >= self.endpoint_seconds:
                self._close(end_of_speech=True)  # the speaker paused: this utterance becomes final
            elif self._buffered() >= self.window_seconds:
                self._close(end_of_speech=False)  # the window is full: commit it, start a new one
            self._work.notify()

    def stop(self, timeout: float = 120.0) -> str:
        """Finalise what is left, wait for the decoder, and return the final transcript."""
        with self._work:
            if self._voiced:
                self._close(end_of_speech=True)
            self._closed = True
            self._work.notify()
        self._thread.join(timeout)
        return self.final

    @property
    def closed(self) -> bool:
        return self._closed

    def stats(self) -> dict[str, float | int | None]:
        with self._work:
            gaps = self.partial_gaps
            return {
                "partials": len(self.partial_times),
                "partial_interval_s": float(np.median(gaps)) if len(gaps) else None,
                "decodes": len(self.decode_seconds),
                "decode_s_mean": float(np.mean(self.decode_seconds)) if self.decode_seconds else None,
                "decode_s_max": float(np.max(self.decode_seconds)) if self.decode_seconds else None,
                "final_latency_s": self.latencies[-1] if self.latencies else None,
            }

    def _buffered(self) -> float:
        return sum(len(c) for c in self._buffer) / (self._rate or RATE)

    def _close(self, end_of_speech: bool) -> None:
        if self._buffer:
            self._pending.append(_Segment(np.concatenate(self._buffer), self._last_voice if end_of_speech else None))
        elif end_of_speech:
            self._pending.append(_Segment(np.zeros(0, np.float32), self._last_voice))
        self._buffer = []
        if end_of_speech:
            self._voiced = False

    def _decoder(self) -> None:
        while True:
            with self._work:
                while True:
                    now = time.monotonic()
                    if self._pending:
                        job, segment = "segment", self._pending.pop(0)
                        break
                    if (self._voiced and self._fresh and now >= self._next_partial
                            and self._buffered() >= MIN_DECODE_SECONDS):
                        job, segment = "partial", _Segment(np.concatenate(self._buffer), None)
                        self._fresh = False
                        break
                    if self._closed:
                        return
                    if now - self._last_feed > IDLE_SECONDS:
                        self._closed = True  # nobody is listening any more; the loop drains what is pending
                        if self._voiced:
                            self._close(end_of_speech=True)
                        continue
                    self._work.wait(max(0.02, min(0.5, self._next_partial - now)) if self._voiced else 0.5)
            text = self._decode(segment.audio)
            with self._work:
                if job == "partial":
                    self.partial = _joined([*self._committed, text])
                    ready = time.monotonic()
                    self.partial_times.append(ready)
                    if self._last_partial is not None:
                        self.partial_gaps.append(ready - self._last_partial)
                    self._last_partial = ready
                    # the next partial starts a second after this one started, or later when decoding takes
                    # over half a second: decoding never holds the CPU more than half the time
                    cost = self.decode_seconds[-1]
                    self._next_partial = ready - cost + max(self.partial_every, 2 * cost)
                elif segment.end_of_speech is None:
                    self._committed.append(text)
                    self.partial = _joined(self._committed)
                else:
                    self.final = _joined([self.final, *self._committed, text])
                    self._committed = []
                    self.partial = ""
                    self._last_partial = None
                    self.latencies.append(time.monotonic() - segment.end_of_speech)

    def _decode(self, samples: np.ndarray) -> str:
        rate = self._rate or RATE
        if len(samples) < MIN_DECODE_SECONDS * rate:
            return ""
        started = time.monotonic()
        try:
            text = engine.recognize(self.registry, self.system, Audio(samples.astype(np.float32), rate)).text
        except StudioError:
            text = ""  # a stretch the model cannot use (e.g. only noise) adds nothing
        finally:
            with self._work:
                self.decode_seconds.append(time.monotonic() - started)
        return text.strip()


def start(registry: Registry, system: System, **settings) -> LiveSession:
    """A new live session; loads the recogniser now so the first partial is not a model load."""
    if system.task != "asr":
        raise ConfigError(f"{system.adapter_id} is not a recogniser; choose an ASR system for live transcription")
    adapter = registry.get(system.adapter_id)
    try:  # the first call pays one-off setup (model, resampler import); pay it before the first partial is due.
        # 48 kHz, the usual browser rate, so the resampling path is warmed too
        adapter.transcribe(Audio(np.full(48000 // 2, 1e-3, np.float32), 48000), system.options)
    except StudioError:
        pass
    return LiveSession(registry, system, **settings)


def _joined(parts: list[str]) -> str:
    return " ".join(p for p in parts if p).strip()


def _as_float(samples: np.ndarray) -> np.ndarray | None:
    """Mono float32 in [-1, 1] from a chunk as the browser sends it (int16, maybe with channels)."""
    samples = np.asarray(samples)
    if samples.size == 0:
        return None
    if samples.dtype.kind in "iu":
        samples = samples.astype(np.float32) / (-float(np.iinfo(samples.dtype).min) if samples.dtype.kind == "i" else 255)
    samples = samples.astype(np.float32)
    if samples.ndim == 2:
        samples = samples.mean(axis=1)
    return np.clip(np.nan_to_num(samples), -1.0, 1.0)
