"""MUSHRA (ITU-R BS.1534-3): the anchors the studio makes from the reference, and the post-screening rule.

A MUSHRA trial plays a labelled reference, then the same reference hidden among the other
stimuli, the anchors and the systems under test. The recommendation's anchors are the reference
low-pass filtered at 3.5 kHz (low anchor, mandatory) and at 7 kHz (mid anchor, optional). They are
made here with a zero-phase Butterworth filter from scipy, so the anchor is only band-limited, not
delayed, and then loudness-matched with every other sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

from studio.audio import Audio
from studio.errors import ConfigError

LOW_ANCHOR_HZ = 3500.0  # BS.1534-3 §5.1: the low-quality anchor
MID_ANCHOR_HZ = 7000.0  # BS.1534-3 §5.1: the optional mid-quality anchor
FILTER_ORDER = 12  # Butterworth order; applied forwards and backwards, so 24th-order roll-off in effect
HIDDEN_REFERENCE_MIN = 90.0  # BS.1534-3 §4.1.2 post-screening: a hidden-reference rating below this is a miss
MAX_MISSED_FRACTION = 0.15  # ... and a rater who misses in more than this share of trials is excluded
MAX_STIMULI = 12  # conditions on one screen (hidden reference + anchors + systems): more tire raters out

ROLE_HIDDEN_REFERENCE = "hidden_reference"
ROLE_ANCHOR = "anchor"
ROLE_SYSTEM = "system"


@dataclass(frozen=True)
class Anchor:
    name: str  # the condition's name in results and exports; reserved, no system may use it
    cutoff_hz: float


LOW_ANCHOR = Anchor("anchor 3.5 kHz", LOW_ANCHOR_HZ)
MID_ANCHOR = Anchor("anchor 7 kHz", MID_ANCHOR_HZ)


def anchors(mid_anchor: bool) -> tuple[Anchor, ...]:
    return (LOW_ANCHOR, MID_ANCHOR) if mid_anchor else (LOW_ANCHOR,)


def low_pass(audio: Audio, cutoff_hz: float, label: str = "the reference") -> Audio:
    """`audio` low-pass filtered at `cutoff_hz` (zero phase, same length and rate).

    >>> import numpy as np
    >>> noise = Audio(np.random.default_rng(0).uniform(-0.5, 0.5, 16000).astype(np.float32), 16000)
    >>> low_pass(noise, 3500).samples.shape
    (16000,)
    """
    nyquist = audio.sample_rate / 2
    if cutoff_hz >= nyquist:
        raise ConfigError(f"{label} is sampled at {audio.sample_rate} Hz, so it holds nothing above "
                          f"{nyquist:g} Hz and a {cutoff_hz:g} Hz anchor would equal it; give a reference "
                          f"sampled above {2 * cutoff_hz:g} Hz or leave out that anchor")
    sos = signal.butter(FILTER_ORDER, cutoff_hz, btype="lowpass", fs=audio.sample_rate, output="sos")
    filtered = signal.sosfiltfilt(sos, audio.samples.astype(np.float64))
    return Audio(np.clip(filtered, -1.0, 1.0).astype(np.float32), audio.sample_rate)


def reserved_names(mid_anchor: bool = True) -> tuple[str, ...]:
    return tuple(a.name for a in anchors(mid_anchor))
