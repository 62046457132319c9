"""Hypothesis settings for the parser fuzzers: deterministic in CI, reproducible from the printed blob.

`derandomize` makes every run draw the same examples (a failure in CI fails the same way here), `database=None`
keeps nothing between runs, and `print_blob` prints the `@reproduce_failure` line for any failure. Set
STUDIO_FUZZ_PROFILE=explore to draw fresh random examples locally (still without a database).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = {"database": None, "deadline": None, "print_blob": True,
           "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]}
settings.register_profile("ci", derandomize=True, **_COMMON)
settings.register_profile("explore", derandomize=False, **_COMMON)
settings.load_profile(os.environ.get("STUDIO_FUZZ_PROFILE", "ci"))
