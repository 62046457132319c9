"""Adapter overhead: the studio's adapters against the raw engines, same audio and options.

    python bench/adapter_overhead.py [--manifest ../shared/dev-speech/manifest.jsonl] [--repeats 5]

For each model, the raw engine (faster-whisper `WhisperModel.transcribe`, `PiperVoice.synthesize`,
pocketsphinx `Decoder`) and the studio adapter run the same inputs with the same options,
interleaved in one process. The raw Whisper and Piper calls run on the adapter's own loaded
model objects with the studio's timing wrappers taken off, so both sides share one set of
weights and thread pools and the ratio isolates the adapter's own cost (a second copy of a
model would bring a second spinning thread pool that slows whichever runs next).
The ratio is adapter throughput / raw throughput (target >= 0.95).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.timer import context, print_report, race  # noqa: E402
from studio.adapters.zoo_config import config_path_from_env  # noqa: E402
from studio.bootstrap import build_registry  # noqa: E402
from studio.assets import EXAMPLES, example_texts  # noqa: E402
from studio.audio import load_audio  # noqa: E402

REGISTRY = build_registry(config_path_from_env())  # the models the app and the CLI offer ($STUDIO_CONFIG)

DEV_SPEECH = Path(__file__).resolve().parent.parent.parent / "shared" / "dev-speech" / "manifest.jsonl"


def load_clips(manifest: Path):
    rows = [json.loads(line) for line in manifest.read_text().splitlines() if line.strip()]
    return [load_audio(manifest.parent / row["audio_filepath"]).resample(16000) for row in rows]


def whisper_pair(adapter_id: str, clips, beam_size: int):
    system = REGISTRY.system(adapter_id, {"beam_size": beam_size})
    adapter = REGISTRY.get(adapter_id, "cpu")
    raw = copy.copy(adapter.model)  # the same faster-whisper WhisperModel without the studio's timing proxies
    raw.model, raw.feature_extractor = adapter.model.model._model, adapter.model.feature_extractor._extractor
    seconds = sum(c.duration for c in clips)

    def run_raw():
        for clip in clips:
            segments, _ = raw.transcribe(clip.samples, beam_size=beam_size, temperature=0.0, language="en",
                                         vad_filter=False)
            "".join(s.text for s in segments)
        return seconds

    def run_adapter():
        for clip in clips:
            adapter.transcribe(clip, system.options)
        return seconds

    return run_raw, run_adapter


def pocketsphinx_pair(clips):
    from pocketsphinx import Decoder

    decoder = Decoder(samprate=16000, loglevel="FATAL")
    adapter = REGISTRY.get("pocketsphinx", "cpu")
    seconds = sum(c.duration for c in clips)
    pcms = [(c.samples * 32767).astype(np.int16).tobytes() for c in clips]

    def run_raw():
        for pcm in pcms:
            decoder.start_utt()
            decoder.process_raw(pcm, full_utt=True)
            decoder.end_utt()
            decoder.hyp()
        return seconds

    def run_adapter():
        for clip in clips:
            adapter.transcribe(clip)
        return seconds

    return run_raw, run_adapter


def piper_pair(texts):
    from piper import SynthesisConfig

    synthesis = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)  # same work every run
    system = REGISTRY.system("piper-joe", "noise_scale=0 noise_w_scale=0")
    adapter = REGISTRY.get("piper-joe", "cpu")
    voice = adapter.voice  # the raw PiperVoice the adapter wraps

    def run_raw():
        return sum(len(c.audio_float_array) for t in texts for c in voice.synthesize(t, syn_config=synthesis)) / 22050

    def run_adapter():
        return sum(adapter.synthesize(t, system.options).audio.duration for t in texts)

    return run_raw, run_adapter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--manifest", type=Path, default=DEV_SPEECH if DEV_SPEECH.exists() else EXAMPLES / "manifest.jsonl")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    clips = load_clips(args.manifest)
    pairs = {
        "whisper-tiny.en beam 5": whisper_pair("whisper-tiny.en", clips, 5),
        "whisper-base beam 5": whisper_pair("whisper-base", clips, 5),
        "pocketsphinx": pocketsphinx_pair(clips),
        "piper-joe (noise 0)": piper_pair(list(example_texts())),
    }
    rows = []
    for name, (raw, adapter) in pairs.items():
        timings = race({"raw": raw, "adapter": adapter}, repeats=args.repeats)
        rows.append({
            "model": name,
            "raw x real time": timings["raw"].audio_per_second,
            "adapter x real time": timings["adapter"].audio_per_second,
            "adapter / raw throughput": timings["adapter"].audio_per_second / timings["raw"].audio_per_second,
        })
    meta = {"manifest": str(args.manifest), "clips": len(clips), "audio_seconds": round(sum(c.duration for c in clips), 2),
            "repeats": args.repeats, "statistic": "best of repeats after 1 warm-up, interleaved", **context()}
    print_report("Adapter overhead (higher ratio is better; 1.0 = no overhead)", rows, meta)


if __name__ == "__main__":
    main()
