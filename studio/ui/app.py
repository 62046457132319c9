"""The Gradio app: one tab per job, each a thin module over `studio.engine`."""

from __future__ import annotations

import logging

import gradio as gr

from studio.ui import about, decoding, evaluate, listen, models, recognize, synthesize

TITLE = "Speech Studio"
INTRO = ("Hear and measure speech models side by side: recognition (Whisper, PocketSphinx) and synthesis "
         "(Piper VITS, eSpeak NG), with WER, speaker similarity, DNSMOS and honest timings from this machine.")


def build_app() -> gr.Blocks:
    with gr.Blocks(title=TITLE) as demo:
        gr.Markdown(f"# {TITLE}\n{INTRO}")
        with gr.Tabs() as tabs:
            with gr.Tab("Recognize", id="recognize"):
                recognize.build()
            with gr.Tab("Synthesize", id="synthesize"):
                synthesize.build()
            with gr.Tab("Evaluate", id="evaluate"):
                evaluate.build()
            with gr.Tab("Decoding lab", id="decoding"):
                decoding.build()
            with gr.Tab("Listen", id="listen"):
                listen.build()
            with gr.Tab("Models", id="models"):
                models.build()
            with gr.Tab("About / system", id="about"):
                about_outputs = about.build()
        demo.load(about.refresh, outputs=about_outputs, api_name=False)
        demo.load(_tab_for_link, outputs=tabs, api_name=False)
    return demo


def _tab_for_link(request: gr.Request):
    """A rater's shared link (?test=ID) opens the Listen tab."""
    return gr.Tabs(selected="listen") if request and request.query_params.get("test") else gr.Tabs()


def launch(host: str = "127.0.0.1", port: int = 7860, share: bool = False) -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    build_app().queue(default_concurrency_limit=2).launch(server_name=host, server_port=port, share=share)
