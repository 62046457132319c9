"""The Decoding view builds and its callback streams the engine's progress."""

from __future__ import annotations

import gradio as gr
import pytest

pytestmark = pytest.mark.models


def test_build_wires_a_decode_endpoint():
    from studio.ui import decoding

    with gr.Blocks() as demo:
        decoding.build()
    assert "decode" in {d.get("api_name") for d in demo.config["dependencies"]}


def test_callback_streams_coloured_tokens_and_a_table():
    from studio.assets import example_recordings
    from studio.ui.decoding import run_decoding

    example = example_recordings()[0]
    updates = list(run_decoding(example.path, "torch-whisper-tiny.en", ["lean greedy loop"]))
    heading, pieces, table = updates[-1]
    assert "lean greedy loop" in heading
    assert pieces and all(tag in ("accepted draft", "target token") for _, tag in pieces)
    assert list(table["strategy"]) == ["greedy generate (baseline)", "lean greedy loop"]
    assert table["same tokens as baseline"].all()


def test_missing_audio_is_a_readable_error():
    from studio.ui.decoding import run_decoding

    with pytest.raises(gr.Error, match="upload or record"):
        list(run_decoding(None, "torch-whisper-tiny.en", []))
