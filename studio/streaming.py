"""Live recognition from a microphone stream: partial transcripts while you speak, a final one when you stop.

Method: none of the bundled recognisers is a streaming model, so the stream is re-decoded. Chunks
(resampled to 16 kHz) are appended to a buffer; about once a second (`partial_every`) the whole
buffer is decoded again and shown as the partial transcript. The buffer is bounded: when it
reaches `window_seconds`, it is decoded one last time, its text is committed and a new buffer
starts, so one partial never costs more than one decode of `window_seconds` of audio. An
endpointer closes an utterance after `endpoint_seconds` of silence following speech (energy
above `VOICE_DBFS`): the buffer is decoded once more, its text becomes final, and the latency
from the end of speech (the arrival of the last voiced chunk) to the final text is measured.
Stopping the recording finalises whatever is left the same way.

Cost: for Whisper every decode pays the full 30 s encoder window, so a partial costs about the
same as recognising a short clip; for PocketSphinx it grows with the buffer. The session keeps
the decode times so the page can show them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from studio import engine
from studio.adapters.registry import Registry, System
from studio.audio import Audio, from_array
from studio.errors import ConfigError, StudioError

RATE = 16000
VOICE_DBFS = -40.0  # a chunk whose RMS is above this holds speech
MIN_DECODE_SECONDS = 0.3


@dataclass
class LiveSession:
    system: System
    window_seconds: float = 20.0
    partial_every: float = 1.0
    endpoint_seconds: float = 0.8
    buffer: list[np.ndarray] = field(default_factory=list)  # 16 kHz float32 chunks of the open window
    committed: list[str] = field(default_factory=list)  # finished windows and utterances
    partial: str = ""
    final: str = ""
    voiced: bool = False  # the open buffer holds speech
    preroll: np.ndarray | None = None  # the last quiet chunk before speech, kept for the first word's onset
    last_voice: float | None = None  # monotonic time the last voiced chunk arrived
    last_decode: float = 0.0
    decode_seconds: list[float] = field(default_factory=list)
    partial_times: list[float] = field(default_factory=list)  # monotonic times partials were shown
    latencies: list[float] = field(default_factory=list)  # end of speech -> final text, per utterance

    @property
    def buffered_seconds(self) -> float:
        return sum(len(c) for c in self.buffer) / RATE

    def stats(self) -> dict[str, float | int | None]:
        gaps = np.diff(self.partial_times) if len(self.partial_times) > 1 else np.array([])
        return {
            "partials": len(self.partial_times),
            "partial_interval_s": float(np.median(gaps)) if len(gaps) else None,
            "decodes": len(self.decode_seconds),
            "decode_s_mean": float(np.mean(self.decode_seconds)) if self.decode_seconds else None,
            "decode_s_max": float(np.max(self.decode_seconds)) if self.decode_seconds else None,
            "final_latency_s": self.latencies[-1] if self.latencies else None,
        }


def start(registry: Registry, system: System) -> LiveSession:
    """A new live session; loads the recogniser now so the first partial is not a model load."""
    if system.task != "asr":
        raise ConfigError(f"{system.adapter_id} is not a recogniser; choose an ASR system for live transcription")
    registry.get(system.adapter_id)
    return LiveSession(system)


def feed(registry: Registry, session: LiveSession, rate: int, samples: np.ndarray, now: float | None = None) -> bool:
    """Add one microphone chunk; returns True when the partial or final text changed."""
    now = time.monotonic() if now is None else now
    chunk = _as_16k(rate, samples)
    if chunk is None:
        return False
    rms = float(np.sqrt(np.mean(chunk ** 2))) if len(chunk) else 0.0
    voiced = rms > 10 ** (VOICE_DBFS / 20)
    if voiced and not session.voiced and session.preroll is not None:
        session.buffer.append(session.preroll)  # speech often starts inside the quiet chunk before
    session.preroll = None if voiced or session.voiced else chunk
    if voiced:
        session.voiced, session.last_voice = True, now
    if session.voiced:
        session.buffer.append(chunk)
    if session.voiced and session.last_voice is not None and now - session.last_voice >= session.endpoint_seconds:
        finalise(registry, session, now)  # the speaker paused: this utterance is final
        return True
    if session.buffered_seconds >= session.window_seconds:
        session.committed.append(_decode(registry, session))  # the window is full: commit it, start a new one
        session.buffer.clear()
        session.partial = _joined(session.committed)
        session.partial_times.append(now + session.decode_seconds[-1])
        return True
    if session.voiced and now - session.last_decode >= session.partial_every and \
            session.buffered_seconds >= MIN_DECODE_SECONDS:
        session.last_decode = now
        session.partial = _joined([*session.committed, _decode(registry, session)])
        session.partial_times.append(now + session.decode_seconds[-1])
        return True
    return False


def finalise(registry: Registry, session: LiveSession, now: float | None = None) -> str:
    """Decode what is left and make it final; the latency counts from the last voiced chunk to the final text.

    `now` (monotonic seconds; default: the clock) lets a test replay a recording faster than real time."""
    now = time.monotonic() if now is None else now
    decoded = 0.0
    if session.voiced and session.buffered_seconds >= MIN_DECODE_SECONDS:
        session.committed.append(_decode(registry, session))
        decoded = session.decode_seconds[-1]
    if session.committed:
        session.final = _joined([session.final, *session.committed])
        if session.last_voice is not None:
            session.latencies.append(now - session.last_voice + decoded)
    session.buffer.clear()
    session.committed.clear()
    session.partial = ""
    session.voiced = False
    return session.final


def _decode(registry: Registry, session: LiveSession) -> str:
    audio = Audio(np.concatenate(session.buffer).astype(np.float32), RATE)
    started = time.monotonic()
    try:
        text = engine.recognize(registry, session.system, audio).text
    except StudioError:
        text = ""  # a window the model cannot use (e.g. too short after trimming) adds nothing
    session.decode_seconds.append(time.monotonic() - started)
    return text.strip()


def _joined(parts: list[str]) -> str:
    return " ".join(p for p in parts if p).strip()


def _as_16k(rate: int, samples: np.ndarray) -> np.ndarray | None:
    samples = np.asarray(samples)
    if samples.size == 0:
        return None
    try:
        audio = from_array(samples, rate)
    except StudioError:
        # silence and very short chunks fail the door checks; they still count as (silent) time
        audio = None
    if audio is None:
        return np.zeros(int(round(samples.shape[0] * RATE / rate)), np.float32)
    return audio.resample(RATE).samples
