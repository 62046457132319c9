"""Speech Studio entry point: `python app.py` here, and the Hugging Face Space's app_file."""

import os

from studio.ui.app import build_app, warn_if_open

demo = build_app().queue(default_concurrency_limit=2)

if __name__ == "__main__":
    host = os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1")
    warn_if_open(host, share=False)
    demo.launch(server_name=host, server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
