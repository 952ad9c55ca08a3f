"""Size-free net in self-play: how much of the search time the PointerNet takes on the structured families.

For each structured single-agent family (``maze``, ``knapsack``, ``tsp``, ``countdown``, ``blocksworld``,
``logic``, ``code_function``; task parameters and net sizes of ``configs/<family>.yaml``, simulations of its
``mcts`` section capped by ``--simulations``) an untrained, seeded ``PointerNet`` plays ``--episodes``
self-play episodes in lockstep batches of ``--batch`` (after a short untimed warm-up that compiles the
search). Per family it prints, one JSON object per figure (``name``, ``value``, ``unit``):

- ``size_free.<family>.episodes_per_second`` and ``.simulations_per_second`` of self-play;
- ``.net_positions_per_second``: positions the net evaluated per second of net time, and
  ``.net_us_per_position``: net time per evaluated position (forward pass, bucketing, softmax);
- ``.mean_tokens``: mean tokens per evaluated position (the instance size the net reads);
- ``.featurize_share``: share of self-play wall time spent building the net's inputs from states
  (``state_inputs``: padding the tokens, ``action_pointers()``) — search-side work the net's timer leaves out;
- ``.search_us_per_simulation``: wall time outside the net per simulation (tree walk, task ``step``,
  observations, featurising, the generator's bookkeeping): the search overhead, whatever the net's speed;
- ``.net_time_share``: ``evaluator.seconds / wall``, the share of self-play wall time inside the net.

The reference, measured in the same run with the same episodes, batch and simulations, is the fixed-size path:
``tictactoe`` with the flat ``mlp`` net and the compiled array search (``size_free.tictactoe_mlp.*``); rows of
the families carry it as ``reference`` (``ratio`` > 1 means the family's figure is higher / better).
The issue's goal: the size-free net keeps >= 70 % of self-play time in the net (search overhead small next
to the net), so the last line, ``size_free.min_net_time_share``, is the minimum over the families (its
``note`` names the family).

``--sizes 5,7,10`` instead measures ``maze`` at those cell counts (grids 11x11, 15x15, 21x21): mean tokens,
net time per position and per token and net share per size, to show how the net's per-position cost grows
with tokens (episodes cut at ``--max-moves`` moves: bigger mazes take hundreds of moves).

    python benchmarks/size_free.py [--episodes 32] [--batch 32] [--simulations 32] [--families maze,tsp]
    python benchmarks/size_free.py --sizes 5,7,10
    python benchmarks/size_free.py --quick
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

import zeroforge
from zeroforge.config import MCTSConfig, NetConfig, load_config
from zeroforge.jit import set_threads
from zeroforge.nets import build_net
from zeroforge.nets.inputs import state_inputs, token_lengths
from zeroforge.search.evaluator import NetworkEvaluator
from zeroforge.selfplay.generator import SelfPlayEpisodeGenerator
from zeroforge.tasks.base import State, Task

try:
    from _common import emit
except ImportError:  # run as a module from the repository root
    from benchmarks._common import emit

ROOT = Path(__file__).resolve().parent.parent
FAMILIES = ("maze", "knapsack", "tsp", "countdown", "blocksworld", "logic", "code_function")
#: the issue's goal for the net's share of self-play wall time
GOAL = 0.7
SEARCH_UNIT = "us of wall time outside the net per simulation"


class CountingEvaluator(NetworkEvaluator):
    """A ``NetworkEvaluator`` that also counts the tokens it was given and the time spent building its inputs
    (both outside the net's own timer, so ``seconds`` means what it means in training)."""

    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__(net)
        self.tokens = 0
        self.featurize_seconds = 0.0

    def reset(self) -> None:
        self.calls = self.positions = self.tokens = 0
        self.seconds = self.featurize_seconds = 0.0

    def evaluate_states(self, task: Task, states: Sequence[State]) -> tuple[np.ndarray, np.ndarray]:
        start = time.perf_counter()
        inputs = state_inputs(states)
        masks = np.stack([s.legal_action_mask for s in states])
        self.featurize_seconds += time.perf_counter() - start
        return self.evaluate_inputs(inputs, masks)

    def evaluate_inputs(self, inputs: tuple[np.ndarray, ...], masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        tokens = inputs[0]
        self.tokens += int(token_lengths(tokens).sum()) if tokens.ndim == 3 else tokens.size
        return super().evaluate_inputs(inputs, masks)


def measure(task: Task, net: torch.nn.Module, mcts: MCTSConfig, episodes: int, batch: int,
            max_moves: int | None = None) -> dict[str, float]:
    """Self-play figures of ``episodes`` episodes (seeds 0..episodes-1) after an untimed 2-episode warm-up
    (episodes cut at ``max_moves`` moves when given)."""
    evaluator = CountingEvaluator(net)
    gen = SelfPlayEpisodeGenerator(task, evaluator, mcts, parallel_batch_size=batch, max_moves=max_moves)
    gen.generate(range(10_000, 10_002), np.random.default_rng(1))  # compile / warm up
    evaluator.reset()
    start = time.perf_counter()
    eps = gen.generate(range(episodes), np.random.default_rng(0))
    wall = time.perf_counter() - start
    sims = sum(t.num_simulations for e in eps for t in e.mcts_traces)
    positions = max(1, evaluator.positions)
    return {
        "wall": wall,
        "episodes_per_s": episodes / wall,
        "sims_per_s": sims / wall,
        "net_positions_per_s": evaluator.positions / max(evaluator.seconds, 1e-9),
        "net_us_per_position": 1e6 * evaluator.seconds / positions,
        "mean_tokens": evaluator.tokens / positions,
        "featurize_share": evaluator.featurize_seconds / wall,
        "search_us_per_sim": 1e6 * (wall - evaluator.seconds) / max(1, sims),
        "net_share": evaluator.seconds / wall,
        "mean_moves": float(np.mean([len(e.actions) for e in eps])),
        "net_batch": evaluator.positions / max(1, evaluator.calls),
    }


def family_setup(family: str, simulations: int, seed: int,
                 params: dict[str, object] | None = None) -> tuple[Task, torch.nn.Module, MCTSConfig]:
    """The task, seeded untrained net and search settings of ``configs/<family>.yaml`` (``params`` override
    the config's task parameters)."""
    cfg = load_config(ROOT / "configs" / f"{family}.yaml")
    task = zeroforge.make_task(cfg.task.name, **{**cfg.task.params, **(params or {})})
    torch.manual_seed(seed)
    net = build_net(cfg.net, task).eval()  # as in the self-play workers (no train/eval toggling per call)
    mcts = dataclasses.replace(cfg.mcts, num_simulations=min(cfg.mcts.num_simulations, simulations))
    return task, net, mcts


def reference(args: argparse.Namespace) -> dict[str, float]:
    """The fixed-size path: tic-tac-toe, flat MLP, compiled array search, same episodes / batch / sims."""
    task = zeroforge.make_task("tictactoe")
    torch.manual_seed(args.seed)
    net = build_net(NetConfig(kind="mlp"), task).eval()
    ref = measure(task, net, MCTSConfig(num_simulations=args.simulations), args.episodes, args.batch)
    tag = "size_free.tictactoe_mlp"
    note = f"reference: flat mlp net, {args.episodes} episodes, batch {args.batch}, {args.simulations} sims"
    emit(f"{tag}.episodes_per_second", ref["episodes_per_s"], "episodes/s", note=note)
    emit(f"{tag}.simulations_per_second", ref["sims_per_s"], "simulations/s")
    emit(f"{tag}.net_positions_per_second", ref["net_positions_per_s"], "positions/s of net time")
    emit(f"{tag}.net_us_per_position", ref["net_us_per_position"], "us of net time per position")
    emit(f"{tag}.mean_tokens", ref["mean_tokens"], "tokens per position")
    emit(f"{tag}.featurize_share", ref["featurize_share"], "fraction of wall time building net inputs")
    emit(f"{tag}.search_us_per_simulation", ref["search_us_per_sim"], SEARCH_UNIT)
    emit(f"{tag}.net_time_share", ref["net_share"], "fraction of wall time in the net")
    return ref


def families(args: argparse.Namespace, ref: dict[str, float]) -> None:
    shares: dict[str, float] = {}
    for family in args.families.split(","):
        task, net, mcts = family_setup(family, args.simulations, args.seed)
        r = measure(task, net, mcts, args.episodes, args.batch)
        tag = f"size_free.{family}"
        emit(f"{tag}.episodes_per_second", r["episodes_per_s"], "episodes/s",
             note=f"{mcts.num_simulations} sims, {r['mean_moves']:.1f} moves per episode, "
                  f"{r['net_batch']:.1f} positions per net call")
        emit(f"{tag}.simulations_per_second", r["sims_per_s"], "simulations/s", ref["sims_per_s"])
        emit(f"{tag}.net_positions_per_second", r["net_positions_per_s"], "positions/s of net time",
             ref["net_positions_per_s"])
        emit(f"{tag}.net_us_per_position", r["net_us_per_position"], "us of net time per position",
             ref["net_us_per_position"], higher_is_better=False)
        emit(f"{tag}.mean_tokens", r["mean_tokens"], "tokens per position")
        emit(f"{tag}.featurize_share", r["featurize_share"], "fraction of wall time building net inputs")
        emit(f"{tag}.search_us_per_simulation", r["search_us_per_sim"], SEARCH_UNIT,
             ref["search_us_per_sim"], higher_is_better=False)
        emit(f"{tag}.net_time_share", r["net_share"], "fraction of wall time in the net", ref["net_share"])
        shares[family] = r["net_share"]
    worst = min(shares, key=shares.__getitem__)
    emit("size_free.min_net_time_share", shares[worst], "fraction of wall time in the net",
         note=f"minimum over families ({worst}); goal >= {GOAL}"
              f" {'met' if shares[worst] >= GOAL else 'NOT met'}")


def maze_sizes(args: argparse.Namespace) -> None:
    for cells in (int(s) for s in args.sizes.split(",")):
        task, net, mcts = family_setup("maze", args.simulations, args.seed, {"size": cells})
        r = measure(task, net, mcts, args.episodes, args.batch, args.max_moves)
        side = 2 * cells + 1
        tag = f"size_free.maze_{side}x{side}"
        emit(f"{tag}.mean_tokens", r["mean_tokens"], "tokens per position",
             note=f"{cells} x {cells} cells, {mcts.num_simulations} sims, {r['mean_moves']:.1f} moves per episode")
        emit(f"{tag}.net_us_per_position", r["net_us_per_position"], "us of net time per position")
        emit(f"{tag}.net_us_per_token", r["net_us_per_position"] / max(r["mean_tokens"], 1e-9),
             "us of net time per token")
        emit(f"{tag}.simulations_per_second", r["sims_per_s"], "simulations/s")
        emit(f"{tag}.search_us_per_simulation", r["search_us_per_sim"], SEARCH_UNIT)
        emit(f"{tag}.net_time_share", r["net_share"], "fraction of wall time in the net")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=32)
    ap.add_argument("--batch", type=int, default=32, help="parallel_batch_size of self-play")
    ap.add_argument("--simulations", type=int, default=32, help="cap on each config's mcts.num_simulations")
    ap.add_argument("--families", default=",".join(FAMILIES))
    ap.add_argument("--sizes", default="", help="maze cell counts to measure instead, e.g. 5,7,10")
    ap.add_argument("--max-moves", type=int, default=8,
                    help="with --sizes: moves per episode at most (per-position cost needs no whole episode)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the untrained nets")
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    ap.add_argument("--quick", action="store_true", help="short settings (smoke check): 8 episodes, 8 sims")
    args = ap.parse_args()
    if args.quick:
        args.episodes, args.batch, args.simulations = 8, 8, 8
    torch.set_num_threads(args.threads)
    set_threads(1)
    if args.sizes:
        maze_sizes(args)
        return
    families(args, reference(args))


if __name__ == "__main__":
    main()
