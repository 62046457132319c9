"""The trained drafters (medusa, layer_skip): lossless against greedy `generate`, the committed weights load,
a missing or mismatched file says what to do, and the training script's pieces run on a tiny random Whisper."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import torch

from studio.decoding.options import DecodingOptions
from studio.errors import ModelUnavailable
from studio.timing import StageTimer

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "train_drafters.py"


def _script():
    spec = importlib.util.spec_from_file_location("train_drafters", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def _tiny_whisper():
    """A random two-layer Whisper with a 300-token vocabulary: eot 289, prompt [290, 291]."""
    from transformers import WhisperConfig, WhisperForConditionalGeneration

    torch.manual_seed(0)
    config = WhisperConfig(vocab_size=300, num_mel_bins=80, d_model=64, encoder_layers=1, decoder_layers=2,
                           encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=128,
                           decoder_ffn_dim=128, max_source_positions=1500, max_target_positions=64,
                           decoder_start_token_id=290, bos_token_id=289, eos_token_id=289, pad_token_id=289)
    return WhisperForConditionalGeneration(config).eval()


def test_training_pieces_run_on_a_tiny_random_whisper(tmp_path):
    from studio.decoding.lean import LeanWhisper, LogitRules
    from studio.decoding.speculative import SpeculativeDecoder
    from studio.decoding.strategies import greedy_steps
    from studio.decoding.trained import (ExitAdapter, MedusaDrafter, MedusaHeads, TrainedDrafters,
                                         TrainedExitDrafter, load_drafters, save_drafters)

    train = _script()
    model = _tiny_whisper()
    lean, rules, eot, prompt = LeanWhisper(model), LogitRules(300, [0], [289]), 289, [290, 291]
    features = torch.randn(2, 80, 3000)
    states = train.distil(lean, rules, features, prompt, eot, exit_layers=(1,), max_new_tokens=6)
    assert [len(s.final) for s in states] == [len(s.tokens) - len(prompt) for s in states]
    assert states[0].layers[1].shape == states[0].final.shape == (len(states[0].final), 64)

    vocabulary = train.draft_vocabulary(states, rules, eot, lowest=300)
    assert 0 not in vocabulary.tolist() and eot in vocabulary.tolist()  # suppressed ids never drafted
    index_of = {int(t): i for i, t in enumerate(vocabulary)}
    cache = train.Cache.of(states, 2, index_of)
    assert cache.ahead.shape == (len(cache.final), 3)
    projection = model.proj_out.weight.detach()[vocabulary]
    medusa, adapters = MedusaHeads(64, 2), {1: ExitAdapter(64, 32)}
    history = train.train(cache, projection, medusa, adapters, steps=30, batch=8, log=lambda message: None)
    assert history[-1]["medusa_ce"][0] < history[0]["medusa_ce"][0]  # it learns on its own training positions
    held_out = train.acceptance(cache, projection, medusa, adapters)
    assert len(held_out["medusa_head_accuracy"]) == 2 and 0 <= held_out["exit"][1]["trained"] <= 1
    assert train.choose_exit_layer(held_out["exit"], 2) == 1

    path = tmp_path / "tiny.safetensors"
    save_drafters(TrainedDrafters(medusa, adapters[1], 1, vocabulary), path, "tiny", model.config)
    loaded = load_drafters("tiny", model.config, path)
    assert loaded.exit_layer == 1 and torch.equal(loaded.vocabulary, vocabulary)
    card = train.model_card("tiny", dict(clips=2, max_words=55, held_out_clips=1, steps=30, batch=8, heads=2,
                                         exit_layer=1, exit_width=32, d_model=64, decoder_layers=2,
                                         parameters=loaded.parameters, vocabulary=len(vocabulary),
                                         sentences_available=2, audio_minutes=0.1, tokens=12, history=history,
                                         held_out=held_out, minutes=0.1, data_minutes=0.1, train_minutes=0.1,
                                         load="1.0", machine="test"))
    assert "Held-out acceptance" in card

    # whatever the (random) heads draft, verification gives the plain greedy tokens
    state = lean.start(lean.encode(features[:1]))
    greedy = [c[0] for c in greedy_steps(lean, rules, state, prompt, eot, 12) if c[0] is not None]
    for make in (lambda s: MedusaDrafter(lean, rules, loaded, eot),
                 lambda s: TrainedExitDrafter(lean, s, rules, loaded, eot, len(prompt), confidence=0.0)):
        state = lean.start(lean.encode(features[:1]))
        drafter = make(state)
        decoder = SpeculativeDecoder(lean, rules, drafter, 4, eot, 12, StageTimer(),
                                     verifier=getattr(drafter, "verifier", None))
        rounds = list(decoder.rounds(state, prompt))
        assert [t for r in rounds for t in r.emitted] == greedy
        assert sum(len(r.drafted) for r in rounds) > 0


def test_a_missing_or_mismatched_drafters_file_says_how_to_make_it(tmp_path):
    from studio.decoding.trained import ExitAdapter, MedusaHeads, TrainedDrafters, load_drafters, save_drafters

    model = _tiny_whisper()
    with pytest.raises(ModelUnavailable, match="are missing .* run `python scripts/train_drafters.py"):
        load_drafters("tiny", model.config, tmp_path / "none.safetensors")
    path = tmp_path / "tiny.safetensors"
    save_drafters(TrainedDrafters(MedusaHeads(64, 2), ExitAdapter(64, 32), 1, torch.arange(10)), path, "tiny",
                  model.config)
    other = model.config.__class__(**{**model.config.to_dict(), "d_model": 128})
    with pytest.raises(ModelUnavailable, match="does not match Whisper tiny: d_model=64 \\(model: 128\\)"):
        load_drafters("tiny", other, path)


pytestmark = pytest.mark.models


def test_committed_drafters_match_whisper_base(base_lab):
    drafters = base_lab.trained_drafters(DecodingOptions(strategy="medusa"))
    config = base_lab.target(DecodingOptions()).hf_model.config
    assert drafters.medusa.blocks[0].weight.shape == (config.d_model, config.d_model)
    assert 1 <= drafters.exit_layer < config.decoder_layers
    assert int(drafters.vocabulary.max()) < config.vocab_size
    assert drafters.parameters < 5_000_000


def test_a_model_without_drafters_gets_a_clear_message(tiny_lab, speech_clips):
    with pytest.raises(ModelUnavailable, match="trained drafters for Whisper tiny.en are missing"):
        tiny_lab.decode(speech_clips[:1], DecodingOptions(strategy="medusa"), StageTimer())
