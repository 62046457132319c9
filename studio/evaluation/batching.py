"""Duration-bucketed batches under a seconds budget, and the padding they cost.

Like lhotse's `DynamicBucketingSampler`: utterances of similar length go together, so
little of each batch is padding, and each batch holds as many as fit in `max_seconds` of
padded audio. lhotse itself would bring its whole Cut/Recording data model for these
twenty lines, so they are written here. Deterministic: a sort, then a greedy fill.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class BatchPlan:
    """Batches as lists of item indices, shortest utterances first.

    >>> plan_batches([3.0, 1.0, 2.9, 1.1], max_seconds=6.0, max_batch_size=8).batches
    ((1, 3), (2, 0))
    """

    batches: tuple[tuple[int, ...], ...]


def plan_batches(durations: Sequence[float], max_seconds: float, max_batch_size: int,
                 window_seconds: float | None = None) -> BatchPlan:
    """Sort by duration and fill each batch while `size x longest` (the padded cost) stays within `max_seconds`.

    With a fixed model window (Whisper: 30 s) every clip costs that window, so the budget
    counts windows. A clip longer than the budget gets a batch of its own.
    """
    order = sorted(range(len(durations)), key=lambda i: (durations[i], i))
    batches: list[tuple[int, ...]] = []
    current: list[int] = []
    for index in order:
        candidate = current + [index]
        cost = len(candidate) * padded_seconds(durations[index], window_seconds)
        if current and (cost > max_seconds or len(candidate) > max_batch_size):
            batches.append(tuple(current))
            candidate = [index]
        current = candidate
    if current:
        batches.append(tuple(current))
    return BatchPlan(tuple(batches))


def padded_seconds(duration: float, window_seconds: float | None) -> float:
    """Seconds the model processes for one clip on its own: whole windows for fixed-window models."""
    if window_seconds:
        return window_seconds * max(1, math.ceil(duration / window_seconds))
    return duration


def processed_seconds(batch_durations: Sequence[float], window_seconds: float | None) -> list[float]:
    """Seconds the model processes per clip in one batch: the batch's longest clip, or whole windows."""
    if window_seconds:
        return [padded_seconds(d, window_seconds) for d in batch_durations]
    return [max(batch_durations)] * len(batch_durations)


def padding_fraction(durations: Sequence[float], processed: Sequence[float]) -> float:
    """Padded frames / frames processed (0 = no waste). A 5 s clip in Whisper's 30 s window is 83% padding.

    >>> round(padding_fraction([5.0], [30.0]), 3)
    0.833
    """
    total = sum(processed)
    return (total - sum(durations)) / total if total > 0 else 0.0
