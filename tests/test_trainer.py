"""End-to-end tests of SelfPlayTrainer: run directory, metrics, checkpoints, resume, load_agent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import zeroforge
from zeroforge.checkpoint import CheckpointError, list_checkpoints
from zeroforge.config import ConfigError, ZeroforgeConfig, config_from_dict, load_config
from zeroforge.trainer import SelfPlayTrainer

REPO = Path(__file__).resolve().parents[1]

TINY = [
    "iterations=2",
    "selfplay.games_per_iteration=16",
    "selfplay.parallel_batch_size=16",
    "mcts.num_simulations=8",
    "train.steps_per_iteration=5",
    "train.batch_size=32",
    "arena.games=2",
    "arena.anchor_games=2",
    "arena.num_simulations=4",
    "arena.rollout_simulations=4",
    "arena.heldout_episodes=4",
    "agent_simulations=8",
]


def tiny_config(*extra: str) -> ZeroforgeConfig:
    return load_config(None, [*TINY, *extra])


def metrics_of(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_default_yaml_is_the_embedded_default() -> None:
    assert load_config(REPO / "configs" / "default.yaml") == ZeroforgeConfig()


def test_run_writes_checkpoints_metrics_and_plot(tmp_path: Path) -> None:
    trainer = SelfPlayTrainer(tiny_config("arena.gating=true"), tmp_path)
    out = trainer.run()
    assert [m["iteration"] for m in out] == [0, 1]
    assert [m["iteration"] for m in metrics_of(tmp_path)] == [0, 1]
    m = out[-1]
    for key in ("loss_policy", "loss_value", "loss_total", "elo", "episodes", "episodes_per_second",
                "score_vs_random", "score_vs_rollout", "score_vs_perfect", "perfect_play_losses", "arena_score"):
        assert key in m, key
    assert m["episodes"] == 16 and 0.0 <= m["score_vs_random"] <= 1.0
    assert m["iteration_cpu_seconds"] > 0.0 and m["iteration_seconds"] > 0.0
    assert (tmp_path / "learning_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in list_checkpoints(tmp_path)] == ["iter_000000", "iter_000001"]
    assert config_from_dict(ZeroforgeConfig, _yaml(tmp_path / "config.yaml")) == trainer.config


def _yaml(path: Path) -> dict:
    import yaml

    return yaml.safe_load(path.read_text())


def test_load_agent_plays_legal_deterministic_moves(tmp_path: Path) -> None:
    SelfPlayTrainer(tiny_config("iterations=1"), tmp_path).run()
    agent = zeroforge.load_agent(tmp_path)
    task = zeroforge.make_task("tictactoe")
    state = task.step(task.initial_state(seed=0), 4)
    a = agent.select_action(state)
    assert state.legal_action_mask[a]
    assert all(agent.select_action(state) == a for _ in range(3))
    # a checkpoint directory works as well as the run directory
    same = zeroforge.load_agent(list_checkpoints(tmp_path)[-1])
    assert same.select_action(state) == a


def test_existing_run_is_not_overwritten(tmp_path: Path) -> None:
    SelfPlayTrainer(tiny_config("iterations=1"), tmp_path).run()
    with pytest.raises(FileExistsError, match="--resume"):
        SelfPlayTrainer(tiny_config("iterations=1"), tmp_path)


def test_resume_refuses_a_different_config(tmp_path: Path) -> None:
    SelfPlayTrainer(tiny_config("iterations=1"), tmp_path).run()
    with pytest.raises(ConfigError, match=r"mcts\.c_puct"):
        SelfPlayTrainer(tiny_config("iterations=2", "mcts.c_puct=2.0"), tmp_path, resume=True)


def test_resume_continues_exactly_where_an_uninterrupted_run_would_be(tmp_path: Path) -> None:
    full = tmp_path / "full"
    SelfPlayTrainer(tiny_config("iterations=3"), full).run()
    part = tmp_path / "part"
    SelfPlayTrainer(tiny_config("iterations=2"), part).run()
    resumed = SelfPlayTrainer(tiny_config("iterations=3"), part, resume=True)
    assert resumed.next_iteration == 2
    resumed.run()
    a, b = metrics_of(full), metrics_of(part)
    assert [m["iteration"] for m in b] == [0, 1, 2]
    for key in ("loss_policy", "loss_value", "avg_episode_length", "score_vs_random", "buffer_size"):
        assert a[2][key] == b[2][key], key


def test_corrupt_newest_checkpoint_falls_back_to_the_previous_one(tmp_path: Path) -> None:
    SelfPlayTrainer(tiny_config("iterations=2"), tmp_path).run()
    newest = list_checkpoints(tmp_path)[-1]
    blob = newest / "best.safetensors"
    data = bytearray(blob.read_bytes())
    data[-1] ^= 0xFF
    blob.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"best\.safetensors"):
        zeroforge.load_agent(newest)
    with pytest.warns(RuntimeWarning, match="iter_000001"):
        trainer = SelfPlayTrainer(tiny_config("iterations=2"), tmp_path, resume=True)
    assert trainer.next_iteration == 1
    assert [m["iteration"] for m in metrics_of(tmp_path)] == [0]


def _cli(run_dir: Path, *args: str) -> list[str]:
    sets = [x for s in TINY if not s.startswith("iterations") for x in ("--set", s)]
    return [sys.executable, "-m", "zeroforge", "train", "--run-dir", str(run_dir), "--quiet", *sets, *args]


def test_sigkill_then_resume_continues_from_last_complete_iteration(tmp_path: Path) -> None:
    run = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(_cli(run, "--set", "iterations=30", "--set", "train.steps_per_iteration=40"),
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 120
        while len(list_checkpoints(run)) < 2 and time.time() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert list_checkpoints(run), "no checkpoint appeared in time"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    last = max(int(p.name.split("_")[1]) for p in list_checkpoints(run))
    assert last < 29
    # the killed run may have left metrics of an unfinished iteration, or half a line; the lines of the
    # iterations its checkpoints hold are final
    kept = (run / "metrics.jsonl").read_text().splitlines()[: last + 1]
    assert [json.loads(x)["iteration"] for x in kept] == list(range(last + 1))
    total = last + 4
    result = subprocess.run(_cli(run, "--set", f"iterations={total}", "--set", "train.steps_per_iteration=40",
                                 "--resume"), env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    lines = (run / "metrics.jsonl").read_text().splitlines()
    # continued from the newest checkpoint: the iterations before it were not run again (their lines, timings
    # included, are byte for byte those written before the kill), and the rest were
    assert lines[: last + 1] == kept
    assert [json.loads(x)["iteration"] for x in lines] == list(range(total))
    assert max(int(p.name.split("_")[1]) for p in list_checkpoints(run)) == total - 1


def test_cli_rejects_unknown_key_with_suggestion(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "zeroforge", "train", "--run-dir", str(tmp_path / "x"),
                             "--set", "mcts.num_simulatons=3"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "num_simulations" in result.stderr and "Traceback" not in result.stderr
    assert len([ln for ln in result.stderr.splitlines() if ln.strip()]) == 1


def test_agent_rejects_terminal_state(tmp_path: Path) -> None:
    SelfPlayTrainer(tiny_config("iterations=1"), tmp_path).run()
    agent = zeroforge.load_agent(tmp_path)
    task = agent.task
    s = task.initial_state(0)
    for a in (0, 3, 1, 4, 2):
        s = task.step(s, a)
    with pytest.raises(ValueError, match="terminal"):
        agent.select_action(s)
    assert np.isclose(agent.policy(task.initial_state(0)).sum(), 1.0)


def test_async_facade_runs_iterations_in_order(tmp_path: Path) -> None:
    import asyncio

    trainer = SelfPlayTrainer(tiny_config("iterations=2"), tmp_path)

    async def go() -> list[dict]:
        episodes = await trainer.run_self_play(4)
        assert len(episodes) == 4 and all(e.outcome == "success" for e in episodes)
        return [await trainer.iteration(0), await trainer.iteration(1)]

    out = asyncio.run(go())
    assert [m["iteration"] for m in out] == [0, 1]
    with pytest.raises(ValueError, match="out of order"):
        trainer.run_iteration(5)


def test_gating_rejection_keeps_the_best_net_and_its_generation(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """With gating on, a candidate that loses the arena leaves the best net's weights (in memory, in the
    checkpoint, in what load_agent reads) and best_generation as they were; one that wins replaces them."""
    import torch

    from zeroforge.arena import judge as trainer_module
    from zeroforge.arena.match import MatchResult

    verdict = {"wins": 0, "losses": 2}
    monkeypatch.setattr(trainer_module, "play_match",
                        lambda task, a, b, games, *args: MatchResult(a.name, b.name, verdict["wins"], 0,
                                                                       verdict["losses"]))
    trainer = SelfPlayTrainer(tiny_config("arena.gating=true", "arena.anchors=[]"), tmp_path)
    try:
        before = {k: v.clone() for k, v in trainer.best_net.state_dict().items()}
        m = trainer.run_iteration(0)
        assert m["accepted"] is False and m["arena_score"] == 0.0
        assert m["best_generation"] == 0 and trainer.best_generation == 0
        best = trainer.best_net.state_dict()
        assert all(torch.equal(best[k], v) for k, v in before.items())
        candidate = trainer.learner.net.state_dict()
        assert not all(torch.equal(candidate[k], v) for k, v in before.items()), "the candidate did train"
        saved = zeroforge.load_agent(list_checkpoints(tmp_path)[-1]).net.state_dict()
        assert all(torch.equal(saved[k], v) for k, v in before.items())
        verdict.update(wins=2, losses=0)
        m = trainer.run_iteration(1)
        assert m["accepted"] is True and m["best_generation"] == 1 == trainer.best_generation
        candidate = trainer.learner.net.state_dict()
        assert all(torch.equal(v, candidate[k]) for k, v in trainer.best_net.state_dict().items())
    finally:
        trainer.close()


def test_cli_play_against_a_person_and_once(tmp_path: Path) -> None:
    SelfPlayTrainer(tiny_config("iterations=1"), tmp_path).run()

    def zf(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "zeroforge", "play", "--agent", str(tmp_path), *args],
                              input=stdin, capture_output=True, text=True, timeout=120)

    # x: 0, 1 and o: 3, 4 with x to move: the immediate win at 2 is found with the agent's 8 simulations
    result = zf("--moves", "0,3,1,4", "--once")
    assert result.returncode == 0, result.stderr
    reply = json.loads(result.stdout.strip().splitlines()[-1])
    assert reply["action"] == 2
    # the person is o (second): the agent, x, wins at once
    lost = zf("--moves", "0,3,1,4", "--human", "second", "--json")
    assert lost.returncode == 0, lost.stderr
    assert "agent plays x(0,2) (2)" in lost.stdout
    assert json.loads(lost.stdout.strip().splitlines()[-1]) == {"verdict": "the agent wins", "moves": [0, 3, 1, 4, 2]}
    # the person is x: an occupied cell and a cell off the board are refused, 'moves' lists, then '0,2' wins
    won = zf("--moves", "0,3,1,4", "--json", stdin="3\n9\nmoves\n0,2\n")
    assert won.returncode == 0, won.stderr
    assert "not played: 3 (x(1,0)) is not legal here" in won.stdout
    assert "not played: 9 is not an action of tictactoe" in won.stdout
    assert "legal moves: 2 = x(0,2), 5 = x(1,2)" in won.stdout
    assert json.loads(won.stdout.strip().splitlines()[-1]) == {"verdict": "you win", "moves": [0, 3, 1, 4, 2]}
    left = zf("--json", stdin="")  # end of input: the person leaves, nothing is lost
    assert left.returncode == 0 and json.loads(left.stdout.strip().splitlines()[-1])["verdict"] == "you left"
    bad = zf("--moves", "0,0", "--once")
    lines = bad.stderr.strip().splitlines()
    assert bad.returncode == 2 and len(lines) == 1, bad.stderr
    assert lines[0].startswith("error: ") and "action 0 is illegal here" in lines[0], bad.stderr


def test_spec_helpers_extract_examples_and_quality_metrics(tmp_path: Path) -> None:
    trainer = SelfPlayTrainer(tiny_config("iterations=2"), tmp_path)
    assert trainer.quality_metrics() == {}
    episodes = trainer.generate_episodes(3)
    examples = trainer.extract_examples(episodes)
    positions = sum(e.episode_length for e in episodes)
    assert len(examples["policy"]) == len(examples["value"]) == positions
    assert len(examples["reasoning"]) == 3  # every finished game is a success
    trainer.run()
    q = trainer.quality_metrics()
    assert q["total_episodes_generated"] == 32.0
    # a game's quality measure is its score against the strongest anchor played, not self-play "success"
    anchor = next(a for a in ("perfect", "rollout", "random") if f"score_vs_{a}" in trainer.history[-1])
    scores = [m[f"score_vs_{anchor}"] for m in trainer.history if f"score_vs_{anchor}" in m]
    assert q[f"quality_anchor_{anchor}"] == 1.0
    assert q["avg_success_rate"] == pytest.approx(sum(scores) / len(scores))
    assert q["best_success_rate"] == max(scores)
    assert 5 <= q["avg_episode_length"] <= 9
    assert q["last_elo"] == trainer.history[-1]["elo"]


@pytest.mark.parametrize("preset", sorted((REPO / "configs").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_preset_runs_one_tiny_iteration(preset: Path, tmp_path: Path) -> None:
    supervised = min(1, load_config(preset).supervised.iterations)  # a preset's supervised phase: one short iteration
    cfg = load_config(preset, [*TINY, "iterations=1", "arena.eval_every=1", f"supervised.iterations={supervised}",
                               "supervised.episodes_per_iteration=8", "supervised.steps_per_iteration=5"])
    ms = SelfPlayTrainer(cfg, tmp_path).run()
    m = ms[-1]
    assert [x["phase"] for x in ms] == ["supervised"] * supervised + ["selfplay"]
    assert m["iteration"] == supervised and m["episodes"] == 16
    assert ("score_vs_random" if cfg.arena.anchors else "heldout_solve_rate") in m
    agent = zeroforge.load_agent(tmp_path)
    assert agent.task.name == load_config(preset).task.name


def test_the_supervised_phase_last_checkpoint_outlives_pruning(tmp_path: Path) -> None:
    """2 supervised + 3 self-play iterations keeping 2 checkpoints: the newest two stay, and so does iteration 1,
    the "supervised only" agent, which still loads as an agent. Supervised iterations take their own step count."""
    cfg = load_config(None, [*TINY, "task.name=maze", "task.params.size=3", "iterations=3", "supervised.iterations=2",
                             "supervised.episodes_per_iteration=8", "supervised.steps_per_iteration=7",
                             "keep_checkpoints=2", "arena.anchors=[]", "arena.heldout_episodes=0"])
    ms = SelfPlayTrainer(cfg, tmp_path).run()
    assert [m["train_steps"] for m in ms] == [7, 7, 5, 5, 5]
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["iter_000001", "iter_000003",
                                                                           "iter_000004"]
    assert zeroforge.load_agent(tmp_path / "checkpoints" / "iter_000001").task.name == "maze"


@pytest.mark.parametrize("task_name", zeroforge.available_tasks())
def test_every_task_trains_one_tiny_iteration(task_name: str, tmp_path: Path) -> None:
    """The whole loop (self-play, extraction, training, evaluation, checkpoint, load_agent) on every task."""
    anchors = "arena.anchors=[random,perfect]" if zeroforge.make_task(task_name).solvable else "arena.anchors=[random]"
    cfg = load_config(None, [*TINY, "iterations=1", f"task.name={task_name}", anchors])
    m = SelfPlayTrainer(cfg, tmp_path).run()[-1]
    assert m["episodes"] == 16 and m["positions"] >= 16
    assert 0.0 <= m["success_rate"] <= 1.0 and np.isfinite(m["loss_total"])
    if task_name.startswith("code_"):  # program synthesis reports generalisation to held-out test cases
        assert 0.0 <= m["heldout_case_pass_rate"] <= 1.0
    agent = zeroforge.load_agent(tmp_path)
    state = agent.task.initial_state(seed=123)
    assert state.legal_action_mask[agent.select_action(state)]


def test_episodes_are_saved_as_parquet_and_the_cache_reports_its_hit_rate(tmp_path: Path) -> None:
    from zeroforge.data.parquet import load_parquet

    SelfPlayTrainer(tiny_config("iterations=1", "selfplay.eval_cache_size=10000"), tmp_path).run()
    saved = load_parquet(tmp_path / "episodes" / "iter_000000.parquet", max_bytes=1 << 30)
    assert len(saved) == 16
    assert all(len(saved.traces(i)) >= 5 for i in range(16))  # a tic-tac-toe game has at least 5 moves
    m = metrics_of(tmp_path)[0]
    assert 0.0 < m["eval_cache_hit_rate"] < 1.0  # openings repeat across the 16 games
    SelfPlayTrainer(tiny_config("iterations=1", "selfplay.save_episodes=false"), tmp_path / "off").run()
    assert not (tmp_path / "off" / "episodes").exists()


def test_self_play_in_two_worker_processes_trains_and_resumes_identically(tmp_path: Path) -> None:
    """With workers each iteration's games depend only on its seeds (chunk streams keyed by them): a run cut
    after one iteration and resumed matches an uninterrupted one, and no worker process is left behind."""
    import multiprocessing

    workers = ("selfplay.num_workers=2", "selfplay.chunk_size=4")
    full = SelfPlayTrainer(tiny_config(*workers), tmp_path / "full")
    full.run()
    part = tmp_path / "part"
    SelfPlayTrainer(tiny_config("iterations=1", *workers), part).run()
    SelfPlayTrainer(tiny_config(*workers), part, resume=True).run()
    a, b = metrics_of(tmp_path / "full"), metrics_of(part)
    assert [m["episodes"] for m in a] == [16, 16]
    assert a[1]["avg_episode_length"] == b[1]["avg_episode_length"]
    assert a[1]["loss_policy"] == b[1]["loss_policy"]
    assert a[0]["worker_restarts"] == 0
    assert not [p for p in multiprocessing.active_children() if p.is_alive()]
    # the resource monitor watched the main process and both workers (in-process inference: no server)
    assert all(m["resource_processes_main"] == 1 and m["resource_rss_mb_main"] > 50 for m in a)
    assert all(m["resource_cpu_percent_main"] > 0 for m in a)  # the first iteration's too (its window is closed)
    assert all(m["resource_processes_worker"] == 2 and m["resource_rss_mb_worker"] > 50 for m in a)
    assert "resource_processes_inference_server" not in a[1]
    assert not full.monitor.running  # type: ignore[union-attr]


def test_an_inference_server_is_monitored_and_a_disabled_monitor_records_nothing(tmp_path: Path) -> None:
    served = SelfPlayTrainer(tiny_config("iterations=1", "selfplay.num_workers=1", "selfplay.inference=server"),
                             tmp_path / "served")
    [metrics] = served.run()
    assert metrics["resource_processes_worker"] == 1 and metrics["resource_processes_inference_server"] == 1
    quiet = SelfPlayTrainer(tiny_config("iterations=1", "monitor.enabled=false"), tmp_path / "quiet")
    [metrics] = quiet.run()
    assert quiet.monitor is None and not [k for k in metrics if k.startswith("resource_")]


def test_a_cpu_budget_ends_the_run_at_an_iteration_boundary(tmp_path: Path) -> None:
    """With a budget of 1e-6 CPU minutes, the first iteration spends it: the run stops after one of five, and a
    resumed run does not start another; resumed with a larger budget (the one other key besides ``iterations``
    that may change), the run goes on until the larger budget is spent."""
    cfg = {"iterations": 5, "cpu_budget_minutes": 1e-6, "selfplay": {"games_per_iteration": 4},
           "train": {"steps_per_iteration": 1, "batch_size": 8}, "mcts": {"num_simulations": 4},
           "arena": {"games": 2, "anchors": []}}
    metrics = SelfPlayTrainer(cfg, tmp_path / "run").run()
    assert [m["iteration"] for m in metrics] == [0]
    assert SelfPlayTrainer(cfg, tmp_path / "run", resume=True).run() == []
    spent = metrics[0]["iteration_cpu_seconds"] / 60
    more = SelfPlayTrainer({**cfg, "cpu_budget_minutes": spent * 1.0001}, tmp_path / "run", resume=True).run()
    assert [m["iteration"] for m in more] == [1]
