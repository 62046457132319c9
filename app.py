"""Speech Studio entry point: `python app.py` here, and the Hugging Face Space's app_file."""

import os

from studio.access import AccessPolicy
from studio.ui.app import build_app, warn_if_open

policy = AccessPolicy.from_env()
demo = build_app(policy=policy)  # queued, with the roles, quotas and memory budget of STUDIO_* variables

if __name__ == "__main__":
    host = os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1")
    warn_if_open(host, share=False, policy=policy)
    demo.launch(server_name=host, server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
