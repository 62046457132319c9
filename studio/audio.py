"""Audio in and out: one mono float32 type, checked once at the door.

Reading goes through soundfile (libsndfile: WAV, FLAC, OGG/Opus, MP3, AIFF, ...), resampling
through librosa (soxr). Everything downstream can assume a non-empty, non-silent,
mono float32 signal in [-1, 1] no longer than the configured limit.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from studio.errors import AudioError
from studio.limits import Limits

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".opus", ".mp3", ".aiff", ".aif")  # what the studio reads as audio

MIN_SECONDS = 0.1  # shorter clips hold no word; every model here pads them to nonsense
SILENCE_PEAK = 10 ** (-70 / 20)  # a peak below -70 dBFS is digital silence or a muted mic


@dataclass(frozen=True)
class Audio:
    """Mono float32 samples in [-1, 1] at `sample_rate` Hz.

    >>> Audio(np.zeros(16000, np.float32), 16000).duration
    1.0
    """

    samples: np.ndarray
    sample_rate: int

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate

    def resample(self, sample_rate: int) -> "Audio":
        """A copy at `sample_rate`, clipped back into [-1, 1] (resampling overshoots peaks)."""
        if sample_rate == self.sample_rate:
            return self
        import librosa  # slow import, only when a resample is needed

        samples = librosa.resample(self.samples, orig_sr=self.sample_rate, target_sr=sample_rate, res_type="soxr_hq")
        return Audio(np.clip(samples, -1.0, 1.0).astype(np.float32), sample_rate)

    def to_int16(self) -> np.ndarray:
        """int16 samples: Gradio plays these as they are, where it would peak-normalise floats."""
        return (np.clip(self.samples, -1.0, 1.0) * 32767).astype(np.int16)

    def to_wav_bytes(self) -> bytes:
        buffer = io.BytesIO()
        soundfile.write(buffer, self.to_int16(), self.sample_rate, format="WAV", subtype="PCM_16")
        return buffer.getvalue()


def from_array(samples: np.ndarray, sample_rate: int, limits: Limits | None = None) -> Audio:
    """Checked `Audio` from any array: int or float, mono or (frames, channels)."""
    samples = np.asarray(samples)
    if samples.dtype.kind in "iu":
        info = np.iinfo(samples.dtype)
        if samples.dtype.kind == "u":  # unsigned 8-bit PCM is centred on 128
            samples = samples.astype(np.float32) - (info.max + 1) / 2
            scale = (info.max + 1) / 2
        else:
            scale = -float(info.min)
        samples = samples.astype(np.float32) / scale
    elif samples.dtype.kind != "f":
        raise AudioError(f"audio samples of type {samples.dtype} are not sound; expected integer or float PCM")
    samples = samples.astype(np.float32)
    if samples.ndim == 2:
        samples = samples.mean(axis=1)  # downmix channels
    elif samples.ndim != 1:
        raise AudioError(f"audio must be mono or (frames, channels); got an array of shape {samples.shape}")
    if not np.isfinite(samples).all():
        raise AudioError("the audio contains NaN or infinite samples; it is corrupt")
    return check(Audio(np.clip(samples, -1.0, 1.0), int(sample_rate)), limits)


def load_audio(source: str | Path | bytes, limits: Limits | None = None, name: str | None = None) -> Audio:
    """Read a file (path or bytes) into checked mono `Audio` at its own sample rate."""
    limits = limits or Limits.from_env()
    label = name or (Path(source).name if not isinstance(source, bytes) else "the uploaded audio")
    handle = io.BytesIO(source) if isinstance(source, bytes) else str(source)
    if not isinstance(source, bytes) and not Path(source).is_file():
        raise AudioError(f"{label}: no such audio file")
    try:
        info = soundfile.info(handle)
        if info.duration > limits.max_audio_seconds:
            raise AudioError(_too_long(label, info.duration, limits))
        if isinstance(handle, io.BytesIO):
            handle.seek(0)
        samples, rate = soundfile.read(handle, dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as error:
        reason = str(error).rsplit(": ", 1)[-1].strip(" .")  # libsndfile names the server path first; drop it
        raise AudioError(f"{label}: cannot be read as audio ({reason}). Use WAV, FLAC, OGG/Opus or MP3.") from None
    try:
        return from_array(samples, rate, limits)
    except AudioError as error:
        if name is None:
            raise
        raise AudioError(f"{name}: {error}") from None  # which of several files is silent or too short


def check(audio: Audio, limits: Limits | None = None) -> Audio:
    """Raise `AudioError` for audio no model can use; return it unchanged otherwise."""
    limits = limits or Limits.from_env()
    if len(audio.samples) == 0:
        raise AudioError("the audio is empty (0 samples); record or upload some speech")
    if audio.duration < MIN_SECONDS:
        raise AudioError(f"the audio is {audio.duration * 1000:.0f} ms long; at least {MIN_SECONDS * 1000:.0f} ms is needed")
    if audio.duration > limits.max_audio_seconds:
        raise AudioError(_too_long("the audio", audio.duration, limits))
    peak = float(np.abs(audio.samples).max())
    if peak < SILENCE_PEAK:
        raise AudioError(
            f"the audio is silent (peak {20 * np.log10(max(peak, 1e-12)):.0f} dBFS); check the microphone or the file"
        )
    return audio


def _too_long(label: str, seconds: float, limits: Limits) -> str:
    return (
        f"{label} is {seconds:.0f} s long; the limit is {limits.max_audio_seconds:.0f} s "
        "(set STUDIO_MAX_AUDIO_SECONDS to change it)"
    )
