"""Every model family side by side in one process: autoregressive vs non-autoregressive vs classical.

    python bench/families.py [--repeats 3] [--skip-tts] [--skip-asr] [--lengths-only]

ASR, on ../shared/dev-speech (8 clips of read speech, 65 s): Whisper tiny.en and base (autoregressive,
padded to a 30 s window), Moonshine tiny (autoregressive, no window), hama (non-autoregressive CTC
phonemes, then P2G spelling) and PocketSphinx (HMM). All greedy (Whisper beam 1), since Moonshine
and CTC have no beam here. Per system: RTFx (best of --repeats, interleaved by `bench.timer.race`),
corpus WER with the Whisper English normaliser, padding fraction, time per stage, and peak memory.
Then the length scaling: latency on crops of 2, 5, 10 and 20 s of the same speech.

TTS, on the demo prompts (assets/demo_set/tts_prompts.jsonl): Piper (noise 0), hibari, Kokoro-82M
(every bundled voice) and eSpeak NG. Per system: RTF (best of repeats), time to first audio,
round-trip WER through Whisper base (beam 5), DNSMOS, DistillMOS, and speaker similarity of each
output to the system's own first output (does the voice stay the same speaker).

Memory, from the process's resident set: "load MiB" is what loading the system added (weights, engine
libraries and buffers; systems load one after another), "run MiB" the peak while it ran (sampled every
5 ms) minus what the process held when the run started (activations and scratch).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.timer import context, print_report, race  # noqa: E402
from studio.adapters.zoo_config import config_path_from_env  # noqa: E402
from studio.bootstrap import build_registry  # noqa: E402
from studio.audio import Audio, load_audio  # noqa: E402
from studio.evaluation.batching import padding_fraction, processed_seconds  # noqa: E402
from studio.metrics import MetricInput, get_metric  # noqa: E402
from studio.metrics.wer import normalize, word_errors  # noqa: E402

REGISTRY = build_registry(config_path_from_env())  # the models the app and the CLI offer ($STUDIO_CONFIG)

ROOT = Path(__file__).resolve().parent.parent
DEV_SPEECH = ROOT.parent / "shared" / "dev-speech" / "manifest.jsonl"
PROMPTS = ROOT / "assets" / "demo_set" / "tts_prompts.jsonl"
LENGTHS = (2.0, 5.0, 10.0, 20.0)  # seconds, for the length-scaling table
MIB = 1024 * 1024

ASR_SYSTEMS = [
    ("whisper tiny.en greedy", "whisper-tiny.en", "beam_size=1"),
    ("whisper base greedy", "whisper-base", "beam_size=1"),
    ("moonshine tiny", "moonshine-tiny-en", ""),
    ("hama CTC + P2G", "hama", ""),
    ("pocketsphinx", "pocketsphinx", ""),
]
TTS_SYSTEMS = [
    ("piper joe (noise 0)", "piper-joe", "noise_scale=0 noise_w_scale=0"),
    ("hibari heart", "hibari-heart", ""),
    ("kokoro jm_kumo", "kokoro-82m", "voice=jm_kumo"),
    ("espeak-ng", "espeak-ng", ""),
]
KOKORO_OTHER_VOICES = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro")  # quality only, one run each


class PeakMemory:
    """Peak resident set of this process while the block runs, sampled in a thread."""

    def __init__(self, interval: float = 0.005):
        self.interval, self.peak = interval, 0
        self._process, self._stop = psutil.Process(), threading.Event()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._process.memory_info().rss)
            time.sleep(self.interval)

    @property
    def rise(self) -> int:
        return self.peak - self.start

    def __enter__(self) -> "PeakMemory":
        self.start = self.peak = self._process.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def rss() -> int:
    return psutil.Process().memory_info().rss


def kind(adapter_id: str) -> str:
    return {"autoregressive": "AR", "non-autoregressive": "NAR"}.get(REGISTRY.get(adapter_id, "cpu").info.kind,
                                                                     REGISTRY.get(adapter_id, "cpu").info.kind)


def bench_asr(repeats: int) -> tuple[list[dict], list[dict], dict]:
    manifest = [json.loads(line) for line in DEV_SPEECH.read_text().splitlines() if line.strip()]
    clips = [load_audio(DEV_SPEECH.parent / row["audio_filepath"]).resample(16000) for row in manifest]
    references = [row["text"] for row in manifest]
    seconds = sum(c.duration for c in clips)
    systems, load_mib, loads = {}, {}, {}
    for name, adapter_id, options in ASR_SYSTEMS:
        before = rss()
        start = time.perf_counter()
        adapter = REGISTRY.get(adapter_id, "cpu")
        loads[name] = time.perf_counter() - start
        load_mib[name] = (rss() - before) / MIB
        systems[name] = (adapter, REGISTRY.system(adapter_id, options))
    last: dict[str, list] = {}
    peaks: dict[str, int] = {}

    def contender(name: str):
        adapter, system = systems[name]

        def run() -> float:
            with PeakMemory() as memory:
                last[name] = [adapter.transcribe(clip, system.options) for clip in clips]
            peaks[name] = max(peaks.get(name, 0), memory.rise)
            return seconds
        return run

    timings = race({name: contender(name) for name in systems}, repeats=repeats, warmup=1)
    rows = []
    for name, adapter_id, _ in ASR_SYSTEMS:
        adapter, _ = systems[name]
        results = last[name]
        errors = words = 0
        for reference, result in zip(references, results):
            counts = word_errors(normalize(reference), normalize(result.text))
            errors, words = errors + counts.errors, words + counts.reference_length
        durations = [r.audio_duration for r in results]
        processed = [p for d in durations for p in processed_seconds([d], adapter.info.input_window_seconds)]
        stages: dict[str, float] = {}
        for result in results:
            for stage, value in result.stage_seconds.items():
                stages[stage] = stages.get(stage, 0.0) + value
        total = sum(stages.values()) or 1.0
        rows.append({
            "system": name, "kind": kind(adapter_id), "RTFx (best)": timings[name].audio_per_second,
            "corpus WER": errors / words, "padding fraction": padding_fraction(durations, processed),
            "stages (share of time)": ", ".join(f"{k} {v / total:.0%}" for k, v in stages.items() if v / total >= 0.01),
            "load MiB": load_mib[name], "run MiB": peaks[name] / MIB, "load s": loads[name],
        })
    lengths = length_scaling(systems, clips, repeats)
    meta = {"clips": len(clips), "audio_seconds": round(seconds, 2), "dataset": str(DEV_SPEECH),
            "statistic": f"best of {repeats} after 1 warm-up, interleaved (ABBA)",
            "all_seconds": {n: t.all_seconds for n, t in timings.items()},
            "transcripts": {n: [r.text for r in last[n]] for n in last}}
    return rows, lengths, meta


def length_scaling(systems: dict, clips: list[Audio], repeats: int) -> list[dict]:
    """Latency of each system on crops of one long stretch of speech: flat for a fixed window, growing without one."""
    speech = np.concatenate([c.samples for c in clips])
    crops = {length: Audio(speech[: int(length * 16000)], 16000) for length in LENGTHS}
    rows = []
    for name, (adapter, system) in systems.items():
        row = {"system": name, "kind": kind(system.adapter_id)}
        for length, crop in crops.items():
            adapter.transcribe(crop, system.options)  # warm-up at this length
            best = min(adapter.transcribe(crop, system.options).processing_seconds for _ in range(repeats))
            row[f"{length:.0f} s clip: latency s"] = best
        row["20 s / 2 s"] = row["20 s clip: latency s"] / row["2 s clip: latency s"]
        rows.append(row)
    return rows


def bench_tts(repeats: int) -> tuple[list[dict], dict]:
    prompts = [json.loads(line)["text"] for line in PROMPTS.read_text().splitlines() if line.strip()]
    judge = REGISTRY.system("whisper-base", "beam_size=5")
    judge_adapter = REGISTRY.get(judge.adapter_id, "cpu")
    dnsmos, distillmos, similarity = get_metric("dnsmos"), get_metric("distillmos"), get_metric("speaker_similarity")
    systems, load_mib, loads, peaks, last = {}, {}, {}, {}, {}
    for name, adapter_id, options in TTS_SYSTEMS:
        before = rss()
        start = time.perf_counter()
        systems[name] = (REGISTRY.get(adapter_id, "cpu"), REGISTRY.system(adapter_id, options))
        loads[name] = time.perf_counter() - start
        load_mib[name] = (rss() - before) / MIB

    def contender(name: str):
        adapter, system = systems[name]

        def run() -> float:
            with PeakMemory() as memory:
                last[name] = [adapter.synthesize(text, system.options) for text in prompts]
            peaks[name] = max(peaks.get(name, 0), memory.rise)
            return sum(s.audio.duration for s in last[name])
        return run

    timings = race({name: contender(name) for name in systems}, repeats=repeats, warmup=1)
    kokoro = systems["kokoro jm_kumo"][0]
    for voice in KOKORO_OTHER_VOICES:  # same model, other voices: quality only
        options = kokoro.info.options_type(voice=voice)
        last[f"kokoro {voice}"] = [kokoro.synthesize(text, options) for text in prompts]
    rows, transcripts = [], {}
    for name, outputs in last.items():
        adapter_id = outputs[0].adapter_id
        errors = words = 0
        heard = []
        for text, output in zip(prompts, outputs):
            hypothesis = judge_adapter.transcribe(output.audio, judge.options).text
            heard.append(hypothesis)
            counts = word_errors(normalize(output.text), normalize(hypothesis))
            errors, words = errors + counts.errors, words + counts.reference_length
        transcripts[name] = heard
        audio = sum(o.audio.duration for o in outputs)
        timed = name in timings
        rows.append({
            "system": name, "kind": kind(adapter_id),
            "RTF (best)": timings[name].seconds / timings[name].audio_seconds if timed else float("nan"),
            "TTFA s (mean)": float(np.mean([o.time_to_first_audio for o in outputs])),
            "round-trip WER": errors / words,
            "DNSMOS": float(np.mean([dnsmos.compute(MetricInput(audio=o.audio))[0].value for o in outputs])),
            "DistillMOS": float(np.mean([distillmos.compute(MetricInput(audio=o.audio))[0].value for o in outputs])),
            "similarity to own 1st": float(np.mean([
                similarity.compute(MetricInput(audio=o.audio, reference_audio=outputs[0].audio))[0].value
                for o in outputs[1:]])),
            "load MiB": load_mib[name] if timed else float("nan"),
            "run MiB": peaks[name] / MIB if timed else float("nan"),
            "load s": loads.get(name, float("nan")),
            "audio s": audio,
        })
    meta = {"prompts": len(prompts), "judge": "whisper-base beam 5",
            "statistic": f"RTF: best of {repeats} after 1 warm-up, interleaved (ABBA); other Kokoro voices: one run",
            "all_seconds": {n: t.all_seconds for n, t in timings.items()}, "transcripts": transcripts}
    return rows, meta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-asr", action="store_true")
    parser.add_argument("--skip-tts", action="store_true")
    parser.add_argument("--lengths-only", action="store_true", help="only the ASR length-scaling table")
    args = parser.parse_args()
    if args.lengths_only:
        manifest = [json.loads(line) for line in DEV_SPEECH.read_text().splitlines() if line.strip()]
        clips = [load_audio(DEV_SPEECH.parent / row["audio_filepath"]).resample(16000) for row in manifest]
        systems = {name: (REGISTRY.get(i, "cpu"), REGISTRY.system(i, o)) for name, i, o in ASR_SYSTEMS}
        print_report("Length scaling: latency on crops of the same speech (best of repeats)",
                     length_scaling(systems, clips, args.repeats), context())
        return
    if not args.skip_asr:
        rows, lengths, meta = bench_asr(args.repeats)
        print_report("ASR families on dev-speech (RTFx higher is faster; WER lower is better)", rows, meta)
        print_report("Length scaling: latency on crops of the same speech (best of repeats)", lengths, {})
    if not args.skip_tts:
        rows, meta = bench_tts(args.repeats)
        print_report("TTS families on the demo prompts (RTF lower is faster)", rows, meta)
    print_report("Machine", [], context())


if __name__ == "__main__":
    main()
