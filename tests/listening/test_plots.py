"""The win-rate heat map follows the leaderboard order and leaves never-compared cells blank."""

from studio.listening.plots import win_rate_heatmap
from studio.listening.stats import StatsOptions, leaderboard
from tests.listening.test_stats import vote


def test_heatmap_rows_follow_the_ranking():
    records = [vote(1, "x", "y", 1.0), vote(2, "x", "y", 1.0), vote(3, "y", "z", 0.0)]
    board = leaderboard(records, "t", "ab", options=StatsOptions(bootstrap=20))
    heatmap = win_rate_heatmap(board).data[0]
    assert list(heatmap.x) == list(heatmap.y) == board.systems
    cells = {(row, column): value for row, values in zip(board.systems, heatmap.z)
             for column, value in zip(board.systems, values)}
    assert cells["x", "y"] == 1.0 and cells["y", "x"] == 0.0 and cells["y", "z"] == 0.5
    assert cells["x", "z"] is None and cells["x", "x"] is None
