"""python -m evals CONFIG.yaml [--output DIR] [--limit N] [--device cpu] [--max-batch-size 1]"""

import argparse
import sys

from studio.evaluation.cli import add_arguments, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals", description="Evaluate speech systems from a YAML config.")
    add_arguments(parser)
    return run(parser.parse_args(argv), prog="evals")


if __name__ == "__main__":
    sys.exit(main())
