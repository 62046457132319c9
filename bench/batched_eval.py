"""Batched evaluation: the engine's duration-bucketed batches vs its one-at-a-time run vs the raw engine's batching.

    python bench/batched_eval.py [--repeats 3] [--batch-size 4]

Same clips (the generated demo set plus, where present, /work/shared/dev-speech), same model
(Whisper tiny.en, int8 CPU) and options (beam 5, temperature 0, English), interleaved in one
process by `bench.timer.race`:

- engine batched: the runner's recognition loop, `plan_batches` (240 padded s, up to
  --batch-size clips) feeding `transcribe_batch`;
- engine sequential: the same loop with one clip per batch;
- raw batched: faster-whisper's `BatchedInferencePipeline`, all clips in one call
  (concatenated, one `clip_timestamps` entry per clip, `batch_size` = --batch-size).

Targets (issue 4): batched >= 1.4x sequential with identical predictions, and >= 0.95 of the
raw batched throughput. Full `run_evaluation` runs (batched and sequential) give the
predictions and the padding fractions. The raw pipeline decodes without timestamps, so its
text differs on some clips; the engine's batches keep faster-whisper's sequential recipe.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.timer import context, print_report, race  # noqa: E402
from studio.adapters.zoo_config import config_path_from_env  # noqa: E402
from studio.bootstrap import build_registry  # noqa: E402
from studio.audio import load_audio  # noqa: E402
from studio.evaluation import DatasetConfig, EvalConfig, load_datasets, run_evaluation  # noqa: E402
from studio.evaluation.batching import plan_batches  # noqa: E402
from studio.evaluation.results import ResultsLog  # noqa: E402

REGISTRY = build_registry(config_path_from_env())  # the models the app and the CLI offer ($STUDIO_CONFIG)

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "assets" / "demo_set" / "manifest.jsonl"
DEV_SPEECH = ROOT.parent / "shared" / "dev-speech" / "manifest.jsonl"
BATCH_SECONDS = 240.0  # the clip count (--batch-size) is what binds for Whisper: 30 s windows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=4)
    args = parser.parse_args()
    datasets = [DatasetConfig(DEMO, "demo")] + ([DatasetConfig(DEV_SPEECH, "dev-speech")] if DEV_SPEECH.exists() else [])
    system = REGISTRY.system("whisper-tiny.en", {"beam_size": 5, "temperature": 0.0, "language": "en"}, "tiny.en beam 5")
    config = EvalConfig(name="batched_eval", datasets=tuple(datasets), systems=(system,), metrics=("wer", "latency"),
                        batch_seconds=BATCH_SECONDS, max_batch_size=args.batch_size, warmup=1, device="cpu")
    utterances = [u for d in load_datasets(config) for u in d.items]
    clips = [load_audio(u.audio_filepath).resample(16000) for u in utterances]
    seconds = sum(c.duration for c in clips)
    adapter = REGISTRY.get(system.adapter_id, "cpu")
    window = adapter.info.input_window_seconds

    def engine(max_batch_size: int):
        plan = plan_batches([c.duration for c in clips], BATCH_SECONDS, max_batch_size, window)

        def run() -> float:
            for batch in plan.batches:
                adapter.transcribe_batch([clips[i] for i in batch], system.options)
            return seconds
        return run

    from faster_whisper import BatchedInferencePipeline

    pipeline = BatchedInferencePipeline(adapter.model)  # the same loaded CTranslate2 model
    ordered = sorted(clips, key=lambda c: c.duration)
    audio = np.concatenate([c.samples for c in ordered])
    starts = np.cumsum([0] + [len(c.samples) for c in ordered])
    stamps = [{"start": float(a) / 16000, "end": float(b) / 16000} for a, b in zip(starts[:-1], starts[1:])]

    def raw() -> float:
        segments, _ = pipeline.transcribe(audio, language="en", beam_size=5, temperature=0.0,
                                          clip_timestamps=stamps, batch_size=args.batch_size)
        list(segments)
        return seconds

    timings = race({"engine batched": engine(args.batch_size), "engine sequential": engine(1), "raw batched": raw},
                   repeats=args.repeats, warmup=1)
    with tempfile.TemporaryDirectory() as folder:
        batched = run_evaluation(config.with_overrides(output=Path(folder) / "batched"), REGISTRY)
        sequential = run_evaluation(config.with_overrides(output=Path(folder) / "sequential", max_batch_size=1),
                                    REGISTRY)
        text = lambda result: {(r.dataset, r.key): r.pred_text for r in ResultsLog(result.results_path).read()}
        same = sum(text(batched)[k] == v for k, v in text(sequential).items())
        summaries = {"batched": batched.summary, "sequential": sequential.summary}
    speed = {name: t.audio_per_second for name, t in timings.items()}
    rows = [{"mode": name, "x real time (best)": speed[name],
             "vs engine sequential": speed[name] / speed["engine sequential"],
             "vs raw batched": speed[name] / speed["raw batched"]} for name in timings]
    padding = [{"run": name, "dataset": line.dataset, "corpus_wer": line.corpus_wer, "rtfx (engine-reported)": line.rtfx,
                "padding_fraction": line.padding_fraction, "mean_batch_size": line.mean_batch_size}
               for name, summary in summaries.items() for line in summary.itertuples()]
    meta = {"clips": len(clips), "audio_seconds": round(seconds, 2), "datasets": [d.name for d in datasets],
            "identical_predictions": f"{same}/{len(clips)}", "batch_size": args.batch_size,
            "batch_seconds": BATCH_SECONDS, "repeats": args.repeats,
            "statistic": "best of repeats after 1 warm-up, interleaved", "all_seconds":
            {name: t.all_seconds for name, t in timings.items()}, **context()}
    print_report("Batched evaluation, Whisper tiny.en beam 5 (higher is faster)", rows, {})
    print_report("Full engine runs: quality and padding", padding, meta)


if __name__ == "__main__":
    main()
