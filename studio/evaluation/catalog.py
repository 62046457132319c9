"""What the UI may run and open: shipped configs by name, earlier result folders under the results root.

The browser only ever sends a name from these lists; a name that is not on the list is
refused, so no typed path reaches the file system.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pandas as pd

from studio.adapters.registry import Registry
from studio.errors import ConfigError
from studio.evaluation.config import EvalConfig, RaySettings, load_config
from studio.evaluation.results import RESULTS_FILE, ResultRow, ResultsLog, summarize

CONFIG_DIR = Path(__file__).resolve().parents[2] / "evals" / "configs"


def results_root() -> Path:
    """Where runs started from the UI write, and where Compare looks (STUDIO_RESULTS_DIR, default ./results)."""
    return Path(os.environ.get("STUDIO_RESULTS_DIR", "results")).resolve()


def ray_from_env() -> RaySettings | None:
    """Ray settings for runs started from the UI: STUDIO_RAY_ADDRESS (and STUDIO_RAY_WORKERS), never the browser."""
    address = os.environ.get("STUDIO_RAY_ADDRESS", "").strip()
    if not address:
        return None
    try:
        workers = int(os.environ.get("STUDIO_RAY_WORKERS", RaySettings.workers))
    except ValueError:
        raise ConfigError("STUDIO_RAY_WORKERS must be a whole number") from None
    return RaySettings(address=address, workers=workers)


def config_names() -> list[str]:
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


def shipped_config(name: str, registry: Registry) -> EvalConfig:
    """A shipped config by name, writing into `results_root()/<name>` (on Ray when STUDIO_RAY_ADDRESS is set)."""
    if name not in config_names():
        raise ConfigError(f"unknown evaluation config {name!r}; choose one of {', '.join(config_names())}")
    return load_config(CONFIG_DIR / f"{name}.yaml", registry).with_overrides(output=results_root() / name,
                                                                              ray=ray_from_env())


def run_names() -> list[str]:
    """Result folders under the results root that hold a results.jsonl, newest first."""
    root = results_root()
    if not root.is_dir():
        return []
    runs = [p for p in root.iterdir() if (p / RESULTS_FILE).is_file()]
    return [p.name for p in sorted(runs, key=lambda p: (p / RESULTS_FILE).stat().st_mtime, reverse=True)]


def load_runs(names: list[str]) -> tuple[list[ResultRow], pd.DataFrame]:
    """Rows of several runs with systems relabelled 'run: system', and their joint summary."""
    known = set(run_names())
    rows = []
    for name in names:
        if name not in known:
            raise ConfigError(f"no results folder {name!r} under {results_root()}")
        for row in ResultsLog(results_root() / name / RESULTS_FILE).read():
            rows.append(dataclasses.replace(row, system=f"{name}: {row.system}"))
    if not rows:
        raise ConfigError("pick at least one earlier run to compare")
    if len({r.task for r in rows}) > 1:
        raise ConfigError("these runs mix ASR and TTS; compare runs of one kind")
    return rows, summarize(rows)
