"""Which trials a test has, and which of them each rater does.

Every rater gets every attention check. Without a subset size they also get every other trial;
with one, each new rater gets a balanced incomplete subset: trials are picked one at a time
from the design cell (A/B: the system pair; MOS and CMOS: the system rated; MUSHRA: the item,
since every MUSHRA trial holds every condition) that raters so far have been given least often,
then the least-given trial within it, ties broken at random. Picking always from a least-covered
cell keeps cell counts across raters within one of each other whenever a rater's subset has at
most one trial per cell, and close to that otherwise.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from dataclasses import dataclass
from typing import Mapping, Sequence

from studio.listening.mushra import ROLE_ANCHOR, ROLE_HIDDEN_REFERENCE, ROLE_SYSTEM


@dataclass(frozen=True)
class PlannedTrial:
    """One trial of a new test, by system name."""

    item: str
    system_a: str  # CMOS: the reference; MUSHRA: the labelled reference
    system_b: str | None  # None for MOS and MUSHRA
    is_attention: bool = False
    stimuli: tuple[tuple[str, str], ...] = ()  # MUSHRA: (condition, role) in canonical order


@dataclass(frozen=True)
class Candidate:
    """An existing trial as the subset assignment sees it."""

    trial_id: int
    cell: str  # the design cell it covers (see the module doc)
    is_attention: bool


def trial_plan(kind: str, systems: Sequence[str], items: Sequence[str], attention_checks: int,
               reference: str | None, anchor_names: Sequence[str], rng: random.Random) -> list[PlannedTrial]:
    """Every trial of a new test: the design's trials, then the attention checks (none for MUSHRA,
    whose hidden reference in every trial is the check)."""
    if kind == "ab":
        trials = [PlannedTrial(item, a, b) for item in items for a, b in itertools.combinations(systems, 2)]
        checks = [PlannedTrial(item, s, s, True) for item, s in _picks(items, systems, attention_checks, rng)]
    elif kind == "mos":
        trials = [PlannedTrial(item, s, None) for item in items for s in systems]
        checks = [PlannedTrial(item, s, None, True) for item, s in _picks(items, systems, attention_checks, rng)]
    elif kind == "cmos":
        reference = reference or ""
        trials = [PlannedTrial(item, reference, s) for item in items for s in systems if s != reference]
        checks = [PlannedTrial(item, reference, reference, True)
                  for item, _ in _picks(items, [reference], attention_checks, rng)]
    else:
        reference = reference or ""
        conditions = ((reference, ROLE_HIDDEN_REFERENCE), *((a, ROLE_ANCHOR) for a in anchor_names),
                      *((s, ROLE_SYSTEM) for s in systems if s != reference))
        trials = [PlannedTrial(item, reference, None, stimuli=conditions) for item in items]
        checks = []
    return trials + checks


def design_cell(kind: str, item: str, system_a: str, system_b: str | None) -> str:
    """The cell a trial covers; coverage is balanced over these."""
    if kind == "ab":
        return " vs ".join(sorted((system_a, system_b or "")))
    if kind == "cmos":
        return system_b or ""
    if kind == "mos":
        return system_a
    return item


def balanced_subset(candidates: Sequence[Candidate], assigned: Mapping[int, int], count: int | None,
                    rng: random.Random) -> list[int]:
    """Trial ids for a new rater: every attention check plus `count` other trials (all when None),
    given `assigned[trial_id]`, how many raters already have each trial."""
    checks = [c.trial_id for c in candidates if c.is_attention]
    regular = [c for c in candidates if not c.is_attention]
    if count is None or count >= len(regular):
        return checks + [c.trial_id for c in regular]
    cell_load: Counter[str] = Counter()
    for c in regular:
        cell_load[c.cell] += assigned.get(c.trial_id, 0)
    jitter = {c.trial_id: rng.random() for c in regular}
    remaining = list(regular)
    chosen = []
    for _ in range(count):
        best = min(remaining, key=lambda c: (cell_load[c.cell], assigned.get(c.trial_id, 0), jitter[c.trial_id]))
        remaining.remove(best)
        cell_load[best.cell] += 1
        chosen.append(best.trial_id)
    return checks + chosen


def _picks(items: Sequence[str], systems: Sequence[str], count: int, rng: random.Random) -> list[tuple[str, str]]:
    """`count` distinct (item, system) pairs, repeating only when there are fewer pairs than checks."""
    pairs = [(item, system) for item in items for system in systems]
    picks = rng.sample(pairs, min(count, len(pairs)))
    return picks + [rng.choice(pairs) for _ in range(count - len(picks))]
