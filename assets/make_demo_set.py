"""Generate the demo evaluation set: Piper speech of assorted sentences, plus TTS prompts.

    python assets/make_demo_set.py            # writes assets/demo_set/

Piper runs with noise_scale=0 and noise_w_scale=0, so the output is the same on every run
(bit-exact on the same onnxruntime build). Audio is stored as 16 kHz 16-bit mono WAV: the
rate every ASR model here uses, and small enough to commit (about 1 MB in all).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from studio.bootstrap import build_registry  # noqa: E402

REGISTRY = build_registry()  # the bundled models, as the app and the CLI offer them

OUT = Path(__file__).resolve().parent / "demo_set"
SAMPLE_RATE = 16000

# Assorted on purpose: short and long, a question, numbers, a name, a homophone trap.
SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "Speech recognition turns spoken words into written text.",
    "Please call me back before noon tomorrow.",
    "Is the meeting still on for Thursday afternoon?",
    "She bought 3 apples and 12 oranges at the market.",
    "Turn left at the second light, then keep going straight.",
    "Their house is over there, next to the old bakery.",
    "Doctor Smith reviewed the results with great care.",
    "A gentle breeze drifted across the quiet lake at dawn.",
    "Yes.",
)
TTS_PROMPTS = (
    "Welcome to Speech Studio, where models are measured side by side.",
    "The weather today is mild, with a light wind from the west.",
    "Can you hear the difference between these two voices?",
    "Our train leaves at half past seven from platform four.",
    "Reading aloud is harder than it looks.",
)


def main() -> None:
    piper = REGISTRY.get("piper-joe", "cpu")
    options = piper.info.options_type(noise_scale=0.0, noise_w_scale=0.0)
    (OUT / "wav").mkdir(parents=True, exist_ok=True)
    rows = []
    for number, text in enumerate(SENTENCES, 1):
        audio = piper.synthesize(text, options).audio.resample(SAMPLE_RATE)
        name = f"wav/demo-{number:02d}.wav"
        (OUT / name).write_bytes(audio.to_wav_bytes())
        rows.append({"audio_filepath": name, "duration": round(audio.duration, 3), "text": text,
                     "speaker": "piper-joe"})
    (OUT / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    prompts = [{"id": f"prompt-{n:02d}", "text": text} for n, text in enumerate(TTS_PROMPTS, 1)]
    prompts[0]["reference_audio"] = "wav/demo-02.wav"  # a target voice for speaker similarity
    (OUT / "tts_prompts.jsonl").write_text("".join(json.dumps(p) + "\n" for p in prompts), encoding="utf-8")
    print(f"wrote {len(rows)} utterances ({sum(r['duration'] for r in rows):.1f} s) and {len(prompts)} prompts to {OUT}")


if __name__ == "__main__":
    main()
