"""The long-form set: its config entry, its generator, and sequential vs chunked batched faster-whisper on it."""

from __future__ import annotations

import json

import pytest

import studio.evaluation.longform as longform
from studio.errors import ConfigError
from studio.evaluation import load_config, run_evaluation
from studio.evaluation.catalog import config_names
from studio.evaluation.longform import LONGFORM_RECORDINGS, LongformRecording, make_generated
from tests.evaluation.conftest import write_config


def test_texts_are_committed_and_long_enough():
    words = [len(r.text.split()) for r in LONGFORM_RECORDINGS]
    assert words == sorted(words) and words[0] >= 250 and words[-1] <= 1600  # about 2 to 10 minutes of speech
    assert all("#" not in r.text and "p.7" not in r.text for r in LONGFORM_RECORDINGS)  # OCR markup cleaned


def test_config_names_a_generated_set_by_name(tmp_path, registry, monkeypatch):
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path / "cache"))
    body = "datasets: [{generated: longform}]\nsystems: [whisper-tiny.en]\noutput: out\n"
    config = load_config(write_config(tmp_path, body), registry)
    assert config.datasets[0].generated == "longform" and config.datasets[0].name == "longform"
    assert config.datasets[0].path == tmp_path / "cache" / "longform-v1" / "manifest.jsonl"
    with pytest.raises(ConfigError, match=r"eval.yaml:1: unknown generated dataset 'shortform'"):
        load_config(write_config(tmp_path, "datasets: [{generated: shortform}]\nsystems: [whisper-tiny.en]\n"),
                    registry)
    assert "longform_asr" in config_names()


@pytest.mark.models
def test_sequential_and_chunked_batched_faster_whisper_on_a_long_recording(tmp_path, registry, monkeypatch):
    """A 70 s recording made by the set's own generator (one recording, a shorter text), then one evaluation
    with faster-whisper tiny.en sequential and batched+VAD side by side."""
    text = " ".join(LONGFORM_RECORDINGS[0].text.split()[:190]).rsplit(".", 1)[0] + "."
    (tmp_path / "texts").mkdir()
    (tmp_path / "texts" / "short-01.txt").write_text(text, encoding="utf-8")
    monkeypatch.setattr(longform, "TEXTS", tmp_path / "texts")
    monkeypatch.setattr(longform, "LONGFORM_RECORDINGS", (LongformRecording("short-01", longform.PIPER_JOE),))
    manifest = make_generated("longform", registry, tmp_path / "set")
    row = json.loads(manifest.read_text())
    assert 50 < row["duration"] < 100 and row["text"] == " ".join(text.split())
    assert make_generated("longform", registry, tmp_path / "set") == manifest  # made once, then reused

    systems = ("[{adapter: whisper-tiny.en, options: {beam_size: 1}, name: sequential}, "
               "{adapter: whisper-tiny.en, options: {beam_size: 1, batched: true, batch_size: 4}, name: batched}]")
    body = (f"datasets: [{{path: {manifest}, name: long}}]\nsystems: {systems}\nmetrics: [wer, latency]\n"
            f"warmup: 0\nmax_batch_size: 1\ndevice: cpu\noutput: {tmp_path / 'out'}\n")
    result = run_evaluation(load_config(write_config(tmp_path, body), registry), registry)
    rows = {json.loads(line)["system"]: json.loads(line) for line in result.results_path.read_text().splitlines()}
    assert set(rows) == {"sequential", "batched"}
    for row in rows.values():
        assert row["error"] is None and row["metrics"]["wer"] < 0.25, row["pred_text"]
        assert row["pred_text"].rstrip(".").endswith(text.split()[-1].rstrip("."))  # the last window was read
        assert row["metrics"]["rtfx"] > 0 and row["stages"]["decoder"] > 0
    assert rows["batched"]["options"]["batched"] is True


def test_batch_size_without_batched_is_refused():
    from studio.adapters.whisper_ct2 import WhisperOptions

    with pytest.raises(ConfigError, match="add batched=true"):
        WhisperOptions(batch_size=4)
