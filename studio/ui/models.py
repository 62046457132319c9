"""The Models panel: the allow-listed models with their state, load/unload buttons, memory in use and the
memory budget with the resident models; on a public app, the admin sign-in.

Only ids from the registry (the bundled models and studio.yaml) can be chosen; nothing typed
in the browser ever names a path. The logic lives in `studio.adapters.zoo`.
"""

from __future__ import annotations

import gradio as gr

from studio.adapters import zoo
from studio.adapters.registry import Registry
from studio.memory import memory_in_use
from studio.ui.common import bind, user_errors
from studio.ui.gate import Gate, current_gate

COLUMNS = ["id", "task", "label", "family", "decoding", "parameters", "size MB", "licence", "state", "device",
           "weights MiB", "source", "reason or note"]


def build(registry: Registry) -> None:
    """The panel's components and events, inside the caller's `gr.Blocks` (e.g. a "Models" tab)."""
    memory = gr.Markdown(memory_text(registry))
    table = gr.Dataframe(value=status_rows(registry), headers=COLUMNS, interactive=False, wrap=True, label="Models")
    with gr.Row():
        model = gr.Dropdown(choices=model_choices(registry), label="Model", scale=3)
        load = gr.Button("Load", variant="primary", scale=1)
        unload = gr.Button("Unload", scale=1)
        refresh = gr.Button("Refresh", scale=1)
    outputs = [table, memory, model]
    load.click(bind(load_model, registry, admin="loading a model"), inputs=model, outputs=outputs,
               api_name="load_model").then(
        bind(refresh_panel, registry), inputs=model, outputs=outputs,
        api_name=False)  # also after a failed load: it is now listed with its reason
    unload.click(bind(unload_model, registry, admin="unloading a model"), inputs=model, outputs=outputs,
                 api_name="unload_model")
    refresh.click(bind(refresh_panel, registry), outputs=outputs, api_name="models")
    _admin_sign_in(current_gate())


def _admin_sign_in(gate: Gate) -> None:
    """The admin token box; in local single-user mode, a line saying every action is open."""
    if not gate.policy.public:
        gr.Markdown("**Local single-user mode:** STUDIO_ADMIN_TOKEN is not set, so every action is open to "
                    "whoever opens this page. Set it before sharing the app (README: Deploying publicly).")
        return
    with gr.Accordion("Admin sign-in", open=False):
        with gr.Row():
            token = gr.Textbox(label="Admin token", type="password", scale=3, elem_id="admin-token")
            sign_in = gr.Button("Sign in", scale=1)
        signed = gr.Markdown(f"Anonymous: recognise, synthesise, decode, evaluate your own data and take "
                             f"listening tests, within these limits: {gate.policy.quotas.describe()}. Loading "
                             "models, shipped configs and Ray runs need the admin token.")

    @user_errors
    def admin_sign_in(admin_token: str, request: gr.Request) -> str:
        gate.admins.sign_in(request.session_hash or "local", admin_token)
        return "Signed in as admin for this browser session."

    sign_in.click(admin_sign_in, inputs=token, outputs=signed, api_name="admin_sign_in")


def status_rows(registry: Registry) -> list[list]:
    return [
        [s.id, s.task, s.label, s.family, s.kind, _millions(s.parameters), "" if s.size_mb is None else s.size_mb,
         s.licence, s.state, s.device, round(s.weights_mb, 1) if s.weights_mb is not None else "",
         s.source, s.reason or s.note]
        for s in zoo.model_statuses(registry)
    ]


def _millions(parameters: int | None) -> str:
    return "" if parameters is None else f"{parameters / 1e6:.1f} M"


def model_choices(registry: Registry) -> list[tuple[str, str]]:
    """Allow-listed ids only (an unavailable one too, to retry it after fixing its files)."""
    return [(f"{registry.info(i).label} ({i})", i) for i in registry.ids()]


def memory_text(registry: Registry) -> str:
    problem = registry.config_problem
    text = f"**Memory in use:** {memory_in_use().summary()}\n\n{budget_text(registry)}"
    return f"{text}\n\n**studio.yaml was not used:** {problem}" if problem else text


def budget_text(registry: Registry) -> str:
    """The budget for loaded models and what holds it, least recently used (first to go) first."""
    resident = registry.resident()
    held = sum(r.mb for r in resident)
    budget = registry.budget.max_mb
    line = (f"**Memory budget for loaded models:** {held:,.0f} of {budget:,.0f} MB (STUDIO_MAX_LOADED_MB; "
            "loading past it unloads the least recently used idle models)" if budget is not None else
            f"**Loaded models:** {held:,.0f} MB; no memory budget (set STUDIO_MAX_LOADED_MB for one)")
    if not resident:
        return f"{line} · none resident"
    models = ", ".join(f"{r.adapter_id} {r.mb:,.0f} MB{'' if r.measured else ' (size on disk)'}"
                       f"{' (running)' if r.running else ''}" for r in resident)
    return f"{line} · resident, least recently used first: {models}"


def refresh_panel(registry: Registry, selected: str | None = None):
    return status_rows(registry), memory_text(registry), gr.Dropdown(choices=model_choices(registry), value=selected)


@user_errors
def load_model(registry: Registry, model_id: str | None, progress=gr.Progress()):
    if not model_id:
        raise gr.Error("Choose a model to load.")
    progress(0, desc=f"Loading {model_id}…")
    registry.load(model_id)
    return refresh_panel(registry, model_id)


@user_errors
def unload_model(registry: Registry, model_id: str | None):
    if not model_id:
        raise gr.Error("Choose a model to unload.")
    registry.info(model_id)  # an id outside the allow-list raises ConfigError
    registry.unload(model_id)
    return refresh_panel(registry, model_id)
