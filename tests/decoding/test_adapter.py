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
    from studio.decoding.live import BASELINE, TARGET, accepted_tag, rejected_tag, watch

    accepted, rejected = accepted_tag("prompt_lookup"), rejected_tag("prompt_lookup")
    updates = list(watch(registry, "torch-whisper-tiny.en", ["prompt lookup on a first pass"], piper_speech[2][1]))
    assert {tag for u in updates for _, tag in u.pieces} <= {accepted, rejected, TARGET}
    rows = updates[-1].rows
    assert [r["strategy"] for r in rows] == [BASELINE, "prompt lookup on a first pass"]
    assert all(r["same tokens as baseline"] for r in rows)
    assert "".join(text for text, tag in updates[-1].pieces if tag != rejected) == rows[1]["text"]
    assert any(tag == accepted for _, tag in updates[-1].pieces)
    assert sum(tag == rejected for _, tag in updates[-1].pieces) == rows[1]["drafted"] - rows[1]["accepted"]


def test_presets_cover_every_strategy_and_every_drafter_has_its_colours():
    from studio.decoding.live import PRESETS, TAG_COLOURS, accepted_tag, rejected_tag
    from studio.decoding.options import STRATEGIES

    assert {options.strategy for options in PRESETS.values()} == set(STRATEGIES)
    drafters = [n for n, s in STRATEGIES.items() if s.runner == "drafting"]
    assert {accepted_tag(d) for d in drafters} | {rejected_tag(d) for d in drafters} < set(TAG_COLOURS)
    assert len(set(TAG_COLOURS.values())) == len(TAG_COLOURS)  # distinct colours in the legend


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
