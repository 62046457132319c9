"""The benchmark harness every script in bench/ shares: warm-up, repeats, and the context.

Numbers from here are throughput ratios measured side by side in one process, so that
machine load and thermal state hit every contender alike. Contenders are interleaved
for the same reason, in ABBA order (the order flips every repeat) so that neither always
runs right after the other's thread pools have spun down. Each figure is the best of `repeats`,
the least disturbed run, after `warmup` untimed runs. Model load is never timed.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from typing import Callable

from studio.system_info import system_report
from studio.timing import synchronize


@dataclass(frozen=True)
class Timing:
    name: str
    seconds: float  # best of the repeats
    all_seconds: list[float]
    audio_seconds: float  # audio processed (ASR) or produced (TTS) per run

    @property
    def audio_per_second(self) -> float:
        return self.audio_seconds / self.seconds


def race(contenders: dict[str, Callable[[], float]], repeats: int = 5, warmup: int = 1,
         device: str = "cpu") -> dict[str, Timing]:
    """Time each zero-argument callable (it returns the seconds of audio it handled), interleaved."""
    for run in contenders.values():
        for _ in range(warmup):
            run()
    times: dict[str, list[float]] = {name: [] for name in contenders}
    audio: dict[str, float] = {}
    names = list(contenders)
    for repeat in range(repeats):
        for name in names if repeat % 2 == 0 else reversed(names):
            run = contenders[name]
            synchronize(device)
            start = time.perf_counter()
            audio[name] = run()
            synchronize(device)
            times[name].append(time.perf_counter() - start)
    return {name: Timing(name, min(t), t, audio[name]) for name, t in times.items()}


def context() -> dict:
    """Machine, threads, versions and load: print it with every result."""
    report = system_report()
    report["load_average_1_5_15"] = os.getloadavg()
    return report


def print_report(title: str, rows: list[dict], meta: dict) -> None:
    print(f"## {title}\n")
    if rows:
        headers = list(rows[0])
        print("| " + " | ".join(headers) + " |")
        print("|" + "---|" * len(headers))
        for row in rows:
            print("| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row.values()) + " |")
    print("\n```json\n" + json.dumps(meta, indent=1, default=str) + "\n```")


__all__ = ["Timing", "asdict", "context", "print_report", "race"]
