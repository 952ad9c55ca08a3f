"""The CLI's commands beyond train / solve: ``generate`` (episodes to Parquet), ``bench``, ``train --json`` and
``-v``, and every command's ``--help`` with its example."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zeroforge import cli
from zeroforge.data.parquet import load_parquet
from zeroforge.tasks import make_task

TINY = ["iterations=1", "selfplay.games_per_iteration=8", "selfplay.parallel_batch_size=8", "mcts.num_simulations=8",
        "train.steps_per_iteration=3", "train.batch_size=16", "arena.games=2", "arena.anchors=[]",
        "agent_simulations=8"]


def sets(overrides: list[str]) -> list[str]:
    return [a for o in overrides for a in ("--set", o)]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "run"
    cli.main(["train", "--run-dir", str(path), "--quiet", *sets(TINY)])
    return path


def test_generate_writes_replayable_episodes_and_is_deterministic_without_noise(
        run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outs = []
    for name in ("a", "b"):
        out = tmp_path / f"{name}.parquet"
        cli.main(["generate", "--agent", str(run), "--episodes", "6", "--out", str(out), "--no-noise", "--json",
                  "--simulations", "4"])
        outs.append(json.loads(capsys.readouterr().out))
        assert outs[-1]["episodes"] == 6 and sum(outs[-1]["outcomes"].values()) == 6
        assert outs[-1]["simulations_per_move"] == 4
    tables = [load_parquet(tmp_path / f"{n}.parquet", 10**9).chunks for n in ("a", "b")]
    a, b = (t[0] for t in tables)
    assert len(a) == 6 and a.seeds.tolist() == list(range(6))
    assert a.actions.tolist() == b.actions.tolist()  # same seeds, no noise: the same games
    task = make_task("tictactoe")
    for i in range(len(a)):  # every stored game replays to the stored observations, and ended as recorded
        episode = a.to_episode(i, task)
        assert episode.states[-1].terminal and episode.outcome == a.outcome(i)
    assert (a.visit_totals == 4).all()


def test_generate_refuses_a_bad_output_path(run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for out, message in ((tmp_path / "x.csv", "must end in .parquet"), (tmp_path / "no" / "x.parquet", "no directory")):
        with pytest.raises(SystemExit) as exc:
            cli.main(["generate", "--agent", str(run), "--out", str(out)])
        assert exc.value.code == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error:") and message in err and "\n" not in err


def test_bench_reports_consistent_rates(capsys: pytest.CaptureFixture[str]) -> None:
    cli.main(["bench", "--seconds", "1", "--json",
              *sets(["mcts.num_simulations=8", "selfplay.parallel_batch_size=16"])])
    out = json.loads(capsys.readouterr().out)
    assert out["task"] == "tictactoe" and out["episodes"] >= 16 and out["simulations_per_move"] == 8
    # every move of a full search runs 8 simulations: sims/s = 8 x moves/s
    assert out["simulations_per_second"] == pytest.approx(8 * out["moves_per_second"], rel=1e-9)
    assert 0.0 < out["net_time_share"] < 1.0 and out["threads"] >= 1


def test_train_json_prints_each_iterations_metrics_and_verbose_a_summary(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli.main(["train", "--run-dir", str(tmp_path / "j"), "--json", *sets(TINY)])
    captured = capsys.readouterr()
    [line] = captured.out.strip().splitlines()
    assert json.loads(line) == json.loads((tmp_path / "j" / "metrics.jsonl").read_text().strip())
    cli.main(["train", "--run-dir", str(tmp_path / "v"), "-v", *sets(TINY)])
    captured = capsys.readouterr()
    assert captured.out == "" and "iteration=0 " in captured.err and "done:" in captured.err
    cli.main(["train", "--run-dir", str(tmp_path / "d"), *sets(TINY)])
    assert "iteration=0 " not in capsys.readouterr().err  # quiet by default: bars and the last line only


@pytest.mark.parametrize("command", list(cli.COMMANDS))
def test_every_command_has_help_with_an_example(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main([command, "--help"])
    assert exc.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert f"example: zeroforge {command}" in text
