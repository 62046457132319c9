"""Live tab: talk into the microphone, watch a partial transcript about once a second, get the final one.

Thin on purpose: the method (re-decoding a bounded buffer beside the stream; an energy
endpointer) is `studio.streaming`; this module feeds it chunks and shows its text.
"""

from __future__ import annotations

import threading

import gradio as gr

from studio import streaming
from studio.adapters.registry import Registry
from studio.ui.common import bind, user_errors

DEFAULT_RECOGNISER = "whisper-tiny.en"
CHUNK_SECONDS = 0.5  # how often the browser is asked to send audio; partials come from the decoder thread
CONCURRENCY = "live"  # chunk and stop handlers are quick and share one worker, so a stream's events stay in order

_sessions: dict[str, streaming.LiveSession] = {}  # one per browser session, while it records
_sessions_lock = threading.Lock()


@user_errors
def on_chunk(registry: Registry, chunk, adapter_id: str, options: str, request: gr.Request):
    """One microphone chunk in; (partial, final, stats) out."""
    key = request.session_hash or "local"
    with _sessions_lock:
        session = _sessions.get(key)
    if session is None or session.closed:  # first chunk, or a stream that went idle
        session = streaming.start(registry, registry.system(adapter_id, options or ""))
        with _sessions_lock:
            _sessions[key] = session
    if chunk is not None:
        rate, samples = chunk
        session.feed(rate, samples)
    return session.partial, session.final, describe(session)


@user_errors
def on_stop(request: gr.Request):
    """Recording stopped: decode what is left; the next recording starts a new session."""
    with _sessions_lock:
        session = _sessions.pop(request.session_hash or "local", None)
    if session is None:
        return gr.update(), gr.update(), gr.update()
    session.stop()
    return "", session.final, describe(session)


def describe(session: streaming.LiveSession) -> str:
    stats = session.stats()

    def seconds(value):
        return "–" if value is None else f"{value:.2f} s"

    return (f"**End of speech → final text:** {seconds(stats['final_latency_s'])} · "
            f"partials every {seconds(stats['partial_interval_s'])} (median) · {stats['decodes']} decodes, "
            f"{seconds(stats['decode_s_mean'])} each on average (max {seconds(stats['decode_s_max'])})")


def live_options(adapter_id: str) -> str:
    """Greedy search for Whisper: a partial is decoded again a second later, so beam search's cost buys little."""
    return "beam_size=1" if adapter_id and "whisper" in adapter_id and not adapter_id.startswith("torch-") else ""


def build(registry: Registry) -> None:
    gr.Markdown("Press record and speak. The recogniser re-decodes what you said about once a second (a partial "
                "transcript); after a short pause, or when you stop, the utterance is decoded once more and becomes "
                "final. Shown: the time from the end of your speech to the final text, and what each decode costs.")
    choices = registry.ids("asr", only_available=True)
    with gr.Row():
        adapter = gr.Dropdown(choices, value=DEFAULT_RECOGNISER if DEFAULT_RECOGNISER in choices else None,
                              label="Recogniser", elem_id="live-recogniser")
        options = gr.Textbox(label="options", value=live_options(DEFAULT_RECOGNISER), max_lines=1,
                             placeholder="e.g. beam_size=1")
    adapter.change(live_options, inputs=adapter, outputs=options, api_name=False)
    microphone = gr.Audio(label="Microphone", sources=["microphone"], streaming=True, type="numpy",
                          elem_id="live-mic")
    partial = gr.Textbox(label="Partial transcript (while you speak)", interactive=False, elem_id="live-partial")
    final = gr.Textbox(label="Final transcript", interactive=False, lines=3, elem_id="live-final")
    stats = gr.Markdown(elem_id="live-stats")
    microphone.stream(bind(on_chunk, registry), inputs=[microphone, adapter, options], outputs=[partial, final, stats],
                      stream_every=CHUNK_SECONDS, time_limit=300, concurrency_limit=1, concurrency_id=CONCURRENCY,
                      show_progress="hidden", api_name=False)
    microphone.stop_recording(on_stop, outputs=[partial, final, stats], concurrency_limit=1,
                              concurrency_id=CONCURRENCY, api_name=False)
