"""Live tab: talk into the microphone, watch a partial transcript about once a second, get the final one.

Thin on purpose: the method (re-decoding a bounded, growing buffer; an energy endpointer) is
`studio.streaming`; this module turns its session into text on the page.
"""

from __future__ import annotations

import gradio as gr

from studio.adapters.registry import Registry
from studio import streaming
from studio.ui.common import bind, user_errors

DEFAULT_RECOGNISER = "whisper-tiny.en"
CHUNK_SECONDS = 0.5  # how often the browser sends audio; partials are decoded about every second
CONCURRENCY = "live"  # chunks and the stop event of all streams share one worker, so a stream's chunks stay in order


@user_errors
def on_chunk(registry: Registry, chunk, session, adapter_id: str, options: str):
    """One microphone chunk in; (session, partial, final, stats) out."""
    if session is None:
        session = streaming.start(registry, registry.system(adapter_id, options or ""))
    if chunk is None:
        return session, gr.update(), gr.update(), gr.update()
    rate, samples = chunk
    changed = streaming.feed(registry, session, rate, samples)
    if not changed:
        return session, gr.update(), gr.update(), gr.update()
    return session, session.partial, session.final, describe(session)


@user_errors
def on_stop(registry: Registry, session):
    """Recording stopped: decode what is left; the next recording starts a new session."""
    if session is None:
        return None, gr.update(), gr.update(), gr.update()
    streaming.finalise(registry, session)
    return None, "", session.final, describe(session)


def describe(session: streaming.LiveSession) -> str:
    stats = session.stats()

    def seconds(value):
        return "–" if value is None else f"{value:.2f} s"

    return (f"**End of speech → final text:** {seconds(stats['final_latency_s'])} · "
            f"partials every {seconds(stats['partial_interval_s'])} (median) · {stats['decodes']} decodes, "
            f"{seconds(stats['decode_s_mean'])} each on average (max {seconds(stats['decode_s_max'])})")


def build(registry: Registry) -> None:
    gr.Markdown("Press record and speak. The recogniser re-decodes what you said about once a second (a partial "
                "transcript); after a short pause, or when you stop, the utterance is decoded once more and becomes "
                "final. Shown: the time from the end of your speech to the final text, and what each decode costs.")
    choices = registry.ids("asr", only_available=True)
    with gr.Row():
        adapter = gr.Dropdown(choices, value=DEFAULT_RECOGNISER if DEFAULT_RECOGNISER in choices else None,
                              label="Recogniser", elem_id="live-recogniser")
        options = gr.Textbox(label="options", placeholder="e.g. beam_size=1", max_lines=1)
    microphone = gr.Audio(label="Microphone", sources=["microphone"], streaming=True, type="numpy",
                          elem_id="live-mic")
    partial = gr.Textbox(label="Partial transcript (while you speak)", interactive=False, elem_id="live-partial")
    final = gr.Textbox(label="Final transcript", interactive=False, lines=3, elem_id="live-final")
    stats = gr.Markdown(elem_id="live-stats")
    session = gr.State(None)
    microphone.stream(bind(on_chunk, registry), inputs=[microphone, session, adapter, options],
                      outputs=[session, partial, final, stats], stream_every=CHUNK_SECONDS, time_limit=300,
                      concurrency_limit=1, concurrency_id=CONCURRENCY, show_progress="hidden", api_name=False)
    microphone.stop_recording(bind(on_stop, registry), inputs=[session], outputs=[session, partial, final, stats],
                              concurrency_limit=1, concurrency_id=CONCURRENCY, api_name=False)
