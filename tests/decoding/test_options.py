"""Decoding options validate themselves; the drafting roles are checked on toy sequences."""

from __future__ import annotations

import pytest

from studio.decoding.options import DecodingOptions
from studio.errors import ConfigError


@pytest.mark.parametrize("values, message", [
    (dict(strategy="eagle"), "strategy must be one of"),
    (dict(strategy="layer_skip", exit_confidence=1.5), "exit_confidence"),
    (dict(strategy="greedy", audio_ctx=0), "audio_ctx needs our own encoder"),
    (dict(strategy="speculative", batch_size=4), "decodes one clip at a time"),
    (dict(draft_tokens=-1), "draft_tokens"),
    (dict(draft_vocab=10), "draft_vocab"),
    (dict(audio_ctx=3000), "audio_ctx"),
    (dict(lookup="web"), "lookup"),
    (dict(draft_tokens=17), "draft_tokens must be 0"),
    (dict(accept_tolerance=1.5), "accept_tolerance is a probability gap"),
    (dict(strategy="lean", accept_tolerance=0.1), "drafts nothing"),
    (dict(output_proj="int4"), "output_proj must be one of"),
    (dict(strategy="greedy", output_proj="int8_exact"), "need our own decoder loop"),
    (dict(output_proj="int8_exact", quantize=True), "use one of them"),
    (dict(strategy="jacobi", output_proj="int8_exact", accept_tolerance=0.1), "only its argmax"),
    (dict(kv_cache="int2"), "kv_cache must be one of"),
    (dict(strategy="beam", kv_cache="int8"), "need our own decoder loop"),
    (dict(kv_residual_rank=4), "set kv_cache=int8 or int4"),
    (dict(kv_cache="int4", kv_residual_rank=65), "kv_residual_rank must be between"),
])
def test_bad_options_raise_config_error(values, message):
    with pytest.raises(ConfigError, match=message):
        DecodingOptions(**values)


def test_lossless_flags():
    assert DecodingOptions(strategy="speculative").lossless
    assert not DecodingOptions(strategy="beam").lossless
    assert not DecodingOptions(audio_ctx=500).lossless
    assert not DecodingOptions(quantize=True).lossless
    assert DecodingOptions(strategy="jacobi", draft_tokens=0, output_proj="int8_exact").lossless
    assert not DecodingOptions(strategy="jacobi", accept_tolerance=0.05).lossless
    assert not DecodingOptions(kv_cache="int8").lossless


def test_relaxed_acceptance_keeps_drafts_close_to_the_top_token():
    import torch

    from studio.decoding.speculative import accept_within_tolerance

    probabilities = torch.tensor([[0.5, 0.45, 0.05], [0.6, 0.1, 0.3], [0.2, 0.2, 0.6]])
    predictions = [0, 0, 2]
    assert accept_within_tolerance([1, 2, 2], predictions, probabilities, 0.1) == 1  # 0.6 - 0.3 > 0.1
    assert accept_within_tolerance([1, 2, 2], predictions, probabilities, 0.35) == 3
    assert accept_within_tolerance([0, 0], predictions, probabilities, 0.0) == 2  # exact matches always pass


def test_adaptive_draft_length_follows_the_acceptance_rate():
    from studio.decoding.speculative import AdaptiveDraftLength

    length = AdaptiveDraftLength(longest=16)
    start = length.length()
    for _ in range(10):
        length.update(drafted=length.length(), accepted=length.length())  # everything accepted
    assert length.length() > start and length.length() <= 16
    for _ in range(20):  # the estimate forgets old rounds
        length.update(drafted=length.length(), accepted=0)
    assert length.length() == 1
    length.update(drafted=0, accepted=0)  # nothing drafted: no evidence
    assert length.length() == 1


def test_jacobi_guesses_are_the_previous_predictions():
    from studio.decoding.speculative import JacobiDrafter

    drafter = JacobiDrafter()
    assert drafter.propose([0, 7], budget=3) == [7, 7, 7]  # nothing known yet: the last token, repeated
    drafter.follow([7, 8, 9, 4], accepted=1)  # drafts [7, 7, 7]: one accepted, 8 came next
    assert drafter.propose([0, 7, 7, 8], budget=3) == [9, 4, 4]


def test_acceptance_rule_keeps_the_matching_prefix():
    from studio.decoding.speculative import accept_matching_prefix

    assert accept_matching_prefix([1, 2, 3], [1, 2, 9, 4]) == 2
    assert accept_matching_prefix([5], [6, 7]) == 0
    assert accept_matching_prefix([], [6]) == 0
    assert accept_matching_prefix([1, 2], [1, 2, 3]) == 2


def test_prompt_lookup_copies_what_followed_the_last_ngram():
    from studio.decoding.speculative import PromptLookupDrafter

    drafter = PromptLookupDrafter(prompt_length=2, ngram=2)
    assert drafter.propose([0, 0, 7, 8, 9, 4, 7, 8], budget=3) == [9, 4, 7]
    assert drafter.propose([0, 0, 1, 2, 3], budget=3) == []


def test_prompt_lookup_follows_a_first_pass_reference():
    from studio.decoding.speculative import PromptLookupDrafter

    drafter = PromptLookupDrafter(prompt_length=1, ngram=2, reference=[10, 11, 12, 13, 99])
    assert drafter.propose([0, 10, 11], budget=2) == [12, 13]  # on track: the reference's next tokens
    assert drafter.propose([0, 10, 5, 12], budget=3) == [13, 99]  # off track: realigned on the last token


def test_duration_buckets_group_similar_lengths():
    from studio.decoding.strategies import duration_buckets

    assert duration_buckets([5, 1, 4, 2], 2) == [[1, 3], [2, 0]]
    assert duration_buckets([3], 8) == [[0]]
