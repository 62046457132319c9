"""The `studio` command: `studio app` starts the UI, `studio models` lists the models, `studio info` the system,
`studio eval CONFIG.yaml` runs an evaluation."""

from __future__ import annotations

import argparse
import json
import sys

from studio.bootstrap import add_models_argument, registry_for_command
from studio.errors import StudioError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="studio", description="Speech Studio: compare speech models.")
    commands = parser.add_subparsers(dest="command", required=True)
    app = commands.add_parser("app", help="start the web UI")
    app.add_argument("--host", default="127.0.0.1")
    app.add_argument("--port", type=int, default=7860)
    app.add_argument("--share", action="store_true", help="make a public gradio.live link")
    add_models_argument(app)
    models = commands.add_parser("models", help="list the allow-listed models and why any is unavailable")
    models.add_argument("--json", action="store_true",
                        help="one JSON object per line: id, task, family, decoding, parameters, size_mb, licence, "
                             "available, reason")
    add_models_argument(models)
    commands.add_parser("info", help="print hardware, threads and package versions as JSON")
    from studio.evaluation.cli import add_arguments, run as run_eval

    add_arguments(commands.add_parser("eval", help="evaluate systems on datasets from a YAML config"))
    args = parser.parse_args(argv)
    if args.command == "eval":
        return run_eval(args)
    try:
        if args.command == "app":
            from studio.ui.app import launch

            launch(registry_for_command(args.config), host=args.host, port=args.port, share=args.share)
        elif args.command == "models":
            return print_models(registry_for_command(args.config), as_json=args.json)
        elif args.command == "info":
            from studio.system_info import system_report

            print(json.dumps(system_report(), indent=2))
    except StudioError as error:
        print(f"studio: {error}", file=sys.stderr)
        return 2
    return 0


def print_models(registry, as_json: bool = False) -> int:
    """One line per model (a JSON object each with `as_json`); exit status 1 when the config or any entry has a
    problem."""
    from studio.adapters import zoo

    if registry.config_problem:
        print(f"studio: {registry.config_problem}", file=sys.stderr)
    statuses = zoo.model_statuses(registry)
    for status in statuses:
        if as_json:
            print(json.dumps(model_record(status)))
            continue
        detail = f"  -- {status.reason}" if status.reason else ""
        print(f"{status.id:24} {status.task or '?':4} {status.state:12} {status.source}{detail}")
    return 1 if registry.config_problem or any(s.state == "unavailable" for s in statuses) else 0


def model_record(status) -> dict:
    """What a model is, for `studio models --json`: `decoding` is its kind (autoregressive, non-autoregressive, HMM, rules)."""
    return {"id": status.id, "task": status.task, "family": status.family, "decoding": status.kind or None,
            "parameters": status.parameters, "size_mb": status.size_mb, "licence": status.licence or None,
            "available": status.state != "unavailable", "reason": status.reason or None}


if __name__ == "__main__":
    sys.exit(main())
