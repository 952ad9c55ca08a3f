"""TensorBoard event files: the search histograms against known answers, and a run's event files read back with
TensorBoard's own reader (scalars per iteration, histograms, no doubled steps after a resume)."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from zeroforge import cli
from zeroforge.data.table import EpisodeTable
from zeroforge.data.targets import training_view
from zeroforge.search.evaluator import UniformEvaluator
from zeroforge.search.params import MCTSConfig
from zeroforge.selfplay.generator import SelfPlayEpisodeGenerator
from zeroforge.tasks import make_task
from zeroforge.tensorboard_log import search_histograms

TINY = ["iterations=2", "selfplay.games_per_iteration=8", "selfplay.parallel_batch_size=8", "mcts.num_simulations=8",
        "train.steps_per_iteration=3", "train.batch_size=16", "arena.games=2", "arena.anchors=[]",
        "agent_simulations=4"]


def played_table() -> EpisodeTable:
    task = make_task("tictactoe")
    gen = SelfPlayEpisodeGenerator(task, UniformEvaluator(), MCTSConfig(num_simulations=8), 4)
    episodes = gen.generate(range(4), np.random.default_rng(0))
    return EpisodeTable.from_episodes(episodes, task.vocab_size)


def test_visit_entropy_and_value_error_known_answers() -> None:
    """A move whose visits are spread evenly over its k legal moves has entropy log k, one with all visits on one
    move 0; the value error is the root value minus the discounted return."""
    table = played_table()
    probs = table.visit_probs.copy()
    lo, hi = int(table.legal_offsets[0]), int(table.legal_offsets[1])
    probs[lo:hi] = 1.0 / (hi - lo)  # the first move: uniform over its legal moves
    lo, hi = int(table.legal_offsets[1]), int(table.legal_offsets[2])
    probs[lo:hi] = 0.0
    probs[lo] = 1.0  # the second: every visit on one move
    roots = table.root_values.copy()
    roots[0] = 0.5
    table = dataclasses.replace(table, visit_probs=probs, root_values=roots)
    got = search_histograms(table, 1.0)
    view = training_view(table, 1.0)
    assert view.rows[0] == 0 and view.rows[1] == 1 and table.full_searches.all()
    assert got["visit_entropy"][0] == pytest.approx(math.log(int(table.legal_offsets[1])), abs=1e-3)
    assert got["visit_entropy"][1] == 0.0
    assert got["value_error"][0] == pytest.approx(0.5 - float(view.values[0]), abs=1e-3)
    assert len(got["visit_entropy"]) == len(got["value_error"]) == table.num_moves


def read_back(run: Path) -> EventAccumulator:
    acc = EventAccumulator(str(run / "tensorboard"), size_guidance={"scalars": 0, "histograms": 0})
    acc.Reload()
    return acc


def test_train_with_tensorboard_writes_every_metric_per_iteration_and_resumes_without_doubles(tmp_path: Path) -> None:
    run = tmp_path / "run"
    args = ["train", "--run-dir", str(run), "--quiet", "--tensorboard"]
    cli.main([*args, *(a for t in TINY for a in ("--set", t.replace("iterations=2", "iterations=1")))])
    cli.main([*args, "--resume", *(a for t in TINY for a in ("--set", t))])
    acc = read_back(run)
    tags = acc.Tags()
    for name in ("loss_total", "loss_policy", "success_rate", "resource_rss_mb_main", "iteration_seconds"):
        assert name in tags["scalars"], name
        assert [e.step for e in acc.Scalars(name)] == [0, 1]
    assert {"search/visit_entropy", "search/value_error"} <= set(tags["histograms"])
    entropy = acc.Histograms("search/visit_entropy")
    assert [e.step for e in entropy] == [0, 1]
    assert 0.0 <= entropy[0].histogram_value.min <= entropy[0].histogram_value.max <= math.log(9) + 1e-6
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    for event, record in zip(acc.Scalars("loss_total"), records, strict=True):  # float32 in the event file
        assert event.value == pytest.approx(record["loss_total"], rel=1e-6)


def test_without_the_flag_no_event_files_are_written(tmp_path: Path) -> None:
    run = tmp_path / "run"
    cli.main(["train", "--run-dir", str(run), "--quiet", *(a for t in TINY for a in ("--set", t.replace(
        "iterations=2", "iterations=1")))])
    assert (run / "metrics.jsonl").exists() and not (run / "tensorboard").exists()
