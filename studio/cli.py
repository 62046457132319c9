"""The `studio` command: `studio app` starts the UI, `studio models` lists the models, `studio info` the system."""

from __future__ import annotations

import argparse
import json
import sys

from studio.errors import StudioError


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    """`--config studio.yaml` for every subcommand that runs models (overrides STUDIO_CONFIG)."""
    parser.add_argument("--config", metavar="STUDIO_YAML",
                        help="the models to offer (default: $STUDIO_CONFIG, else the bundled models)")


def apply_config_argument(args: argparse.Namespace) -> None:
    """Use the file given with --config; a file that cannot be used stops the command with one line."""
    if getattr(args, "config", None):
        from studio.adapters.zoo import use_config

        use_config(args.config)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="studio", description="Speech Studio: compare speech models.")
    commands = parser.add_subparsers(dest="command", required=True)
    app = commands.add_parser("app", help="start the web UI")
    app.add_argument("--host", default="127.0.0.1")
    app.add_argument("--port", type=int, default=7860)
    app.add_argument("--share", action="store_true", help="make a public gradio.live link")
    add_config_argument(app)
    models = commands.add_parser("models", help="list the allow-listed models and why any is unavailable")
    add_config_argument(models)
    commands.add_parser("info", help="print hardware, threads and package versions as JSON")
    args = parser.parse_args(argv)
    try:
        apply_config_argument(args)
        if args.command == "app":
            from studio.ui.app import launch

            launch(host=args.host, port=args.port, share=args.share)
        elif args.command == "models":
            return print_models()
        elif args.command == "info":
            from studio.system_info import system_report

            print(json.dumps(system_report(), indent=2))
    except StudioError as error:
        print(f"studio: {error}", file=sys.stderr)
        return 2
    return 0


def print_models() -> int:
    """One line per model; exit status 1 when the config or any entry has a problem."""
    from studio.adapters import zoo

    problem = zoo.config_problem()
    if problem:
        print(f"studio: {problem}", file=sys.stderr)
    statuses = zoo.model_statuses()
    for status in statuses:
        detail = f"  -- {status.reason}" if status.reason else ""
        print(f"{status.id:24} {status.task or '?':4} {status.state:12} {status.source}{detail}")
    return 1 if problem or any(s.state == "unavailable" for s in statuses) else 0


if __name__ == "__main__":
    sys.exit(main())
