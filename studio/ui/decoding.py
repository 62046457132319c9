"""Decoding tab: watch decoding strategies work on one utterance, drafts and verifications coloured."""

from __future__ import annotations

import gradio as gr
import pandas as pd

from studio.adapters.registry import Registry
from studio.assets import example_recordings
from studio.audio import load_audio
from studio.decoding.adapter import TORCH_WHISPER_BASE, TORCH_WHISPER_TINY_EN
from studio.decoding.live import BASELINE, PRESETS, TAG_COLOURS, watch
from studio.ui.common import bind, user_errors

DEFAULT_PRESETS = ["lean greedy loop", "speculative: tiny.en drafts (base only)", "prompt lookup on a first pass"]


@user_errors
def run_decoding(registry: Registry, audio_path, adapter_id, presets):
    """Yield (heading, coloured tokens, table) after every verified round."""
    if not audio_path:
        raise gr.Error("upload or record some audio, or pick a bundled example, first", print_exception=False)
    audio = load_audio(audio_path)
    for progress in watch(registry, adapter_id, list(presets or []), audio):
        yield (f"**Decoding:** {progress.strategy}", progress.pieces,
               pd.DataFrame(progress.rows) if progress.rows else None)


def build(registry: Registry) -> None:
    with gr.Row():
        audio = gr.Audio(label="Speech", sources=["upload", "microphone"], type="filepath", format=None)
        with gr.Column():
            model = gr.Dropdown(label="Target model", value=TORCH_WHISPER_BASE.id,
                                choices=[(TORCH_WHISPER_BASE.label, TORCH_WHISPER_BASE.id),
                                         (TORCH_WHISPER_TINY_EN.label, TORCH_WHISPER_TINY_EN.id)])
            presets = gr.CheckboxGroup(label=f"Strategies (always compared with {BASELINE})",
                                       choices=[p for p in PRESETS if p != BASELINE], value=DEFAULT_PRESETS)
    gr.Examples(examples=[[r.path] for r in example_recordings()], inputs=[audio],
                label="Bundled examples (made by assets/make_examples.py)")
    run = gr.Button("Decode", variant="primary")
    heading = gr.Markdown()
    tokens = gr.HighlightedText(label="Tokens as they are verified (rejected drafts shown where the target "
                                      "replaced them)", combine_adjacent=False, show_legend=True,
                                color_map=TAG_COLOURS)
    table = gr.Dataframe(label="Speed and exactness (seconds inside the engine; same tokens = identical ids "
                               "to greedy generate)", wrap=True)
    run.click(bind(run_decoding, registry, job=True), inputs=[audio, model, presets], outputs=[heading, tokens, table], api_name="decode")
