"""Synthesize tab: one text, up to three TTS systems, audio and automatic scores side by side."""

from __future__ import annotations

import gradio as gr

from studio.adapters import System, adapter_ids
from studio.assets import example_texts
from studio.audio import load_audio
from studio.compare import outcome_table, synthesis_columns, synthesize_each
from studio.ui.common import playable, user_errors
from studio.ui.systems import MAX_SYSTEMS, NONE, filled_slots, follow_labels, slot_label, selected_systems, system_pickers

# One system of each kind the bundled voices cover: two non-autoregressive neural voices (VITS and a
# Kokoro distillation) and rule-based formant synthesis. No bundled voice is autoregressive.
DEFAULT_SYSTEMS = [("piper-joe", ""), ("hibari-heart", ""), ("espeak-ng", "")]


@user_errors
def run_synthesis(text, judge_id, reference_voice_path, *system_values):
    """Yield (audios, table) after each system finishes."""
    systems = selected_systems(system_values)
    judge = System.parse(judge_id) if judge_id and judge_id != NONE else None
    reference_voice = load_audio(reference_voice_path, name="the reference voice") if reference_voice_path else None
    audios: list[tuple | None] = [None] * MAX_SYSTEMS
    outcomes = []
    for slot, outcome in zip(filled_slots(system_values), synthesize_each(systems, text or "", judge, reference_voice)):
        outcomes.append(outcome)
        audios[slot] = playable(outcome.synthesis.audio) if outcome.synthesis else None
        yield *audios, outcome_table(outcomes, synthesis_columns)  # a failed system shows its error in the table


def build() -> None:
    with gr.Row():
        text = gr.Textbox(label="Text to speak", lines=4, value=example_texts()[0])
        with gr.Column():
            judge = gr.Dropdown([NONE] + adapter_ids("asr", only_available=True), value="whisper-tiny.en",
                                label="Judge ASR for round-trip WER")
            reference_voice = gr.Audio(label="Reference voice (optional, for speaker similarity)",
                                       sources=["upload", "microphone"], type="filepath", format=None)
    gr.Examples(examples=[[t] for t in example_texts()], inputs=[text], label="Example texts")
    pickers = system_pickers("tts", DEFAULT_SYSTEMS)
    run = gr.Button("Synthesize", variant="primary")
    with gr.Row():
        audios = [gr.Audio(label=slot_label(*DEFAULT_SYSTEMS[slot]), interactive=False, format="wav") for slot in range(MAX_SYSTEMS)]
    table = gr.Dataframe(label="Speed and automatic scores (RTF = synthesis s / audio s; lower is faster)", wrap=True)
    follow_labels(pickers, audios)
    run.click(run_synthesis, inputs=[text, judge, reference_voice, *pickers], outputs=[*audios, table],
              api_name="synthesize")
