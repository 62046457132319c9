"""The `studio` command: `studio app` starts the UI, `studio info` prints the system report,
`studio eval CONFIG.yaml` runs an evaluation."""

from __future__ import annotations

import argparse
import json
import sys

from studio.errors import StudioError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="studio", description="Speech Studio: compare speech models.")
    commands = parser.add_subparsers(dest="command", required=True)
    app = commands.add_parser("app", help="start the web UI")
    app.add_argument("--host", default="127.0.0.1")
    app.add_argument("--port", type=int, default=7860)
    app.add_argument("--share", action="store_true", help="make a public gradio.live link")
    commands.add_parser("info", help="print hardware, threads and package versions as JSON")
    from studio.evaluation.cli import add_arguments, run as run_eval

    add_arguments(commands.add_parser("eval", help="evaluate systems on datasets from a YAML config"))
    args = parser.parse_args(argv)
    if args.command == "eval":
        return run_eval(args)
    try:
        if args.command == "app":
            from studio.ui.app import launch

            launch(host=args.host, port=args.port, share=args.share)
        elif args.command == "info":
            from studio.system_info import system_report

            print(json.dumps(system_report(), indent=2))
    except StudioError as error:
        print(f"studio: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
