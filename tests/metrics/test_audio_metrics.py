"""Speaker similarity and DNSMOS on the project's own voices."""

import numpy as np
import pytest

from studio import engine
from studio.audio import Audio
from studio.metrics import MetricInput, get_metric

pytestmark = pytest.mark.models


def similarity(a, b):
    return get_metric("speaker_similarity").compute(MetricInput(audio=a, reference_audio=b))[0].value


def test_same_voice_is_more_similar_than_another_voice(piper_speech, registry):
    espeak = engine.synthesize(registry, registry.system("espeak-ng"), piper_speech[0][0]).audio
    same = similarity(piper_speech[0][1], piper_speech[1][1])  # Piper joe, two different sentences
    other = similarity(piper_speech[0][1], espeak)  # Piper joe vs eSpeak, same sentence
    assert same > 0.85  # measured about 0.9-0.96
    assert same > other + 0.2  # measured about 0.45-0.56 for eSpeak


def test_dnsmos_is_a_mos_and_drops_with_noise(piper_speech):
    clean = piper_speech[0][1]
    rng = np.random.default_rng(0)
    noisy = Audio(np.clip(clean.samples + rng.normal(0, 0.05, len(clean.samples)), -1, 1).astype(np.float32),
                  clean.sample_rate)
    metric = get_metric("dnsmos")
    clean_scores = {s.name: s.value for s in metric.compute(MetricInput(audio=clean))}
    noisy_scores = {s.name: s.value for s in metric.compute(MetricInput(audio=noisy))}
    assert set(clean_scores) == {"dnsmos", "dnsmos_sig", "dnsmos_bak", "dnsmos_p808"}
    assert all(1.0 <= v <= 5.0 for v in clean_scores.values())
    assert noisy_scores["dnsmos_bak"] < clean_scores["dnsmos_bak"] - 1.0  # measured 4.2 -> 1.8


def test_score_synthesis_skips_what_it_cannot_score(piper_speech, registry):
    text, audio = piper_speech[2]
    result = engine.synthesize(registry, registry.system("piper-joe", "noise_scale=0 noise_w_scale=0"), text)
    scored = engine.score_synthesis(result, text, judge=None, reference_voice=None)
    assert scored.skipped == {"wer": "needs a judge ASR system for round-trip WER",
                              "speaker_similarity": "needs reference_audio"}
    assert scored.value("dnsmos") is not None and scored.value("ttfa") <= scored.value("latency")
    judge = engine.judge_for(registry, registry.system("whisper-tiny.en"))
    judged = engine.score_synthesis(result, text, judge, audio)
    assert judged.judge_transcription.text and judged.value("wer") <= 0.15
    assert judged.value("speaker_similarity") > 0.85
