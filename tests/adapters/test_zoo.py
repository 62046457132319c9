"""studio.yaml: parsing into typed entries, the allow-list, and one clear error per broken entry."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from studio import engine
from studio.adapters import zoo
from studio.adapters.hf_options import Seq2SeqOptions
from studio.adapters.torch_runtime import Placement
from studio.adapters.zoo_config import parse_config, read_config
from studio.adapters.zoo_types import ADAPTER_TYPES
from studio.bootstrap import build_registry
from studio.cli import main
from studio.errors import ConfigError, ModelUnavailable
from tests.adapters.tiny_hf_models import tiny_model_dirs, write_config
from tests.conftest import tone

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ("whisper-tiny.en", "whisper-base", "pocketsphinx", "piper-joe", "espeak-ng", "hama", "moonshine-tiny-en",
           "hibari-heart", "kokoro-82m", "torch-whisper-tiny.en", "torch-whisper-base")


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    return tiny_model_dirs(tmp_path_factory)


def test_entries_are_typed_and_paths_resolve_against_the_config_file(tmp_path):
    config = parse_config({"models": [
        {"id": "w", "type": "hf-seq2seq", "path": "models/whisper", "dtype": "bfloat16", "label": "My Whisper",
         "options": {"beam_size": "4", "language": None}},
        {"id": "v", "type": "hf-vits", "hub_id": "facebook/mms-tts-eng"},
    ]}, tmp_path / "studio.yaml", BUNDLED)
    whisper, vits = config.models
    assert whisper.source.location == str(tmp_path / "models" / "whisper") and whisper.source.local
    assert whisper.options == Seq2SeqOptions(beam_size=4) and whisper.dtype == "bfloat16"
    assert whisper.label == "My Whisper" and whisper.type.task == "asr"
    assert not vits.source.local and vits.label == "v" and vits.device == "auto"
    assert config.broken == ()


@pytest.mark.parametrize("entry, message", [
    ({"id": "x", "type": "nemo-rnnt", "path": "."}, "unknown adapter type 'nemo-rnnt'; known types: faster-whisper, hf-ctc"),
    ({"id": "x", "type": "hf-ctc"}, "exactly one of 'path'"),
    ({"id": "x", "type": "hf-ctc", "path": ".", "hub_id": "a/b"}, "exactly one of 'path'"),
    ({"id": "x", "type": "hf-ctc", "path": ".", "device": "tpu"}, "device must be one of auto, cpu, cuda"),
    ({"id": "x", "type": "hf-ctc", "path": ".", "dtype": "int4"}, "dtype must be one of"),
    ({"id": "x", "type": "hf-seq2seq", "path": ".", "options": {"beam_size": 0}}, "beam_size must be between 1 and 20"),
    ({"id": "x", "type": "hf-seq2seq", "path": ".", "options": {"beams": 2}}, "unknown option.*beams"),
    ({"id": "x", "type": "hf-ctc", "path": ".", "vocoder": {"path": "."}}, "unknown key.*vocoder"),
    ({"id": "x", "type": "hf-speecht5", "path": "."}, "needs 'vocoder:'"),
    ({"id": "../etc", "type": "hf-ctc", "path": "."}, "'id' must be"),
    ({"id": "piper-joe", "type": "hf-vits", "path": "."}, "already taken"),
])
def test_a_broken_entry_names_itself_and_the_problem(tmp_path, entry, message):
    good = {"id": "good", "type": "hf-ctc", "path": "."}
    config = parse_config({"models": [entry, good]}, tmp_path / "studio.yaml", BUNDLED)
    assert [m.id for m in config.models] == ["good"]
    (broken,) = config.broken
    assert broken.reason.startswith(f"{tmp_path / 'studio.yaml'}, model {entry['id']!r}: ")
    assert re.search(message, broken.reason), broken.reason


@pytest.mark.parametrize("text, message", [
    ("models: [", "not valid YAML"),
    ("- just a list", "must be a mapping"),
    ("modles: []", "unknown key.*modles"),
    ("models: {id: x}", "'models' must be a list"),
    ("bundled: [no-such-model]", "'bundled' names unknown model"),
])
def test_a_file_that_cannot_be_used_at_all_raises_one_config_error(tmp_path, text, message):
    path = tmp_path / "studio.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        build_registry(path)
    with pytest.raises(ConfigError, match="does not exist"):
        build_registry(tmp_path / "missing.yaml")


def test_only_allow_listed_ids_are_offered_and_accepted(tiny, tmp_path):
    registry = build_registry(write_config(tmp_path / "studio.yaml", [
        {"id": "tiny-vits", "type": "hf-vits", "path": str(tiny["vits"])},
        {"id": "typo", "type": "hf-vitz", "path": str(tiny["vits"])},
    ], bundled=["whisper-tiny.en"]))
    assert registry.ids("tts") == ["tiny-vits"] and registry.ids("asr") == ["whisper-tiny.en"]
    with pytest.raises(ConfigError, match="unknown adapter 'piper-joe'"):
        engine.synthesize(registry, registry.system("piper-joe"), "hello")
    with pytest.raises(ConfigError, match="unknown adapter 'typo'"):
        registry.get("typo")
    statuses = {s.id: s for s in zoo.model_statuses(registry)}
    assert statuses["typo"].state == "unavailable" and "unknown adapter type 'hf-vitz'" in statuses["typo"].reason
    assert registry.info("tiny-vits").family.startswith("VITS")


def test_without_a_config_every_bundled_model_is_offered_and_bundled_false_offers_none(tmp_path):
    assert build_registry().ids() == list(BUNDLED)
    assert build_registry(write_config(tmp_path / "studio.yaml", [], bundled=False)).ids() == []


def test_bundled_false_holds_whatever_was_imported_before(tmp_path):
    """Importing the decoding lab first used to register its models behind the config's back."""
    import subprocess
    import sys

    script = ("import sys, studio.decoding.adapter; from studio.bootstrap import build_registry; "
              "print(build_registry(sys.argv[1]).ids())")
    path = write_config(tmp_path / "studio.yaml", [], bundled=False)
    result = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, cwd=ROOT,
                            check=True)
    assert result.stdout.strip() == "[]"


def test_an_entry_may_reuse_a_lab_id_only_when_the_lab_is_left_out(tiny, tmp_path):
    entry = {"id": "torch-whisper-base", "type": "hf-vits", "path": str(tiny["vits"])}
    clash = build_registry(write_config(tmp_path / "clash.yaml", [entry]))  # the lab's model is kept: a broken entry
    (broken,) = clash.unoffered
    assert broken.name == "torch-whisper-base" and "already taken" in broken.reason
    assert clash.info("torch-whisper-base").family.startswith("Whisper (PyTorch")
    own = build_registry(write_config(tmp_path / "own.yaml", [entry], bundled=False))
    assert own.ids() == ["torch-whisper-base"] and own.info("torch-whisper-base").task == "tts"


def test_missing_files_make_a_model_unavailable_with_the_reason(tiny, tmp_path):
    (tmp_path / "empty").mkdir()
    registry = build_registry(write_config(tmp_path / "studio.yaml", [
        {"id": "gone", "type": "hf-ctc", "path": "no/such/folder"},
        {"id": "empty", "type": "hf-ctc", "path": "empty"},
        {"id": "ct2", "type": "faster-whisper", "path": str(tiny["whisper"])},
        {"id": "offline", "type": "hf-vits", "hub_id": "facebook/mms-tts-xyz-not-cached"},
        {"id": "t5", "type": "hf-speecht5", "path": str(tiny["speecht5"]), "vocoder": {"path": str(tiny["hifigan"])},
         "speaker_embedding": "nope.npy"},
    ]))
    assert "model folder" in registry.unavailable_reason("gone") and "does not exist" in registry.unavailable_reason("gone")
    assert "has no config.json" in registry.unavailable_reason("empty")
    assert "has no model.bin" in registry.unavailable_reason("ct2")
    assert "not in the local Hugging Face cache" in registry.unavailable_reason("offline")
    assert "speaker_embedding" in registry.unavailable_reason("t5")
    with pytest.raises(ModelUnavailable, match="gone is not available here: model folder"):
        engine.recognize(registry, registry.system("gone"), tone(0.5))
    assert "gone" not in registry.ids("asr", only_available=True)


def test_a_bad_config_leaves_the_bundled_models_working_in_the_app(tmp_path):
    path = tmp_path / "studio.yaml"
    path.write_text("models: [")
    registry = build_registry(path, strict=False)
    assert "not valid YAML" in registry.config_problem
    assert registry.ids() == list(BUNDLED)


def test_placement_falls_back_to_cpu_and_says_so(monkeypatch):
    monkeypatch.setattr("studio.timing.cuda_available", lambda: False)
    assert Placement.choose("auto", "auto") == Placement("cpu", "float32")
    fallback = Placement.choose("cuda", "float16")
    assert fallback.device == "cpu" and fallback.dtype == "float32"
    assert "no GPU is visible" in fallback.note and "float16" in fallback.note
    assert Placement.choose("cpu", "bfloat16") == Placement("cpu", "bfloat16")
    monkeypatch.setattr("studio.timing.cuda_available", lambda: True)
    assert Placement.choose("auto", "auto") == Placement("cuda", "float16")


def test_cli_lists_models_and_fails_on_a_broken_entry(tiny, tmp_path, capsys):
    path = write_config(tmp_path / "studio.yaml", [{"id": "tiny-vits", "type": "hf-vits", "path": str(tiny["vits"])}],
                        bundled=False)
    assert main(["models", "--config", str(path)]) == 0
    assert "tiny-vits" in capsys.readouterr().out
    write_config(path, [{"id": "tiny-vits", "type": "hf-vits", "path": "missing"}], bundled=False)
    assert main(["models", "--config", str(path)]) == 1
    assert "does not exist" in capsys.readouterr().out
    path.write_text("models: [")
    assert main(["models", "--config", str(path)]) == 2
    assert capsys.readouterr().err.startswith("studio: model config")


def test_the_example_config_is_valid_and_covers_every_adapter_type():
    config = read_config(ROOT / "studio.example.yaml", BUNDLED)
    assert config.broken == ()
    assert {entry.type.name for entry in config.models} == set(ADAPTER_TYPES)
    assert config.bundled == ("whisper-tiny.en", "piper-joe")


def test_a_bad_config_in_the_environment_is_reported_by_studio_models(tmp_path, monkeypatch, capsys):
    path = tmp_path / "studio.yaml"
    path.write_text("models: [")
    monkeypatch.setenv("STUDIO_CONFIG", str(path))
    assert main(["models"]) == 1  # as in the app: reported, and the bundled models are still listed
    captured = capsys.readouterr()
    assert "not valid YAML" in captured.err and "whisper-tiny.en" in captured.out
