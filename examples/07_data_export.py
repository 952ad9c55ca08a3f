"""Data export: episodes with their search traces to Parquet, read back, turned into training examples.

An agent trained briefly on countdown (reach the target with + - * / over the given numbers) plays episodes
(``SelfPlayTrainer.generate_episodes``: self-play with root noise, one ``MCTSTrace`` per move). They are saved as
one Parquet file (``zeroforge.data.parquet.save_parquet``, one row per episode, the traces as list columns), read
back with pyarrow (and pandas when it is installed: it is a dev dependency only), turned back into
``SelfPlayEpisode`` records, and ``TrainingDataExtractor`` extracts the four kinds of examples (policy, value,
reasoning, negative). The reasoning examples of solved episodes go to a JSONL file, one line each with the
instance, the query, the reasoning chain, the moves and the final answer, so the answer can be re-verified by
replaying the moves with the task's verifier (which the script does).

Run from the repository root:

    python examples/07_data_export.py [--out DIR]      # default DIR: runs/examples/07_data_export

Last, ``zeroforge.exports.export_run`` (``zeroforge export``) turns the run's own recorded episodes into SFT
records and DPO pairs with a dataset card.

It writes ``DIR/run/`` (the training run), ``DIR/episodes.parquet``, ``DIR/reasoning.jsonl`` and ``DIR/export/``.
Small settings (about 15 s of CPU on 2 cores): countdown with 3 numbers up to 10 and a reachable target,
2 supervised iterations of 400 demonstrations and 100 optimiser steps (pointer net of width 32), then 64 episodes
with 32 simulations per move.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections import Counter
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

import zeroforge
from zeroforge.data.parquet import from_arrow, save_parquet
from zeroforge.data.table import EpisodeTable
from zeroforge.exports import export_run

CONFIG = {
    "task": {"name": "countdown", "params": {"num_numbers": 3, "max_number": 10, "target": None}},
    "iterations": 0,
    "supervised": {"iterations": 2, "episodes_per_iteration": 400, "steps_per_iteration": 100},
    "net": {"kind": "pointer", "embed_dim": 32, "hidden": 64, "num_layers": 2, "match_bias": True},
    "mcts": {"num_simulations": 32, "temperature_threshold": 100},
    "selfplay": {"games_per_iteration": 64, "parallel_batch_size": 64},
    "train": {"batch_size": 64, "augment_symmetries": False},
    "arena": {"anchors": [], "heldout_episodes": 16, "num_simulations": 32},
}
EPISODES = 64


def fresh_dir(path: Path) -> Path:
    """``path`` ready for new output: a previous output of this example (its training run or episode file) is
    removed; anything else is refused."""
    if path.exists() and any(path.iterdir()):
        if not ((path / "run" / "config.yaml").is_file() or (path / "episodes.parquet").is_file()):
            sys.exit(f"error: {path} exists and is not this example's output; choose another --out")
        shutil.rmtree(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/examples/07_data_export"),
                        help="output directory (default: %(default)s)")
    args = parser.parse_args()
    out = fresh_dir(args.out)
    out.mkdir(parents=True, exist_ok=True)
    parquet, jsonl = out / "episodes.parquet", out / "reasoning.jsonl"

    # 1. an agent, and episodes played with it (the trainer's self-play source: root noise, full traces)
    with zeroforge.SelfPlayTrainer(CONFIG, run_dir=out / "run") as trainer:
        trainer.run_until(trainer.config.total_iterations)
        task = trainer.task
        episodes = trainer.generate_episodes(EPISODES, first_seed=0)
    played = Counter(ep.outcome for ep in episodes)
    print(f"played {len(episodes)} {task.name} episodes, {sum(len(ep.actions) for ep in episodes)} moves: "
          f"{dict(played)}")

    # 2. to Parquet, with the search traces; back with pyarrow (and pandas, if installed)
    save_parquet(EpisodeTable.from_episodes(episodes, task.vocab_size), parquet)
    table = pq.read_table(parquet)
    outcomes = {d["values"]: d["counts"] for d in pc.value_counts(table["outcome"]).to_pylist()}
    print(f"{parquet}: {table.num_rows} rows, {table.num_columns} columns ({', '.join(table.column_names[:6])}, "
          f"..., visit_probs, q_values, prior_probs), outcomes {outcomes}")
    first = table.slice(0, 1).to_pylist()[0]
    visits = first["visit_probs"][0]  # the first move's search: one entry per legal action
    top = max(range(len(visits)), key=visits.__getitem__)
    print(f"first episode: moves {first['action_text']}; its first search spread its visits over {len(visits)} "
          f"legal actions, most on action {first['legal_actions'][0][top]} ({visits[top]:.2f}, "
          f"Q {first['q_values'][0][top]:+.2f}); played {first['action'][0]} (self-play draws from the visits)")
    try:
        import pandas  # noqa: F401  (a dev dependency only: the example does without it)
    except ImportError:
        print("pandas is not installed (pip install pandas): skipping the DataFrame view")
    else:
        frame = table.to_pandas()
        print(f"as a pandas DataFrame: {frame.shape[0]} rows x {frame.shape[1]} columns; mean total reward "
              f"{frame['total_reward'].mean():+.3f}, outcomes {frame['outcome'].value_counts().to_dict()}")

    # 3. back to episodes (replayed with the task and checked against the stored observations), then examples
    stored = from_arrow(table)
    restored = [stored.to_episode(k, task) for k in range(len(stored))]
    assert [ep.solution_path for ep in restored] == [ep.solution_path for ep in episodes]
    examples = zeroforge.TrainingDataExtractor(trainer.config.mcts.discount).extract(restored)
    print("training examples: " + ", ".join(f"{kind} {len(items)}" for kind, items in examples.items()))

    # 4. the reasoning examples of the solved episodes, one JSON line each, re-verified by replay
    solved = [ep for ep in restored if ep.outcome == "success" and ep.actions]
    assert len(solved) == len(examples["reasoning"])
    verified = 0
    with jsonl.open("w", encoding="utf-8") as fh:
        for ep, example in zip(solved, examples["reasoning"], strict=True):
            final = ep.states[-1]
            line = {"task": task.name, "seed": ep.metadata.get("seed"),
                    "instance": task.instance_text(ep.initial_state), "query": example.query,
                    "reasoning_chain": list(example.reasoning_chain or ()),
                    "actions": [a.action_id for a in ep.actions], "answer": task.answer(final)}
            fh.write(json.dumps(line) + "\n")
            state = task.parse(line["instance"])  # the verifier: replay the moves on the instance as text
            for action in line["actions"]:
                state = task.step(state, action)
            verified += task.outcome(state) == "success" and task.answer(state) == line["answer"]
    print(f"{jsonl}: {len(solved)} reasoning examples, {verified} of {len(solved)} answers re-verified")
    if solved:
        print(f"e.g. {task.instance_text(solved[0].initial_state)} -> {task.answer(solved[0].states[-1])}")

    # 5. the run's own recorded episodes as language-model data (what `zeroforge export` writes): SFT records of
    #    the verified solutions and step-level DPO pairs, JSONL, with a dataset card
    for fmt in ("sft", "dpo"):
        summary = export_run(out / "run", fmt, out / "export")
        print(f"{out / 'export' / (fmt + '.jsonl')}: {summary.sft_records if fmt == 'sft' else summary.dpo_pairs} "
              f"{fmt.upper()} records from {summary.verified} verified of {summary.episodes} recorded episodes")


if __name__ == "__main__":
    main()
