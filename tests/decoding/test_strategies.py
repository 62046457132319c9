"""Every lossless strategy reproduces greedy `generate`'s tokens exactly; the others say what they did."""

from __future__ import annotations

import pytest

from studio.decoding.options import STRATEGIES, DecodingOptions
from studio.errors import ConfigError
from studio.timing import StageTimer

LOSSLESS_TINY = [
    dict(strategy="lean"),
    dict(strategy="lean", batch_size=3),
    dict(strategy="early_exit", draft_layers=1),
    dict(strategy="early_exit", draft_layers=3),
    dict(strategy="early_exit"),  # adaptive k
    dict(strategy="early_exit", draft_layers=2, draft_vocab=4000),
    dict(strategy="prompt_lookup"),
    dict(strategy="prompt_lookup", lookup="first_pass", draft_tokens=16),
    dict(strategy="lean", output_proj="int8_exact"),
    dict(strategy="lean", output_proj="int8_exact", batch_size=3),
    dict(strategy="early_exit", draft_layers=2, output_proj="int8_exact"),
    dict(strategy="early_exit", draft_layers=1, draft_tokens=0),  # adaptive draft length
    dict(strategy="prompt_lookup", lookup="first_pass", draft_tokens=0),
    dict(strategy="jacobi"),
    dict(strategy="jacobi", draft_tokens=0, output_proj="int8_exact"),
]
LOSSLESS_BASE = [
    dict(strategy="speculative"),
    dict(strategy="speculative", draft_tokens=0, output_proj="int8_exact"),
    dict(strategy="lean", output_proj="int8_exact"),
    # the trained drafters (heads for base only, assets/drafters/)
    dict(strategy="medusa"),
    dict(strategy="medusa", draft_tokens=2),
    dict(strategy="layer_skip"),
    dict(strategy="layer_skip", exit_confidence=0.0, draft_tokens=8),  # drafts the whole budget every round
]


@pytest.fixture(scope="module")
def tiny_greedy(tiny_lab, speech_clips):
    return tiny_lab.decode(speech_clips, DecodingOptions(strategy="greedy"), StageTimer())


def _check_stats(results):
    for result in results:
        stats = result.stats
        assert 0 <= stats.accepted <= stats.drafted
        assert stats.tokens == len(result.tokens)
        if result.rounds:
            assert sum(len(r.emitted) for r in result.rounds) == len(result.tokens)
            assert all(r.accepted <= len(r.drafted) for r in result.rounds)


pytestmark = pytest.mark.models


def test_greedy_baseline_reads_the_test_sentences(tiny_greedy):
    assert "lazy dog" in tiny_greedy[0].text
    assert "noon tomorrow" in tiny_greedy[2].text


@pytest.mark.parametrize("values", LOSSLESS_TINY, ids=lambda v: " ".join(f"{k}={x}" for k, x in v.items()))
def test_lossless_strategy_gives_greedy_tokens(values, tiny_lab, speech_clips, tiny_greedy):
    options = DecodingOptions(**values)
    assert options.lossless
    results = tiny_lab.decode(speech_clips, options, StageTimer())
    assert [r.tokens for r in results] == [r.tokens for r in tiny_greedy]
    _check_stats(results)


def test_first_pass_lookup_drafts_and_gets_accepted(tiny_lab, speech_clips):
    results = tiny_lab.decode(speech_clips, DecodingOptions(strategy="prompt_lookup", lookup="first_pass",
                                                            draft_tokens=16), StageTimer())
    # tiny.en's own int8 transcript is nearly its fp32 output: most tokens come in a few target steps
    assert sum(r.stats.accepted for r in results) >= sum(len(r.tokens) for r in results) // 2
    assert all(r.stats.target_steps < len(r.tokens) for r in results)


@pytest.fixture(scope="module")
def base_greedy(base_lab, speech_clips):
    return base_lab.decode(speech_clips, DecodingOptions(strategy="greedy"), StageTimer())


@pytest.mark.parametrize("values", LOSSLESS_BASE, ids=lambda v: " ".join(f"{k}={x}" for k, x in v.items()))
def test_lossless_strategy_gives_greedy_tokens_on_base(values, base_lab, speech_clips, base_greedy):
    options = DecodingOptions(**values)
    assert options.lossless
    timer = StageTimer()
    results = base_lab.decode(speech_clips, options, timer)
    assert [r.tokens for r in results] == [r.tokens for r in base_greedy]
    _check_stats(results)
    if STRATEGIES[options.strategy].runner == "drafting":  # the drafters (trained heads too) get drafts accepted
        assert sum(r.stats.accepted for r in results) > 0
    if options.strategy == "speculative":
        assert {"encoder", "draft_encoder", "draft", "verify"} <= set(timer.seconds)


def test_int8_exact_rescores_a_small_share_of_the_vocabulary(tiny_lab, speech_clips):
    options = DecodingOptions(strategy="lean", output_proj="int8_exact")
    results = tiny_lab.decode(speech_clips, options, StageTimer())
    vocab = tiny_lab.target(options).lean.output.weight.shape[0]
    positions = sum(r.stats.target_steps for r in results)
    rescored = sum(r.stats.rescored for r in results)
    assert 0 < rescored < positions * vocab // 20  # under 5% of the rows, at least one per position
    assert all(r.details()["rescored_rows"] == r.stats.rescored for r in results)


def test_relaxed_acceptance_accepts_at_least_what_exact_acceptance_does(tiny_lab, speech_clips, tiny_greedy):
    exact = tiny_lab.decode(speech_clips, DecodingOptions(strategy="early_exit", draft_layers=2), StageTimer())
    options = DecodingOptions(strategy="early_exit", draft_layers=2, accept_tolerance=0.3)
    assert not options.lossless
    relaxed = tiny_lab.decode(speech_clips, options, StageTimer())
    _check_stats(relaxed)
    assert sum(r.stats.accepted for r in relaxed) >= sum(r.stats.accepted for r in exact)
    assert "lazy dog" in relaxed[0].text


@pytest.mark.parametrize("values", [dict(kv_cache="int8"), dict(kv_cache="int4", kv_residual_rank=4)])
def test_quantised_kv_cache_is_smaller_and_still_transcribes(values, tiny_lab, speech_clips):
    full = tiny_lab.decode(speech_clips[:1], DecodingOptions(strategy="lean"), StageTimer())[0]
    options = DecodingOptions(strategy="lean", **values)
    assert not options.lossless
    result = tiny_lab.decode(speech_clips[:1], options, StageTimer())[0]
    assert "dog" in result.text.lower()
    limit = 0.3 if options.kv_cache == "int8" else 0.25  # codes + one fp32 scale per 64-value vector (+ the residual)
    assert 0 < result.stats.cache_bytes < full.stats.cache_bytes * limit


def test_audio_ctx_trims_the_encoder(tiny_lab, speech_clips):
    options = DecodingOptions(strategy="lean", audio_ctx=0)
    assert not options.lossless
    result = tiny_lab.decode(speech_clips[:1], options, StageTimer())[0]
    assert result.audio_ctx < 1500
    assert result.audio_ctx >= len(speech_clips[0]) / 16000 * 50


def test_int8_quantisation_replaces_linear_layers(tiny_lab, speech_clips):
    import torch

    options = DecodingOptions(strategy="lean", quantize=True)
    result = tiny_lab.decode(speech_clips[:1], options, StageTimer())[0]
    layer = tiny_lab.target(options).lean.decoder.layers[0].fc1
    assert not isinstance(layer, torch.nn.Linear) or type(layer).__module__.startswith("torch.ao")
    assert "dog" in result.text.lower()


def test_beam_search_runs_through_generate(tiny_lab, speech_clips, tiny_greedy):
    from studio.metrics.wer import normalize
    from tests.conftest import SENTENCES

    one_beam = tiny_lab.decode(speech_clips, DecodingOptions(strategy="beam", beam_size=1), StageTimer())
    assert [r.tokens for r in one_beam] == [r.tokens for r in tiny_greedy]  # beam search of width 1 is greedy
    timer = StageTimer()
    result = tiny_lab.decode(speech_clips[:1], DecodingOptions(strategy="beam", beam_size=2), timer)[0]
    assert normalize(result.text) == normalize(SENTENCES[0])
    assert set(timer.seconds) == {"features", "generate"}  # encoder and decoder run inside generate


def test_every_strategy_in_the_table_has_an_implementation():
    from studio.decoding.options import STRATEGIES
    from studio.decoding.strategies import DRAFTERS

    assert {n for n, s in STRATEGIES.items() if s.runner == "drafting"} == set(DRAFTERS)
    assert "jacobi" in DRAFTERS
    assert {s.runner for s in STRATEGIES.values()} == {"generate", "lean", "drafting"}
    assert not any(s.batches for s in STRATEGIES.values() if s.runner == "drafting")


def test_first_pass_lookup_needs_a_first_pass():
    from studio.decoding.strategies import WhisperDecoding

    lab = WhisperDecoding("tiny.en")  # no first-pass transcriber given
    with pytest.raises(ConfigError, match="lookup=first_pass needs a first-pass recogniser"):
        lab.prepare(DecodingOptions(strategy="prompt_lookup", lookup="first_pass"))


def test_speculative_needs_a_smaller_model(tiny_lab):
    with pytest.raises(ConfigError, match="no smaller model"):
        tiny_lab.prepare(DecodingOptions(strategy="speculative"))


def test_early_exit_layers_must_leave_a_layer_to_verify(tiny_lab, speech_clips):
    with pytest.raises(ConfigError, match="draft_layers must be below"):
        tiny_lab.decode(speech_clips[:1], DecodingOptions(strategy="early_exit", draft_layers=4), StageTimer())


def test_streamed_rounds_add_up_to_the_decoded_tokens(tiny_lab, speech_clips, tiny_greedy):
    rounds = list(tiny_lab.rounds(speech_clips[1], DecodingOptions(strategy="early_exit", draft_layers=2),
                                  StageTimer()))
    assert tuple(t for r in rounds for t in r.emitted) == tiny_greedy[1].tokens
    assert all(r.draft_layers == 2 for r in rounds)
