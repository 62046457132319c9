"""The model zoo: a `studio.yaml` allow-list turned into registered adapters, and what each model is doing.

`register(registry, config)` makes a registry offer exactly the config's models plus the bundled
ones it keeps (`studio.bootstrap.build_registry` calls it); the UI, the evaluation CLI and the
benchmarks then see them through `registry.ids(task)` like any other adapter. A model that cannot
be used (a broken entry, missing files, a failed load) is listed as unavailable with its reason;
the other models keep working.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from studio.adapters.base import Adapter
from studio.adapters.registry import AdapterSpec, Registry, Unoffered, missing_package
from studio.adapters.torch_runtime import Placement, is_out_of_memory, out_of_memory
from studio.adapters.zoo_config import ModelEntry, ModelSource, ZooConfig
from studio.errors import ModelUnavailable, StudioError
from studio.types import AdapterInfo

log = logging.getLogger(__name__)


def register(registry: Registry, config: ZooConfig) -> None:
    """Offer a studio.yaml's models: drop the bundled models it leaves out, add its entries, list its broken ones."""
    for adapter_id in registry.ids():
        if not config.keeps_bundled(adapter_id):
            registry.remove(adapter_id)
    for entry in config.models:
        registry.add(_spec(entry))
    registry.unoffered.extend(Unoffered(b.name, b.task, b.reason) for b in config.broken)
    for broken in config.broken:
        log.error("%s; the other models are still offered", broken.reason)


@dataclass(frozen=True)
class ModelStatus:
    """One row of the Models panel."""

    id: str
    task: str  # "asr", "tts", or "" for an entry whose type is unknown
    label: str
    state: Literal["loaded", "unloaded", "unavailable"]
    reason: str = ""  # why it is unavailable
    note: str = ""  # a device or precision fallback
    source: str = ""  # "bundled", a local folder or a hub id
    device: str = ""  # where it runs, once loaded
    weights_mb: float | None = None  # memory its weights take, when the engine tells
    family: str = ""
    kind: str = ""  # autoregressive / non-autoregressive / HMM / rules ("" = not stated)
    parameters: int | None = None
    size_mb: float | None = None  # weight files on disk
    licence: str = ""


def model_statuses(registry: Registry) -> list[ModelStatus]:
    """Every allow-listed model (and every entry that could not be offered) with its state."""
    loaded = {adapter.info.id: adapter for adapter in registry.loaded()}
    rows = []
    for adapter_id in registry.ids():
        spec = registry.spec(adapter_id)
        info = spec.info
        reason = registry.unavailable_reason(adapter_id) or ""
        adapter = loaded.get(adapter_id)
        placement = getattr(adapter, "placement", None)
        rows.append(ModelStatus(
            id=adapter_id,
            task=info.task,
            label=info.label,
            state="unavailable" if reason else "loaded" if adapter else "unloaded",
            reason=reason,
            note=placement.note if placement else "",
            source=spec.source,
            device=_runs_on(adapter, placement),
            weights_mb=getattr(adapter, "weights_mb", None) if adapter else None,
            family=info.family,
            kind=info.kind,
            parameters=info.parameters,
            size_mb=info.size_mb,
            licence=info.licence,
        ))
    rows += [ModelStatus(u.name, u.task, u.name, "unavailable", u.reason) for u in registry.unoffered]
    return rows


def _runs_on(adapter: Adapter | None, placement: Placement | None) -> str:
    """'cuda float16', 'cpu int8' (CTranslate2's compute type), or '' when not loaded."""
    if adapter is None:
        return ""
    precision = getattr(adapter, "compute_type", None) or (placement.dtype if placement else "")
    return f"{adapter.device} {precision}".strip()


def _spec(entry: ModelEntry) -> AdapterSpec:
    info = AdapterInfo(
        id=entry.id,
        task=entry.type.task,
        label=entry.label,
        options_type=entry.type.options_type,
        default_options=entry.options,
        family=entry.type.family,
        decoding=entry.type.decoding,
        model=f"{entry.source} ({'local folder' if entry.source.local else 'Hugging Face hub'}), from studio.yaml",
        stages=entry.type.stages,
        description=entry.description,
        input_window_seconds=entry.type.input_window_seconds,
        kind=entry.type.kind,
    )
    return AdapterSpec(info, _factory(entry, info), lambda: _unavailable(entry), source=str(entry.source))


def _factory(entry: ModelEntry, info: AdapterInfo):
    def build(device: str) -> Adapter:
        placement = Placement.choose(device if entry.device == "auto" else entry.device, entry.dtype)
        if placement.note:
            log.warning("%s: %s", entry.id, placement.note)
        adapter = entry.type.build(entry, info, placement)
        adapter.placement = placement  # where it runs and why, for the Models panel
        try:
            adapter.ensure_loaded()
        except StudioError:  # already says what is wrong
            raise
        except Exception as error:  # third-party loading code on user files: every failure means "cannot load"
            log.warning("loading %s failed", entry.id, exc_info=True)
            if is_out_of_memory(error):
                raise out_of_memory(entry.id, placement.device, "loading") from error
            raise ModelUnavailable(_load_message(entry, error)) from error
        return adapter

    return build


def _load_message(entry: ModelEntry, error: Exception) -> str:
    text = " ".join(str(error).split())
    message = f"{entry.id} could not be loaded from {entry.source} as type {entry.type.name}: {text[:400]}"
    model_type = _model_type(entry.source)
    if model_type:
        message += f" (the folder holds a {model_type!r} model; is 'type: {entry.type.name}' right for it?)"
    return message


def _model_type(source: ModelSource) -> str:
    try:
        return str(json.loads((Path(source.location) / "config.json").read_text()).get("model_type", ""))
    except (OSError, ValueError, AttributeError):
        return ""


def _unavailable(entry: ModelEntry) -> str | None:
    """Why an entry cannot be used here, checked without loading it; None when it can."""
    for module, package in entry.type.packages:
        missing = missing_package(module, package)()
        if missing:
            return missing
    sources = [(entry.source, entry.type.required_files)] + ([(entry.vocoder, ("config.json",))] if entry.vocoder else [])
    for source, required in sources:
        problem = _local_problem(source, required) if source.local else _hub_problem(source)
        if problem:
            return problem
    if entry.speaker_embedding and not entry.speaker_embedding.is_file():
        return f"speaker_embedding {entry.speaker_embedding} does not exist"
    return None


def _local_problem(source: ModelSource, required: tuple[str, ...]) -> str | None:
    folder = Path(source.location)
    if not folder.is_dir():
        return f"model folder {folder} does not exist"
    missing = [name for name in required if not (folder / name).is_file()]
    if missing:
        return (f"{folder} has no {', '.join(missing)}: point 'path' at a folder written by save_pretrained "
                "(or by ct2-transformers-converter for faster-whisper)")
    return None


def _hub_problem(source: ModelSource) -> str | None:
    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")
    if not offline or "/" not in source.location:  # online, or a faster-whisper size name such as "small"
        return None
    from huggingface_hub import try_to_load_from_cache

    try:
        cached = try_to_load_from_cache(source.location, "config.json")
    except ValueError as error:  # HFValidationError: not a well-formed repo id
        return f"{source} is not a valid Hugging Face model id: {error}"
    if isinstance(cached, str):
        return None
    return (f"{source} is not in the local Hugging Face cache and HF_HUB_OFFLINE is set; download it once "
            f"(huggingface-cli download {source}) or use 'path:' with a local folder")
