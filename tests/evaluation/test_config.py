from pathlib import Path

import pytest

from studio.errors import ConfigError
from studio.evaluation.config import load_config
from tests.evaluation.conftest import DEMO_SET, write_config

CONFIGS = Path(__file__).resolve().parents[2] / "evals" / "configs"
DATASET = f"datasets:\n  - path: {DEMO_SET / 'manifest.jsonl'}\n"


@pytest.mark.parametrize("name", sorted(p.name for p in CONFIGS.glob("*.yaml")))
def test_shipped_configs_parse(name, registry):
    config = load_config(CONFIGS / name, registry)
    assert config.systems and all(d.path.exists() for d in config.datasets)


def test_same_adapter_twice_with_other_options(registry):
    config = load_config(CONFIGS / "demo_asr.yaml", registry)
    tiny = [s for s in config.systems if s.adapter_id == "whisper-tiny.en"]
    assert [s.options.beam_size for s in tiny] == [5, 1]
    assert config.task == "asr" and config.metrics == ("wer", "latency")
    assert config.datasets[0].path == DEMO_SET / "manifest.jsonl"


def test_defaults_and_tts_metrics(tmp_path, registry):
    path = write_config(tmp_path, f"datasets: [{DEMO_SET / 'tts_prompts.jsonl'}]\nsystems: [espeak-ng]\n")
    config = load_config(path, registry)
    assert config.task == "tts"
    assert config.metrics == ("wer", "speaker_similarity", "dnsmos", "latency")
    assert config.output == Path("results/eval")


@pytest.mark.parametrize("body, message", [
    (DATASET + "systems:\n  - adapter: whisper-tiny.en\n  - adapter: no-such-model\n", ":5: unknown adapter 'no-such-model'"),
    (DATASET + "systems:\n  - adapter: whisper-tiny.en\n    options: {beam_size: 0}\n", ":4: beam_size must be between 1 and 20"),
    (DATASET + "systems:\n  - adapter: whisper-tiny.en\n    options: {beams: 2}\n", ":4: unknown option\\(s\\) beams"),
    (DATASET + "systems: [whisper-tiny.en, whisper-tiny.en]\n", ":3: system 'whisper-tiny.en' appears twice"),
    (DATASET + "systems: [whisper-tiny.en, piper-joe]\n", ":3: all systems in one config must be ASR or all TTS"),
    (DATASET + "systems: [pocketsphinx]\nbatch_seconds: -3\n", ":4: batch_seconds must be positive"),
    (DATASET + "systems: [pocketsphinx]\nwarmup: many\n", ":4: warmup must be a whole number"),
    (DATASET + "systems: [pocketsphinx]\nmetrics: [wer, mos]\n", ":4: unknown metric 'mos'"),
    (DATASET + "systems: [pocketsphinx]\nbatchsize: 3\n", ":4: unknown key 'batchsize'"),
    (DATASET + "systems: [pocketsphinx\n", ":4: not valid YAML"),
    ("systems: [pocketsphinx]\n", ":1: datasets must be a non-empty list"),
])
def test_config_errors_name_file_and_line(tmp_path, body, message, registry):
    path = write_config(tmp_path, body)
    with pytest.raises(ConfigError, match="eval.yaml" + message):
        load_config(path, registry)


def test_overrides_make_a_copy(registry):
    config = load_config(CONFIGS / "demo_asr.yaml", registry)
    changed = config.with_overrides(max_batch_size=1, limit=None)
    assert changed.max_batch_size == 1 and config.max_batch_size == 4 and changed.limit is None
