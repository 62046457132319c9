"""Where the one model registry is assembled. Every entry point builds it here, the same way: the
CLI, the app, Ray workers, the benchmarks and the tests.

>>> registry = build_registry()
>>> "whisper-tiny.en" in registry and "torch-whisper-base" in registry
True
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from studio.adapters import builtin, zoo
from studio.adapters.registry import Registry
from studio.adapters.zoo_config import CONFIG_ENV, config_path_from_env, read_config
from studio.decoding import adapter as decoding_lab
from studio.errors import ConfigError

log = logging.getLogger(__name__)


def build_registry(config_path: Path | str | None = None, strict: bool = True) -> Registry:
    """The bundled models, the decoding lab, then the `studio.yaml` at `config_path` (if any) laid over them.

    A config file that cannot be used at all raises `ConfigError` when `strict` (the CLI); otherwise its
    problem is kept in `registry.config_problem` and the bundled models are offered (the app).
    """
    path = Path(config_path).expanduser().resolve() if config_path else None
    registry = Registry(path)
    builtin.register(registry)
    decoding_lab.register(registry)
    if path is None:
        return registry
    try:
        config = read_config(path, tuple(registry.ids()))
    except ConfigError as error:
        if strict:
            raise
        registry.config_problem = str(error)
        log.error("%s; offering the bundled models only", error)
        return registry
    zoo.register(registry, config)
    return registry


def add_models_argument(parser: argparse.ArgumentParser) -> None:
    """`--config studio.yaml` for every command that runs models (overrides STUDIO_CONFIG)."""
    parser.add_argument("--config", metavar="STUDIO_YAML",
                        help=f"the models to offer (default: ${CONFIG_ENV}, else the bundled models)")


def registry_for_command(config_argument: str | None) -> Registry:
    """A command's registry: `--config` if given, else $STUDIO_CONFIG, else the bundled models. A `--config`
    file that cannot be used stops the command (`ConfigError`, one line); a bad $STUDIO_CONFIG is logged and
    kept in `registry.config_problem`, and the bundled models are offered, as in the app."""
    if config_argument:
        return build_registry(config_argument)
    return build_registry(config_path_from_env(), strict=False)
