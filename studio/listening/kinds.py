"""The four kinds of listening test: what raters are asked, what they may answer, what a vote means.

Canonical vote values (what statistics read), independent of which side a rater saw a sample on:
- "ab":   +1 the trial's sample A won, -1 sample B won, 0 no preference.
- "mos":  the ITU-T P.800 absolute category rating, 1 (Bad) .. 5 (Excellent).
- "cmos": the P.800 comparison category rating of sample B (the system) against sample A
          (the reference), -3 (much worse) .. +3 (much better).
- "mushra": ITU-R BS.1534-3, one 0..100 rating per stimulus on the continuous quality scale; a
          trial shows a labelled reference and, in an order shuffled per rater, the hidden
          reference, the anchors and the systems under test (see `studio.listening.mushra`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from studio.errors import ConfigError

Kind = Literal["ab", "mos", "cmos", "mushra"]
KINDS: tuple[Kind, ...] = ("ab", "mos", "cmos", "mushra")

NO_PREFERENCE = "No preference"
AB_CHOICES = ("A", "B", NO_PREFERENCE)
MOS_CHOICES = ("5 Excellent", "4 Good", "3 Fair", "2 Poor", "1 Bad")  # P.800 ACR listening-quality scale
CMOS_CHOICES = ("+3 Much better", "+2 Better", "+1 Slightly better", "0 About the same",
                "-1 Slightly worse", "-2 Worse", "-3 Much worse")  # P.800 CCR scale
# BS.1534-3 continuous quality scale: five equal intervals of 0..100, each with its label.
MUSHRA_SCALE = ((80, 100, "Excellent"), (60, 80, "Good"), (40, 60, "Fair"), (20, 40, "Poor"), (0, 20, "Bad"))


@dataclass(frozen=True)
class KindInfo:
    kind: Kind
    title: str
    question: str
    choices: tuple[str, ...]
    slots: int  # samples per trial; 0 = as many as the test has conditions (MUSHRA)


KIND_INFO: dict[Kind, KindInfo] = {
    "ab": KindInfo("ab", "A/B preference", "Which sample sounds better? Choose “No preference” if you cannot tell.",
                   AB_CHOICES, 2),
    "mos": KindInfo("mos", "MOS (1–5)", "Quality of the speech:", MOS_CHOICES, 1),
    "cmos": KindInfo("cmos", "CMOS (−3..+3)", "The quality of sample B compared to the quality of sample A is:",
                     CMOS_CHOICES, 2),
    "mushra": KindInfo("mushra", "MUSHRA (0–100)",
                       "Rate every sample against the reference, 0–100. The reference is also hidden among "
                       "the samples: rate it 100.", (), 0),
}


def kind_info(kind: str) -> KindInfo:
    try:
        return KIND_INFO[kind]  # type: ignore[index]
    except KeyError:
        raise ConfigError(f"unknown listening test kind {kind!r}; choose one of {', '.join(KINDS)}") from None


def canonical_value(kind: Kind, answer: str, swapped: bool) -> float:
    """The vote's canonical value (see module doc) from the displayed answer and the rater's side swap."""
    info = kind_info(kind)
    if answer not in info.choices:
        raise ConfigError(f"{answer!r} is not an answer to a {info.title} trial; "
                          f"choose one of: {', '.join(info.choices)}")
    if kind == "mushra":
        raise ConfigError("a MUSHRA trial takes one rating per sample, not a single answer; submit the sliders")
    if kind == "mos":
        return float(answer.split()[0])
    if kind == "ab":
        displayed = {"A": 1.0, "B": -1.0, NO_PREFERENCE: 0.0}[answer]
    else:
        displayed = float(answer.split()[0])  # B relative to A as displayed
    return -displayed if swapped else displayed


def mushra_rating(value: float | None, label: str = "a rating") -> float:
    """A MUSHRA rating checked to lie on the 0..100 scale."""
    try:
        rating = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigError(f"{label} is {value!r}; move its slider to a value from 0 to 100") from None
    if not 0.0 <= rating <= 100.0:
        raise ConfigError(f"{label} is {rating:g}; MUSHRA ratings lie between 0 and 100")
    return rating


def mushra_label(value: float) -> str:
    """The scale label a rating falls under, e.g. 85 -> "Excellent" (a boundary belongs to the upper label)."""
    return next(label for low, _, label in MUSHRA_SCALE if value >= low)


def attention_passed(kind: Kind, value: float, repeat_value: float | None = None) -> bool | None:
    """Whether an attention check passed; None when it cannot be judged yet.

    A/B: an identical pair must get "No preference". CMOS: an identical pair must be rated within
    one step of "About the same". MOS: a repeated sample must be rated within one point of its
    first rating (`repeat_value`). MUSHRA has no separate checks: the hidden reference in every
    trial is judged by the post-screening in `studio.listening.quality`.
    """
    if kind == "mushra":
        return None
    if kind == "ab":
        return value == 0.0
    if kind == "cmos":
        return abs(value) <= 1.0
    return None if repeat_value is None else abs(value - repeat_value) <= 1.0
