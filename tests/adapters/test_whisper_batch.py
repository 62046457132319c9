"""Whisper's batched decoding gives exactly the one-by-one predictions (deterministic decoding)."""

import inspect

import pytest

from studio.audio import load_audio
from studio.evaluation.datasets import load_dataset
from tests.evaluation.conftest import DEMO_SET

pytestmark = pytest.mark.models


def test_the_private_segment_splitter_batching_relies_on_is_as_pinned(registry):
    """The batched path calls faster-whisper's `_split_segments_by_timestamps` (1.2.1): same name, same
    parameters, and on a plain token run it still gives one segment spanning the window."""
    from faster_whisper.tokenizer import Tokenizer
    from faster_whisper.transcribe import WhisperModel

    split = WhisperModel._split_segments_by_timestamps
    assert list(inspect.signature(split).parameters) == [
        "self", "tokenizer", "tokens", "time_offset", "segment_size", "segment_duration", "seek"]
    whisper = registry.get("whisper-tiny.en", "cpu").model
    tokenizer = Tokenizer(whisper.hf_tokenizer, whisper.model.is_multilingual, task="transcribe", language="en")
    tokens = tokenizer.encode(" hello world")
    segments, seek, single_timestamp_ending = whisper._split_segments_by_timestamps(
        tokenizer=tokenizer, tokens=tokens, time_offset=0.0, segment_size=300, segment_duration=3.0, seek=0)
    assert [(s["start"], s["end"], s["tokens"]) for s in segments] == [(0.0, 3.0, tokens)]
    assert seek == 300 and single_timestamp_ending is False


@pytest.mark.parametrize("beam_size", [1, 5])
def test_batch_equals_one_by_one(beam_size, registry):
    whisper = registry.get("whisper-tiny.en", "cpu")
    options = whisper.info.options_type(beam_size=beam_size)
    clips = [load_audio(u.audio_filepath) for u in load_dataset(DEMO_SET / "manifest.jsonl", "asr").items[:5]]
    one_by_one = [whisper.transcribe(c, options) for c in clips]
    batched = whisper.transcribe_batch(clips, options)
    assert [r.text for r in batched] == [r.text for r in one_by_one]
    assert all(r.details["batch_size"] == 5 for r in batched)
    assert [r.details["tokens"] for r in batched] == [r.details["tokens"] for r in one_by_one]
    assert set(batched[0].stage_seconds) >= {"features", "encoder", "decoder"}


def test_a_clip_over_30_s_goes_long_form_inside_a_batch(registry):
    import numpy as np

    from studio.audio import Audio

    whisper = registry.get("whisper-tiny.en", "cpu")
    options = whisper.info.options_type(beam_size=1)
    clips = [load_audio(u.audio_filepath).resample(16000)
             for u in load_dataset(DEMO_SET / "manifest.jsonl", "asr").items]
    long_clip = Audio(np.concatenate([c.samples for c in clips] * 2)[:16000 * 33], 16000)  # 33 s: two windows
    batch = [clips[0], long_clip, clips[1]]
    batched = whisper.transcribe_batch(batch, options)
    assert [r.text for r in batched] == [whisper.transcribe(c, options).text for c in batch]
    assert batched[1].details["segments"] >= 2 and long_clip.duration > 30
