"""``zeroforge report``: one self-contained HTML page of a run, ``RUN/report.html``.

Sections: the run summary (task, net, iterations, best generation, the last held-out solve rate / Elo / success
rate, ``quality_metrics``), an episode viewer (``zeroforge.report_episodes``: pick an episode, step through it with
First / Prev / Next / Last or the arrow keys) and the learning curves (``learning_curve.png`` of
``zeroforge.report`` and the topic charts of ``zeroforge.report_charts``). The PNGs are written beside the page
and also embedded in it as ``data:`` URIs; the viewer's data is a JSON blob in a ``<script
type="application/json">`` tag; the CSS and the vanilla JS are inline (``report_assets/``). So the page alone opens
anywhere, offline.

The page reads its URL hash: ``#episode=K&step=T`` opens episode ``K`` (0 = the first listed) at step ``T``
(0 = the initial position, ``length`` = the final one); ``&play=N`` then presses Next ``N`` times.
"""

from __future__ import annotations

import base64
import html
import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from zeroforge.atomic import write_text_atomic
from zeroforge.config import ZeroforgeConfig
from zeroforge.report import metric_series, plot_learning_curve, quality_metrics, read_metrics
from zeroforge.report_charts import plot_charts
from zeroforge.report_episodes import EpisodeViews, read_episodes, views_json
from zeroforge.runstate import CONFIG_FILE, EPISODES_DIR, METRICS_FILE, PLOT_FILE
from zeroforge.tasks.base import Task

__all__ = ["DEFAULT_MAX_EPISODES", "REPORT_FILE", "RunSummary", "embed_json", "run_config_and_task", "run_summary",
           "write_report"]

REPORT_FILE = "report.html"
#: episodes the viewer lists by default (the newest iterations' first)
DEFAULT_MAX_EPISODES = 40


@dataclass(frozen=True)
class RunSummary:
    """The summary table's ``rows`` (label, value as text) and ``quality`` (``quality_metrics``, name -> value)."""

    rows: tuple[tuple[str, str], ...]
    quality: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class _Figure:
    title: str
    path: Path


def write_report(run_dir: str | Path, out: str | Path | None = None,
                 max_episodes: int = DEFAULT_MAX_EPISODES) -> Path:
    """Write the run's report page to ``out`` (default ``RUN/report.html``) and its PNGs beside it
    (``learning_curve.png``, ``report_<chart>.png``); returns the page's path. A run directory without
    ``metrics.jsonl`` is a one-line ``FileNotFoundError``; an episode file that does not read is skipped with a
    warning on the page (and a ``RuntimeWarning``)."""
    run_dir = Path(run_dir)
    metrics = run_dir / METRICS_FILE
    if not metrics.is_file():
        raise FileNotFoundError(f"no {METRICS_FILE} in {run_dir}")
    if max_episodes < 0:
        raise ValueError(f"max_episodes must be >= 0, got {max_episodes}")
    page = Path(out) if out is not None else run_dir / REPORT_FILE
    folder = page.parent
    folder.mkdir(parents=True, exist_ok=True)

    problems: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows = read_metrics(metrics)
    problems += [str(w.message) for w in caught]
    cfg, task, config_problem = run_config_and_task(run_dir)
    if config_problem:
        problems.append(config_problem)

    run_name = run_dir.resolve().name
    series = metric_series(rows)
    if cfg is not None and not cfg.curriculum.enabled:  # a constant level: no curriculum chart
        series = {k: v for k, v in series.items() if k not in ("difficulty", "next_difficulty")}
    figures = [_Figure("Learning curve", plot_learning_curve(metrics, folder / PLOT_FILE))]
    figures += [_Figure(c.title, c.path) for c in plot_charts(series, folder, run_name)]
    views = read_episodes(run_dir / EPISODES_DIR, task, max_episodes) if max_episodes else EpisodeViews((), 0, ())
    for line in views.warnings:
        warnings.warn(line, RuntimeWarning, stacklevel=2)
    problems += list(views.warnings)

    text = _page(run_dir, run_name, run_summary(rows, cfg, task), problems, figures, views, task, max_episodes)
    return write_text_atomic(page, text)


def run_config_and_task(run_dir: Path) -> tuple[ZeroforgeConfig | None, Task | None, str | None]:
    """The run's config (``config.yaml``, else the newest checkpoint's), its task, and a problem in words (or
    ``None``)."""
    from zeroforge.config import ConfigError, load_config
    from zeroforge.tasks import make_task

    cfg: ZeroforgeConfig | None = None
    problem = None
    try:
        cfg = load_config(run_dir / CONFIG_FILE)
    except (ConfigError, OSError) as exc:
        problem = f"{CONFIG_FILE}: {exc}"
        cfg = _checkpoint_config(run_dir)
    if cfg is None:
        return None, None, f"{problem}; no readable checkpoint either: the task is unknown"
    try:
        return cfg, make_task(cfg.task.name, **cfg.task.params), problem
    except ValueError as exc:
        return cfg, None, f"task {cfg.task.name!r} cannot be built here: {exc}"


def _checkpoint_config(run_dir: Path) -> ZeroforgeConfig | None:
    from zeroforge.checkpoint import CheckpointError, latest_checkpoint, load_checkpoint
    from zeroforge.runstate import checkpoint_config

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            found = latest_checkpoint(run_dir)
            return None if found is None else checkpoint_config(load_checkpoint(found))
        except (CheckpointError, OSError, ValueError):
            return None


def run_summary(rows: Sequence[dict[str, Any]], cfg: ZeroforgeConfig | None, task: Task | None) -> RunSummary:
    """The summary of a run's metrics records and config (either may be missing)."""
    out: list[tuple[str, str]] = []
    if cfg is not None:
        params = json.dumps(cfg.task.params, sort_keys=True) if cfg.task.params else ""
        out.append(("task", f"{cfg.task.name} {params}".strip()))
        kind = cfg.net.kind
        if kind == "auto" and task is not None:  # what zeroforge.nets.build_net picks
            kind = f"auto ({'pointer' if task.structured else 'mlp'})"
        out.append(("net", kind))
        out.append(("MCTS simulations per move", str(cfg.mcts.num_simulations)))
    done = sorted({r["iteration"] for r in rows if isinstance(r.get("iteration"), int)})
    planned = f" of {cfg.total_iterations}" if cfg is not None else ""
    out.append(("iterations", f"{len(done)}{planned}" + (f" (last: {done[-1]})" if done else "")))
    last = rows[-1] if rows else {}
    for key, label in (("best_generation", "best generation"), ("heldout_solve_rate", "held-out solve rate"),
                       ("elo", "Elo"), ("success_rate", "self-play success rate"), ("difficulty", "curriculum level"),
                       ("score_vs_random", "score vs random"), ("score_vs_perfect", "score vs perfect play")):
        value = _last(rows, key)
        if key == "difficulty" and cfg is not None and not cfg.curriculum.enabled:
            continue  # the top level throughout
        if value is not None:
            out.append((f"{label} (last)", _fmt(value)))
    seconds = sum(float(r.get("iteration_seconds", 0.0)) for r in rows)
    if seconds:
        out.append(("wall time", f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"))
    if "phase" in last:
        out.append(("phase (last)", str(last["phase"])))
    quality = tuple(sorted(quality_metrics(rows).items()))
    return RunSummary(tuple(out), quality)


def _last(rows: Sequence[dict[str, Any]], key: str) -> Any:
    """The newest record's value of ``key`` (iterations without it, e.g. held-out sets every k, are passed over)."""
    for row in reversed(rows):
        if row.get(key) is not None:
            return row[key]
    return None


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def embed_json(data: Any) -> str:
    """``data`` as JSON safe inside a ``<script>`` element: ``<``, ``>`` and ``&`` escaped as ``\\u003c`` ...
    (so ``</script>`` or ``<!--`` in a state's text cannot end the element); ``JSON.parse`` reads it back."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _asset(name: str) -> str:
    return resources.files("zeroforge").joinpath("report_assets", name).read_text(encoding="utf-8")


def _page(run_dir: Path, run_name: str, summary: RunSummary, problems: Sequence[str], figures: Sequence[_Figure],
          views: EpisodeViews, task: Task | None, max_episodes: int) -> str:
    num_players = task.num_players if task is not None else 1
    levels = task is not None and task.difficulty_levels > 1
    e = html.escape
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>zeroforge report — {e(run_name)}</title>", f"<style>\n{_asset('report.css')}</style>", "</head>",
        "<body>", f"<header><h1>zeroforge report: {e(run_name)}</h1>",
        f'<p class="meta">{e(str(run_dir))} · written {when}</p>',
        '<nav><a href="#summary">Summary</a> <a href="#episodes">Episodes</a> '
        '<a href="#curves">Learning curves</a></nav></header>',
        '<section id="summary"><h2>Run summary</h2><div class="summary"><table class="kv">',
        *(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in summary.rows), "</table>",
    ]
    if summary.quality:
        parts += ['<div class="quality"><h3>Self-play quality</h3>', '<table class="kv">',
                  *(f"<tr><th>{e(k)}</th><td>{0.0 if abs(v) < 1e-12 else v:.4g}</td></tr>"  # 0, not -7.85e-17
                    for k, v in summary.quality), "</table></div>"]
    parts.append("</div>")
    if problems:
        parts += ['<div class="warnings" id="report-warnings"><h3>Warnings</h3><ul>',
                  *(f"<li>{e(p)}</li>" for p in problems), "</ul></div>"]
    parts += ["</section>", '<section id="episodes"><h2>Episodes</h2>', _viewer(views, max_episodes, levels),
              "</section>", '<section id="curves"><h2>Learning curves</h2>']
    for fig in figures:
        parts.append(f'<figure><img src="{_data_uri(fig.path)}" alt="{e(fig.title)}">'
                     f"<figcaption>{e(fig.title)} ({e(fig.path.name)})</figcaption></figure>")
    parts.append("</section>")
    if views.episodes:
        parts.append(f'<script type="application/json" id="episode-data">{embed_json(views_json(views, num_players))}'
                     "</script>")
        parts.append(f"<script>\n{_asset('viewer.js')}</script>")
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def _viewer(views: EpisodeViews, max_episodes: int, levels: bool) -> str:
    """The viewer's controls (the JS fills them; ``levels``: the options name each episode's difficulty level), or
    a note saying why there are no episodes to show."""
    e = html.escape
    if not views.episodes:
        if max_episodes == 0:
            why = "The report was written with no episodes (max_episodes = 0)."
        elif views.files == 0:
            why = (f"This run saved no episode files ({EPISODES_DIR}/iter_NNNNNN.parquet): train with "
                   "selfplay.save_episodes: true to step through its episodes here.")
        else:
            why = f"None of the run's {views.files} episode files could be read (see the warnings above)."
        return f'<p class="note" id="no-episodes">{e(why)}</p>'
    options = []
    for k, ep in enumerate(views.episodes):
        result = "draw" if ep.winner is None else f"player {ep.winner} wins" if ep.winner >= 0 else ep.outcome
        level = f" · level {ep.difficulty}" if levels and ep.difficulty is not None else ""
        label = f"iter {ep.iteration} · #{ep.index} · seed {ep.seed}{level} · {result}"
        options.append(f'<option value="{k}">{e(label)} · {ep.length} moves</option>')
    shown = f"{len(views.episodes)} episodes of the newest iterations"
    return "\n".join([
        f'<p class="meta">{shown}. Keys: ← / → step; the URL hash <code>#episode=K&amp;step=T</code> '
        "opens an episode at a step.</p>",
        '<div id="viewer">',
        '<div class="controls"><label for="episode-select">Episode</label> <select id="episode-select">',
        *options, "</select></div>",
        '<div class="controls"><button type="button" id="btn-first">« First</button>'
        '<button type="button" id="btn-prev">‹ Prev</button>'
        '<span id="step-counter" class="counter">step 0 / 0</span>'
        '<button type="button" id="btn-next">Next ›</button>'
        '<button type="button" id="btn-last">Last »</button></div>',
        '<div class="step"><pre id="state-text"></pre>',
        '<div class="info"><table class="kv" id="step-info"></table>',
        '<table class="moves" id="moves-table"><thead><tr><th>move</th><th>visits</th><th>prior</th><th>Q</th>'
        "</tr></thead><tbody></tbody></table></div></div>",
        "</div>",
    ])
