"""The three kinds of listening test: what raters are asked, what they may answer, what a vote means.

Canonical vote values (what statistics read), independent of which side a rater saw a sample on:
- "ab":   +1 the trial's sample A won, -1 sample B won, 0 no preference.
- "mos":  the ITU-T P.800 absolute category rating, 1 (Bad) .. 5 (Excellent).
- "cmos": the P.800 comparison category rating of sample B (the system) against sample A
          (the reference), -3 (much worse) .. +3 (much better).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from studio.errors import ConfigError

Kind = Literal["ab", "mos", "cmos"]
KINDS: tuple[Kind, ...] = ("ab", "mos", "cmos")

NO_PREFERENCE = "No preference"
AB_CHOICES = ("A", "B", NO_PREFERENCE)
MOS_CHOICES = ("5 Excellent", "4 Good", "3 Fair", "2 Poor", "1 Bad")  # P.800 ACR listening-quality scale
CMOS_CHOICES = ("+3 Much better", "+2 Better", "+1 Slightly better", "0 About the same",
                "-1 Slightly worse", "-2 Worse", "-3 Much worse")  # P.800 CCR scale


@dataclass(frozen=True)
class KindInfo:
    kind: Kind
    title: str
    question: str
    choices: tuple[str, ...]
    slots: int  # samples per trial


KIND_INFO: dict[Kind, KindInfo] = {
    "ab": KindInfo("ab", "A/B preference", "Which sample sounds better? Choose “No preference” if you cannot tell.",
                   AB_CHOICES, 2),
    "mos": KindInfo("mos", "MOS (1–5)", "Quality of the speech:", MOS_CHOICES, 1),
    "cmos": KindInfo("cmos", "CMOS (−3..+3)", "The quality of sample B compared to the quality of sample A is:",
                     CMOS_CHOICES, 2),
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
    if kind == "mos":
        return float(answer.split()[0])
    if kind == "ab":
        displayed = {"A": 1.0, "B": -1.0, NO_PREFERENCE: 0.0}[answer]
    else:
        displayed = float(answer.split()[0])  # B relative to A as displayed
    return -displayed if swapped else displayed


def attention_passed(kind: Kind, value: float, repeat_value: float | None = None) -> bool | None:
    """Whether an attention check passed; None when it cannot be judged yet.

    A/B: an identical pair must get "No preference". CMOS: an identical pair must be rated within
    one step of "About the same". MOS: a repeated sample must be rated within one point of its
    first rating (`repeat_value`).
    """
    if kind == "ab":
        return value == 0.0
    if kind == "cmos":
        return abs(value) <= 1.0
    return None if repeat_value is None else abs(value - repeat_value) <= 1.0
