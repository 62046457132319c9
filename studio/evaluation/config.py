"""Evaluation configs: YAML (safe-loaded) parsed into typed, validated, frozen dataclasses.

    name: demo-asr
    datasets:
      - path: ../../assets/demo_set/manifest.jsonl   # relative to this file
    systems:                                         # the same adapter may appear with other options
      - adapter: whisper-tiny.en
        options: {beam_size: 5}
      - adapter: whisper-tiny.en
        options: {beam_size: 1}
        name: tiny greedy
    metrics: [wer, latency]
    batch_seconds: 60      # audio seconds per batch, padding included
    max_batch_size: 8      # 1 = one utterance at a time
    warmup: 1              # untimed utterances per system before measuring
    output: results/demo-asr

A mistake raises `ConfigError` naming the file and the line of the offending entry.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from studio.adapters.options import options_from_mapping
from studio.adapters.registry import Registry, System
from studio.errors import ConfigError
from studio.evaluation.longform import generated_manifest_path
from studio.metrics import METRICS
from studio.timing import DEVICES
from studio.types import Task
from studio.yaml_file import read_yaml

DEFAULT_METRICS = {"asr": ("wer", "latency"), "tts": ("wer", "speaker_similarity", "dnsmos", "latency")}
_TOP_KEYS = ("name", "datasets", "systems", "metrics", "judge", "batch_seconds", "max_batch_size", "warmup",
             "output", "device", "limit", "ray")
_SYSTEM_KEYS = ("adapter", "options", "name")


@dataclass(frozen=True)
class DatasetConfig:
    path: Path  # manifest, text list or folder, resolved against the config file
    name: str | None = None  # defaults to the file or folder name
    keep_unreadable: bool = False  # unreadable audio becomes a failed row instead of refusing the set (uploads)
    generated: str | None = None  # a set the studio makes itself (`studio.evaluation.longform`); `path` is its
    # manifest in the cache, made before the run


@dataclass(frozen=True)
class RaySettings:
    """Where and how wide to shard a run over Ray (`--ray ADDRESS` or `ray:` in the YAML)."""

    address: str = "auto"  # "auto": a running cluster; "local": start one here; or "ray://host:10001"
    workers: int = 2  # actors per system
    cpus_per_worker: float = 1.0  # Ray CPU resources per actor (GPU systems ask for one GPU instead)
    max_retries: int = 2  # a batch whose worker died is re-queued this often, then reported as failed

    def __post_init__(self):
        if not self.address:
            raise ConfigError("ray address is empty; use auto, local or ray://host:port")
        if self.workers < 1:
            raise ConfigError(f"ray workers must be at least 1; got {self.workers}")
        if self.cpus_per_worker <= 0:
            raise ConfigError(f"ray cpus_per_worker must be positive; got {self.cpus_per_worker}")
        if self.max_retries < 0:
            raise ConfigError(f"ray max_retries must be 0 or more; got {self.max_retries}")


@dataclass(frozen=True)
class EvalConfig:
    """One evaluation: every system on every dataset, scored by every metric."""

    name: str
    datasets: tuple[DatasetConfig, ...]
    systems: tuple[System, ...]
    metrics: tuple[str, ...] = ()  # defaults per task (DEFAULT_METRICS)
    judge: System | None = None  # ASR system that transcribes TTS output for round-trip WER
    batch_seconds: float = 60.0  # padded audio seconds per batch
    max_batch_size: int = 8  # 1 = sequential
    warmup: int = 1  # utterances run untimed per system before measuring
    output: Path = Path("results/eval")
    device: str = "auto"
    limit: int | None = None  # only the first N items of each dataset
    ray: RaySettings | None = None  # shard ASR batches over a Ray cluster; None = in this process
    source: Path | None = field(default=None, compare=False)  # the YAML file it came from

    def __post_init__(self):
        if not self.datasets:
            raise ConfigError("the config needs at least one dataset")
        if not self.systems:
            raise ConfigError("the config needs at least one system")
        tasks = {s.task for s in self.systems}
        if len(tasks) > 1:
            raise ConfigError("all systems in one config must be ASR or all TTS; split the config in two")
        labels = [s.label for s in self.systems]
        duplicates = sorted({label for label in labels if labels.count(label) > 1})
        if duplicates:
            raise ConfigError(f"system {duplicates[0]!r} appears twice with the same options; give one a name")
        if not self.metrics:
            object.__setattr__(self, "metrics", DEFAULT_METRICS[self.task])
        unknown = [m for m in self.metrics if m not in METRICS]
        if unknown:
            raise ConfigError(f"unknown metric {unknown[0]!r}; available metrics: {', '.join(METRICS)}")
        if self.judge is not None and self.judge.task != "asr":
            raise ConfigError(f"the judge must be an ASR system; {self.judge.adapter_id} is {self.judge.task}")
        if self.batch_seconds <= 0:
            raise ConfigError(f"batch_seconds must be positive; got {self.batch_seconds}")
        if self.max_batch_size < 1:
            raise ConfigError(f"max_batch_size must be at least 1; got {self.max_batch_size}")
        if self.warmup < 0:
            raise ConfigError(f"warmup must be 0 or more; got {self.warmup}")
        if self.device not in DEVICES:
            raise ConfigError(f"device must be one of {', '.join(DEVICES)}; got {self.device!r}")
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"limit must be at least 1; got {self.limit}")

    @property
    def task(self) -> Task:
        return self.systems[0].task

    def with_overrides(self, **changes: Any) -> "EvalConfig":
        """A copy with some fields replaced (None values are ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_dict(self) -> dict:
        """JSON-able form for run.json."""
        return {
            "name": self.name, "task": self.task,
            "datasets": [{"path": str(d.path), "name": d.name} for d in self.datasets],
            "systems": [system_record(s) for s in self.systems],
            "metrics": list(self.metrics), "judge": system_record(self.judge) if self.judge else None,
            "batch_seconds": self.batch_seconds, "max_batch_size": self.max_batch_size, "warmup": self.warmup,
            "output": str(self.output), "device": self.device, "limit": self.limit,
            "ray": dataclasses.asdict(self.ray) if self.ray else None,
            "source": str(self.source) if self.source else None,
        }


def system_record(system: System) -> dict:
    """How a system is written into results: id, label, and every option value."""
    return {"system": system.label, "system_id": system.adapter_id, "kind": system.kind,
            "options": dataclasses.asdict(system.options), "options_text": system.options_text}


def load_config(path: str | Path, registry: Registry) -> EvalConfig:
    """Parse and validate a YAML config against the models `registry` offers; relative dataset paths
    resolve against the file's folder."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    data, root = read_yaml(path)
    return _Parser(path, root, registry).config(data)


class _Parser:
    """Turns the safe-loaded mapping into `EvalConfig`, prefixing each error with file:line."""

    def __init__(self, path: Path, root: yaml.Node | None, registry: Registry):
        self.path, self.root, self.registry = path, root, registry

    def config(self, data: Any) -> EvalConfig:
        if not isinstance(data, dict):
            raise self.error((), "the config must be a mapping with datasets and systems")
        for key in data:
            if key not in _TOP_KEYS:
                raise self.error((key,), f"unknown key {key!r}; known keys: {', '.join(_TOP_KEYS)}")
        datasets = tuple(self.dataset(i, entry) for i, entry in enumerate(self.sequence(data, "datasets")))
        systems = tuple(self.system(("systems", i), entry) for i, entry in enumerate(self.sequence(data, "systems")))
        judge = self.system(("judge",), data["judge"]) if data.get("judge") is not None else None
        metrics = data.get("metrics") or ()
        if isinstance(metrics, str):
            metrics = (metrics,)
        if not isinstance(metrics, (list, tuple)) or not all(isinstance(m, str) for m in metrics):
            raise self.error(("metrics",), "metrics must be a list of metric names")
        defaults = EvalConfig.__dataclass_fields__
        try:
            return EvalConfig(
                name=str(data.get("name") or self.path.stem),
                datasets=datasets, systems=systems, metrics=tuple(metrics), judge=judge,
                batch_seconds=self.number(data, "batch_seconds", float, defaults["batch_seconds"].default),
                max_batch_size=self.number(data, "max_batch_size", int, defaults["max_batch_size"].default),
                warmup=self.number(data, "warmup", int, defaults["warmup"].default),
                output=Path(str(data.get("output") or Path("results") / str(data.get("name") or self.path.stem))),
                device=str(data.get("device", "auto")),
                limit=self.number(data, "limit", int, None),
                ray=self.ray(data["ray"]) if data.get("ray") is not None else None,
                source=self.path,
            )
        except ConfigError as error:
            raise self.error(self.key_of(str(error), data), str(error)) from None

    def dataset(self, index: int, entry: Any) -> DatasetConfig:
        where = ("datasets", index)
        if isinstance(entry, str):
            entry = {"path": entry}
        if isinstance(entry, dict) and isinstance(entry.get("generated"), str) and "path" not in entry:
            unknown = set(entry) - {"generated", "name"}
            if unknown:
                raise self.error(where, f"unknown dataset key {sorted(unknown)[0]!r}; known keys: generated, name")
            try:
                path = generated_manifest_path(entry["generated"])
            except ConfigError as error:
                raise self.error(where, str(error)) from None
            return DatasetConfig(path, entry.get("name") or entry["generated"], generated=entry["generated"])
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            raise self.error(where, "each dataset needs a path (a manifest, text list or folder) or `generated: "
                                    "longform` (a set the studio makes)")
        unknown = set(entry) - {"path", "name"}
        if unknown:
            raise self.error(where, f"unknown dataset key {min(unknown, key=str)!r}; known keys: path, name")
        name = entry.get("name")
        if name is not None and (isinstance(name, bool) or not isinstance(name, (str, int, float))):
            raise self.error(where + ("name",), f"a dataset name must be text; got {name!r}")
        if "\x00" in entry["path"]:  # the file system refuses it with a ValueError
            raise self.error(where + ("path",), f"the dataset path {entry['path']!r} holds a NUL character")
        path = Path(entry["path"])
        return DatasetConfig(path if path.is_absolute() else (self.path.parent / path).resolve(),
                             None if name is None else str(name))

    def system(self, where: tuple, entry: Any) -> System:
        if isinstance(entry, str):
            entry = {"adapter": entry}
        if not isinstance(entry, dict) or not isinstance(entry.get("adapter"), str):
            raise self.error(where, "each system needs an adapter id, e.g. `adapter: whisper-tiny.en`")
        unknown = set(entry) - set(_SYSTEM_KEYS)
        if unknown:
            raise self.error(where, f"unknown system key {min(unknown, key=str)!r}; known keys: {', '.join(_SYSTEM_KEYS)}")
        options = entry.get("options") or {}
        if not isinstance(options, dict):
            raise self.error(where + ("options",), "options must be a mapping, e.g. {beam_size: 5}")
        try:
            return self.registry.system(entry["adapter"], options, str(entry.get("name") or ""))
        except ConfigError as error:
            raise self.error(where, str(error)) from None

    def ray(self, entry: Any) -> RaySettings:
        if isinstance(entry, str):
            entry = {"address": entry}
        if not isinstance(entry, dict):
            raise self.error(("ray",), "ray must be an address or a mapping like {address: auto, workers: 2}")
        try:
            return options_from_mapping(RaySettings, entry, "ray")
        except ConfigError as error:
            raise self.error(("ray",), str(error)) from None

    def sequence(self, data: dict, key: str) -> list:
        value = data.get(key)
        if isinstance(value, (str, dict)):
            value = [value]
        if not value or not isinstance(value, list):
            raise self.error((key,) if key in data else (), f"{key} must be a non-empty list")
        return value

    def number(self, data: dict, key: str, kind: type, default: Any) -> Any:
        value = data.get(key, default)
        if value is None:
            return default
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or (isinstance(value, float) and not math.isfinite(value)) or (kind is int and value != int(value))):
            raise self.error((key,), f"{key} must be {'a whole number' if kind is int else 'a number'}; got {value!r}")
        try:
            return kind(value)
        except OverflowError:  # float(10 ** 400)
            raise self.error((key,), f"{key} is too large; got {value!r}") from None

    @staticmethod
    def key_of(message: str, data: dict) -> tuple:
        """The top-level key a validation message is about, to point at its line."""
        prefixes = {**{k: k for k in _TOP_KEYS}, "unknown metric": "metrics", "system ": "systems",
                    "all systems": "systems", "the judge": "judge"}
        return next(((key,) for prefix, key in prefixes.items() if key in data and message.startswith(prefix)), ())

    def error(self, where: tuple, message: str) -> ConfigError:
        return ConfigError(f"{self.path}:{self.line(where)}: {message}")

    def line(self, where: tuple) -> int:
        node = self.root
        for key in where:
            if isinstance(node, yaml.MappingNode):
                child = next(((k, v) for k, v in node.value if k.value == key), None)
                if child is None:
                    break
                node = child[0] if key == where[-1] else child[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
                node = node.value[key]
            else:
                break
        return node.start_mark.line + 1 if node is not None else 1
