"""The decoding lab as registry adapters, and the round-by-round view the UI streams."""

from __future__ import annotations

import pytest

from studio.errors import ConfigError

pytestmark = pytest.mark.models


def test_both_models_are_registered_asr_adapters(registry):
    assert {"torch-whisper-tiny.en", "torch-whisper-base"} <= set(registry.ids("asr"))


def test_strategy_options_parse_into_a_system(registry):
    system = registry.system("torch-whisper-base", "strategy=early_exit draft_layers=2 draft_vocab=4096")
    assert system.options.strategy == "early_exit" and system.options.draft_vocab == 4096
    assert "draft_layers=2" in system.label
    with pytest.raises(ConfigError, match="strategy"):
        registry.system("torch-whisper-base", "strategy=magic")


def test_transcribe_reports_drafting_counts(piper_speech, registry):
    system = registry.system("torch-whisper-tiny.en", "strategy=early_exit draft_layers=2")
    result = registry.get(system.adapter_id, "cpu").transcribe(piper_speech[0][1], system.options)
    assert "lazy dog" in result.text
    assert 0 <= result.details["accepted"] <= result.details["drafted"]
    assert result.details["lossless"] is True
    assert {"encoder", "draft", "verify"} <= set(result.stage_seconds)


def test_speculative_on_tiny_en_says_what_to_use_instead(piper_speech, registry):
    system = registry.system("torch-whisper-tiny.en", "strategy=speculative")
    with pytest.raises(ConfigError, match="early_exit or prompt_lookup"):
        registry.get(system.adapter_id, "cpu").transcribe(piper_speech[0][1], system.options)


def test_watch_streams_tagged_tokens_and_an_exactness_row(piper_speech, registry):
    from studio.decoding.live import ACCEPTED, BASELINE, TARGET, watch

    updates = list(watch(registry, "torch-whisper-tiny.en", ["prompt lookup on a first pass"], piper_speech[2][1]))
    assert {tag for u in updates for _, tag in u.pieces} <= {ACCEPTED, TARGET}
    rows = updates[-1].rows
    assert [r["strategy"] for r in rows] == [BASELINE, "prompt lookup on a first pass"]
    assert all(r["same tokens as baseline"] for r in rows)
    assert "".join(text for text, _ in updates[-1].pieces) == rows[1]["text"]
    assert any(tag == ACCEPTED for _, tag in updates[-1].pieces)


def test_watch_rejects_models_outside_the_lab(piper_speech, registry):
    from studio.decoding.live import watch

    with pytest.raises(ConfigError, match="not a decoding-lab model"):
        list(watch(registry, "whisper-tiny.en", [], piper_speech[0][1]))


def test_the_first_pass_loads_before_anything_is_timed_and_says_when_it_is_missing(tmp_path):
    from studio.bootstrap import build_registry
    from studio.decoding.options import DecodingOptions
    from tests.adapters.tiny_hf_models import write_config

    options = DecodingOptions(strategy="prompt_lookup", lookup="first_pass")
    registry = build_registry()
    registry.get("torch-whisper-tiny.en", "cpu").decoding.prepare(options)
    assert "whisper-tiny.en" in {a.info.id for a in registry.loaded()}  # loaded in prepare, not in the draft stage
    without = build_registry(write_config(tmp_path / "studio.yaml", [], bundled=["torch-whisper-tiny.en"]))
    with pytest.raises(ConfigError, match="does not offer.*use lookup=output"):
        without.get("torch-whisper-tiny.en", "cpu").decoding.prepare(options)
