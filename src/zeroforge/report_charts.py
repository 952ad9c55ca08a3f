"""The HTML report's chart PNGs (``zeroforge report``): one PNG per topic — Elo, solve rates (held-out and self-play,
per family and at the curriculum level), curriculum level, losses, throughput, resources — each drawn only when the
run's metrics have a key for it. ``zeroforge.report`` draws the one-figure learning curve; this module draws the
topic charts beside it, with matplotlib's Agg canvas (no pyplot) and atomic writes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CHARTS", "Chart", "DrawnChart", "Panel", "chart_panels", "plot_charts"]

Series = Mapping[str, tuple[list[float], list[float]]]


@dataclass(frozen=True)
class Panel:
    """One axes of a chart: its ``title``, y-axis label, the metrics keys it plots (``wanted``) and whether its
    values are rates (y from 0 to 1)."""

    title: str
    ylabel: str
    wanted: Callable[[str], bool]
    rate: bool = False


@dataclass(frozen=True)
class Chart:
    """One PNG, ``report_<name>.png``: a ``title`` and its panels, stacked."""

    name: str
    title: str
    panels: tuple[Panel, ...]

    @property
    def filename(self) -> str:
        return f"report_{self.name}.png"


@dataclass(frozen=True)
class DrawnChart:
    """A chart written to ``path``, with the metrics ``keys`` it plots."""

    title: str
    path: Path
    keys: tuple[str, ...]


def _level(key: str) -> bool:
    return key.startswith("success_rate_level_")


def _resource(prefix: str, suffix: str = "") -> Callable[[str], bool]:
    return lambda k: k.startswith(prefix) and k.endswith(suffix) and not k.endswith("_max")


CHARTS: tuple[Chart, ...] = (
    Chart("elo", "Elo", (Panel("Elo", "Elo", lambda k: k == "elo" or k.startswith("elo_")),)),
    Chart("solve_rates", "Solve rates", (
        Panel("Held-out solve rate (per family)", "rate", lambda k: k.startswith("heldout_solve_rate"), rate=True),
        Panel("Self-play success rate (per family, at the curriculum level)", "rate",
              lambda k: k == "success_rate" or (k.startswith("success_rate_") and not _level(k)), rate=True),
        Panel("Self-play success rate per difficulty level", "rate", _level, rate=True),
    )),
    Chart("curriculum", "Curriculum", (
        Panel("Curriculum level", "difficulty level", lambda k: k in ("difficulty", "next_difficulty")),
    )),
    Chart("losses", "Losses", (
        Panel("Losses", "loss", lambda k: k.startswith("loss_") and not k.startswith("loss_rate")),
    )),
    Chart("throughput", "Throughput", (
        Panel("Throughput", "per second", lambda k: k.endswith("_per_second")),
        Panel("Durations", "seconds", lambda k: k.endswith("_seconds")),
    )),
    Chart("resources", "Resources (SystemMonitor, mean over each iteration)", (
        Panel("CPU", "percent of one core", _resource("resource_cpu_percent_")),
        Panel("Memory (RSS)", "MiB", _resource("resource_rss_mb_")),
        Panel("GPU utilisation", "percent", _resource("resource_gpu_", "_percent")),
        Panel("GPU memory", "MiB", _resource("resource_gpu_", "_mb")),
    )),
)


def chart_panels(chart: Chart, series: Series) -> list[tuple[Panel, list[str]]]:
    """The panels of ``chart`` that have at least one key in ``series``, with their keys (sorted)."""
    out = []
    for panel in chart.panels:
        keys = sorted(k for k in series if panel.wanted(k))
        if keys:
            out.append((panel, keys))
    return out


def plot_charts(series: Series, out_dir: Path, run_name: str, charts: Sequence[Chart] = CHARTS) -> list[DrawnChart]:
    """Draw every chart of ``charts`` that has data in ``series`` (``zeroforge.report.metric_series``) into
    ``out_dir``; a stale PNG of a chart without data is removed. Returns the charts drawn, in order."""
    drawn = []
    for chart in charts:
        panels = chart_panels(chart, series)
        path = out_dir / chart.filename
        if not panels:
            path.unlink(missing_ok=True)
            continue
        _plot(chart, panels, series, path, run_name)
        drawn.append(DrawnChart(chart.title, path, tuple(k for _, keys in panels for k in keys)))
    return drawn


def _plot(chart: Chart, panels: list[tuple[Panel, list[str]]], series: Series, out_png: Path, run_name: str) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    from zeroforge.report import save_png

    fig = Figure(figsize=(8.0, 0.6 + 2.4 * len(panels)), dpi=90, layout="constrained")
    FigureCanvasAgg(fig)
    fig.suptitle(f"{chart.title} — {run_name}")
    for row, (panel, keys) in enumerate(panels, start=1):
        ax = fig.add_subplot(len(panels), 1, row)
        for key in keys:
            xs, ys = series[key]
            ax.plot(xs, ys, marker="o", markersize=3, label=key)
        if panel.rate:
            ax.set_ylim(-0.05, 1.05)
        ax.set_title(panel.title, fontsize="medium")
        ax.set_ylabel(panel.ylabel)
        ax.set_xlabel("iteration")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="x-small", loc="best")
    save_png(fig, out_png)
