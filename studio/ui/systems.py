"""The 'pick up to three systems' control shared by the Recognize and Synthesize tabs."""

from __future__ import annotations

import gradio as gr

from studio.adapters.registry import Registry, System
from studio.types import Task
from studio.errors import ConfigError

MAX_SYSTEMS = 3
NONE = "(none)"


def system_pickers(registry: Registry, task: Task, defaults: list[tuple[str, str]]) -> list[gr.components.Component]:
    """Three (adapter dropdown, options textbox) pairs; returns them flattened in that order."""
    choices = [NONE] + registry.ids(task, only_available=True)
    components = []
    with gr.Row():
        for slot in range(MAX_SYSTEMS):
            adapter, options = defaults[slot] if slot < len(defaults) else (NONE, "")
            with gr.Column(min_width=220):
                components.append(gr.Dropdown(choices, value=adapter if adapter in choices else NONE,
                                              label=f"System {slot + 1}"))
                components.append(gr.Textbox(value=options, label="options", placeholder="e.g. beam_size=1",
                                             max_lines=1))
    return components


def follow_labels(pickers: list[gr.components.Component], outputs: list[gr.components.Component]) -> None:
    """Keep each output's label in step with the system chosen for its slot."""
    for slot, output in enumerate(outputs):
        adapter, options = pickers[2 * slot], pickers[2 * slot + 1]
        gr.on([adapter.change, options.change], lambda a, o: gr.update(label=slot_label(a, o)),
              inputs=[adapter, options], outputs=output, api_name=False, show_progress="hidden")


def slot_label(adapter: str, options: str) -> str:
    options = (options or "").strip()
    return f"{adapter} [{options}]" if options and adapter != NONE else adapter


def selected_systems(registry: Registry, values: tuple) -> list[System]:
    """Systems from the flattened (adapter, options) values; unknown ids and bad options raise ConfigError."""
    systems = [
        registry.system(adapter, options or "")
        for adapter, options in zip(values[0::2], values[1::2])
        if adapter and adapter != NONE
    ]
    if not systems:
        raise ConfigError("choose at least one system")
    return systems


def filled_slots(values: tuple) -> list[int]:
    """Indices of the slots that hold a system, in order (outputs go back to the same slot)."""
    return [slot for slot, adapter in enumerate(values[0::2]) if adapter and adapter != NONE]
