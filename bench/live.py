"""Live recognition: what a partial costs, how often partials come, and end of speech -> final text.

    python bench/live.py

Piper reads two sentences (5.1 s); the audio is fed to `studio.streaming.LiveSession` in 0.1 s
chunks in real time, followed by silence, as Chromium's microphone stream sends it; the
decoder thread re-decodes the buffer beside it. Printed per recogniser: decode time (mean and
max), when the first partial appeared after speech began, the median interval between partials
of the utterance, and the latency from the end of speech to the final text; and the load
average, since these are wall-clock numbers.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from studio import streaming  # noqa: E402
from studio.bootstrap import build_registry  # noqa: E402

TEXT = "Speech recognition turns spoken words into written text. Please call me back before noon tomorrow."
SYSTEMS = (("whisper-tiny.en", "beam_size=1"), ("pocketsphinx", ""))
CHUNK = 0.1


def replay(session: streaming.LiveSession, audio, pause_seconds: float = 1.5) -> float | None:
    """Feed `audio` then silence in real time; seconds from the start to the first partial (None: none)."""
    samples = np.concatenate([audio.to_int16(), np.zeros(int(pause_seconds * audio.sample_rate), np.int16)])
    step, started, first = int(CHUNK * audio.sample_rate), time.monotonic(), None
    for start in range(0, len(samples), step):
        session.feed(audio.sample_rate, samples[start:start + step])
        if first is None and session.partial:
            first = time.monotonic() - started
        time.sleep(max(0.0, started + (start + step) / audio.sample_rate - time.monotonic()))
    return first


def main() -> None:
    registry = build_registry()
    piper = registry.get("piper-joe", "cpu")
    audio = piper.synthesize(TEXT, piper.info.options_type(noise_scale=0.0, noise_w_scale=0.0)).audio
    print(f"speech: {audio.duration:.2f} s")
    for adapter_id, options in SYSTEMS:
        session = streaming.start(registry, registry.system(adapter_id, options))
        first = replay(session, audio)
        final = session.stop()
        stats = session.stats()
        print(f"{adapter_id} [{options}]: decode {stats['decode_s_mean']:.2f} s mean / {stats['decode_s_max']:.2f} s max,"
              f" first partial {first or float('nan'):.2f} s, partial interval {stats['partial_interval_s'] or float('nan'):.2f} s,"
              f" end of speech -> final {stats['final_latency_s']:.2f} s | {final}")
    print("load average:", " ".join(f"{x:.1f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
