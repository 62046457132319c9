"""Recompute a listening test's leaderboard from its exported votes.csv alone.

    python -m studio.listening VOTES_CSV [--include-flagged] [--bootstrap 500]

Prints the leaderboard as CSV; exits non-zero with one readable line on a bad file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from studio.errors import StudioError
from studio.listening.export import leaderboard_from_export
from studio.listening.stats import StatsOptions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m studio.listening", description=__doc__.splitlines()[0])
    parser.add_argument("votes", type=Path, help="the votes CSV from the Listen tab's export")
    parser.add_argument("--include-flagged", action="store_true", help="count raters flagged by quality checks")
    parser.add_argument("--bootstrap", type=int, default=StatsOptions.bootstrap, help="bootstrap resamples")
    args = parser.parse_args(argv)
    try:
        if not args.votes.is_file():
            raise StudioError(f"{args.votes}: no such file; pass the votes CSV from the export")
        board = leaderboard_from_export(args.votes, args.include_flagged, StatsOptions(bootstrap=args.bootstrap))
    except StudioError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"# test {board.test_id} ({board.kind}): {board.votes_used} votes from {board.raters_used} raters, "
          f"{board.raters_flagged} flagged ({'included' if board.include_flagged else 'excluded'})")
    print(board.to_frame().to_csv(index=False), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
