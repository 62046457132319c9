"""Fuzzed YAML configs: evaluation configs (`load_config`) and the deployment's model list (`studio.yaml`).

Each example is a file on disk, as users give it: a near-valid document dumped to YAML, a valid one edited
as text (duplicate keys, cut lines, stray characters), or raw bytes. The parser either returns a checked
config or raises `ConfigError` whose message starts with the file's path (and, for eval configs, its line).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.adapters.zoo_config import ZooConfig, read_config
from studio.adapters.zoo_types import ADAPTER_TYPES
from studio.bootstrap import build_registry
from studio.errors import ConfigError
from studio.evaluation.config import EvalConfig, load_config
from tests.fuzz.fuzz_inputs import yaml_bytes

_REGISTRY = build_registry()
_ASR_SYSTEMS = ([{"adapter": "whisper-tiny.en", "options": {"beam_size": 5}, "name": "beam"},
                 {"adapter": "whisper-tiny.en", "options": {"beam_size": 1}}], ["pocketsphinx"],
                [{"adapter": "torch-whisper-tiny.en", "options": {"strategy": "beam", "beam_size": 2}}])
_TTS_SYSTEMS = ([{"adapter": "piper-joe", "options": {"noise_scale": 0, "length_scale": 0.8}}, "espeak-ng"],
                [{"adapter": "espeak-ng", "options": {"voice": "en-us", "words_per_minute": 150}}])
_EVAL_CONFIGS = [
    {"name": "fuzz", "datasets": [{"path": "set/manifest.jsonl", "name": "demo"}], "systems": systems,
     "metrics": ["wer", "latency"], "batch_seconds": 60, "max_batch_size": 4, "warmup": 1, "output": "results/x",
     "device": "auto", "limit": 3, "ray": {"address": "local", "workers": 2, "cpus_per_worker": 0.5}}
    for systems in _ASR_SYSTEMS
] + [
    {"datasets": ["prompts.txt", {"path": "/abs/prompts.jsonl"}], "systems": systems,
     "judge": {"adapter": "whisper-tiny.en", "options": {"beam_size": 1}}, "metrics": "wer", "ray": "auto"}
    for systems in _TTS_SYSTEMS
]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("yaml-fuzz")


def _assert_finite(values) -> None:
    for value in values:
        assert not (isinstance(value, float) and not math.isfinite(value)), f"{value} was accepted"


@settings(max_examples=1000)
@given(yaml_bytes(st.sampled_from(_EVAL_CONFIGS)))
def test_eval_config_loads_or_names_file_and_line(folder, content):
    path = folder / "eval.yaml"
    path.write_bytes(content)
    try:
        config = load_config(path, _REGISTRY)
    except ConfigError as error:
        assert str(error).startswith(f"{path}:"), f"{error} does not start with the file and line"
        return
    assert isinstance(config, EvalConfig) and config.systems and config.datasets
    assert all(d.path.is_absolute() and isinstance(d.name, (str, type(None))) for d in config.datasets)
    _assert_finite([config.batch_seconds, *(vars(config.ray).values() if config.ray else ())])
    _assert_finite(v for s in config.systems for v in vars(s.options).values())


_ZOO_MODELS = [
    {"id": "w2v", "type": "hf-ctc", "path": "./models/w2v", "device": "cpu", "dtype": "float32", "options": {},
     "label": "wav2vec2", "description": "CTC"},
    {"id": "fw-small", "type": "faster-whisper", "hub_id": "Systran/faster-whisper-small",
     "options": {"beam_size": 2, "language": "en"}},
    {"id": "t5", "type": "hf-speecht5", "path": "~/models/t5", "vocoder": {"hub_id": "microsoft/speecht5_hifigan"},
     "speaker_embedding": "xvector.npy"},
    {"id": "vits", "type": "hf-vits", "hub_id": "facebook/mms-tts-eng", "dtype": "auto"},
]
_ZOO_CONFIGS = [{"bundled": bundled, "models": models} for bundled in (True, False, ["piper-joe", "pocketsphinx"])
                for models in (_ZOO_MODELS, _ZOO_MODELS[1:3], [_ZOO_MODELS[0], dict(_ZOO_MODELS[0])])]


@settings(max_examples=1000)
@given(yaml_bytes(st.sampled_from(_ZOO_CONFIGS)))
def test_model_config_reads_or_names_the_file(folder, content):
    path = folder / "studio.yaml"
    path.write_bytes(content)
    try:
        config = read_config(path, tuple(_REGISTRY.ids()))
    except ConfigError as error:
        assert str(path) in str(error), f"{error} does not name the file"
        return
    assert isinstance(config, ZooConfig)
    for broken in config.broken:  # one bad entry is listed with its reason; the others still load
        assert str(path) in broken.reason and repr(broken.name) in broken.reason, broken
    for entry in config.models:
        assert entry.type in ADAPTER_TYPES.values() and isinstance(entry.source.location, str)
        _assert_finite(vars(entry.options).values())
    assert len({entry.id for entry in config.models}) == len(config.models)
