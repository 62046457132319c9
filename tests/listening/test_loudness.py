"""Loudness matching: equal integrated loudness, no clipping, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from studio.audio import Audio
from studio.errors import AudioError
from studio.listening.loudness import integrated_lufs, match_loudness
from tests.conftest import tone


def test_every_sample_ends_at_the_target_loudness():
    matched = match_loudness([tone(1.0, amplitude=0.02), tone(1.0, 22050, 300.0, 0.5)], -23.0)
    assert matched.target_lufs == -23.0
    assert matched.source_lufs[1] - matched.source_lufs[0] > 20
    assert [integrated_lufs(a) for a in matched.audios] == pytest.approx([-23.0, -23.0], abs=0.05)


def test_the_target_is_lowered_for_all_when_one_sample_would_clip():
    rng = np.random.default_rng(0)
    clicks = np.zeros(16000, np.float32)
    clicks[::4000] = 0.9  # very peaky: reaching -14 LUFS would push its peaks past full scale
    clicks += rng.normal(0, 0.001, 16000).astype(np.float32)
    matched = match_loudness([tone(1.0, amplitude=0.3), Audio(clicks, 16000)], -14.0)
    assert matched.target_lufs < -14.0
    assert [integrated_lufs(a) for a in matched.audios] == pytest.approx([matched.target_lufs] * 2, abs=0.05)
    assert max(float(np.abs(a.samples).max()) for a in matched.audios) <= 10 ** (-1 / 20) + 1e-6


def test_clips_too_short_for_loudness_gating_are_refused():
    with pytest.raises(AudioError, match="loudness matching needs more than 0.4 s"):
        match_loudness([tone(0.3), tone(1.0)])
