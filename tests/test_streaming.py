"""Live recognition: a Piper sentence replayed as microphone chunks in real time gives partials, then the final text."""

from __future__ import annotations

import time

import numpy as np
import pytest

from studio import streaming
from studio.errors import ConfigError

pytestmark = pytest.mark.models
CHUNK = 0.1  # what Chromium sends


def replay(session, audio, pause_seconds=1.5):
    """Feed `audio` (then silence) as int16 chunks in real time; returns (seconds since start, partial) seen."""
    rate = audio.sample_rate
    samples = np.concatenate([audio.to_int16(), np.zeros(int(pause_seconds * rate), np.int16)])
    step = int(CHUNK * rate)
    seen, started = [], time.monotonic()
    for start in range(0, len(samples), step):
        session.feed(rate, samples[start:start + step])
        if session.partial and (not seen or seen[-1][1] != session.partial):
            seen.append((time.monotonic() - started, session.partial))
        time.sleep(max(0.0, started + (start + step) / rate - time.monotonic()))
    return seen


def test_partials_while_speaking_then_a_final_transcript(registry, piper_speech):
    (_, first), (_, second) = piper_speech[1], piper_speech[2]  # two sentences: long enough to see partials
    audio = type(first)(np.concatenate([first.samples, second.samples]), first.sample_rate)
    session = streaming.start(registry, registry.system("whisper-tiny.en", "beam_size=1"))
    partials = replay(session, audio)
    assert [p for when, p in partials if when < audio.duration], "a partial transcript before the end of speech"
    final = session.stop()
    words = set(final.lower().replace(".", "").split())
    # "Speech recognition turns spoken words into written text. Please call me back before noon tomorrow."
    assert {"recognition", "spoken", "words", "written", "please", "call", "back", "tomorrow"} <= words
    stats = session.stats()
    assert stats["partials"] >= 1 and stats["decodes"] >= 2
    assert 0.8 <= stats["final_latency_s"] < 0.8 + 2 * stats["decode_s_max"] + 1  # endpoint pause plus a decode


def test_a_full_window_is_committed_and_decoding_starts_afresh(registry, piper_speech):
    session = streaming.start(registry, registry.system("pocketsphinx"), window_seconds=1.5)
    (_, first), (_, second) = piper_speech[0], piper_speech[2]
    together = type(first)(np.concatenate([first.samples, second.resample(first.sample_rate).samples]),
                           first.sample_rate)
    replay(session, together)
    assert session.stop() and session.closed
    assert len(session.decode_seconds) >= together.duration // 1.5  # every full window was decoded on its own


def test_a_synthesiser_is_refused(registry):
    with pytest.raises(ConfigError, match="not a recogniser"):
        streaming.start(registry, registry.system("piper-joe"))
