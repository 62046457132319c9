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
    (dict(draft_tokens=0), "draft_tokens"),
    (dict(draft_vocab=10), "draft_vocab"),
    (dict(audio_ctx=3000), "audio_ctx"),
    (dict(lookup="web"), "lookup"),
])
def test_bad_options_raise_config_error(values, message):
    with pytest.raises(ConfigError, match=message):
        DecodingOptions(**values)


def test_lossless_flags():
    assert DecodingOptions(strategy="speculative").lossless
    assert not DecodingOptions(strategy="beam").lossless
    assert not DecodingOptions(audio_ctx=500).lossless
    assert not DecodingOptions(quantize=True).lossless


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
