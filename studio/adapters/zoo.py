"""The model zoo: a `studio.yaml` allow-list turned into registered adapters, and what each model is doing.

`use_config(path)` makes the registry offer exactly the config's models plus the bundled
ones it keeps; the UI, the evaluation CLI and the benchmarks then see them through
`adapter_ids(task)` like any other adapter. Importing `studio.adapters` applies the file
named by `STUDIO_CONFIG`. A model that cannot be used (a broken entry, missing files, a
failed load) is listed as unavailable with its reason; the other models keep working.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import threading
import typing
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Literal

from studio.adapters.base import Adapter, AdapterInfo
from studio.adapters.registry import (
    AdapterSpec, adapter_ids, adapter_info, adapter_spec, get_adapter, loaded_adapters, register,
    unavailable_reason, unload, unregister,
)
from studio.adapters.torch_runtime import Placement, is_out_of_memory, out_of_memory
from studio.adapters.zoo_config import ModelEntry, ModelSource, ZooConfig, config_path_from_env, read_config
from studio.errors import ConfigError, ModelUnavailable, StudioError

log = logging.getLogger(__name__)

_lock = threading.Lock()
_bundled: dict[str, AdapterSpec] = {}  # adapters registered before any config was applied
_config = ZooConfig(path=None)
_config_problem = ""  # why the file in STUDIO_CONFIG could not be used at all
_load_failures: dict[str, str] = {}  # model id -> why its last load failed
_placements: dict[str, Placement] = {}  # model id -> where it was last loaded


def use_config(path: Path | str) -> ZooConfig:
    """Offer the models of a `studio.yaml`; a file that cannot be used at all raises `ConfigError`."""
    config = read_config(path, tuple(_bundled_specs()))
    apply(config)
    return config


def configure_from_env() -> None:
    """Apply `STUDIO_CONFIG` if set. A bad file is logged and shown in the Models panel; the bundled models stay."""
    global _config_problem
    path = config_path_from_env()
    if path is None:
        return
    try:
        use_config(path)
    except ConfigError as error:
        _config_problem = str(error)
        log.error("%s; offering the bundled models only", error)


def apply(config: ZooConfig) -> None:
    global _config, _config_problem
    with _lock:
        bundled = _bundled_specs()
        previous = {entry.id for entry in _config.models}
        for adapter_id in adapter_ids():
            if adapter_id in bundled or adapter_id in previous:
                unregister(adapter_id)
        for adapter_id, spec in bundled.items():
            if config.keeps_bundled(adapter_id):
                register(spec)
        for entry in config.models:
            register(_spec(entry))
        _load_failures.clear()
        _placements.clear()
        _config, _config_problem = config, ""
    for broken in config.broken:
        log.error("%s; the other models are still offered", broken.reason)


def current_config() -> ZooConfig:
    return _config


def config_problem() -> str:
    """Why the config file could not be used at all ('' when it could, or when there is none)."""
    return _config_problem


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


def model_statuses() -> list[ModelStatus]:
    """Every allow-listed model (and every broken entry) with its state."""
    loaded = {adapter.info.id: adapter for adapter in loaded_adapters()}
    entries = {entry.id: entry for entry in _config.models}
    rows = []
    for adapter_id in adapter_ids():
        info = adapter_info(adapter_id)
        reason = unavailable_reason(adapter_id) or ""
        adapter = loaded.get(adapter_id)
        placement = _placements.get(adapter_id)
        rows.append(ModelStatus(
            id=adapter_id,
            task=info.task,
            label=info.label,
            state="unavailable" if reason else "loaded" if adapter else "unloaded",
            reason=reason,
            note=placement.note if placement and adapter else "",
            source=str(entries[adapter_id].source) if adapter_id in entries else "bundled",
            device=_runs_on(adapter, placement),
            weights_mb=getattr(adapter, "weights_mb", None) if adapter else None,
            family=info.family,
            kind=info.kind,
            parameters=info.parameters,
            size_mb=info.size_mb,
            licence=info.licence,
        ))
    rows += [ModelStatus(b.name, b.task, b.name, "unavailable", b.reason) for b in _config.broken]
    return rows


def _runs_on(adapter: Adapter | None, placement: Placement | None) -> str:
    """'cuda float16', 'cpu int8' (CTranslate2's compute type), or '' when not loaded."""
    if adapter is None:
        return ""
    precision = getattr(adapter, "compute_type", None) or (placement.dtype if placement else "")
    return f"{adapter.device} {precision}".strip()


def load_model(adapter_id: str, device: str = "auto") -> Adapter:
    """Load (or reload after a failure) an allow-listed model now rather than on first use."""
    _load_failures.pop(adapter_id, None)
    return get_adapter(adapter_id, device)


def unload_model(adapter_id: str) -> None:
    adapter_info(adapter_id)  # an id outside the allow-list raises ConfigError
    unload(adapter_id)


def _bundled_specs() -> dict[str, AdapterSpec]:
    if not _bundled:
        zoo_ids = {entry.id for entry in _config.models}
        _bundled.update({i: adapter_spec(i) for i in adapter_ids() if i not in zoo_ids})
    return _bundled


def _spec(entry: ModelEntry) -> AdapterSpec:
    info = AdapterInfo(
        id=entry.id,
        task=entry.type.task,
        label=entry.label,
        options_type=_with_defaults(entry.type.options_type, entry.options),
        family=entry.type.family,
        decoding=entry.type.decoding,
        model=f"{entry.source} ({'local folder' if entry.source.local else 'Hugging Face hub'}), from studio.yaml",
        stages=entry.type.stages,
        description=entry.description,
        input_window_seconds=entry.type.input_window_seconds,
        kind=entry.type.kind,
    )
    return AdapterSpec(info, _factory(entry, info), lambda: _unavailable(entry))


def _factory(entry: ModelEntry, info: AdapterInfo):
    def build(device: str) -> Adapter:
        placement = Placement.choose(device if entry.device == "auto" else entry.device, entry.dtype)
        if placement.note:
            log.warning("%s: %s", entry.id, placement.note)
        adapter = entry.type.build(entry, info, placement)
        try:
            adapter.ensure_loaded()
        except StudioError as error:
            _load_failures[entry.id] = str(error)
            raise
        except Exception as error:  # third-party loading code on user files: every failure means "cannot load"
            failure = (out_of_memory(entry.id, placement.device, "loading") if is_out_of_memory(error)
                       else ModelUnavailable(_load_message(entry, error)))
            _load_failures[entry.id] = str(failure)
            log.warning("loading %s failed", entry.id, exc_info=True)
            raise failure from error
        _placements[entry.id] = placement
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
        if find_spec(module) is None:
            return f"the {package} package is not installed (pip install {package})"
    sources = [(entry.source, entry.type.required_files)] + ([(entry.vocoder, ("config.json",))] if entry.vocoder else [])
    for source, required in sources:
        problem = _local_problem(source, required) if source.local else _hub_problem(source)
        if problem:
            return problem
    if entry.speaker_embedding and not entry.speaker_embedding.is_file():
        return f"speaker_embedding {entry.speaker_embedding} does not exist"
    return _load_failures.get(entry.id)


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


def _with_defaults(options_type: type, defaults: Any) -> type:
    """A subclass of `options_type` whose defaults are the entry's options, so every caller starts from them.

    `System.parse`, the option forms and `options_to_text` all build or compare against
    `options_type()`, so changing the class defaults is what makes studio.yaml's options stick.
    """
    hints = typing.get_type_hints(options_type)
    fields = [(f.name, hints[f.name], dataclasses.field(default=getattr(defaults, f.name)))
              for f in dataclasses.fields(options_type)]
    return dataclasses.make_dataclass(options_type.__name__, fields, bases=(options_type,), frozen=True,
                                      namespace={"__doc__": options_type.__doc__})
