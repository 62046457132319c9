"""Live recognition: a Piper sentence replayed as microphone chunks gives partials, then the final text."""

from __future__ import annotations

import numpy as np
import pytest

from studio import streaming
from studio.errors import ConfigError

pytestmark = pytest.mark.models


def replay(registry, session, audio, chunk_seconds=0.5, pause_seconds=1.5):
    """Feed `audio` (then silence) as int16 chunks at simulated real time; returns the partials seen."""
    rate = audio.sample_rate
    samples = np.concatenate([audio.to_int16(), np.zeros(int(pause_seconds * rate), np.int16)])
    step = int(chunk_seconds * rate)
    partials, clock = [], 1000.0
    for start in range(0, len(samples), step):
        clock += chunk_seconds
        if streaming.feed(registry, session, rate, samples[start:start + step], now=clock) and session.partial:
            partials.append((clock, session.partial))
    return partials


def test_partials_while_speaking_then_a_final_transcript(registry, piper_speech):
    text, audio = piper_speech[1]  # "Speech recognition turns spoken words into written text."
    session = streaming.start(registry, registry.system("whisper-tiny.en"))
    partials = replay(registry, session, audio)
    spoken_until = 1000.0 + audio.duration
    assert [p for when, p in partials if when < spoken_until], "a partial transcript before the end of speech"
    words = set(session.final.lower().replace(".", "").split())
    assert {"recognition", "turns", "spoken", "words", "written", "text"} <= words  # tiny.en hears "each" for "speech"
    stats = session.stats()
    assert 0.5 <= stats["partial_interval_s"] < 1.0 + stats["decode_s_max"]  # about once a second
    assert 0.8 <= stats["final_latency_s"] < 0.8 + 5  # endpoint pause plus one decode
    assert session.partial == ""  # the endpointer closed the utterance


def test_a_full_window_is_committed_and_decoding_starts_afresh(registry, piper_speech):
    session = streaming.start(registry, registry.system("pocketsphinx"))
    session.window_seconds = 1.5  # bounded buffer: no decode ever sees more than this
    (_, first), (_, second) = piper_speech[0], piper_speech[2]
    together = type(first)(np.concatenate([first.samples, second.resample(first.sample_rate).samples]),
                           first.sample_rate)
    replay(registry, session, together)
    assert session.final and max(session.decode_seconds) < 5


def test_a_synthesiser_is_refused(registry):
    with pytest.raises(ConfigError, match="not a recogniser"):
        streaming.start(registry, registry.system("piper-joe"))
