"""CSV export of a listening test, and the leaderboard recomputed from that export alone.

votes.csv holds one row per vote (attention checks and flagged raters included, with the test's
quality rules), so anyone can redo the statistics; leaderboard.csv is the ranking at export time.
Floats are written with Python's shortest round-trip repr, so a recomputation sees the same numbers.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Sequence

from studio.errors import ConfigError
from studio.listening.records import QualityRules, VoteRecord
from studio.listening.stats import Leaderboard, StatsOptions, leaderboard

VOTE_COLUMNS = [f.name for f in fields(VoteRecord) if f.name != "rules"] + [
    f"rule_{f.name}" for f in fields(QualityRules)]


@dataclass(frozen=True)
class ExportFiles:
    votes: Path
    leaderboard: Path


def write_export(records: Sequence[VoteRecord], board: Leaderboard, folder: Path) -> ExportFiles:
    folder.mkdir(parents=True, exist_ok=True)
    votes = folder / f"{board.test_id}-votes.csv"
    with open(votes, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=VOTE_COLUMNS)
        writer.writeheader()
        writer.writerows(_csv_row(r.to_row()) for r in records)
    ranking = folder / f"{board.test_id}-leaderboard.csv"
    board.to_frame().to_csv(ranking, index=False)
    return ExportFiles(votes, ranking)


def read_votes(source: Path | str) -> list[VoteRecord]:
    """Vote records from an exported votes.csv (a path, or the CSV text itself)."""
    text = Path(source).read_text(encoding="utf-8") if isinstance(source, Path) else source
    reader = csv.DictReader(io.StringIO(text))
    missing = sorted(set(VOTE_COLUMNS) - set(reader.fieldnames or []))
    if missing:
        raise ConfigError(f"this CSV is not a listening-test vote export: it lacks the columns {', '.join(missing)}")
    return [VoteRecord.from_row(row) for row in reader]


def leaderboard_from_export(source: Path | str, include_flagged: bool = False,
                            options: StatsOptions = StatsOptions()) -> Leaderboard:
    """The leaderboard recomputed from an exported votes.csv alone."""
    records = read_votes(source)
    if not records:
        raise ConfigError("the export holds no votes, so there is nothing to rank")
    tests = {(r.test_id, r.kind) for r in records}
    if len(tests) != 1:
        raise ConfigError(f"the export mixes {len(tests)} tests; export one test at a time")
    test_id, kind = tests.pop()
    return leaderboard(records, test_id, kind, include_flagged, options)


def _csv_row(row: dict) -> dict:
    return {key: "" if value is None else repr(value) if isinstance(value, float) else value
            for key, value in row.items()}
