"""One vote as statistics and the CSV export see it: the unit both the live leaderboard and
the recomputation from an export are built from, so the two cannot drift apart."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from studio.errors import ConfigError


@dataclass(frozen=True)
class QualityRules:
    """When a rater is flagged (and left out of the leaderboard unless flagged raters are included)."""

    max_failed_checks: int = 0  # attention checks a rater may fail and still count
    min_listen_ratio: float = 1.0  # a vote sooner than this × the trial's total audio length is rushed
    max_rushed_fraction: float = 0.2  # a rater with a larger share of rushed votes is flagged

    def __post_init__(self) -> None:
        if self.max_failed_checks < 0:
            raise ConfigError(f"max_failed_checks must be 0 or more; got {self.max_failed_checks}")
        if not 0 <= self.min_listen_ratio <= 10:
            raise ConfigError(f"min_listen_ratio must be between 0 and 10; got {self.min_listen_ratio}")
        if not 0 <= self.max_rushed_fraction <= 1:
            raise ConfigError(f"max_rushed_fraction must be between 0 and 1; got {self.max_rushed_fraction}")


@dataclass(frozen=True)
class VoteRecord:
    """One vote with everything needed to judge it: which systems, which side won, how long it took."""

    test_id: str
    kind: str
    vote_id: int
    rater_id: int
    trial_id: int
    item: str
    sample_a_id: int
    sample_b_id: int | None  # None for MOS
    system_a: str  # CMOS: the reference
    system_b: str | None
    is_attention: bool
    answer: str  # as displayed to the rater
    swapped: bool  # the rater heard the trial's B on side A
    value: float  # canonical, see studio.listening.kinds
    listen_seconds: float
    audio_seconds: float
    created_at: float
    rules: QualityRules = QualityRules()

    def to_row(self) -> dict[str, Any]:
        row = {k: v for k, v in asdict(self).items() if k != "rules"}
        row.update({f"rule_{k}": v for k, v in asdict(self.rules).items()})
        return row

    @classmethod
    def from_row(cls, row: dict[str, str]) -> "VoteRecord":
        """From one CSV row of strings (as `csv.DictReader` gives them)."""
        try:
            rules = QualityRules(int(row["rule_max_failed_checks"]), float(row["rule_min_listen_ratio"]),
                                 float(row["rule_max_rushed_fraction"]))
            values: dict[str, Any] = {}
            for field in fields(cls):
                if field.name == "rules":
                    continue
                values[field.name] = _parse(row[field.name], field.type)
        except (KeyError, ValueError) as error:
            raise ConfigError(f"this CSV is not a listening-test vote export ({error}); export it again") from None
        return cls(**values, rules=rules)


def _parse(text: str, type_name: str) -> Any:
    optional = "None" in type_name
    if optional and text == "":
        return None
    if type_name.startswith("int"):
        return int(text)
    if type_name.startswith("float"):
        value = float(text)
        if not math.isfinite(value):
            raise ValueError(f"{text!r} is not a finite number")
        return value
    if type_name == "bool":
        if text not in ("True", "False"):
            raise ValueError(f"{text!r} is not True/False")
        return text == "True"
    return text
