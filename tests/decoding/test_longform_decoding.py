"""Long-form decoding: Whisper's window loop with timestamp tokens, every lossless strategy token-identical
to greedy `generate` run in the same loop, on a recording made here from the long-form set's text."""

from __future__ import annotations

import random

import pytest
import torch

from studio.decoding.lean import LogitRules
from studio.decoding.longform import TimestampRules, cut_window, sequential_windows
from studio.decoding.options import STRATEGIES, DecodingOptions
from studio.errors import StudioError
from studio.evaluation.longform import LONGFORM_RECORDINGS, PIPER_JOE, speak
from studio.timing import StageTimer

TIMESTAMP_BEGIN = 50364


def _whole_sentences(text: str, words: int) -> str:
    """The first sentences of `text` that reach `words` words."""
    chosen = []
    for sentence in text.replace("\n", " ").split(". "):
        chosen.append(sentence)
        if len(" ".join(chosen).split()) >= words:
            break
    return ". ".join(chosen) + "."


@pytest.fixture(scope="module")
def recording(registry):
    """About 65 s of Piper joe reading the start of the first long-form text: three windows."""
    return speak(_whole_sentences(LONGFORM_RECORDINGS[0].text, 160), PIPER_JOE, registry).samples


def test_cut_window_keeps_complete_segments_and_seeks_to_the_last_end():
    ts = lambda seconds: TIMESTAMP_BEGIN + round(seconds / 0.02)  # noqa: E731
    tokens = [ts(0), 11, ts(2), ts(2), 12, ts(5), ts(5), 13]  # the last segment is unfinished
    assert cut_window(tokens, 3000, TIMESTAMP_BEGIN) == (tokens[:7], 500)
    assert cut_window([ts(0), 11, ts(2)], 3000, TIMESTAMP_BEGIN) == ([ts(0), 11, ts(2)], 3000)  # single ending
    assert cut_window([11, 12], 1234, TIMESTAMP_BEGIN) == ([11, 12], 1234)  # no timestamps: the whole window


def test_window_loop_covers_the_recording_and_never_stalls():
    decoded = []

    def decode(seek, frames):
        decoded.append((seek, frames))
        return [TIMESTAMP_BEGIN, 11, TIMESTAMP_BEGIN, TIMESTAMP_BEGIN, 12]  # a pair at 0.00: no progress

    windows = sequential_windows(7000, decode, TIMESTAMP_BEGIN)
    assert decoded == [(0, 3000), (3000, 3000), (6000, 1000)]
    assert sum(w.advance for w in windows) == 7000


def test_timestamp_rules_match_transformers_processor_row_by_row():
    """Our per-row rules equal `WhisperTimeStampLogitsProcessor` on every prefix of random sequences."""
    from transformers import GenerationConfig
    from transformers.generation.logits_process import WhisperTimeStampLogitsProcessor

    vocab, eot, prompt = 51865, 50257, [50258, 50259, 50360]
    config = GenerationConfig(no_timestamps_token_id=TIMESTAMP_BEGIN - 1, eos_token_id=eot,
                              max_initial_timestamp_index=50)
    theirs = WhisperTimeStampLogitsProcessor(config, begin_index=len(prompt))
    ours = TimestampRules(LogitRules(vocab, [], []), TIMESTAMP_BEGIN, eot, len(prompt), 50)
    rng = random.Random(0)
    for _ in range(20):
        sequence = prompt + [rng.choice([rng.randrange(300), TIMESTAMP_BEGIN + rng.randrange(1500)])
                             for _ in range(rng.randrange(6))]
        logits = torch.randn(len(sequence) - len(prompt) + 1, vocab)
        logits[:, TIMESTAMP_BEGIN:] += rng.choice([0.0, 4.0])  # sometimes timestamps win by total probability
        expected = torch.stack([theirs(torch.tensor([sequence[:len(prompt) + i]]), logits[i:i + 1].clone())[0]
                                for i in range(len(logits))])
        assert torch.equal(ours.apply(logits.clone(), -1, sequence), expected)


LOSSLESS = [name for name, spec in STRATEGIES.items() if spec.lossless and name != "greedy"]


@pytest.fixture(scope="module")
def greedy_long(tiny_lab, recording):
    return {"tiny.en": tiny_lab.decode_long(recording, DecodingOptions(strategy="greedy"), StageTimer())}


@pytest.mark.models
def test_greedy_window_loop_reads_the_recording(greedy_long):
    result = greedy_long["tiny.en"]
    assert len(result.windows) >= 3
    assert "Stratford" in result.text and "1564" in result.text.replace(",", "")
    assert any(t >= TIMESTAMP_BEGIN - 1 for t in result.tokens)  # timestamps were predicted (tiny.en: 50363 on)


@pytest.mark.models
@pytest.mark.timeout(1800)  # a strategy that needs base decodes the recording twice with it
@pytest.mark.parametrize("strategy", LOSSLESS)
def test_lossless_strategy_is_greedy_on_long_form(strategy, tiny_lab, base_lab, recording, greedy_long):
    """Every lossless strategy of the table, in the same window loop, gives greedy generate's tokens; one that
    tiny.en cannot run (a draft model for base) runs on base."""
    options = DecodingOptions(strategy=strategy)
    lab, name = tiny_lab, "tiny.en"
    try:
        tiny_lab.prepare(options)
    except StudioError:  # no draft model or no trained heads for tiny.en
        lab, name = base_lab, "base"
    if name not in greedy_long:
        greedy_long[name] = lab.decode_long(recording, DecodingOptions(strategy="greedy"), StageTimer())
    result = lab.decode_long(recording, options, StageTimer())
    reference = greedy_long[name]
    assert [w.tokens for w in result.windows] == [w.tokens for w in reference.windows]
    assert result.tokens == reference.tokens and result.text == reference.text
    assert 0 <= result.stats.accepted <= result.stats.drafted
