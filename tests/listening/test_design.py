"""Large tests: every rater does a balanced subset, and attention checks are in every subset."""

from __future__ import annotations

import itertools
import random
from collections import Counter

import pytest

from studio.errors import ConfigError
from studio.listening import TestOptions
from studio.listening.design import Candidate, balanced_subset
from tests.listening.factories import (FakeClock, make_service, noise_folders, prefer_higher_pitch, rate_all,
                                       rate_all_mushra, rate_by_bandwidth, tone_folders)

SYSTEMS = ("w", "x", "y", "z")
ITEMS = 5
TOLERANCE = 1  # stated: cell counts across raters differ by at most one assignment


def ab_candidates() -> list[Candidate]:
    """4 systems: 6 pairs x 5 items = 30 trials, then 2 attention checks."""
    trials = [Candidate(n, " vs ".join(pair), False)
              for n, (pair, _) in enumerate(itertools.product(itertools.combinations(SYSTEMS, 2), range(ITEMS)))]
    return trials + [Candidate(100, "w vs w", True), Candidate(101, "y vs y", True)]


@pytest.mark.parametrize("per_rater", [4, 6, 9])
def test_subsets_cover_every_pair_and_trial_evenly_over_simulated_raters(per_rater):
    candidates = ab_candidates()
    cell = {c.trial_id: c.cell for c in candidates}
    assigned: Counter[int] = Counter()
    rng = random.Random(7)
    for _ in range(40):
        subset = balanced_subset(candidates, assigned, per_rater, rng)
        assert len(subset) == len(set(subset)) == per_rater + 2
        assert {100, 101} <= set(subset)  # the attention checks are in every subset
        assigned.update(t for t in subset if t < 100)
    per_pair = Counter()
    for trial, count in assigned.items():
        per_pair[cell[trial]] += count
    assert len(per_pair) == 6 and sum(per_pair.values()) == 40 * per_rater
    assert max(per_pair.values()) - min(per_pair.values()) <= TOLERANCE
    per_trial = [assigned[c.trial_id] for c in candidates if not c.is_attention]
    assert max(per_trial) - min(per_trial) <= TOLERANCE


def test_without_a_subset_size_every_rater_gets_every_trial():
    candidates = ab_candidates()
    assert sorted(balanced_subset(candidates, {}, None, random.Random(0))) == sorted(c.trial_id for c in candidates)
    assert len(balanced_subset(candidates, {}, 99, random.Random(0))) == len(candidates)


def test_a_large_ab_test_gives_each_rater_a_subset_and_reports_coverage(tmp_path):
    clock = FakeClock()
    service = make_service(tmp_path / "data", clock)
    folders = tone_folders(tmp_path / "src", {"low": 0.3, "mid": 0.3, "high": 0.3, "top": 0.3}, items=3)
    made = service.create_from_folders(TestOptions("big", "ab", attention_checks=1, trials_per_rater=3), folders)
    assert (made.trials, made.trials_per_rater) == (6 * 3 + 1, 3)
    for _ in range(8):
        rater = service.join(made.id)
        assert rater.trials == 3 + 1
        assert rate_all(service, clock, rater.token, prefer_higher_pitch) == 4
    results = service.results(made.id)
    coverage = results.coverage.set_index("pair")["votes"]
    assert len(coverage) == 6 and coverage.sum() == 8 * 3  # attention checks are not coverage
    assert coverage.max() - coverage.min() <= TOLERANCE
    assert results.board.systems == ["top", "high", "mid", "low"]  # an incomplete design still ranks
    assert results.board.raters_flagged == 0  # everyone passed the check in their subset

    with pytest.raises(ConfigError, match="only 18 trials besides the attention checks"):
        service.create_from_folders(TestOptions("too many", "ab", trials_per_rater=19), folders)
    with pytest.raises(ConfigError, match="trials_per_rater must be 1 or more"):
        TestOptions("none", trials_per_rater=0)


def test_a_mushra_subset_spreads_items_across_raters(tmp_path):
    clock = FakeClock()
    service = make_service(tmp_path / "data", clock)
    folders = noise_folders(tmp_path / "src", {"original": None, "codec": 9000.0}, items=4)
    made = service.create_from_folders(TestOptions("m", "mushra", reference_system="original", trials_per_rater=1),
                                       folders)
    for _ in range(8):
        assert rate_all_mushra(service, clock, service.join(made.id).token, rate_by_bandwidth) == 1
    per_item = Counter(r.item for r in service.vote_records(made.id) if r.system_a == "codec")
    assert per_item == {"utt0": 2, "utt1": 2, "utt2": 2, "utt3": 2}
