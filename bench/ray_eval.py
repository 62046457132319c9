"""Ray overhead: the same evaluation run locally and sharded over Ray with 1 and 2 workers.

    python bench/ray_eval.py [--repeats 2] [--beam-size 1]

Whisper tiny.en on the demo set plus, where present, /work/shared/dev-speech; every run is a
full `run_evaluation` (batches, scoring, JSONL, summary, plots) into a fresh folder, the
contenders interleaved by `bench.timer.race` after one warm-up each. Ray runs against one
local cluster started here (`ray.init(num_cpus=2)`), so its start is not timed; each Ray run
does start its actors, which load the model: that start-up is reported apart and taken out
in the "excluding start-up" column (the local run's model stays loaded between repeats).
Ray gives an actor OMP_NUM_THREADS = its CPUs, so the 1-worker run asks for both cores (as
the local run uses them) and the 2-worker run for one core each.
Target (issue 8): Ray with 1 worker at least 0.9 of the local run. On 2 cores, 2 workers
share the cores the local run already uses, so they cannot be faster.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.timer import context, print_report, race  # noqa: E402
from studio.bootstrap import build_registry  # noqa: E402
from studio.evaluation import DatasetConfig, EvalConfig, load_datasets, run_evaluation  # noqa: E402
from studio.evaluation.config import RaySettings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "assets" / "demo_set" / "manifest.jsonl"
DEV_SPEECH = ROOT.parent / "shared" / "dev-speech" / "manifest.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--beam-size", type=int, default=1)
    args = parser.parse_args()
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}})
    datasets = [DatasetConfig(DEMO, "demo")] + ([DatasetConfig(DEV_SPEECH, "dev-speech")] if DEV_SPEECH.exists() else [])
    registry = build_registry()
    system = registry.system("whisper-tiny.en", {"beam_size": args.beam_size})
    base = EvalConfig(name="ray_eval", datasets=tuple(datasets), systems=(system,), metrics=("wer", "latency"),
                      batch_seconds=240.0, max_batch_size=8, warmup=1, device="cpu")
    items = sum(len(d.items) for d in load_datasets(base))
    seconds = sum(u.duration for d in load_datasets(base) for u in d.items)
    scratch = Path(tempfile.mkdtemp(prefix="ray_eval-"))
    startups: dict[str, list[float]] = {}

    def contender(name: str, settings: RaySettings | None):
        def run() -> float:
            output = scratch / f"{name}-{len(startups.get(name, []))}"
            startups.setdefault(name, [])
            run_evaluation(base.with_overrides(output=output, ray=settings), registry)
            cluster = json.loads((output / "run.json").read_text())["cluster"]
            startups[name].append(cluster["startup_seconds"] if cluster else 0.0)
            return seconds
        return run

    timings = race({"local": contender("local", None),
                    "ray 1 worker": contender("ray1", RaySettings(address="auto", workers=1, cpus_per_worker=2)),
                    "ray 2 workers": contender("ray2", RaySettings(address="auto", workers=2, cpus_per_worker=1))},
                   repeats=args.repeats, warmup=1)
    local = timings["local"].seconds
    rows = []
    for name, timing in timings.items():
        key = {"local": "local", "ray 1 worker": "ray1", "ray 2 workers": "ray2"}[name]
        startup = min(startups[key][1:] or startups[key])
        rows.append({"run": name, "wall s (best)": timing.seconds, "x real time": timing.audio_per_second,
                     "vs local": local / timing.seconds, "actor start-up s": startup,
                     "vs local excluding start-up": local / max(timing.seconds - startup, 1e-9),
                     "overhead per item ms": 1000 * (timing.seconds - startup - local) / items})
    ray.shutdown()
    meta = {"items": items, "audio_seconds": round(seconds, 2), "beam_size": args.beam_size,
            "repeats": args.repeats, "statistic": "best of repeats after 1 warm-up, interleaved",
            "all_seconds": {n: t.all_seconds for n, t in timings.items()}, **context()}
    print_report("Evaluation locally vs on Ray (local cluster, 2 CPUs)", rows, meta)


if __name__ == "__main__":
    main()
