"""The Gradio app: one tab per job, each a thin module over `studio.engine`."""

from __future__ import annotations

import logging
from dataclasses import replace

import gradio as gr

from studio.access import AccessPolicy
from studio.adapters.registry import Registry
from studio.bootstrap import build_registry
from studio.listening import ListeningService, Store
from studio.ui import about, decoding, evaluate, listen, live, models, recognize, synthesize
from studio.ui.gate import Gate, gated

TITLE = "Speech Studio"
DEFAULT_CONCURRENCY = 2  # events Gradio runs at once (each model call is serialised by its own lock anyway)
INTRO = ("Hear and measure speech models side by side: recognition (Whisper, Moonshine, hama CTC, PocketSphinx) "
         "and synthesis (Piper VITS, hibari, Kokoro-82M, eSpeak NG), autoregressive and non-autoregressive, with "
         "WER, speaker similarity, DNSMOS, DistillMOS and honest timings from this machine.")


def build_app(registry: Registry | None = None, policy: AccessPolicy | None = None) -> gr.Blocks:
    """The whole app over `registry` (default: the bundled models plus $STUDIO_CONFIG; a bad file is shown in
    the Models tab and the bundled models are offered), with the roles, quotas and memory budget of `policy`
    (default: from the environment), queued."""
    if registry is None:
        from studio.adapters.zoo_config import config_path_from_env

        registry = build_registry(config_path_from_env(), strict=False)
    policy = policy or AccessPolicy.from_env()
    if policy.max_loaded_mb is not None:
        registry.budget.max_mb = policy.max_loaded_mb
    with gr.Blocks(title=TITLE) as demo, gated(Gate(policy)):
        gr.Markdown(f"# {TITLE}\n{INTRO}")
        with gr.Tabs() as tabs:
            with gr.Tab("Recognize", id="recognize"):
                recognize.build(registry)
            with gr.Tab("Synthesize", id="synthesize"):
                synthesize.build(registry)
            with gr.Tab("Evaluate", id="evaluate"):
                open_shared_run, shared_outputs = evaluate.build(registry)
            with gr.Tab("Live", id="live"):
                live.build(registry)
            with gr.Tab("Decoding lab", id="decoding"):
                decoding.build(registry)
            with gr.Tab("Listen", id="listen"):
                listen.build(registry, _listening_service(policy))
            with gr.Tab("Models", id="models"):
                models.build(registry)
            with gr.Tab("About / system", id="about"):
                about_outputs, refresh_about = about.build(registry)
        demo.load(refresh_about, outputs=about_outputs, api_name=False)
        demo.load(_tab_for_link, outputs=tabs, api_name=False)
        demo.load(open_shared_run, outputs=shared_outputs, api_name=False)
    # Requests the quotas queue must reach them: Gradio lets as many through as may run or wait there.
    quotas = policy.quotas
    workers = quotas.running_jobs + (quotas.queue_size or 0) if quotas.running_jobs else DEFAULT_CONCURRENCY
    return demo.queue(default_concurrency_limit=max(workers, DEFAULT_CONCURRENCY))


def _listening_service(policy: AccessPolicy) -> ListeningService:
    """The app's listening-test service, administered with the policy's token (the one word on who is admin)."""
    service = listen.default_service()
    if service.settings.admin_token == policy.admin_token:
        return service
    return ListeningService(Store(replace(service.settings, admin_token=policy.admin_token)))


def _tab_for_link(request: gr.Request):
    """A rater's shared link (?test=ID) opens the Listen tab; a result link (?run=ID) the Evaluate tab."""
    if request and request.query_params.get("test"):
        return gr.Tabs(selected="listen")
    if request and request.query_params.get("run"):
        return gr.Tabs(selected="evaluate")
    return gr.Tabs()


def warn_if_open(host: str, share: bool, policy: AccessPolicy) -> None:
    """Say loudly when the app is reachable from other machines while admin actions are open to all."""
    if (share or host not in ("127.0.0.1", "localhost", "::1")) and not policy.public:
        logging.getLogger("studio").warning(
            "the app is reachable from other machines but STUDIO_ADMIN_TOKEN is not set: anyone with the link can "
            "load and unload models, run shipped configs and Ray jobs, and create, close, export and delete "
            "listening tests, with no quota; set STUDIO_ADMIN_TOKEN to keep those to admins")


def launch(registry: Registry | None = None, host: str = "127.0.0.1", port: int = 7860, share: bool = False) -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    policy = AccessPolicy.from_env()
    warn_if_open(host, share, policy)
    build_app(registry, policy).launch(server_name=host, server_port=port, share=share)
