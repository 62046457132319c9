"""Leaderboard statistics on simulated votes with known truth."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from studio.listening.records import VoteRecord
from studio.listening.stats import StatsOptions, fit_bradley_terry, leaderboard

SYSTEMS = ("w", "x", "y", "z")
TRUE_STRENGTH = np.array([-1.0, -0.3, 0.4, 0.9])  # mean zero, like the fit


def vote(number: int, a: str, b: str | None, value: float, rater: int = 1, kind: str = "ab",
         attention: bool = False, sample_a: int | None = None) -> VoteRecord:
    return VoteRecord("t", kind, number, rater, number, "utt", sample_a or number, None if b is None else 0, a, b,
                      attention, "", False, value, 5.0, 2.0, float(number))


def simulate_ab(rng: np.random.Generator, votes: int, tie_rate: float = 0.0) -> list[VoteRecord]:
    """Bradley–Terry votes between random pairs; a share of them ties."""
    records = []
    for number in range(votes):
        i, j = rng.choice(len(SYSTEMS), size=2, replace=False)
        p_first = 1 / (1 + math.exp(-(TRUE_STRENGTH[i] - TRUE_STRENGTH[j])))
        value = 0.0 if rng.random() < tie_rate else (1.0 if rng.random() < p_first else -1.0)
        records.append(vote(number, SYSTEMS[i], SYSTEMS[j], value, rater=number % 7))
    return records


def strengths(board) -> np.ndarray:
    by_name = {row.system: row.strength for row in board.rows}
    return np.array([by_name[s] for s in SYSTEMS])


def test_bradley_terry_recovers_known_strengths():
    board = leaderboard(simulate_ab(np.random.default_rng(3), 4000), "t", "ab", options=StatsOptions(bootstrap=50))
    assert np.abs(strengths(board) - TRUE_STRENGTH).max() < 0.12
    assert board.systems == ["z", "y", "x", "w"]
    assert [row.rank for row in board.rows] == [1, 2, 3, 4]


def test_fit_matches_closed_form_for_two_systems():
    wins = np.array([[0.0, 30.0], [10.0, 0.0]])
    s = fit_bradley_terry(wins, prior=1e-9)
    assert s[0] - s[1] == pytest.approx(math.log(3), abs=1e-4)  # MLE odds = 30/10
    assert s.sum() == pytest.approx(0, abs=1e-9)


def test_a_system_that_never_loses_stays_finite():
    assert np.isfinite(fit_bradley_terry(np.array([[0.0, 12.0], [0.0, 0.0]]))).all()


def test_bootstrap_intervals_cover_the_truth_near_the_nominal_rate():
    rng = np.random.default_rng(11)
    covered = total = 0
    for simulation in range(40):
        board = leaderboard(simulate_ab(rng, 300), "t", "ab", options=StatsOptions(bootstrap=200, seed=simulation))
        for row in board.rows:
            truth = TRUE_STRENGTH[SYSTEMS.index(row.system)]
            covered += row.lower <= truth <= row.upper
            total += 1
    print(f"coverage {covered}/{total}")
    assert 0.87 <= covered / total <= 0.99, f"coverage {covered}/{total}"


def test_ties_count_as_half_a_win_each_way():
    records = [vote(1, "x", "y", 1.0), vote(2, "x", "y", 0.0), vote(3, "x", "y", 0.0), vote(4, "x", "y", -1.0)]
    board = leaderboard(records, "t", "ab", options=StatsOptions(bootstrap=20))
    assert {row.system: (row.wins, row.losses, row.ties) for row in board.rows} == {"x": (1, 1, 2), "y": (1, 1, 2)}
    assert board.rows[0].strength == pytest.approx(0, abs=1e-6)
    assert board.win_rate[0][1] == 0.5
    only_ties = leaderboard([vote(1, "x", "y", 0.0), vote(2, "x", "y", 0.0), vote(3, "x", "y", 1.0)], "t", "ab",
                            options=StatsOptions(bootstrap=20))
    assert only_ties.win_rate[only_ties.systems.index("x")][only_ties.systems.index("y")] == pytest.approx(2 / 3)


def test_ranking_uses_the_lower_bound_not_the_point_estimate():
    # "lucky" beats base 8 of 12 times; "steady" 60 of 100: a higher estimate, but weaker evidence.
    records = [vote(n, "lucky", "base", 1.0 if n < 8 else -1.0) for n in range(12)]
    records += [vote(100 + n, "steady", "base", 1.0 if n < 60 else -1.0) for n in range(100)]
    board = leaderboard(records, "t", "ab", options=StatsOptions(bootstrap=200))
    by_name = {row.system: row for row in board.rows}
    assert by_name["lucky"].strength > by_name["steady"].strength
    assert board.systems[0] == "steady"


def test_attention_checks_never_count_and_flagged_raters_are_excluded_by_default():
    good = [vote(n, "x", "y", 1.0, rater=1) for n in range(6)] + [vote(6, "x", "x", 0.0, rater=1, attention=True)]
    bad = [vote(10 + n, "x", "y", -1.0, rater=2) for n in range(6)] + [vote(16, "y", "y", 1.0, rater=2, attention=True)]
    options = StatsOptions(bootstrap=20)
    excluded = leaderboard(good + bad, "t", "ab", options=options)
    assert (excluded.votes_used, excluded.raters_used, excluded.raters_flagged) == (6, 1, 1)
    assert excluded.systems[0] == "x"
    included = leaderboard(good + bad, "t", "ab", include_flagged=True, options=options)
    assert included.votes_used == 12
    assert {row.system: row.wins for row in included.rows} == {"x": 6, "y": 6}


def test_mos_mean_and_t_interval_per_system():
    ratings = {"x": [4, 5, 4, 3, 4], "y": [2, 3, 2]}
    records = [vote(n * 10 + k, system, None, float(r), rater=k, kind="mos", sample_a=n * 10 + k)
               for n, (system, values) in enumerate(ratings.items()) for k, r in enumerate(values)]
    board = leaderboard(records, "t", "mos")
    x = board.rows[0]
    expected = scipy_stats.t.interval(0.95, 4, loc=4.0, scale=scipy_stats.sem(ratings["x"]))
    assert (x.system, x.mean, x.ratings, x.raters) == ("x", 4.0, 5, 5)
    assert (x.lower, x.upper) == pytest.approx(expected)
    assert board.rows[1].system == "y"


def test_cmos_ranks_systems_against_the_reference():
    records = [vote(n, "ref", "x", 1.0 + n % 2, kind="cmos") for n in range(4)]
    records += [vote(10 + n, "ref", "y", -1.0 - n % 2, kind="cmos") for n in range(4)]
    board = leaderboard(records, "t", "cmos")
    assert board.systems == ["x", "y"]
    assert board.rows[0].mean == 1.5 and board.rows[1].mean == -1.5
