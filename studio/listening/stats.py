"""Leaderboard statistics: Bradley–Terry strengths for pairwise tests, mean opinion scores for MOS/CMOS.

Pairwise: maximum-likelihood Bradley–Terry (as TTS Arena and Chatbot Arena use) fitted with
scipy's L-BFGS on the log-likelihood, a tie counting as half a win each way; 95% intervals by
bootstrap over votes; systems ranked by the interval's lower bound, so a system needs evidence,
not luck, to rank first. MOS/CMOS/MUSHRA: mean with a Student-t 95% interval (ratings treated
as independent; rater effects are not modelled); MUSHRA ranks every condition, the hidden
reference and the anchors included, and also reports each condition per item.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats
from scipy.special import expit, log_expit

from studio.errors import ConfigError
from studio.listening.quality import rater_quality
from studio.listening.records import VoteRecord

ELO_SCALE = 400 / math.log(10)  # log-odds to Elo points, for readers used to arena leaderboards


@dataclass(frozen=True)
class StatsOptions:
    bootstrap: int = 500  # resamples of the votes for the pairwise intervals
    confidence: float = 0.95
    seed: int = 0  # fixed, so the same votes always give the same leaderboard
    prior: float = 0.01  # Gaussian prior precision on strengths: keeps a never-losing system finite

    def __post_init__(self) -> None:
        if self.bootstrap < 10:
            raise ConfigError(f"bootstrap needs at least 10 resamples; got {self.bootstrap}")
        if not 0.5 <= self.confidence < 1:
            raise ConfigError(f"confidence must be in [0.5, 1); got {self.confidence}")
        if self.prior <= 0:
            raise ConfigError(f"prior must be positive; got {self.prior}")


@dataclass(frozen=True)
class PairwiseRow:
    system: str
    rank: int
    strength: float  # Bradley–Terry log-strength, zero at the vote-weighted mean over systems
    lower: float
    upper: float
    wins: int
    losses: int
    ties: int

    @property
    def elo(self) -> float:
        return 1000 + ELO_SCALE * self.strength


@dataclass(frozen=True)
class RatingRow:
    system: str
    rank: int
    mean: float  # MOS 1..5, CMOS against the reference -3..+3, MUSHRA 0..100
    lower: float  # NaN with fewer than 2 ratings
    upper: float
    ratings: int
    raters: int


@dataclass(frozen=True)
class Leaderboard:
    test_id: str
    kind: str
    rows: tuple[PairwiseRow | RatingRow, ...]  # best first
    win_rate: tuple[tuple[float, ...], ...]  # pairwise only: [i][j] = share of i-vs-j votes i won (ties half)
    votes_used: int
    raters_used: int
    raters_flagged: int
    include_flagged: bool
    options: StatsOptions  # bootstrap size, confidence, seed and prior used

    @property
    def systems(self) -> list[str]:
        return [row.system for row in self.rows]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([asdict(row) for row in self.rows])


def leaderboard(records: Sequence[VoteRecord], test_id: str, kind: str, include_flagged: bool = False,
                options: StatsOptions = StatsOptions()) -> Leaderboard:
    """The leaderboard from votes: attention checks never count; flagged raters only if asked."""
    flagged = flagged_raters(records)
    used = counted(records, include_flagged)
    if kind == "ab":
        rows, win_rate = _pairwise(records, used, options)
    elif kind in ("mos", "cmos", "mushra"):
        rows, win_rate = _ratings(used, kind, options), ()
    else:
        raise ConfigError(f"unknown listening test kind {kind!r}")
    return Leaderboard(test_id, kind, tuple(rows), win_rate, len(used), len({r.rater_id for r in used}),
                       len(flagged), include_flagged, options)


def flagged_raters(records: Sequence[VoteRecord]) -> set[int]:
    return {rater for rater, q in rater_quality(records).items() if q.flagged}


def counted(records: Sequence[VoteRecord], include_flagged: bool = False) -> list[VoteRecord]:
    """The votes statistics use: never attention checks; flagged raters only if asked."""
    flagged = set() if include_flagged else flagged_raters(records)
    return [r for r in records if not r.is_attention and r.rater_id not in flagged]


def per_item(records: Sequence[VoteRecord], kind: str, options: StatsOptions = StatsOptions()) -> pd.DataFrame:
    """Mean and interval of each system (MUSHRA: condition) on each item, from counted votes."""
    rows = []
    for item in sorted({r.item for r in records}):
        for row in _ratings([r for r in records if r.item == item], kind, options):
            rows.append({"item": item, **asdict(row)})
    columns = ["item", "system", "mean", "lower", "upper", "ratings", "raters"]
    return pd.DataFrame(rows, columns=columns + ["rank"])[columns]


def coverage(records: Sequence[VoteRecord], kind: str) -> pd.DataFrame:
    """Votes per design cell (A/B: system pair; MOS/CMOS/MUSHRA: system), attention checks left out,
    flagged raters kept: how well an incomplete design has covered each cell so far."""
    cells: dict[str, dict[str, set | int]] = {}
    for r in records:
        if r.is_attention:
            continue
        if kind == "ab":
            cell = " vs ".join(sorted((r.system_a, r.system_b or "")))
        else:
            cell = (r.system_b or "") if kind == "cmos" else r.system_a
        entry = cells.setdefault(cell, {"votes": 0, "items": set(), "raters": set()})
        entry["votes"] += 1  # type: ignore[operator]
        entry["items"].add(r.item)  # type: ignore[union-attr]
        entry["raters"].add(r.rater_id)  # type: ignore[union-attr]
    label = "pair" if kind == "ab" else "system"
    return pd.DataFrame([{label: cell, "votes": e["votes"], "items": len(e["items"]),  # type: ignore[arg-type]
                          "raters": len(e["raters"])} for cell, e in sorted(cells.items())],  # type: ignore[arg-type]
                        columns=[label, "votes", "items", "raters"])


def fit_bradley_terry(wins: np.ndarray, prior: float = StatsOptions.prior,
                      start: np.ndarray | None = None) -> np.ndarray:
    """Log-strengths s maximising Σ wins[i, j]·log σ(s_i − s_j) − prior/2·|s|², mean zero.

    `wins[i, j]` counts votes where i beat j (a tie adds 0.5 to both directions). The likelihood
    only sees differences, and the prior's gradient makes Σ s = 0 at the optimum. The problem is
    small and smooth, so scipy's exact trust-region Newton method with the analytic Hessian
    converges in a few steps (L-BFGS needed hundreds when one system has few votes).
    """
    k = wins.shape[0]
    played = wins + wins.T

    def negative_log_posterior(s: np.ndarray) -> tuple[float, np.ndarray]:
        diff = s[:, None] - s[None, :]
        loss = -float(np.sum(wins * log_expit(diff))) + 0.5 * prior * float(s @ s)
        pull = wins * expit(-diff)  # d/d s_i of wins[i, j]·log σ(s_i − s_j)
        return loss, -(pull.sum(axis=1) - pull.sum(axis=0)) + prior * s

    def hessian(s: np.ndarray) -> np.ndarray:
        p = expit(s[:, None] - s[None, :])
        curvature = played * p * (1 - p)
        return np.diag(curvature.sum(axis=1)) - curvature + prior * np.eye(k)

    result = optimize.minimize(negative_log_posterior, np.zeros(k) if start is None else start, jac=True,
                               hess=hessian, method="trust-exact", options={"gtol": 1e-8})
    return result.x - result.x.mean()


def _pairwise(all_records: Sequence[VoteRecord], used: Sequence[VoteRecord],
              options: StatsOptions) -> tuple[list[PairwiseRow], tuple[tuple[float, ...], ...]]:
    systems = sorted({r.system_a for r in all_records} | {r.system_b for r in all_records if r.system_b})
    index = {name: i for i, name in enumerate(systems)}
    k = len(systems)
    if k == 0:
        return [], ()
    # Each vote as (first, second, score of first): 1 win, 0.5 tie, 0 loss.
    first = np.array([index[r.system_a] for r in used], dtype=int)
    second = np.array([index[r.system_b] for r in used], dtype=int)
    score = np.array([(r.value + 1) / 2 for r in used], dtype=float)
    # Centre on the vote-weighted mean: a system with few votes then cannot widen everyone's interval.
    anchor = np.bincount(first, minlength=k) + np.bincount(second, minlength=k)
    won = _wins(first, second, score, np.ones(len(used)), k)
    fit = fit_bradley_terry(won, options.prior)
    strength = _centred(fit, anchor)
    lower, upper = _bootstrap_interval(first, second, score, fit, anchor, options)
    counts = np.zeros((k, 3), dtype=int)  # wins, losses, ties
    for a, b, s in zip(first, second, score):
        outcome_a, outcome_b = (0, 1) if s == 1 else (1, 0) if s == 0 else (2, 2)
        counts[a, outcome_a] += 1
        counts[b, outcome_b] += 1
    order = sorted(range(k), key=lambda i: (-lower[i], -strength[i], systems[i]))
    rows = [PairwiseRow(systems[i], rank, float(strength[i]), float(lower[i]), float(upper[i]), *map(int, counts[i]))
            for rank, i in enumerate(order, start=1)]
    played = won + won.T
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(played > 0, won / played, np.nan)
    win_rate = tuple(tuple(float(rate[i, j]) for j in order) for i in order)
    return rows, win_rate


def _wins(first: np.ndarray, second: np.ndarray, score: np.ndarray, weight: np.ndarray, k: int) -> np.ndarray:
    forward = np.bincount(first * k + second, weights=weight * score, minlength=k * k)
    backward = np.bincount(second * k + first, weights=weight * (1 - score), minlength=k * k)
    return (forward + backward).reshape(k, k)


def _centred(strength: np.ndarray, anchor: np.ndarray) -> np.ndarray:
    return strength - np.average(strength, weights=anchor) if anchor.sum() else strength


def _bootstrap_interval(first: np.ndarray, second: np.ndarray, score: np.ndarray, estimate: np.ndarray,
                        anchor: np.ndarray, options: StatsOptions) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of the strengths over resamples of the votes (drawn as multinomial counts)."""
    k = len(estimate)
    if len(score) == 0:
        return np.full(k, np.nan), np.full(k, np.nan)
    rng = np.random.default_rng(options.seed)
    draws = rng.multinomial(len(score), np.full(len(score), 1 / len(score)), size=options.bootstrap)
    fits = np.array([_centred(fit_bradley_terry(_wins(first, second, score, weight, k), options.prior, estimate),
                              anchor) for weight in draws])
    tail = (1 - options.confidence) / 2 * 100
    return np.percentile(fits, tail, axis=0), np.percentile(fits, 100 - tail, axis=0)


def _ratings(used: Sequence[VoteRecord], kind: str, options: StatsOptions) -> list[RatingRow]:
    rated = (lambda r: r.system_b) if kind == "cmos" else (lambda r: r.system_a)  # CMOS: the system, not the reference
    by_system: dict[str, list[VoteRecord]] = {}
    for record in used:
        by_system.setdefault(rated(record), []).append(record)
    summaries = []
    for system, votes in by_system.items():
        values = np.array([v.value for v in votes])
        mean = float(values.mean())
        if len(values) > 1 and values.std() > 0:
            lower, upper = stats.t.interval(options.confidence, len(values) - 1, loc=mean, scale=stats.sem(values))
        elif len(values) > 1:
            lower = upper = mean  # everyone gave the same rating: no spread to estimate
        else:
            lower = upper = math.nan
        summaries.append((system, mean, float(lower), float(upper), len(values), len({v.rater_id for v in votes})))
    summaries.sort(key=lambda s: (math.isnan(s[2]), -s[2] if not math.isnan(s[2]) else 0, -s[1], s[0]))
    return [RatingRow(s[0], rank, *s[1:]) for rank, s in enumerate(summaries, start=1)]
