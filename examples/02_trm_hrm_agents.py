"""Recursive reasoning agents: ``create_trm_agent`` (Tiny Recursive Model) and ``create_hrm_agent`` (Hierarchical
Reasoning Model) on a small logic task (ProntoQA-style deduction: prove the query from facts and rules, or
conclude it is not provable).

Each agent is built untrained from one config, trained exactly as built with ``SelfPlayTrainer(agent=...)``: a
supervised phase on the task's solver demonstrations (shortest proofs), then one self-play iteration. Then the
trained agent (``load_agent`` on its run) solves a held-out instance (a seed training never draws); the script
prints the proof, the answer, whether the task's verifier accepts it (forward chaining) and the agent's
``confidence``: its halting head's probability that its answer is right.

Run from the repository root:

    python examples/02_trm_hrm_agents.py [--out DIR]      # default DIR: runs/examples/02_trm_hrm_agents

Small settings (about 20 s of CPU on 2 cores for both agents): logic with 12 concepts, up to 10 rules, proofs up
to 3 steps deep; tiny nets (``net.embed_dim`` 16, ``hidden`` 32, one layer, TRM ``T = 1, n = 1`` and HRM ``N = 1,
T = 1`` with 2 supervision segments); 3 supervised iterations of 200 demonstrations and 40 optimiser steps, 1
self-play iteration of 32 games with 4 simulations per move; 16 held-out instances per evaluation.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import zeroforge
from zeroforge.arena.heldout import held_out_seeds

CONFIG = {
    "task": {"name": "logic",
             "params": {"num_concepts": 12, "max_rules": 10, "max_depth": 3, "distractors": 4,
                        "step_budget_factor": 1.0}},
    "iterations": 1,
    "agent_simulations": 4,
    "supervised": {"iterations": 3, "episodes_per_iteration": 200, "steps_per_iteration": 40},
    "net": {"embed_dim": 16, "hidden": 32, "num_layers": 1,
            "trm": {"cycles": 1, "latent_steps": 1, "supervision_steps": 2},
            "hrm": {"cycles": 1, "low_steps": 1, "supervision_steps": 2}},
    "mcts": {"num_simulations": 4, "temperature_threshold": 100, "discount": 0.97},
    "selfplay": {"games_per_iteration": 32, "parallel_batch_size": 32},
    "train": {"batch_size": 64, "steps_per_iteration": 20, "augment_symmetries": False},
    "arena": {"anchors": [], "heldout_episodes": 16, "num_simulations": 4},
}


def fresh_run_dir(path: Path) -> Path:
    """``path`` ready for a new run: a previous run of this example there is removed; anything else is refused."""
    if path.exists() and any(path.iterdir()):
        if not (path / "config.yaml").is_file():
            sys.exit(f"error: {path} exists and is not a zeroforge run directory; choose another --out")
        shutil.rmtree(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/examples/02_trm_hrm_agents"),
                        help="directory for the two runs (default: %(default)s)")
    args = parser.parse_args()

    for create in (zeroforge.create_trm_agent, zeroforge.create_hrm_agent):
        agent = create(CONFIG)  # untrained; agent.config names its net kind
        kind = agent.config.net.kind if agent.config is not None else "?"
        params = sum(p.numel() for p in agent.net.parameters())
        print(f"[{kind}] {type(agent.net).__name__}: {params} parameters")
        run_dir = fresh_run_dir(args.out / kind)
        for m in zeroforge.SelfPlayTrainer(agent=agent, run_dir=run_dir).run():
            print(f"[{kind}] iteration {m['iteration']} ({m['phase']}): policy loss {m['loss_policy']:.3f}, "
                  f"held-out solve rate {m['heldout_solve_rate']:.2f}")

        trained = zeroforge.load_agent(run_dir)
        task = trained.task
        start = task.initial_state(held_out_seeds(1, task.difficulty_levels)[0])
        states, actions = trained.solve(start)
        confidence = trained.confidence(start)
        assert confidence is not None  # a recursive net always has a halting head
        print(f"[{kind}] held-out instance: {task.instance_text(start)}")
        print(f"[{kind}] proof: {[task.action_to_text(s, a) for s, a in zip(states, actions, strict=False)]}")
        print(f"[{kind}] answer: {task.answer(states[-1])!r}, verified: {task.outcome(states[-1]) == 'success'}, "
              f"confidence: {confidence:.3f}")


if __name__ == "__main__":
    main()
