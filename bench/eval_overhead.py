"""Evaluation overhead: `studio eval` on a multi-system config against the raw engine, system by system.

    python bench/eval_overhead.py [--manifest ../shared/dev-speech/manifest.jsonl] [--repeats 3] [--limit N]

Three systems (Whisper tiny.en beam 1, tiny.en beam 5, base beam 5; one clip at a time, one
warm-up clip each) run three ways, each in fresh processes, interleaved round by round (the order
flips every round, ABBA):

- raw: faster-whisper `WhisperModel.transcribe` directly, one process per system, so the model
  is the only one in its process; each clip timed around `transcribe` and the segment loop;
- multi: one `studio eval` run (`python -m evals CONFIG`, the real command) holding all three;
- single (the control): one `studio eval` run per system.

A system's RTFx is its audio seconds over the sum of its clips' processing seconds (the studio's
`time` column, as in the summary). The ratio is studio RTFx / raw RTFx, best round of each
(target >= 0.97 for every system in the multi-system run). Transcripts are checked identical to
the raw engine's; a difference stops the benchmark.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.timer import context, print_report  # noqa: E402

DEV_SPEECH = ROOT.parent / "shared" / "dev-speech" / "manifest.jsonl"
DEMO = ROOT / "assets" / "demo_set" / "manifest.jsonl"
SYSTEMS = [  # (name, adapter id, beam size)
    ("tiny.en beam 1", "whisper-tiny.en", 1),
    ("tiny.en beam 5", "whisper-tiny.en", 5),
    ("base beam 5", "whisper-base", 5),
]


def raw_worker(adapter_id: str, beam_size: int, manifest: Path, limit: int | None) -> None:
    """Run one system on the raw engine and print {"texts", "seconds", "audio_seconds"} as JSON."""
    from faster_whisper import WhisperModel

    from studio.adapters.bundled_weights import whisper_base_dir, whisper_tiny_en_dir
    from studio.audio import load_audio

    folder = {"whisper-tiny.en": whisper_tiny_en_dir, "whisper-base": whisper_base_dir}[adapter_id]()
    rows = [json.loads(line) for line in manifest.read_text().splitlines() if line.strip()][:limit]
    clips = [load_audio(manifest.parent / row["audio_filepath"]).resample(16000) for row in rows]
    model = WhisperModel(str(folder), device="cpu", compute_type="int8")  # the adapter's CPU settings

    def transcribe(samples) -> str:
        segments, _ = model.transcribe(samples, beam_size=beam_size, temperature=0.0, language="en",
                                       vad_filter=False)
        return "".join(s.text for s in segments).strip()

    transcribe(clips[0].samples)  # warm-up: the studio's `warmup: 1`
    texts, seconds = [], 0.0
    for clip in clips:
        start = time.perf_counter()
        texts.append(transcribe(clip.samples))
        seconds += time.perf_counter() - start
    print(json.dumps({"texts": texts, "seconds": seconds, "audio_seconds": sum(c.duration for c in clips)}))


def run_raw(name: str, manifest: Path, limit: int | None) -> dict:
    _, adapter_id, beam = next(s for s in SYSTEMS if s[0] == name)
    command = [sys.executable, __file__, "--raw-worker", adapter_id, str(beam), "--manifest", str(manifest)]
    command += ["--limit", str(limit)] if limit else []
    output = subprocess.run(command, check=True, capture_output=True, text=True, env=_env()).stdout
    return json.loads(output.strip().splitlines()[-1])


def run_studio(names: list[str], manifest: Path, limit: int | None, scratch: Path) -> dict[str, dict]:
    """One `python -m evals` run over `names`; per system its texts, summed `time` and audio seconds."""
    folder = Path(tempfile.mkdtemp(dir=scratch))
    config = {
        "name": "eval_overhead",
        "datasets": [{"path": str(manifest), "name": "speech"}],
        "systems": [{"adapter": a, "options": {"beam_size": b}, "name": n} for n, a, b in SYSTEMS if n in names],
        "metrics": ["wer", "latency"], "max_batch_size": 1, "warmup": 1, "device": "cpu",
        "output": str(folder / "results"),
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    command = [sys.executable, "-m", "evals", str(path)] + (["--limit", str(limit)] if limit else [])
    subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT, env=_env())
    rows = [json.loads(line) for line in (folder / "results" / "results.jsonl").read_text().splitlines()]
    order = [json.loads(line)["audio_filepath"] for line in manifest.read_text().splitlines() if line.strip()]
    found = {}
    for name in names:
        mine = sorted((r for r in rows if r["system"] == name),
                      key=lambda r: order.index(os.path.relpath(r["audio_filepath"], manifest.parent)))
        if any(r.get("error") for r in mine):
            raise SystemExit(f"{name}: a clip failed in the studio run: {[r['error'] for r in mine if r.get('error')]}")
        found[name] = {"texts": [r["pred_text"] for r in mine], "seconds": sum(r["time"] for r in mine),
                       "audio_seconds": sum(r["duration"] for r in mine)}
    return found


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT)}  # this checkout's studio, also in subprocesses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--manifest", type=Path, default=DEV_SPEECH if DEV_SPEECH.exists() else DEMO)
    parser.add_argument("--repeats", type=int, default=3, help="rounds (each runs every contender once)")
    parser.add_argument("--limit", type=int, help="only the first N clips")
    parser.add_argument("--raw-worker", nargs=2, metavar=("ADAPTER", "BEAM"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    manifest = args.manifest.resolve()
    if args.raw_worker:
        raw_worker(args.raw_worker[0], int(args.raw_worker[1]), manifest, args.limit)
        return
    names = [s[0] for s in SYSTEMS]
    scratch = Path(tempfile.mkdtemp(prefix="eval_overhead-"))
    contenders = ["raw", "multi", "single"]
    rtfx: dict[tuple[str, str], list[float]] = {}
    texts: dict[tuple[str, str], list[list[str]]] = {}
    audio_seconds, loads = 0.0, []
    for round_ in range(args.repeats):
        loads.append(round(os.getloadavg()[0], 2))
        for contender in contenders if round_ % 2 == 0 else reversed(contenders):
            if contender == "multi":
                results = run_studio(names, manifest, args.limit, scratch)
            else:
                results = {n: (run_raw(n, manifest, args.limit) if contender == "raw"
                               else run_studio([n], manifest, args.limit, scratch)[n]) for n in names}
            for name, result in results.items():
                rtfx.setdefault((contender, name), []).append(result["audio_seconds"] / result["seconds"])
                texts.setdefault((contender, name), []).append(result["texts"])
                audio_seconds = result["audio_seconds"]
        print(f"round {round_ + 1}/{args.repeats} done, load {os.getloadavg()[0]:.2f}", file=sys.stderr)
    for (contender, name), runs in texts.items():
        if any(run != texts[("raw", name)][0] for run in runs):
            raise SystemExit(f"{name}: a {contender} run's transcripts differ from the raw engine's")
    rows = []
    for name in names:
        best = {c: max(rtfx[(c, name)]) for c in contenders}
        rows.append({"system": name, "raw RTFx": best["raw"],
                     "multi-system run RTFx": best["multi"], "multi / raw": best["multi"] / best["raw"],
                     "one-system run RTFx": best["single"], "one-system / raw": best["single"] / best["raw"]})
    meta = {"manifest": str(manifest), "clips": len(texts[("raw", names[0])][0]),
            "audio_seconds": round(audio_seconds, 2), "repeats": args.repeats, "transcripts": "identical in every run",
            "statistic": "best round of each, contenders interleaved ABBA, fresh processes, 1 warm-up clip",
            "load_1min_at_round_start": loads,
            "all_rtfx": {f"{c} / {n}": [round(v, 2) for v in values] for (c, n), values in rtfx.items()},
            **context()}
    print_report("studio eval vs raw faster-whisper (ratio 1.0 = no overhead; target >= 0.97)", rows, meta)


if __name__ == "__main__":
    main()
