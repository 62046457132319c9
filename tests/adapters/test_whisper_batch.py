"""Whisper's batched decoding gives exactly the one-by-one predictions (deterministic decoding)."""

import pytest

from studio.adapters import get_adapter
from studio.audio import load_audio
from studio.evaluation.datasets import load_dataset
from tests.evaluation.conftest import DEMO_SET

pytestmark = pytest.mark.models


@pytest.mark.parametrize("beam_size", [1, 5])
def test_batch_equals_one_by_one(beam_size):
    whisper = get_adapter("whisper-tiny.en", "cpu")
    options = whisper.info.options_type(beam_size=beam_size)
    clips = [load_audio(u.audio_filepath) for u in load_dataset(DEMO_SET / "manifest.jsonl", "asr").items[:5]]
    one_by_one = [whisper.transcribe(c, options) for c in clips]
    batched = whisper.transcribe_batch(clips, options)
    assert [r.text for r in batched] == [r.text for r in one_by_one]
    assert all(r.details["batch_size"] == 5 for r in batched)
    assert [r.details["tokens"] for r in batched] == [r.details["tokens"] for r in one_by_one]
    assert set(batched[0].stage_seconds) >= {"features", "encoder", "decoder"}


def test_a_clip_over_30_s_goes_long_form_inside_a_batch():
    import numpy as np

    from studio.audio import Audio

    whisper = get_adapter("whisper-tiny.en", "cpu")
    options = whisper.info.options_type(beam_size=1)
    clips = [load_audio(u.audio_filepath).resample(16000)
             for u in load_dataset(DEMO_SET / "manifest.jsonl", "asr").items]
    long_clip = Audio(np.concatenate([c.samples for c in clips] * 2)[:16000 * 33], 16000)  # 33 s: two windows
    batch = [clips[0], long_clip, clips[1]]
    batched = whisper.transcribe_batch(batch, options)
    assert [r.text for r in batched] == [whisper.transcribe(c, options).text for c in batch]
    assert batched[1].details["segments"] >= 2 and long_clip.duration > 30
