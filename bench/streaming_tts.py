"""Time to first audio: streamed first phrase against the per-sentence path, with round-trip WER for both.

    python bench/streaming_tts.py [--adapter piper-joe] [--repeats 7] [--wer-runs 5]

For each demo prompt (assets/demo_set/tts_prompts.jsonl) the per-sentence path
(`TTSAdapter.synthesize`: the voice's first chunk is its first sentence) and the streamed path
(`TTSAdapter.stream`: the first phrase alone, then the rest) run interleaved in one process on
the same loaded voice, through `bench.timer.race`. Time to first audio is the adapter's own
figure (what the Synthesize tab reports), best of the repeats after a warm-up; total time is
race's wall clock for the whole prompt. Round-trip WER: the judge (whisper-tiny.en, the tab's
default) transcribes each path's audio; the voice samples noise, so each path runs `--wer-runs`
times with the default options and the spread over runs is the noise a difference must beat.
"first chunk plays ms" is the streamed first chunk's length: while it plays the voice makes the
next chunk, so playback has no gap when that is longer than total minus time to first audio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.timer import context, print_report, race  # noqa: E402
from studio import engine  # noqa: E402
from studio.adapters import System  # noqa: E402
from studio.bootstrap import build_registry  # noqa: E402
from studio.adapters.base import Synthesis  # noqa: E402
from studio.metrics.wer import normalize, word_errors  # noqa: E402
from studio.text import check_text  # noqa: E402

PROMPTS = Path(__file__).resolve().parent.parent / "assets" / "demo_set" / "tts_prompts.jsonl"


def streamed(adapter, text: str, options) -> Synthesis:
    *_, result = adapter.stream(text, options)
    return result


def first_chunk_seconds(adapter, text: str, options) -> float:
    """How long the streamed first chunk plays: the time the voice has to make the next one without a gap."""
    return next(iter(adapter.stream(text, options))).duration


def corpus_wer(registry, results: list[Synthesis], texts: list[str], judge: System) -> float:
    errors = words = 0
    for result, text in zip(results, texts):
        counts = word_errors(normalize(text), normalize(engine.recognize(registry, judge, result.audio).text))
        errors, words = errors + counts.errors, words + counts.reference_length
    return errors / words


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--adapter", default="piper-joe")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--wer-runs", type=int, default=5)
    parser.add_argument("--judge", default="whisper-tiny.en")
    args = parser.parse_args()
    prompts = [json.loads(line) for line in PROMPTS.read_text().splitlines() if line.strip()]
    texts = [check_text(p["text"]) for p in prompts]
    registry = build_registry()
    system = registry.system(args.adapter)
    adapter = registry.get(args.adapter, "cpu")
    adapter.ensure_loaded()

    rows = []
    for prompt, text in zip(prompts, texts):
        ttfa: dict[str, list[float]] = {"per sentence": [], "streamed": []}

        def per_sentence() -> float:
            result = adapter.synthesize(text, system.options)
            ttfa["per sentence"].append(result.time_to_first_audio)
            return result.audio.duration

        def stream() -> float:
            result = streamed(adapter, text, system.options)
            ttfa["streamed"].append(result.time_to_first_audio)
            return result.audio.duration

        timings = race({"per sentence": per_sentence, "streamed": stream}, repeats=args.repeats)
        best = {name: min(values[1:]) for name, values in ttfa.items()}  # values[0] is the warm-up run
        rows.append({
            "prompt": prompt["id"],
            "first chunk (streamed)": adapter.stream_units(adapter.front_end(text))[0],
            "TTFA per sentence ms": 1000 * best["per sentence"],
            "TTFA streamed ms": 1000 * best["streamed"],
            "streamed / per sentence": best["streamed"] / best["per sentence"],
            "total per sentence ms": 1000 * timings["per sentence"].seconds,
            "total streamed ms": 1000 * timings["streamed"].seconds,
            "first chunk plays ms": 1000 * first_chunk_seconds(adapter, text, system.options),
        })

    judge = registry.system(args.judge)
    wer: dict[str, list[float]] = {"per sentence": [], "streamed": []}
    for _ in range(args.wer_runs):  # interleaved as well, so a load spike hits both paths alike
        wer["per sentence"].append(corpus_wer(registry, [adapter.synthesize(t, system.options) for t in texts], texts, judge))
        wer["streamed"].append(corpus_wer(registry, [streamed(adapter, t, system.options) for t in texts], texts, judge))
    wer_rows = [{"path": name, "round-trip WER mean": statistics.mean(values),  # --wer-runs 0: timing only
                 "stdev over runs": statistics.stdev(values) if len(values) > 1 else 0.0,
                 "runs": " ".join(f"{v:.3f}" for v in values)} for name, values in wer.items() if values]

    meta = {"adapter": args.adapter, "options": "defaults (as the Synthesize tab)", "prompts": str(PROMPTS),
            "repeats": args.repeats, "statistic": "TTFA: best of repeats after 1 warm-up, interleaved ABBA",
            "judge": args.judge, "wer_runs": args.wer_runs, **context()}
    print_report(f"Time to first audio, {args.adapter}: streamed first phrase vs per sentence", rows, {})
    print_report(f"Round-trip WER over the {len(texts)} prompts (judge {args.judge})", wer_rows, meta)


if __name__ == "__main__":
    main()
