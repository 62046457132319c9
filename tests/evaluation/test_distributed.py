"""The same evaluation sharded over a real local Ray cluster (started here with 2 CPUs)."""

import dataclasses
import json
import sys
from pathlib import Path

import pytest

from studio.errors import ModelUnavailable
from studio.evaluation import load_config, run_evaluation
from studio.evaluation.config import RaySettings
from studio.evaluation.results import ResultsLog
from tests.evaluation.conftest import DEMO_SET, write_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}})
    yield ray
    ray.shutdown()


def config_for(registry, tmp_path, name, batch=2, workers=2, limit=6):
    body = (f"datasets: [{{path: {DEMO_SET / 'manifest.jsonl'}, name: demo}}]\n"
            "systems: [{adapter: whisper-tiny.en, options: {beam_size: 1}}]\n"
            f"limit: {limit}\nmax_batch_size: {batch}\nwarmup: 1\ndevice: cpu\noutput: {tmp_path / name}\n")
    return load_config(write_config(tmp_path, body, f"{name}.yaml"), registry).with_overrides(
        ray=RaySettings(address="auto", workers=workers))


def predictions(result) -> dict:
    rows = ResultsLog(result.results_path).read()
    keys = [r.key for r in rows]
    assert len(keys) == len(set(keys)), "duplicate rows"
    return {r.key: r.pred_text for r in rows if r.error is None}


@pytest.mark.models
def test_ray_run_equals_the_local_run(tmp_path, ray_cluster, registry):
    config = config_for(registry, tmp_path, "ray")
    on_ray = run_evaluation(config, registry)
    local = run_evaluation(dataclasses.replace(config, ray=None, output=tmp_path / "local"), registry)
    assert predictions(on_ray) == predictions(local) and len(predictions(local)) == 6
    cluster = json.loads((on_ray.output / "run.json").read_text())["cluster"]
    assert cluster["nodes"] == 1 and cluster["workers_per_system"] == 2 and cluster["actors_started"] == 2
    assert ray_cluster.util.list_named_actors(all_namespaces=True) == []  # no orphans


@pytest.mark.models
def test_a_killed_worker_has_its_batch_requeued(tmp_path, ray_cluster, registry):
    killed = []

    def kill_one(done, total, message):
        if not killed:
            actor = ray_cluster.util.list_named_actors(all_namespaces=True)[0]
            ray_cluster.kill(ray_cluster.get_actor(actor["name"], namespace=actor["namespace"]))
            killed.append(actor["name"])

    result = run_evaluation(config_for(registry, tmp_path, "kill", batch=1), registry, progress=kill_one)
    assert killed and len(predictions(result)) == 6 and result.failed == 0
    assert json.loads((result.output / "run.json").read_text())["cluster"]["actors_replaced"] >= 1


@pytest.mark.models
def test_resume_after_the_driver_stops(tmp_path, ray_cluster, registry):
    config = config_for(registry, tmp_path, "resume", batch=1, workers=1)
    first = run_evaluation(config, registry, max_new_rows=2)
    assert 2 <= first.new_rows < 6
    second = run_evaluation(config, registry)
    assert first.new_rows + second.new_rows == 6 and len(predictions(second)) == 6


def test_missing_ray_says_how_to_install(monkeypatch, tmp_path, registry):
    from studio.evaluation.distributed import RayExecutor

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ModelUnavailable, match=r"pip install '\.\[cluster\]'"):
        RayExecutor(RaySettings(), config_for(registry, tmp_path, "x"))


def test_ray_settings_in_yaml_are_validated(tmp_path, registry):
    from studio.errors import ConfigError

    body = f"datasets: [{DEMO_SET / 'manifest.jsonl'}]\nsystems: [pocketsphinx]\nray: {{address: local, workers: 0}}\n"
    with pytest.raises(ConfigError, match=r"eval.yaml:3: ray workers must be at least 1"):
        load_config(write_config(tmp_path, body), registry)
    body = f"datasets: [{DEMO_SET / 'manifest.jsonl'}]\nsystems: [pocketsphinx]\nray: ray://head:10001\n"
    assert load_config(write_config(tmp_path, body), registry).ray == RaySettings(address="ray://head:10001")


@pytest.mark.models
def test_tts_on_ray_equals_the_local_run(tmp_path, ray_cluster, registry):
    body = (f"datasets: [{DEMO_SET / 'tts_prompts.jsonl'}]\n"
            "systems: [{adapter: piper-joe, options: {noise_scale: 0, noise_w_scale: 0}}]\n"
            "judge: {adapter: whisper-tiny.en, options: {beam_size: 1}}\nmetrics: [wer, speaker_similarity, latency]\n"
            f"limit: 3\nmax_batch_size: 1\nwarmup: 0\ndevice: cpu\noutput: {tmp_path / 'tts_ray'}\n")
    config = load_config(write_config(tmp_path, body), registry).with_overrides(ray=RaySettings(address="auto", workers=2))
    on_ray = ResultsLog(run_evaluation(config, registry).results_path).read()
    local = ResultsLog(run_evaluation(dataclasses.replace(config, ray=None, output=tmp_path / "tts_local"), registry)
                       .results_path).read()
    by_key = lambda rows: {r.key: (r.pred_text, round(r.metrics["speaker_similarity"], 3)
                                      if "speaker_similarity" in r.metrics else None) for r in rows}
    assert by_key(on_ray) == by_key(local) and len(on_ray) == 3
    assert all(Path(r.audio_filepath).is_file() for r in on_ray)
    references = {r.key: r.reference_audio for r in on_ray}
    assert references["prompt-01"].endswith("demo-02.wav")  # the voice the prompt names
    assert references["prompt-02"] == str(tmp_path / "tts_ray" / "audio" / "piper-joe_noise_scale_0.0_noise_w_scale_0.0"
                                          / "tts_prompts" / "prompt-01.wav")  # else the system's first utterance

