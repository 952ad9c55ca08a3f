"""Plots of a run: the learning curve drawn from ``metrics.jsonl``.

``metrics.jsonl`` holds one JSON object per iteration (``iteration`` plus whatever was measured). A
crash can leave a half-written last line, so unreadable lines are skipped with a warning. Plotting uses
matplotlib's Agg canvas directly (no pyplot, no global backend switch) and writes the PNG atomically.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["PANELS", "metric_series", "plot_learning_curve", "plot_panels", "quality_metrics", "read_metrics",
           "save_png"]


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """The JSON objects of a metrics file in order (``zeroforge.runstate.scan_metrics``); unreadable lines are
    skipped with a warning."""
    from zeroforge.runstate import scan_metrics

    rows: list[dict[str, Any]] = []
    for line in scan_metrics(path):
        if line.record is None:
            warnings.warn(f"{path}:{line.number}: skipping {line.problem}", stacklevel=2)
        else:
            rows.append(line.record)
    return rows


#: two-player anchors from the strongest: a game's quality measure is the score against the first one evaluated
_ANCHOR_STRENGTH = ("perfect", "rollout", "random")
#: run figures reported as their last value (``last_<key>``) and their mean (``avg_<key>``)
_LAST = ("elo", "heldout_solve_rate", "heldout_optimality_gap", "buffer_bytes")
_MEAN = ("episodes_per_second", "simulations_per_second", "net_time_share")


def _rate_summary(rates: Sequence[float], suffix: str = "") -> dict[str, float]:
    """avg / std / trend (least-squares slope per point) / best of a success-rate series."""
    import numpy as np

    r = np.asarray(rates, np.float64)
    return {f"avg_success_rate{suffix}": float(r.mean()), f"success_rate_std{suffix}": float(r.std()),
            f"success_rate_trend{suffix}": float(np.polyfit(np.arange(len(r)), r, 1)[0]) if len(r) > 1 else 0.0,
            f"best_success_rate{suffix}": float(r.max())}


def quality_metrics(history: Sequence[dict[str, Any]]) -> dict[str, float]:
    """The spec's quality summary of a run's metrics records (``{}`` before the first self-play iteration; the
    supervised phase's records have no self-play success rate and are left out).

    - ``avg_success_rate``, ``success_rate_std``, ``success_rate_trend`` (least-squares slope per iteration),
      ``best_success_rate`` of the run's success measure: for a single-agent task the self-play success rate, and
      the same four per family (suffix ``_<family>``, a mix) and per difficulty level (suffix ``_level_<k>``); for
      a two-player game, where every self-play game "succeeds", the score against the strongest anchor evaluated
      (``perfect``, else ``rollout``, else ``random``; named by ``quality_anchor_<name> = 1``) over the
      iterations that played it (none yet: no success figures);
    - ``avg_episode_length``, ``total_episodes_generated`` over the self-play iterations;
    - ``last_<key>`` of Elo, held-out solve rate and optimality gap, buffer bytes, and ``avg_<key>`` of episodes and
      simulations per second and the net's share of self-play time, where the run measured them.
    """
    import numpy as np

    selfplay = [m for m in history if "success_rate" in m]
    if not selfplay:
        return {}
    out: dict[str, float] = {}  # the success figures first, as the spec lists them
    if "selfplay_draws" not in selfplay[-1]:  # single-agent (a game's round records its draws)
        out.update(_rate_summary([m["success_rate"] for m in selfplay]))
        groups = sorted({k for m in selfplay for k in m
                         if k.startswith("success_rate_") and k != "success_rate_at_level" and _is_number(m[k])})
        for key in groups:
            out.update(_rate_summary([m[key] for m in selfplay if key in m], key.removeprefix("success_rate")))
    else:
        for anchor in _ANCHOR_STRENGTH:
            scores = [m[f"score_vs_{anchor}"] for m in history if _is_number(m.get(f"score_vs_{anchor}"))]
            if scores:
                out.update(_rate_summary(scores))
                out[f"quality_anchor_{anchor}"] = 1.0
                break
    out["avg_episode_length"] = float(np.mean([m["avg_episode_length"] for m in selfplay]))
    out["total_episodes_generated"] = float(sum(m["episodes"] for m in selfplay))
    for key in _LAST:
        values = [m[key] for m in history if _is_number(m.get(key))]
        if values:
            out[f"last_{key}"] = float(values[-1])
    for key in _MEAN:
        values = [m[key] for m in selfplay if _is_number(m.get(key))]
        if values:
            out[f"avg_{key}"] = float(np.mean(values))
    return out


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_rate(key: str) -> bool:
    if key.startswith("success_rate_level_"):  # per difficulty level: the report's own panel, not the overview
        return False
    return key.startswith(("win_rate", "score_vs", "draw_rate", "loss_rate_vs", "success_rate", "heldout_")) or key in (
        "arena_win_rate",
        "arena_score",
        "mean_score",
        "ranked_threshold",
    )


# (title, y label, which keys go on the panel)
PANELS: tuple[tuple[str, str, Callable[[str], bool]], ...] = (
    ("Losses", "loss", lambda k: k.startswith("loss_") and not k.startswith("loss_rate")),
    ("Win / success / score rates", "rate", _is_rate),
    ("Elo", "Elo", lambda k: k == "elo" or k.startswith("elo_")),
    ("Curriculum", "difficulty level", lambda k: k == "difficulty"),
    ("Throughput", "per second", lambda k: k.endswith(("_per_second", "_seconds"))),
)


def metric_series(rows: Sequence[dict[str, Any]]) -> dict[str, tuple[list[float], list[float]]]:
    """``key -> (iterations, values)`` for every numeric key; a later row for an iteration wins (resume)."""
    by_key: dict[str, dict[float, float]] = {}
    for position, row in enumerate(rows):
        x = row.get("iteration", position)
        if not _is_number(x):
            x = position
        for key, value in row.items():
            if key != "iteration" and _is_number(value):
                by_key.setdefault(key, {})[float(x)] = float(value)
    return {key: (sorted(points), [points[x] for x in sorted(points)]) for key, points in by_key.items()}


def plot_panels(series: dict[str, tuple[list[float], list[float]]]) -> list[tuple[str, str, list[str]]]:
    """The panels a learning curve of these series has: ``(title, y label, keys)`` for every panel of
    ``PANELS`` that has at least one key (a single-agent run has a curriculum panel, a game an Elo one)."""
    panels = []
    for title, ylabel, wanted in PANELS:
        keys = sorted(k for k in series if wanted(k))
        if keys:
            panels.append((title, ylabel, keys))
    return panels


def plot_learning_curve(metrics_path: str | Path, out_png: str | Path) -> Path:
    """Plot losses, win/score rates, Elo and throughput from ``metrics_path`` into ``out_png``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    metrics_path, out_png = Path(metrics_path), Path(out_png)
    series = metric_series(read_metrics(metrics_path))
    panels = plot_panels(series)

    rows = max(1, len(panels))
    fig = Figure(figsize=(8.0, 2.6 * rows), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    fig.suptitle(f"zeroforge learning curve — {metrics_path.parent.name or metrics_path.name}")
    if not panels:
        ax = fig.add_subplot(1, 1, 1)
        ax.text(0.5, 0.5, "no plottable metrics yet", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
    for row, (title, ylabel, keys) in enumerate(panels, start=1):
        ax = fig.add_subplot(rows, 1, row)
        main, seconds = keys, []
        if title == "Throughput":  # rates on the left axis, durations on a right-hand one
            seconds = [k for k in keys if k.endswith("_seconds")]
            main = [k for k in keys if k not in seconds] or seconds
            seconds = [k for k in seconds if k not in main]
        twin = ax.twinx() if seconds else ax
        for key in main:
            xs, ys = series[key]
            ax.plot(xs, ys, marker="o", markersize=3, label=key)
        for key in seconds:
            xs, ys = series[key]
            twin.plot(xs, ys, marker="s", markersize=3, linestyle="--", color="tab:gray", label=key)
        if twin is not ax:
            twin.set_ylabel("seconds")
        if title == "Win / success / score rates":
            ax.set_ylim(-0.05, 1.05)
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        ax.set_xlabel("iteration")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
        handles, labels = ax.get_legend_handles_labels()
        if twin is not ax:
            more_handles, more_labels = twin.get_legend_handles_labels()
            handles, labels = handles + more_handles, labels + more_labels
        ax.legend(handles, labels, fontsize="small", loc="best")

    save_png(fig, out_png)
    return out_png


def save_png(fig: Any, out_png: Path) -> None:
    """Write matplotlib figure ``fig`` to ``out_png`` atomically (a temporary file beside it, then ``os.replace``)."""
    out_png.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_png.with_name(f".{out_png.name}.tmp-{os.getpid()}")
    try:
        fig.savefig(tmp, format="png")
        os.replace(tmp, out_png)
    finally:
        tmp.unlink(missing_ok=True)
