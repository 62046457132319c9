"""`studio.yaml`: the allow-list of models a deployment offers, read into typed, checked entries.

    bundled: true            # also offer the offline models that ship with the studio (or a list of their ids)
    models:
      - id: wav2vec2-base    # what the UI and the CLI call it
        type: hf-ctc         # adapter type: see ADAPTER_TYPES in studio.adapters.zoo_types
        path: ./models/wav2vec2-base-960h   # a local folder (relative to this file) ... or: hub_id: facebook/wav2vec2-base-960h
        device: auto         # auto | cpu | cuda
        dtype: auto          # auto | float32 | float16 | bfloat16
        options: {}          # default decoding options
        label: wav2vec2 base (CTC)

A problem with the file as a whole raises `ConfigError`. A problem with one entry makes
that entry a `BrokenEntry` with its reason, so the other models keep working.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from studio.adapters.options import options_from_mapping
from studio.adapters.torch_runtime import DTYPES
from studio.adapters.zoo_types import ADAPTER_TYPES, ModelEntry, ModelSource
from studio.errors import ConfigError
from studio.timing import DEVICES
from studio.yaml_file import read_yaml

CONFIG_ENV = "STUDIO_CONFIG"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_COMMON_KEYS = ("id", "type", "path", "hub_id", "label", "description", "device", "dtype", "options")
_TOP_KEYS = ("bundled", "models")


@dataclass(frozen=True)
class BrokenEntry:
    """An entry that could not be read, shown as unavailable with its reason."""

    name: str  # its id when it has one, else its position ("models[3]")
    reason: str
    task: str = ""  # "asr"/"tts" when its type is known


@dataclass(frozen=True)
class ZooConfig:
    path: Path | None
    bundled: bool | tuple[str, ...] = True  # True = all bundled models, False = none, or the ids to keep
    models: tuple[ModelEntry, ...] = ()
    broken: tuple[BrokenEntry, ...] = ()

    def keeps_bundled(self, adapter_id: str) -> bool:
        return self.bundled if isinstance(self.bundled, bool) else adapter_id in self.bundled


def config_path_from_env() -> Path | None:
    value = os.environ.get(CONFIG_ENV, "").strip()
    return Path(value) if value else None


def read_config(path: Path | str, bundled_ids: tuple[str, ...] = ()) -> ZooConfig:
    """Read and check a `studio.yaml`; `bundled_ids` are the built-in models it may keep or leave out."""
    path = Path(path).expanduser()
    try:
        document, _ = read_yaml(path)
    except FileNotFoundError:
        raise ConfigError(f"model config {path} does not exist; fix {CONFIG_ENV} or --config") from None
    except OSError as error:
        raise ConfigError(f"cannot read model config {path}: {error}") from None
    except ConfigError as error:
        raise ConfigError(f"model config {error}") from None
    return parse_config(document if document is not None else {}, path, bundled_ids)


def parse_config(document: Any, path: Path | None = None, bundled_ids: tuple[str, ...] = ()) -> ZooConfig:
    where = path or "model config"
    if not isinstance(document, Mapping):
        raise ConfigError(f"{where} must be a mapping with 'models:' (and optionally 'bundled:')")
    unknown = sorted(set(document) - set(_TOP_KEYS), key=str)  # YAML keys may be numbers or null
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(map(str, unknown))}; known keys: {', '.join(_TOP_KEYS)}")
    bundled = _parse_bundled(document.get("bundled", True), bundled_ids, where)
    raw_models = document.get("models") or []
    if not isinstance(raw_models, list):
        raise ConfigError(f"{where}: 'models' must be a list of entries (each starting with '- id:')")
    base = path.parent if path else Path.cwd()
    taken = {i for i in bundled_ids if (bundled if isinstance(bundled, bool) else i in bundled)}
    models, broken = [], []
    for position, raw in enumerate(raw_models):
        name = raw.get("id") if isinstance(raw, Mapping) and isinstance(raw.get("id"), str) else f"models[{position}]"
        try:
            entry = _parse_entry(raw, base, taken)
        except ConfigError as error:
            task = _task_of(raw)
            broken.append(BrokenEntry(str(name), f"{where}, model {name!r}: {error}", task))
            continue
        taken.add(entry.id)
        models.append(entry)
    return ZooConfig(path, bundled, tuple(models), tuple(broken))


def _parse_bundled(value: Any, bundled_ids: tuple[str, ...], where: Any) -> bool | tuple[str, ...]:
    if isinstance(value, bool):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        unknown = sorted(set(value) - set(bundled_ids))
        if unknown:
            raise ConfigError(f"{where}: 'bundled' names unknown model(s) {', '.join(unknown)}; "
                              f"bundled models: {', '.join(bundled_ids)}")
        return tuple(value)
    raise ConfigError(f"{where}: 'bundled' must be true, false or a list of bundled model ids")


def _parse_entry(raw: Any, base: Path, taken: set[str]) -> ModelEntry:
    if not isinstance(raw, Mapping):
        raise ConfigError("an entry must be a mapping with id, type and path or hub_id")
    model_id = raw.get("id")
    if not isinstance(model_id, str) or not _ID.match(model_id):
        raise ConfigError("'id' must be 1-64 letters, digits, '.', '_' or '-' (starting with a letter or digit)")
    if model_id in taken:
        raise ConfigError(f"id {model_id!r} is already taken (by a bundled model or an earlier entry); choose another")
    adapter_type = ADAPTER_TYPES.get(str(raw.get("type")))
    if adapter_type is None:
        raise ConfigError(f"unknown adapter type {raw.get('type')!r}; known types: {', '.join(ADAPTER_TYPES)}")
    allowed = _COMMON_KEYS + adapter_type.extra_keys
    unknown = sorted(set(raw) - set(allowed), key=str)
    if unknown:
        raise ConfigError(f"unknown key(s) {', '.join(map(str, unknown))} for type {adapter_type.name}; "
                          f"known keys: {', '.join(allowed)}")
    device, dtype = str(raw.get("device", "auto")), str(raw.get("dtype", "auto"))
    if device not in DEVICES:
        raise ConfigError(f"device must be one of {', '.join(DEVICES)}; got {device!r}")
    if dtype not in DTYPES:
        raise ConfigError(f"dtype must be one of {', '.join(DTYPES)}; got {dtype!r}")
    options = raw.get("options") or {}
    if not isinstance(options, Mapping):
        raise ConfigError("'options' must be a mapping of option names to values")
    source = _parse_source(raw, base)
    extra = _parse_speecht5(raw, base) if adapter_type.name == "hf-speecht5" else {}
    return ModelEntry(
        id=model_id,
        type=adapter_type,
        source=source,
        label=str(raw.get("label") or model_id),
        options=options_from_mapping(adapter_type.options_type, options, model_id),
        device=device,
        dtype=dtype,
        description=str(raw.get("description") or ""),
        **extra,
    )


def _parse_source(raw: Mapping, base: Path) -> ModelSource:
    path, hub_id = raw.get("path"), raw.get("hub_id")
    if (path is None) == (hub_id is None):
        raise ConfigError("give exactly one of 'path' (a local folder) or 'hub_id' (a Hugging Face model id)")
    if path is not None:
        return ModelSource(str(_local_path(base, path, "path")), local=True)
    return ModelSource(str(hub_id), local=False)


def _local_path(base: Path, value: Any, key: str) -> Path:
    """`value` as a path, `~` expanded and resolved against the config file's folder."""
    try:
        return (base / Path(str(value)).expanduser()).resolve()
    except (RuntimeError, ValueError) as error:  # ~unknown_user/...; a NUL character
        raise ConfigError(f"{key!r} {value!r} is not a usable path ({error})") from None


def _parse_speecht5(raw: Mapping, base: Path) -> dict[str, Any]:
    vocoder = raw.get("vocoder")
    if not isinstance(vocoder, Mapping):
        raise ConfigError("hf-speecht5 needs 'vocoder:' with a 'path' or 'hub_id' (e.g. hub_id: microsoft/speecht5_hifigan)")
    embedding = raw.get("speaker_embedding")
    return {
        "vocoder": _parse_source(vocoder, base),
        "speaker_embedding": _local_path(base, embedding, "speaker_embedding") if embedding else None,
    }


def _task_of(raw: Any) -> str:
    adapter_type = ADAPTER_TYPES.get(str(raw.get("type"))) if isinstance(raw, Mapping) else None
    return adapter_type.task if adapter_type else ""
