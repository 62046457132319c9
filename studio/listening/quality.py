"""Which raters to trust: attention checks, listening time and (MUSHRA) the hidden reference, judged
from their votes alone."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Sequence

from studio.listening.kinds import attention_passed
from studio.listening.mushra import HIDDEN_REFERENCE_MIN, MAX_MISSED_FRACTION
from studio.listening.records import VoteRecord

TIMING_SLACK_SECONDS = 0.1  # clock rounding: a vote this close to the minimum still counts as listened


@dataclass(frozen=True)
class RaterQuality:
    rater_id: int
    votes: int
    checks: int  # attention checks judged
    failed_checks: int
    rushed_votes: int  # votes cast sooner than the rules' minimum listening time
    reasons: tuple[str, ...]  # why the rater is flagged; empty when they are not
    missed_references: int = 0  # MUSHRA: trials where the hidden reference was rated below 90
    references: int = 0  # MUSHRA: hidden-reference ratings judged (one per trial)

    @property
    def flagged(self) -> bool:
        return bool(self.reasons)


def rater_quality(records: Sequence[VoteRecord]) -> dict[int, RaterQuality]:
    """Each rater's attention-check and listening-time record, and whether that gets them flagged."""
    by_rater: dict[int, list[VoteRecord]] = defaultdict(list)
    for record in records:
        by_rater[record.rater_id].append(record)
    return {rater: _judge(rater, votes) for rater, votes in sorted(by_rater.items())}


def _judge(rater_id: int, votes: list[VoteRecord]) -> RaterQuality:
    rules = votes[0].rules
    first_rating = {v.sample_a_id: v.value for v in votes if not v.is_attention}  # MOS repeats compare to this
    outcomes = [attention_passed(v.kind, v.value, first_rating.get(v.sample_a_id))  # type: ignore[arg-type]
                for v in votes if v.is_attention]
    judged = [o for o in outcomes if o is not None]
    failed = judged.count(False)
    rushed = sum(v.listen_seconds + TIMING_SLACK_SECONDS < rules.min_listen_ratio * v.audio_seconds for v in votes)
    reasons = []
    if failed > rules.max_failed_checks:
        reasons.append(f"failed {failed} of {len(judged)} attention checks")
    if rushed > rules.max_rushed_fraction * len(votes):
        reasons.append(f"{rushed} of {len(votes)} votes came before the samples could have been heard in full")
    # BS.1534-3 post-screening: a MUSHRA record whose condition is its own reference is the hidden reference.
    hidden = [v.value for v in votes if v.kind == "mushra" and v.system_a == v.system_b]
    missed = sum(value < HIDDEN_REFERENCE_MIN for value in hidden)
    if missed > MAX_MISSED_FRACTION * len(hidden):
        reasons.append(f"rated the hidden reference below {HIDDEN_REFERENCE_MIN:g} in {missed} of {len(hidden)} "
                       f"trials (post-screening allows {MAX_MISSED_FRACTION:.0%})")
    return RaterQuality(rater_id, len(votes), len(judged), failed, rushed, tuple(reasons), missed, len(hidden))
