"""Synthesize tab: one text, up to three TTS systems, audio and automatic scores side by side.

Speech is streamed: the live player starts on each system's first chunk (Piper: its first phrase)
while the rest is still being synthesised, so the table's time to first audio is what the listener
waits for. Each system's slot then gets its whole recording to replay and download.
"""

from __future__ import annotations

import logging
import shutil

import gradio as gr

from studio.adapters.registry import Registry
from studio.assets import example_texts
from studio.audio import load_audio
from studio.compare import StreamedChunk, outcome_table, synthesis_columns, synthesize_streaming_each
from studio.ui.common import bind, playable, user_errors
from studio.ui.systems import MAX_SYSTEMS, NONE, filled_slots, follow_labels, slot_label, selected_systems, system_pickers

log = logging.getLogger(__name__)
# Gradio encodes a streamed audio output with the ffmpeg program (Debian `ffmpeg`, in packages.txt).
STREAMING = shutil.which("ffmpeg") is not None

# One system of each kind the bundled voices cover: two non-autoregressive neural voices (VITS and a
# Kokoro distillation) and rule-based formant synthesis. No bundled voice is autoregressive.
DEFAULT_SYSTEMS = [("piper-joe", ""), ("hibari-heart", ""), ("espeak-ng", "")]


@user_errors
def run_synthesis(registry: Registry, text, judge_id, reference_voice_path, *system_values):
    """Yield (audios, table, live chunk): a chunk for the live player as each is made, the slot's whole
    audio and the table as each system finishes."""
    systems = selected_systems(registry, system_values)
    judge = registry.system(judge_id) if judge_id and judge_id != NONE else None
    reference_voice = load_audio(reference_voice_path, name="the reference voice") if reference_voice_path else None
    slots = filled_slots(system_values)
    audios: list[tuple | None] = [None] * MAX_SYSTEMS
    outcomes = []
    for event in synthesize_streaming_each(registry, systems, text or "", judge, reference_voice):
        if isinstance(event, StreamedChunk):
            if not STREAMING:
                continue
            # int16: Gradio would peak-normalise each float chunk on its own, so loudness would jump.
            yield *[gr.skip()] * (MAX_SYSTEMS + 1), playable(event.audio)
            continue
        outcomes.append(event)
        audios[slots[len(outcomes) - 1]] = playable(event.synthesis.audio) if event.synthesis else None
        # Every slot again, so the last yield (what an API caller gets) holds every system's audio.
        yield *audios, outcome_table(outcomes, synthesis_columns), None  # a failed system shows its error


def build(registry: Registry) -> None:
    with gr.Row():
        text = gr.Textbox(label="Text to speak", lines=4, value=example_texts()[0])
        with gr.Column():
            judge = gr.Dropdown([NONE] + registry.ids("asr", only_available=True), value="whisper-tiny.en",
                                label="Judge ASR for round-trip WER")
            reference_voice = gr.Audio(label="Reference voice (optional, for speaker similarity)",
                                       sources=["upload", "microphone"], type="filepath", format=None)
    gr.Examples(examples=[[t] for t in example_texts()], inputs=[text], label="Example texts")
    pickers = system_pickers(registry, "tts", DEFAULT_SYSTEMS)
    run = gr.Button("Synthesize", variant="primary")
    if not STREAMING:
        log.warning("ffmpeg is not on PATH, so the Synthesize tab cannot stream: each system plays once it is "
                    "synthesised. Install ffmpeg (apt-get install ffmpeg) for speech that starts at once.")
    live = gr.Audio(label="Live: each system in turn, playing while the rest of its speech is synthesised",
                    streaming=True, autoplay=True, interactive=False, elem_id="synthesize-live", visible=STREAMING)
    with gr.Row():
        audios = [gr.Audio(label=slot_label(*DEFAULT_SYSTEMS[slot]), interactive=False, format="wav") for slot in range(MAX_SYSTEMS)]
    table = gr.Dataframe(label="Speed and automatic scores (RTF = synthesis s / audio s; lower is faster)", wrap=True)
    follow_labels(pickers, audios)
    run.click(bind(run_synthesis, registry, job=True), inputs=[text, judge, reference_voice, *pickers], outputs=[*audios, table, live],
              api_name="synthesize")
