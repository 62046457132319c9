"""Loudness matching, so the louder sample does not win a listening test.

Integrated loudness follows ITU-R BS.1770-4 through pyloudnorm. Every sample is brought to
one target; when the target would clip a sample, the whole test's target is lowered so that
all samples stay equally loud and none clips.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pyloudnorm

from studio.audio import Audio
from studio.errors import AudioError

DEFAULT_TARGET_LUFS = -23.0  # EBU R128 programme loudness
PEAK_CEILING_DB = -1.0  # sample-peak headroom kept after the gain
BLOCK_SECONDS = 0.4  # BS.1770 gating block: shorter clips have no integrated loudness


@dataclass(frozen=True)
class Matched:
    audios: list[Audio]
    source_lufs: list[float]
    target_lufs: float  # what every audio in `audios` now measures


def integrated_lufs(audio: Audio, label: str = "a sample") -> float:
    if audio.duration <= BLOCK_SECONDS:
        raise AudioError(f"{label} is {audio.duration:.2f} s long; loudness matching needs more than "
                         f"{BLOCK_SECONDS} s per sample")
    lufs = pyloudnorm.Meter(audio.sample_rate).integrated_loudness(audio.samples.astype(np.float64))
    if not np.isfinite(lufs):
        raise AudioError(f"{label} is too quiet to measure its loudness; it sounds silent")
    return float(lufs)


def match_loudness(audios: Sequence[Audio], target_lufs: float = DEFAULT_TARGET_LUFS,
                   labels: Sequence[str] | None = None) -> Matched:
    """All `audios` at one integrated loudness: `target_lufs`, or lower where that would clip."""
    labels = labels or [f"sample {i + 1}" for i in range(len(audios))]
    source = [integrated_lufs(a, label) for a, label in zip(audios, labels)]
    peaks_db = [20 * np.log10(float(np.abs(a.samples).max())) for a in audios]
    # The largest gain a sample takes before its peak passes the ceiling bounds the common target.
    target = min([target_lufs] + [lufs + PEAK_CEILING_DB - peak for lufs, peak in zip(source, peaks_db)])
    matched = [
        Audio(np.clip(pyloudnorm.normalize.loudness(a.samples, lufs, target), -1.0, 1.0).astype(np.float32),
              a.sample_rate)
        for a, lufs in zip(audios, source)
    ]
    return Matched(matched, source, float(target))
