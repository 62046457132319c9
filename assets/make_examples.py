"""Make the bundled examples: speech by the project's own voices, and example texts.

Run from the repository root: `python assets/make_examples.py`. Piper runs with its noise
switched off, so the files are reproducible bit for bit on the same software versions.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from studio.bootstrap import build_registry  # noqa: E402

REGISTRY = build_registry()  # the bundled models, as the app and the CLI offer them

OUT = Path(__file__).resolve().parent / "examples"

RECORDINGS = [  # (file name, adapter, text)
    ("piper-weather.wav", "piper-joe", "Tomorrow will be cloudy in the morning, with light rain spreading from the west by the afternoon."),
    ("piper-library.wav", "piper-joe", "The library opens at nine and closes at six, except on Sundays when it stays closed all day."),
    ("espeak-trains.wav", "espeak-ng", "The next train to the airport leaves from platform four in ten minutes."),
]
TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "Dr. Smith moved to St. Louis on Nov. 3rd and paid $20 for the train.",
    "Speech synthesis has come a long way since the first formant synthesisers of the nineteen sixties.",
    "Could you please repeat the last sentence a little more slowly?",
]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, adapter_id, text in RECORDINGS:
        adapter = REGISTRY.get(adapter_id, "cpu")
        options = adapter.info.options_type(noise_scale=0.0, noise_w_scale=0.0) if adapter_id == "piper-joe" else None
        audio = adapter.synthesize(text, options).audio
        (OUT / name).write_bytes(audio.to_wav_bytes())
        rows.append({"audio_filepath": name, "duration": round(audio.duration, 3), "text": text,
                     "speaker": adapter_id})
    (OUT / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (OUT / "texts.txt").write_text("\n".join(TEXTS) + "\n")
    print(f"wrote {len(rows)} recordings and {len(TEXTS)} texts to {OUT}")


if __name__ == "__main__":
    main()
