"""The Gradio app: one tab per job, each a thin module over `studio.engine`."""

from __future__ import annotations

import logging

import gradio as gr

from studio.ui import about, models, recognize, synthesize

TITLE = "Speech Studio"
INTRO = ("Hear and measure speech models side by side: recognition (Whisper, PocketSphinx) and synthesis "
         "(Piper VITS, eSpeak NG), with WER, speaker similarity, DNSMOS and honest timings from this machine.")


def build_app() -> gr.Blocks:
    with gr.Blocks(title=TITLE) as demo:
        gr.Markdown(f"# {TITLE}\n{INTRO}")
        with gr.Tab("Recognize"):
            recognize.build()
        with gr.Tab("Synthesize"):
            synthesize.build()
        with gr.Tab("Models"):
            models.build()
        with gr.Tab("About / system"):
            about_outputs = about.build()
        demo.load(about.refresh, outputs=about_outputs, api_name=False)
    return demo


def launch(host: str = "127.0.0.1", port: int = 7860, share: bool = False) -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    build_app().queue(default_concurrency_limit=2).launch(server_name=host, server_port=port, share=share)
