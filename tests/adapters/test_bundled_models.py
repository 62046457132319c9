"""The real bundled models, end to end: Piper speaks, the recognisers listen."""

import numpy as np
import pytest

from studio import engine
from studio.metrics.wer import normalize, word_errors
from tests.conftest import SENTENCES

pytestmark = pytest.mark.models

# Whisper tiny.en scores 5.6% WER on LibriSpeech test-clean (Radford et al. 2022, table 2); on this
# clean Piper speech it made 1 error in the 24 words (4.2%). 0.15 allows three errors in 24 words:
# room for a library update to shift a word, but a lost sentence or a broken model fails it.
ROUND_TRIP_WER_BOUND = 0.15


def corpus_wer(registry, adapter_id, speech, **options):
    system = registry.system(adapter_id, options)
    errors = words = 0
    for text, audio in speech:
        counts = word_errors(normalize(text), normalize(engine.recognize(registry, system, audio).text))
        errors, words = errors + counts.errors, words + counts.reference_length
    return errors / words


def test_piper_to_whisper_round_trip_wer_is_low(piper_speech, registry):
    assert corpus_wer(registry, "whisper-tiny.en", piper_speech) <= ROUND_TRIP_WER_BOUND
    assert corpus_wer(registry, "whisper-base", piper_speech, beam_size=1) <= 0.25  # measured 4/24; base is multilingual


def test_pocketsphinx_is_the_weaker_baseline_but_hears_words(piper_speech, registry):
    wer = corpus_wer(registry, "pocketsphinx", piper_speech)
    assert 0.0 < wer < 0.6  # measured 0.25: worse than Whisper, far better than chance


def test_transcription_reports_stages_and_speed(piper_speech, registry):
    result = engine.recognize(registry, registry.system("whisper-tiny.en"), piper_speech[0][1])
    assert set(result.stage_seconds) == {"features", "encoder", "decoder", "other"}
    assert sum(result.stage_seconds.values()) == pytest.approx(result.processing_seconds, rel=1e-6)
    assert result.audio_duration == pytest.approx(piper_speech[0][1].duration, abs=1e-3)
    assert result.rtfx == pytest.approx(result.audio_duration / result.processing_seconds)
    assert result.details["language"] == "en" and result.details["tokens"] > 5
    assert result.load_seconds > 0  # measured once, reported apart from processing


def test_english_only_model_refuses_other_languages(piper_speech, registry):
    from studio.errors import ConfigError

    with pytest.raises(ConfigError, match="English-only"):
        engine.recognize(registry, registry.system("whisper-tiny.en", "language=de"), piper_speech[0][1])


def test_piper_is_deterministic_without_noise_and_streams_by_sentence(registry):
    system = registry.system("piper-joe", "noise_scale=0 noise_w_scale=0")
    first = engine.synthesize(registry, system, "One sentence here. And a second one there.")
    second = engine.synthesize(registry, system, "One sentence here. And a second one there.")
    assert np.array_equal(first.audio.samples, second.audio.samples)
    assert first.chunks == 2
    assert 0 < first.time_to_first_audio < first.processing_seconds
    assert first.audio.sample_rate == 22050 and 2.0 < first.audio.duration < 6.0
    assert first.rtf == pytest.approx(first.processing_seconds / first.audio.duration)


def test_piper_front_end_expands_abbreviations(registry):
    result = engine.synthesize(registry, registry.system("piper-joe", "noise_scale=0 noise_w_scale=0"), "Dr. Lee paid $20.")
    assert result.text == "Doctor Lee paid twenty dollars."
    assert result.chunks == 1  # "Dr." no longer ends a sentence


def test_espeak_speaks_and_length_follows_speed(registry):
    slow = engine.synthesize(registry, registry.system("espeak-ng", "words_per_minute=120"), SENTENCES[0])
    fast = engine.synthesize(registry, registry.system("espeak-ng", "words_per_minute=300"), SENTENCES[0])
    assert slow.audio.sample_rate == 22050
    assert slow.audio.duration > 1.5 * fast.audio.duration
    assert np.abs(slow.audio.samples).max() > 0.05


def test_failed_espeak_voice_is_a_clear_error(registry):
    from studio.errors import StudioError

    with pytest.raises(StudioError, match="espeak-ng produced no audio"):
        engine.synthesize(registry, registry.system("espeak-ng", "voice=xx-nonexistent"), "hello")
