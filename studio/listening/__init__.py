"""Blind listening tests (A/B preference, MOS, CMOS, MUSHRA) with a leaderboard that holds up.

`ListeningService` is the one entry point for the UI and scripts; statistics live in `stats`
and can be recomputed from an export with `export.leaderboard_from_export`.
"""

from studio.listening.errors import AdminOnly, ListeningError
from studio.listening.kinds import KINDS, Kind
from studio.listening.records import QualityRules, VoteRecord
from studio.listening.service import (ListeningService, RaterSession, TestOptions, TestResults, TestSummary,
                                      TrialView)
from studio.listening.settings import ListeningSettings
from studio.listening.stats import Leaderboard, StatsOptions
from studio.listening.store import Store

__all__ = [
    "AdminOnly", "KINDS", "Kind", "Leaderboard", "ListeningError", "ListeningService", "ListeningSettings",
    "QualityRules", "RaterSession", "StatsOptions", "Store", "TestOptions", "TestResults", "TestSummary", "TrialView",
    "VoteRecord",
]
