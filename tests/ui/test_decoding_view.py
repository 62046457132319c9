"""The Decoding view builds and its callback streams the engine's progress."""

from __future__ import annotations

import gradio as gr
import pytest


def test_build_wires_the_decode_endpoint_to_its_controls(registry):
    from studio.decoding.live import BASELINE, PRESETS
    from studio.ui import decoding

    with gr.Blocks() as demo:
        decoding.build(registry)
    (endpoint,) = [d for d in demo.config["dependencies"] if d.get("api_name") == "decode"]
    inputs = [demo.blocks[i] for i in endpoint["inputs"]]
    assert [type(c) for c in inputs] == [gr.Audio, gr.Dropdown, gr.CheckboxGroup]
    model, presets = inputs[1], inputs[2]
    assert {value for _, value in model.choices} == {"torch-whisper-base", "torch-whisper-tiny.en"}
    assert {value for _, value in presets.choices} == set(PRESETS) - {BASELINE}
    assert set(presets.value) <= set(PRESETS) and presets.value
    assert [type(demo.blocks[o]) for o in endpoint["outputs"]] == [gr.Markdown, gr.HighlightedText, gr.Dataframe]
    legend = demo.blocks[endpoint["outputs"][1]].color_map
    assert {"target token", "jacobi: accepted draft", "jacobi: rejected draft"} <= set(legend)


@pytest.mark.models
def test_callback_streams_coloured_tokens_and_a_table(registry):
    from studio.assets import example_recordings
    from studio.ui.decoding import run_decoding

    example = example_recordings()[0]
    updates = list(run_decoding(registry, example.path, "torch-whisper-tiny.en", ["lean greedy loop"]))
    heading, pieces, table = updates[-1]
    assert "lean greedy loop" in heading
    assert pieces and all(tag == "target token" for _, tag in pieces)  # the lean loop drafts nothing
    assert list(table["strategy"]) == ["greedy generate (baseline)", "lean greedy loop"]
    assert table["same tokens as baseline"].all()
    assert len(updates) > len(pieces) // 2  # streamed round by round, not once at the end


def test_missing_audio_and_other_models_are_readable_errors():
    from studio.assets import example_recordings
    from studio.bootstrap import build_registry
    from studio.ui.decoding import run_decoding

    registry = build_registry()  # its own, so "nothing loaded" means this test loaded nothing
    with pytest.raises(gr.Error, match="upload or record"):
        list(run_decoding(registry, None, "torch-whisper-tiny.en", []))
    with pytest.raises(gr.Error, match="pocketsphinx is not a decoding-lab model"):  # refused before it loads
        list(run_decoding(registry, example_recordings()[0].path, "pocketsphinx", []))
    assert registry.loaded() == []
