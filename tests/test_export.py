"""``zeroforge export``: a run's verified episodes as SFT / DPO data that re-verifies, loads with ``datasets`` and
counts what its card says."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from zeroforge.cli import main
from zeroforge.config import load_config
from zeroforge.exports import RunEpisode, dpo_pairs, export_run, sft_record
from zeroforge.search import MCTSTrace
from zeroforge.tasks import make_task
from zeroforge.trainer import SelfPlayTrainer

datasets = pytest.importorskip("datasets")

MAZE = ["task.name=maze", "task.params.size=4", "iterations=2", "selfplay.games_per_iteration=32",
        "selfplay.parallel_batch_size=32", "mcts.num_simulations=32", "curriculum.enabled=true",
        "curriculum.raise_at=0.5", "curriculum.review_fraction=0.25", "train.steps_per_iteration=5",
        "train.batch_size=32", "arena.num_simulations=4", "arena.heldout_episodes=4", "agent_simulations=4"]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("maze_run")
    SelfPlayTrainer(load_config(None, MAZE), path).run()
    return path


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _replay(record: dict) -> tuple[object, object]:
    """Parse the record's instance as ``zeroforge solve`` does and play its actions: ``(task, final state)``."""
    task = make_task(record["task"], **load_config(None, MAZE).task.params)
    state = task.parse(record["instance"])
    for a in record["actions"]:
        assert state.legal_action_mask[a], "an exported action is illegal on the parsed instance"
        state = task.step(state, a)
    return task, state


def test_sft_records_reverify_from_their_instance_text_and_load_with_datasets(run: Path, tmp_path: Path) -> None:
    s = export_run(run, "sft", tmp_path / "x", dedup=False)
    rows = _lines(tmp_path / "x" / "sft.jsonl")
    assert s.sft_records == len(rows) == s.verified > 0
    for r in rows:  # every positive re-verifies with the task's verifier, from the text a user would hand solve
        task, final = _replay(r)
        assert task.outcome(final) == "success" and r["verified"] is True
        assert r["answer"] == json.dumps(task.answer(final))
        assert r["completion"].count("\nStep ") + 1 == r["steps"] == len(r["actions"])
        assert r["completion"].endswith("Answer: " + r["answer"]) and r["instance"] in r["prompt"]
        assert r["messages"] == [{"role": "user", "content": r["prompt"]},
                                 {"role": "assistant", "content": r["completion"]}]
    loaded = datasets.load_dataset("json", data_files=str(tmp_path / "x" / "sft.jsonl"), split="train")
    assert loaded.num_rows == len(rows) and loaded[0]["prompt"] == rows[0]["prompt"]
    card = (tmp_path / "x" / "README.md").read_text(encoding="utf-8")
    assert f"| SFT records | {len(rows)} |" in card and f"| episodes read | {s.episodes} |" in card
    assert s.episodes == 64  # 2 iterations x 32 episodes, all read


def test_dedup_keeps_the_shortest_solution_of_each_instance(run: Path, tmp_path: Path) -> None:
    every = export_run(run, "sft", tmp_path / "all", dedup=False)
    one = export_run(run, "sft", tmp_path / "one")
    rows_all, rows_one = _lines(tmp_path / "all" / "sft.jsonl"), _lines(tmp_path / "one" / "sft.jsonl")
    instances = {r["instance"] for r in rows_all}
    assert len(rows_one) == len(instances) == one.sft_records and one.duplicates == every.sft_records - len(rows_one)
    for r in rows_one:
        assert r["steps"] == min(x["steps"] for x in rows_all if x["instance"] == r["instance"])


def test_dpo_pairs_prefer_the_verified_continuation_over_a_failed_or_worse_sibling(run: Path, tmp_path: Path) -> None:
    s = export_run(run, "dpo", tmp_path / "d", margin=0.3)
    pairs = _lines(tmp_path / "d" / "dpo.jsonl")
    assert s.dpo_pairs == len(pairs) > 0 and set(s.reasons) <= {"q_gap", "verified_failure"}
    task = make_task("maze", size=4)
    for p in pairs:
        assert p["chosen_action"] != p["rejected_action"]
        assert p["chosen"].startswith(f"Step {p['step']}: ") and p["rejected"].startswith(f"Step {p['step']}: ")
        assert "\nAnswer: " in p["chosen"]  # the continuation reaches the verified answer
        if p["reason"] == "q_gap":
            assert p["q_chosen"] - p["q_rejected"] >= 0.3 - 1e-3  # float16 traces
        state = task.parse(p["instance"])  # replay the prompt's steps: the state both moves are played from
        for a in p["prompt_actions"]:
            state = task.step(state, a)
        assert state.legal_action_mask[p["chosen_action"]] and state.legal_action_mask[p["rejected_action"]]
        if p["reason"] == "verified_failure":  # the sibling's move ends the episode and the verifier rejects it
            failed = task.step(state, p["rejected_action"])
            assert failed.terminal and task.outcome(failed) != "success"
        assert p["prompt"].count("\n\nStep ") == p["step"] - 1
    loaded = datasets.load_dataset("json", data_files=str(tmp_path / "d" / "dpo.jsonl"), split="train")
    assert loaded.num_rows == len(pairs) and {"prompt", "chosen", "rejected"} <= set(loaded.column_names)
    assert f"| DPO pairs | {len(pairs)} |" in (tmp_path / "d" / "README.md").read_text(encoding="utf-8")


def test_parquet_and_hf_formats_hold_the_same_records(run: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    pq_sum = export_run(run, "parquet", tmp_path / "p")
    hf_sum = export_run(run, "hf", tmp_path / "h")
    assert (pq_sum.sft_records, pq_sum.dpo_pairs) == (hf_sum.sft_records, hf_sum.dpo_pairs)
    sft = datasets.load_from_disk(str(tmp_path / "h" / "sft"))
    dpo = datasets.load_from_disk(str(tmp_path / "h" / "dpo"))
    assert sft.num_rows == pq.read_table(tmp_path / "p" / "sft.parquet").num_rows == hf_sum.sft_records
    assert dpo.num_rows == pq.read_table(tmp_path / "p" / "dpo.parquet").num_rows == hf_sum.dpo_pairs
    assert sorted(sft["seed"]) == sorted(pq.read_table(tmp_path / "p" / "sft.parquet").column("seed").to_pylist())


def test_dabstep_tasks_join_an_sft_export_as_a_part_of_their_own(run: Path, tmp_path: Path) -> None:
    from zeroforge.integrations.dabstep import FIXTURE

    s = export_run(run, "sft", tmp_path / "x", dabstep=FIXTURE)
    rows = _lines(tmp_path / "x" / "dabstep.jsonl")
    assert s.dabstep_records == len(rows) == 8 and rows[0]["task"] == "dabstep" and rows[0]["completion"] == "10"
    assert "| DABStep prompt / answer records | 8 |" in (tmp_path / "x" / "README.md").read_text(encoding="utf-8")
    loaded = datasets.load_dataset("json", data_files=str(tmp_path / "x" / "dabstep.jsonl"), split="train")
    assert loaded.num_rows == 8
    with pytest.raises(ValueError, match="DABStep tasks have answers, not preferences"):
        export_run(run, "dpo", tmp_path / "y", dabstep=FIXTURE)


def test_filters_by_difficulty_and_family(run: Path, tmp_path: Path) -> None:
    s = export_run(run, "sft", tmp_path / "l1", difficulties=[1], dedup=False)
    rows = _lines(tmp_path / "l1" / "sft.jsonl")
    assert rows and {r["difficulty"] for r in rows} == {1} and s.filtered_out > 0
    with pytest.raises(ValueError, match="--family 'knapsack': the run has maze"):
        export_run(run, "sft", tmp_path / "k", families=["knapsack"])


def test_a_corrupt_episode_file_is_skipped_with_a_warning(run: Path, tmp_path: Path) -> None:
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    (copy / "episodes" / "iter_000001.parquet").write_bytes(b"not parquet at all")
    s = export_run(copy, "sft", tmp_path / "x")
    assert s.episodes == 32 and len(s.warnings) == 1 and "iter_000001.parquet" in s.warnings[0]
    assert "iter_000001.parquet" in (tmp_path / "x" / "README.md").read_text(encoding="utf-8")


def test_known_answer_dpo_pair_from_a_hand_made_search() -> None:
    """A maze solved by BFS's path; at the first step with a choice the search gave the sibling move a Q far below
    the played one, everywhere else it saw only the played move: exactly one pair, at that step, rejecting that
    sibling (a verified failure if its move ends the episode unsolved, else by the Q gap)."""
    task = make_task("maze", size=4)
    start = task.initial_state(5, 2)
    path = task.demonstration(start)
    assert path, "BFS solves every generated maze"
    states = [start]
    for a in path:
        states.append(task.step(states[-1], a))
    choice = next(t for t, s in enumerate(states[:-1]) if s.legal_action_mask.sum() > 1)
    sibling = next(int(b) for b in np.flatnonzero(states[choice].legal_action_mask) if b != path[choice])
    traces = []
    for t, (s, a) in enumerate(zip(states, path, strict=False)):
        visits = np.zeros(task.num_actions, np.int32)
        q = np.zeros(task.num_actions, np.float32)
        visits[a], q[a] = 10, 0.9
        if t == choice:
            visits[sibling], q[sibling] = 2, -0.5
        prior = (s.legal_action_mask / s.legal_action_mask.sum()).astype(np.float32)
        traces.append(MCTSTrace(s.state_id, int(visits.sum()), visits, q, prior, np.zeros_like(q),
                                s.legal_action_mask.copy(), 0.9, 0.9, a, 1, 0.0))
    ep = RunEpisode(iteration=0, index=0, phase="selfplay", family="maze", difficulty=2, seed=5, task=task,
                    states=tuple(states), actions=tuple(path), traces=tuple(traces), outcome="success",
                    verified=task.outcome(states[-1]) == "success")
    assert ep.verified
    pairs = dpo_pairs(ep, margin=0.3)
    moved = task.step(states[choice], sibling)
    reason = "verified_failure" if moved.terminal and task.outcome(moved) != "success" else "q_gap"
    assert [(p["step"], p["rejected_action"], p["reason"]) for p in pairs] == [(choice + 1, sibling, reason)]
    record = sft_record(ep)
    blocks = record["completion"].split("\n\n")  # the steps, then the answer line
    assert pairs[0]["chosen"] == "\n\n".join(blocks[choice:])
    assert pairs[0]["prompt"] == "\n\n".join([record["prompt"], *blocks[:choice]])
    assert pairs[0]["rejected"].startswith(f"Step {choice + 1}: {task.action_to_text(states[choice], sibling)}\n")
    unverified = RunEpisode(**{**ep.__dict__, "verified": False})
    assert dpo_pairs(unverified) == []
    with pytest.raises(ValueError, match="not a verified solution"):
        sft_record(unverified)


def test_export_refuses_a_game_and_a_folder_that_is_no_run(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    game = tmp_path / "ttt"
    SelfPlayTrainer(load_config(None, ["iterations=1", "selfplay.games_per_iteration=4", "mcts.num_simulations=4",
                                       "train.steps_per_iteration=1", "arena.games=2", "arena.anchor_games=2"]),
                    game).run()
    for argv, message in ((["export", str(game), "--format", "sft", "--out", str(tmp_path / "o")],
                           "'tictactoe' is a two-player game; exports are for single-agent tasks"),
                          (["export", str(tmp_path / "nothing"), "--format", "sft", "--out", str(tmp_path / "o")],
                           "not a run directory"),
                          (["export", str(game), "--format", "csv", "--out", str(tmp_path / "o")],
                           "argument --format: invalid choice: 'csv'")):
        with pytest.raises(SystemExit) as code:
            main(argv)
        err = capsys.readouterr().err.strip().splitlines()
        assert code.value.code == 2 and len(err) == 1 and message in err[0], err


def test_cli_export_prints_its_files_and_json(run: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    main(["export", str(run), "--format", "sft", "--out", str(tmp_path / "e"), "--quiet"])
    out = capsys.readouterr().out.splitlines()
    assert out[1:] == [str(tmp_path / "e" / "sft.jsonl"), str(tmp_path / "e" / "README.md")]
    main(["export", str(run), "--format", "dpo", "--out", str(tmp_path / "e"), "--json", "--difficulty", "1,2"])
    got = json.loads(capsys.readouterr().out)
    assert got["dpo_pairs"] == len(_lines(tmp_path / "e" / "dpo.jsonl")) and got["format"] == "dpo"
    with pytest.raises(SystemExit) as code:
        main(["export", str(run), "--format", "sft", "--out", str(tmp_path / "e"), "--difficulty", "zero"])
    assert code.value.code == 2 and "--difficulty: 'zero' is not a level" in capsys.readouterr().err


def test_the_progress_total_is_the_episode_count_of_the_files(run: Path) -> None:
    from zeroforge.exports import count_run_episodes

    assert count_run_episodes(run) == 64 == export_run(run, "sft", run.parent / "count_check").episodes
