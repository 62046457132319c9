"""Evaluate tab callbacks: allow-listed configs only, a run shows its table, plots and downloads, compare overlays."""

import threading
from types import SimpleNamespace

import gradio as gr
import pytest

from studio.ui import evaluate

REQUEST = SimpleNamespace(session_hash="test", headers={"referer": "http://studio.example/?run=old"})


@pytest.fixture(autouse=True)
def results_root(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_RESULTS_DIR", str(tmp_path / "results"))
    return tmp_path / "results"


def test_tab_builds_with_the_demo_configs(registry):
    with gr.Blocks() as demo:
        evaluate.build(registry)
    buttons = {c.value for c in demo.blocks.values() if isinstance(c, gr.Button)}
    assert {"Run evaluation", "Cancel", "Compare"} <= buttons
    assert {"demo_asr", "demo_tts"} <= set(evaluate.config_names())


def test_a_typed_path_is_refused(registry):
    with pytest.raises(gr.Error, match="unknown evaluation config '../../etc/passwd'"):
        evaluate.run_config(registry, "../../etc/passwd", None, REQUEST)
    with pytest.raises(gr.Error, match="no results folder"):
        evaluate.compare_runs(["../outside"])


@pytest.mark.models
def test_run_then_compare(results_root, registry):
    table, *rest = evaluate.run_config(registry, "demo_asr", 2, REQUEST)
    plots, (downloads, status, runs) = rest[:evaluate.PLOT_SLOTS], rest[evaluate.PLOT_SLOTS:]
    assert list(table["system"]) == ["tiny.en beam 5", "tiny.en greedy", "pocketsphinx"]
    assert (table["utterances"] == 2).all() and "corpus_wer" in table
    assert sum(p["visible"] for p in plots) == 3
    assert {p.split("/")[-1] for p in downloads} == {"summary.csv", "summary.parquet", "results.jsonl", "plots.html"}
    assert status.startswith("finished") and runs["choices"] == ["demo_asr"]
    compared, *compare_plots = evaluate.compare_runs(["demo_asr"])
    assert list(compared["system"])[0] == "demo_asr: tiny.en beam 5"
    assert sum(p["visible"] for p in compare_plots) == 3


def test_cancel_sets_the_session_event():
    event = evaluate._cancel_events.setdefault("test", threading.Event())
    event.clear()
    assert "cancelling" in evaluate.cancel_run(REQUEST)
    assert event.is_set()


def test_ray_address_comes_from_the_environment_only(monkeypatch, registry):
    from studio.evaluation.catalog import shipped_config

    assert shipped_config("demo_asr", registry).ray is None
    monkeypatch.setenv("STUDIO_RAY_ADDRESS", "ray://head:10001")
    monkeypatch.setenv("STUDIO_RAY_WORKERS", "3")
    settings = shipped_config("demo_asr", registry).ray
    assert (settings.address, settings.workers) == ("ray://head:10001", 3)


class _Progress:
    def __call__(self, *args, **kwargs):
        pass


def _pickers(*systems):
    values = []
    for adapter in systems:
        values += [adapter, ""]
    return values + ["(none)", ""] * (3 - len(systems))


@pytest.mark.models
def test_your_data_tts_prompts_run_and_a_row_plays_its_audio(registry):
    run_id, status, table, *rest = evaluate.run_my_data(
        registry, evaluate.TTS, None, None, "", None, "Good morning.\nSee you soon.", None, ["latency"], REQUEST,
        _Progress(), *_pickers("whisper-tiny.en"), *_pickers("piper-joe"))
    utterances = rest[evaluate.PLOT_SLOTS]
    assert status.startswith("finished · 2 prompts") and f"http://studio.example/?run={run_id}" in status
    assert list(table["system"]) == ["piper-joe"] and len(utterances) == 2
    select = gr.SelectData(None, {"index": [0, 0], "value": "piper-joe", "row_value": list(utterances.iloc[0])})
    audio, _, note = evaluate.show_utterance(run_id, select)
    rate, samples = audio
    assert rate == 22050 and len(samples) > rate // 2 and "piper-joe" in note


@pytest.mark.models
def test_your_data_audio_files_with_typed_references(registry, piper_speech, tmp_path):
    paths = []
    for number, (_, audio) in enumerate(piper_speech[:2]):
        paths.append(tmp_path / f"take {number}.wav")
        paths[-1].write_bytes(audio.to_wav_bytes())
    references = "\n".join(text for text, _ in piper_speech[:2])
    run_id, status, table, *rest = evaluate.run_my_data(
        registry, evaluate.ASR, None, [str(p) for p in paths], references, None, "", None, [], REQUEST, _Progress(),
        *_pickers("pocketsphinx"), *_pickers("piper-joe"))
    assert "2 clips" in status and table["utterances"].tolist() == [2]
    assert set(rest[evaluate.PLOT_SLOTS]["utterance"]) == {"take_0", "take_1"}


def test_too_many_systems_are_refused_by_name(registry, monkeypatch):
    monkeypatch.setenv("STUDIO_MAX_SYSTEMS", "1")
    with pytest.raises(gr.Error, match=r"2 systems were chosen; the limit is 1 \(set STUDIO_MAX_SYSTEMS"):
        evaluate.run_my_data(registry, evaluate.ASR, None, None, "", None, "", None, [], REQUEST, _Progress(),
                             *_pickers("pocketsphinx", "whisper-tiny.en"), *_pickers("piper-joe"))
