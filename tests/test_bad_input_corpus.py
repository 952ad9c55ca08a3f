"""The bad-input corpus of the command line: every case of ``tests/bad_inputs/cli_cases.yaml`` (config files,
``--set`` overrides, command lines with missing, empty or wrong files and agents) ends with exit code 2 and one
line on stderr naming what is wrong. Run in-process through ``zeroforge.cli.main`` (the entry point's own code;
``test_cli_usage.py`` checks the installed entry point in a subprocess). The instance files of every task are
``test_bad_instance_corpus.py``'s."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml

from zeroforge.cli import main
from zeroforge.config import load_config
from zeroforge.trainer import SelfPlayTrainer

HERE = Path(__file__).resolve().parent
CASES: list[dict[str, Any]] = yaml.safe_load((HERE / "bad_inputs" / "cli_cases.yaml").read_text())
TINY = ["iterations=1", "selfplay.games_per_iteration=8", "selfplay.parallel_batch_size=8", "mcts.num_simulations=4",
        "train.steps_per_iteration=2", "train.batch_size=16", "arena.anchors=[random]", "arena.anchor_games=2",
        "arena.num_simulations=2", "arena.heldout_episodes=2", "agent_simulations=4"]


@pytest.fixture(scope="module")
def agents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("agents")
    SelfPlayTrainer(load_config(None, TINY), root / "ttt").run()
    SelfPlayTrainer(load_config(None, [*TINY, "task.name=maze", "task.params.size=3"]), root / "maze").run()
    return {"ttt": root / "ttt", "maze": root / "maze"}


def _argv(case: dict[str, Any], tmp: Path, agents: dict[str, Path]) -> tuple[list[str], dict[str, str]]:
    subs = {"tmp": str(tmp), "config": str(tmp / "config.yaml"), "file": str(tmp / "input.bin"),
            **{k: str(v) for k, v in agents.items()}}
    if "config" in case:
        (tmp / "config.yaml").write_text(case["config"], encoding="utf-8")
        argv = ["train", "--config", "{config}", "--run-dir", "{tmp}/run", "--quiet"]
    elif "set" in case:
        argv = ["train", "--run-dir", "{tmp}/run", "--quiet", *[x for s in case["set"] for x in ("--set", s)]]
    else:
        argv = list(case["argv"])
    if "file_text" in case:
        (tmp / "input.bin").write_text(case["file_text"], encoding="utf-8")
    if "file_bytes" in case:
        (tmp / "input.bin").write_bytes(bytes.fromhex(case["file_bytes"]))
    return [a.format(**subs) for a in argv], subs


def test_the_corpus_is_big_and_well_formed() -> None:
    assert len(CASES) >= 100
    for case in CASES:
        assert isinstance(case.get("error"), str) and case["error"], case
        assert sum(k in case for k in ("argv", "config", "set")) == 1, case


@pytest.mark.parametrize("case", CASES, ids=[f"{i:03d}" for i in range(len(CASES))])
def test_bad_input_exits_2_with_one_line(case: dict[str, Any], tmp_path: Path, agents: dict[str, Path],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    argv, subs = _argv(case, tmp_path, agents)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. a corrupt checkpoint skipped on the way
        with pytest.raises(SystemExit) as info:
            main(argv)
    out, err = capsys.readouterr()
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert info.value.code == 2, (argv, err)
    assert len(lines) == 1 and lines[0].startswith("error: "), (argv, err)
    assert case["error"].format(**subs) in lines[0], (argv, lines[0])
    assert "Traceback" not in err and out == ""
    assert not (tmp_path / "run" / "checkpoints").exists()  # nothing was trained on bad input
