"""Recognize tab: one recording, up to three ASR systems, transcripts and timings side by side."""

from __future__ import annotations

import gradio as gr

from studio.adapters.registry import Registry
from studio.assets import example_recordings
from studio.audio import load_audio
from studio.compare import outcome_table, recognition_columns, recognize_each
from studio.ui.common import bind, user_errors
from studio.ui.systems import MAX_SYSTEMS, filled_slots, follow_labels, slot_label, selected_systems, system_pickers

# One system of each kind side by side: autoregressive, non-autoregressive (CTC) and the classical HMM.
DEFAULT_SYSTEMS = [("whisper-tiny.en", "beam_size=5"), ("hama", ""), ("pocketsphinx", "")]


@user_errors
def run_recognition(registry: Registry, audio_path, reference, *system_values):
    """Yield (transcripts, diffs, table) after each system finishes."""
    systems = selected_systems(registry, system_values)
    if not audio_path:
        raise gr.Error("upload or record some audio first", print_exception=False)
    audio = load_audio(audio_path)
    transcripts: list[str] = [""] * MAX_SYSTEMS
    diffs: list[list | None] = [None] * MAX_SYSTEMS
    outcomes = []
    for slot, outcome in zip(filled_slots(system_values), recognize_each(registry, systems, audio, reference or "")):
        outcomes.append(outcome)
        transcripts[slot] = outcome.transcription.text if outcome.transcription else f"⚠ {outcome.error}"
        diffs[slot] = outcome.diff
        yield *transcripts, *diffs, outcome_table(outcomes, recognition_columns)


def build(registry: Registry) -> None:
    with gr.Row():
        audio = gr.Audio(label="Speech", sources=["upload", "microphone"], type="filepath", format=None)
        reference = gr.Textbox(label="Reference transcript (optional, for WER)", lines=4)
    gr.Examples(examples=[[r.path, r.text] for r in example_recordings()], inputs=[audio, reference],
                label="Bundled examples (made by assets/make_examples.py)")
    pickers = system_pickers(registry, "asr", DEFAULT_SYSTEMS)
    run = gr.Button("Recognize", variant="primary")
    transcripts, diffs = [], []
    with gr.Row():
        for slot in range(MAX_SYSTEMS):
            with gr.Column():
                transcripts.append(gr.Textbox(label=slot_label(*DEFAULT_SYSTEMS[slot]), lines=3, interactive=False))
                diffs.append(gr.HighlightedText(label="Word diff vs reference", combine_adjacent=False,
                                                color_map={"substitution": "orange", "deletion": "red",
                                                           "insertion": "blue"}))
    table = gr.Dataframe(label="Error rates and latency (seconds; RTFx = audio s / processing s)", wrap=True)
    follow_labels(pickers, transcripts)
    run.click(bind(run_recognition, registry, job=True), inputs=[audio, reference, *pickers], outputs=[*transcripts, *diffs, table],
              api_name="recognize")
