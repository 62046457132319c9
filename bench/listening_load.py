"""Listening-test capacity: votes per second with many raters at once, and leaderboard compute time.

    python bench/listening_load.py [--raters 32] [--systems 8] [--votes 20000]

1. Vote throughput: `--raters` threads each join a tone A/B test and rate every trial through
   `ListeningService` (the calls the Listen tab makes, without HTTP), on SQLite in WAL mode in a
   temporary folder. A fake clock stands in for the listening time, so the figure is the
   database and service cost alone. Every vote is then counted back from the database.
2. Leaderboard: Bradley–Terry with 500 bootstrap resamples over `--votes` simulated votes
   among `--systems` systems (what one "Show leaderboard" click costs), minimum of 3 repeats.
Reports hardware, versions and the load average: numbers from a busy machine are not final.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from studio.listening.records import VoteRecord  # noqa: E402
from studio.listening.stats import StatsOptions, leaderboard  # noqa: E402
from studio.system_info import system_report  # noqa: E402
from tests.listening.factories import ab_test, make_service  # noqa: E402


class SkipAheadClock:
    """Every reading is far in the future, so playback checks pass at once (thread-safe)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._now = 1e9

    def __call__(self) -> float:
        with self._lock:
            self._now += 10.0
            return self._now


def vote_throughput(raters: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        service = make_service(Path(folder) / "data", SkipAheadClock())
        systems = {f"s{n}": 0.1 + 0.05 * n for n in range(4)}
        made = ab_test(service, Path(folder) / "src", systems, items=3, attention_checks=2)

        def rate(_: int) -> int:
            token = service.join(made.id).token
            votes = 0
            while service.current_trial(token) is not None:
                service.confirm_played(token, "A")
                service.confirm_played(token, "B")
                service.vote(token, "A")
                votes += 1
            return votes

        start = time.perf_counter()
        with ThreadPoolExecutor(raters) as pool:
            cast = sum(pool.map(rate, range(raters)))
        seconds = time.perf_counter() - start
        stored = service.summary(made.id).votes
        return {"raters": raters, "trials_per_rater": made.trials, "votes_cast": cast, "votes_stored": stored,
                "seconds": round(seconds, 3), "votes_per_second": round(cast / seconds, 1),
                "note": "each vote = serve trial (loads 2 WAVs) + 2 playback confirmations + vote, 4 transactions"}


def leaderboard_time(systems: int, votes: int, repeats: int = 3) -> dict:
    rng = np.random.default_rng(0)
    strength = rng.normal(0, 1, systems)
    records = []
    for number in range(votes):
        i, j = rng.choice(systems, 2, replace=False)
        won = rng.random() < 1 / (1 + np.exp(strength[j] - strength[i]))
        records.append(VoteRecord("bench", "ab", number, number % 200, number, "utt", 1, 2, f"s{i}", f"s{j}", False,
                                  "A", False, 1.0 if won else -1.0, 5.0, 2.0, float(number)))
    leaderboard(records[:100], "bench", "ab", options=StatsOptions(bootstrap=10))  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        leaderboard(records, "bench", "ab", options=StatsOptions(bootstrap=500))
        times.append(time.perf_counter() - start)
    return {"systems": systems, "votes": votes, "bootstrap": 500, "seconds_min": round(min(times), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raters", type=int, default=32)
    parser.add_argument("--systems", type=int, default=8)
    parser.add_argument("--votes", type=int, default=20000)
    args = parser.parse_args()
    report = {"load_average_before": os.getloadavg(), "system": system_report()}
    report["vote_throughput"] = vote_throughput(args.raters)
    report["leaderboard"] = leaderboard_time(args.systems, args.votes)
    report["load_average_after"] = os.getloadavg()
    print(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
