"""The win-rate heat map of a pairwise leaderboard and the box plots of MUSHRA ratings (plotly)."""

from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go

from studio.listening.records import VoteRecord
from studio.listening.stats import Leaderboard


def win_rate_heatmap(board: Leaderboard) -> go.Figure:
    """Rows beat columns this often (ties count half); systems in leaderboard order, blank = never compared."""
    systems = board.systems
    z = [[None if value != value else value for value in row] for row in board.win_rate]  # NaN -> blank cell
    text = [["" if value is None else f"{value:.0%}" for value in row] for row in z]
    figure = go.Figure(go.Heatmap(
        z=z, x=systems, y=systems, text=text, texttemplate="%{text}", zmin=0, zmax=1, colorscale="RdBu",
        colorbar={"title": "win rate"},
        hovertemplate="%{y} beats %{x}: %{z:.0%}<extra></extra>",
    ))
    figure.update_layout(title="Win rate (row vs column)", xaxis_title="opponent", yaxis_title="system",
                         yaxis_autorange="reversed", margin={"l": 40, "r": 20, "t": 50, "b": 40}, height=360)
    return figure


def rating_boxplot(records: Sequence[VoteRecord], order: Sequence[str], title: str = "Ratings per condition") -> go.Figure:
    """One box per condition (MUSHRA: systems, hidden reference and anchors) over its counted ratings."""
    figure = go.Figure()
    for condition in order:
        values = [r.value for r in records if r.system_a == condition]
        figure.add_trace(go.Box(y=values, name=condition, boxpoints="all", jitter=0.4, pointpos=0,
                                marker={"size": 4}, showlegend=False))
    figure.update_layout(title=title, yaxis={"title": "rating", "range": [0, 100]},
                         margin={"l": 40, "r": 20, "t": 50, "b": 40}, height=380)
    return figure
