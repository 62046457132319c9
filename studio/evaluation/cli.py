"""The evaluation command line, shared by `studio eval CONFIG` and `python -m evals CONFIG`."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from studio.bootstrap import add_models_argument, registry_for_command
from studio.errors import StudioError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("eval_config", metavar="CONFIG", type=Path,
                        help="evaluation YAML, e.g. evals/configs/demo_asr.yaml")
    add_models_argument(parser)  # --config studio.yaml: which models exist (own models included)
    parser.add_argument("--output", type=Path, help="results folder (overrides the config's output)")
    parser.add_argument("--limit", type=int, help="only the first N items of each dataset")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), help="overrides the config's device")
    parser.add_argument("--max-batch-size", type=int, help="overrides the config; 1 = one utterance at a time")
    parser.add_argument("--ray", metavar="ADDRESS", help="shard the run over Ray: auto (a running cluster), "
                        "local (start one here) or ray://host:10001; needs the cluster extra")
    parser.add_argument("--ray-workers", type=int, help="Ray actors per system (default 2)")


def ray_settings(config, args: argparse.Namespace):
    """The config's `ray:` settings with the command line's address and worker count laid over them."""
    from studio.evaluation.config import RaySettings

    if not (args.ray or args.ray_workers or config.ray):
        return None
    base = config.ray or RaySettings()
    changes = {k: v for k, v in (("address", args.ray), ("workers", args.ray_workers)) if v is not None}
    return dataclasses.replace(base, **changes)


def run(args: argparse.Namespace, prog: str = "studio eval") -> int:
    """Run the evaluation with a tqdm bar; a `StudioError` becomes one line on stderr and exit code 2."""
    from tqdm import tqdm

    from studio.evaluation import load_config, run_evaluation

    bar = None

    def progress(done: int, total: int, message: str) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, initial=done - 1, unit="utt", file=sys.stderr)
        bar.update(done - bar.n)
        bar.set_postfix_str(message[:50])

    try:
        registry = registry_for_command(args.config)  # Ray workers build theirs from the same file
        config = load_config(args.eval_config, registry)
        config = config.with_overrides(output=args.output, limit=args.limit, device=args.device,
                                       max_batch_size=args.max_batch_size, ray=ray_settings(config, args))
        result = run_evaluation(config, registry, progress)
    except StudioError as error:
        print(f"{prog}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    finally:
        if bar is not None:
            bar.close()
    from studio.evaluation.results import SHOWN_COLUMNS

    with_columns = [c for c in SHOWN_COLUMNS if c in result.summary and result.summary[c].notna().any()]
    if not result.summary.empty:
        print(result.summary[with_columns].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"results: {result.output.resolve()} ({result.new_rows} new rows, {result.failed} failed)")
    return 0
