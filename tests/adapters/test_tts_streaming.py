"""Streaming synthesis: chunks come while the voice is still working, and add up to the whole recording."""

from __future__ import annotations

import time

import numpy as np
import pytest

from studio import engine
from studio.types import Synthesis
from studio.errors import TextError
from studio.text import split_first_phrase

pytestmark = pytest.mark.models
DETERMINISTIC = "noise_scale=0 noise_w_scale=0"


def test_piper_streams_its_first_phrase_before_the_rest_is_synthesised(registry):
    system = registry.system("piper-joe", DETERMINISTIC)
    engine.synthesize(registry, system, "Warm up.")
    text = "Can you hear the difference between these two voices? Reading aloud is harder than it looks."
    start = time.perf_counter()
    received = []
    for item in engine.synthesize_stream(registry, system, text):
        received.append((time.perf_counter() - start, item))
    (first_at, first), *middle, (_, result) = received
    assert isinstance(result, Synthesis) and [type(c).__name__ for _, c in middle] == ["Audio"] * len(middle)
    assert result.details["first_unit"] == "Can you hear," and result.chunks == 1 + len(middle) == 3
    assert first_at < result.processing_seconds * 0.6  # held by the caller long before the voice was done
    assert result.time_to_first_audio < result.processing_seconds / 2
    whole = np.concatenate([first.samples] + [c.samples for _, c in middle])
    np.testing.assert_array_equal(whole, result.audio.samples)
    assert first.duration > 0.3 and first.sample_rate == 22050


def test_bad_text_fails_before_streaming_starts(registry):
    with pytest.raises(TextError, match="empty"):
        engine.synthesize_stream(registry, registry.system("piper-joe"), "   ")


@pytest.mark.parametrize(("text", "first"), [
    ("Welcome to Speech Studio, where models are measured side by side.", "Welcome to Speech Studio,"),
    ("Our train leaves at half past seven from platform four.", "Our train leaves"),
    ("Reading aloud is harder than it looks.", "Reading aloud"),
    ("The weather today is mild, with a light wind from the west.", "The weather today"),
    ("Supercalifragilistic expialidocious words keep going on and on.", "Supercalifragilistic expialidocious words"),
    ("Short one.", "Short one."),
])
def test_the_first_phrase_is_a_clause_or_a_few_words(text, first):
    head, rest = split_first_phrase(text)
    assert head == first and f"{head} {rest}".strip() == text
    assert len(head.split()) <= 4 or not rest  # a clause of up to 4 words, else at most 3


def test_a_stream_whose_listener_leaves_stops_and_frees_the_voice(registry):
    piper = registry.get("piper-joe", "cpu")
    text = " ".join(["Reading aloud is harder than it looks, and every sentence here takes its time."] * 12)
    chunks = piper.stream(text, piper.info.options_type(noise_scale=0, noise_w_scale=0))
    first = next(chunks)
    assert first.duration > 0
    chunks.close()  # the page was closed
    assert piper.lock.acquire(timeout=10)  # released after the chunk in hand, not after twelve sentences
    piper.lock.release()


def test_no_voice_overrides_the_timed_synthesis_loop():
    """The base class times every voice in `_timed_synthesis`; a voice that defined its own method of that name
    would silently replace it (as a `_synthesize` of the transformers voices once did)."""
    import importlib
    import pkgutil

    import studio.adapters
    from studio.adapters.base import TTSAdapter

    for module in pkgutil.iter_modules(studio.adapters.__path__):
        importlib.import_module(f"studio.adapters.{module.name}")
    voices = TTSAdapter.__subclasses__() + [c for s in TTSAdapter.__subclasses__() for c in s.__subclasses__()]
    assert len(voices) >= 6
    assert [v.__name__ for v in voices if {"_timed_synthesis", "synthesize", "stream"} & set(vars(v))] == []
