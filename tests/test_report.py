"""Learning-curve report: reads metrics.jsonl (tolerating a torn last line) and writes a PNG."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zeroforge.report import metric_series, plot_learning_curve, plot_panels, read_metrics

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _write_metrics(path: Path, torn: bool = False) -> None:
    rows = []
    for i in range(1, 6):
        rows.append(
            {
                "iteration": i,
                "loss_policy": 2.0 / i,
                "loss_value": 1.0 / i,
                "loss_total": 3.0 / i,
                "win_rate_vs_random": min(1.0, 0.5 + 0.1 * i),
                "score_vs_perfect": 0.1 * i,
                "elo": 50.0 * i,
                "selfplay_seconds": 3.0,
                "episodes_per_second": 40.0 + i,
                "note": "text values are ignored",
                "gated": True,
            }
        )
    text = "".join(json.dumps(row) + "\n" for row in rows)
    if torn:
        text += "\n" + json.dumps({"iteration": 6, "loss_total": 0.4})[:17]  # crash mid-write
    path.write_text(text)


def test_read_metrics_skips_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    _write_metrics(path, torn=True)
    with pytest.warns(UserWarning, match=r"metrics\.jsonl:7"):
        rows = read_metrics(path)
    assert [row["iteration"] for row in rows] == [1, 2, 3, 4, 5]


def test_plot_writes_a_png(tmp_path: Path) -> None:
    metrics = tmp_path / "metrics.jsonl"
    _write_metrics(metrics)
    out = plot_learning_curve(metrics, tmp_path / "plots" / "learning_curve.png")
    assert out == tmp_path / "plots" / "learning_curve.png"
    data = out.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 10_000
    assert [p.name for p in out.parent.iterdir()] == ["learning_curve.png"]  # no temp file left


def test_plot_tolerates_torn_line_and_sparse_metrics(tmp_path: Path) -> None:
    metrics = tmp_path / "metrics.jsonl"
    _write_metrics(metrics, torn=True)
    with pytest.warns(UserWarning):
        out = plot_learning_curve(metrics, tmp_path / "curve.png")
    assert out.read_bytes()[:8] == PNG_MAGIC
    sparse = tmp_path / "sparse.jsonl"
    sparse.write_text('{"iteration": 0, "success_rate": 0.2}\n{"iteration": 1}\n')
    assert plot_learning_curve(sparse, tmp_path / "sparse.png").read_bytes()[:8] == PNG_MAGIC
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert plot_learning_curve(empty, tmp_path / "empty.png").read_bytes()[:8] == PNG_MAGIC


def test_single_agent_runs_plot_solve_rates_and_the_curriculum_level(tmp_path: Path) -> None:
    rows = [{"iteration": i, "difficulty": 1 + i // 2, "success_rate": 0.5 + 0.1 * i, "heldout_solve_rate": 0.1 * i,
             "mean_score": 0.7, "ranked_threshold": None if i == 0 else 0.6, "loss_total": 1.0 / (i + 1)}
            for i in range(4)]
    series = metric_series(rows)
    assert series["difficulty"] == ([0.0, 1.0, 2.0, 3.0], [1.0, 1.0, 2.0, 2.0])
    assert series["ranked_threshold"] == ([1.0, 2.0, 3.0], [0.6, 0.6, 0.6]), "null (no threshold yet) is skipped"
    panels = {title: keys for title, _, keys in plot_panels(series)}
    assert panels["Curriculum"] == ["difficulty"]
    assert panels["Win / success / score rates"] == ["heldout_solve_rate", "mean_score", "ranked_threshold",
                                                     "success_rate"]
    assert "Elo" not in panels
    metrics = tmp_path / "metrics.jsonl"
    metrics.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert plot_learning_curve(metrics, tmp_path / "c.png").read_bytes()[:8] == PNG_MAGIC


def _selfplay(i: int, rate: float, **extra: object) -> dict:
    return {"iteration": i, "phase": "selfplay", "success_rate": rate, "episodes": 10, "avg_episode_length": 4.0 + i,
            **extra}


def test_quality_metrics_of_a_single_agent_run_per_family_and_level() -> None:
    from zeroforge.report import quality_metrics

    history = [
        {"iteration": 0, "phase": "supervised", "loss_total": 1.0},  # no self-play success: left out
        _selfplay(1, 0.2, success_rate_maze=0.0, success_rate_level_1=0.5, success_rate_at_level=0.9,
                  heldout_solve_rate=0.3, episodes_per_second=10.0),
        _selfplay(2, 0.4, success_rate_maze=0.5, success_rate_level_1=0.5, success_rate_level_2=0.25,
                  episodes_per_second=20.0, buffer_bytes=100),
        _selfplay(3, 0.6, success_rate_maze=1.0, success_rate_level_2=0.75, heldout_solve_rate=0.7),
    ]
    q = quality_metrics(history)
    assert q["avg_success_rate"] == pytest.approx(0.4)
    assert q["success_rate_std"] == pytest.approx((0.08 / 3) ** 0.5)
    assert q["success_rate_trend"] == pytest.approx(0.2)  # slope per iteration
    assert q["best_success_rate"] == 0.6
    assert q["avg_success_rate_maze"] == pytest.approx(0.5) and q["success_rate_trend_maze"] == pytest.approx(0.5)
    assert q["avg_success_rate_level_1"] == 0.5 and q["success_rate_trend_level_1"] == pytest.approx(0.0)
    assert q["best_success_rate_level_2"] == 0.75 and q["success_rate_trend_level_2"] == pytest.approx(0.5)
    assert not any(k.endswith("_at_level") for k in q)  # the curriculum's figure is not a group
    assert q["total_episodes_generated"] == 30.0 and q["avg_episode_length"] == 6.0
    assert q["last_heldout_solve_rate"] == 0.7 and q["last_buffer_bytes"] == 100.0
    assert q["avg_episodes_per_second"] == 15.0 and "last_elo" not in q


def test_quality_metrics_of_a_game_use_the_strongest_anchor_not_selfplay_success() -> None:
    from zeroforge.report import quality_metrics

    history = [_selfplay(1, 1.0, selfplay_draws=0.1, score_vs_random=0.9, score_vs_perfect=0.2, elo=10.0),
               _selfplay(2, 1.0, selfplay_draws=0.2),
               _selfplay(3, 1.0, selfplay_draws=0.3, score_vs_random=1.0, score_vs_perfect=0.5, elo=30.0)]
    q = quality_metrics(history)
    assert q["quality_anchor_perfect"] == 1.0 and "quality_anchor_random" not in q
    assert q["avg_success_rate"] == pytest.approx(0.35) and q["best_success_rate"] == 0.5
    assert q["success_rate_trend"] == pytest.approx(0.3)  # per evaluated point
    assert q["last_elo"] == 30.0
    no_anchor_yet = quality_metrics(history[1:2])
    assert "avg_success_rate" not in no_anchor_yet and no_anchor_yet["total_episodes_generated"] == 10.0
    assert quality_metrics([]) == {}
