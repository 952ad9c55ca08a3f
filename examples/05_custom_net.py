"""A net of your own: a small convolutional policy-value net for square boards, registered as ``net.kind:
board_conv`` and trained on tic-tac-toe.

A flat net is built by ``zeroforge.nets.build_net`` as ``cls(vocab_size, seq_len, num_actions, embed_dim, hidden,
num_layers)`` and called with the tokens ``int64[B, L]``; it returns ``(policy logits float[B, A], value float[B]
in [-1, 1])``, the value for the player to move. Registering a kind is one entry in the nets registry
``zeroforge.nets.params.NET_KINDS`` (kind -> module and class name; here this script's own module), made before a
net of that kind is built or loaded (``docs/integration.md``, "Your own net"). The script trains it briefly, loads
the trained agent back, and prints its parameter count, its results against the anchors and one search: the
visit counts, Q-values and chosen move in a position where X must block O's row.

Run from the repository root:

    python examples/05_custom_net.py [--out DIR]      # default DIR: runs/examples/05_custom_net

Small settings (about 15 s of CPU on 2 cores): 3 iterations of 64 self-play games with 16 simulations per move,
60 optimiser steps of batch 64; 10 games against each anchor; the net: 16-wide embeddings, two 3 x 3 convolutions
of 32 channels.
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

import zeroforge
from zeroforge.nets.params import NET_KINDS


class BoardConvNet(nn.Module):
    """``tokens int64[B, L] -> (logits float[B, A], value float[B])`` for a square board of ``L = side * side``
    cells with one action per cell: token embeddings as channels, ``num_layers`` 3 x 3 convolutions of ``hidden``
    channels, a 1 x 1 convolution for the per-cell move logits and a pooled value head."""

    def __init__(self, vocab_size: int, seq_len: int, num_actions: int, embed_dim: int = 16, hidden: int = 32,
                 num_layers: int = 2) -> None:
        super().__init__()
        self.side = math.isqrt(seq_len)
        if self.side * self.side != seq_len or num_actions != seq_len:
            raise ValueError(f"BoardConvNet needs a square board with one action per cell, got seq_len {seq_len}, "
                             f"{num_actions} actions")
        self.embed = nn.Embedding(vocab_size, embed_dim)
        layers: list[nn.Module] = []
        for i in range(num_layers):
            layers += [nn.Conv2d(embed_dim if i == 0 else hidden, hidden, 3, padding=1), nn.ReLU()]
        self.trunk = nn.Sequential(*layers)
        self.policy = nn.Conv2d(hidden, 1, 1)
        self.value = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b = tokens.shape[0]
        x = self.embed(tokens).transpose(1, 2).reshape(b, -1, self.side, self.side)  # [B, E, side, side]
        h = self.trunk(x)
        logits = self.policy(h).reshape(b, -1)
        value = torch.tanh(self.value(h.mean(dim=(2, 3)))).squeeze(-1)
        return logits, value


NET_KINDS["board_conv"] = (__name__, "BoardConvNet")  # build_net imports the class from this module

CONFIG = {
    "task": {"name": "tictactoe"},
    "net": {"kind": "board_conv", "embed_dim": 16, "hidden": 32, "num_layers": 2},
    "iterations": 3,
    "agent_simulations": 64,
    "selfplay": {"games_per_iteration": 64, "parallel_batch_size": 64},
    "mcts": {"num_simulations": 16},
    "train": {"batch_size": 64, "steps_per_iteration": 60},
    "arena": {"anchors": ["random", "perfect"], "anchor_games": 10, "num_simulations": 16},
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
    parser.add_argument("--out", type=Path, default=Path("runs/examples/05_custom_net"),
                        help="run directory (default: %(default)s)")
    args = parser.parse_args()
    run_dir = fresh_run_dir(args.out)

    for m in zeroforge.SelfPlayTrainer(CONFIG, run_dir=run_dir).run():
        print(f"iteration {m['iteration']}: loss {m['loss_total']:.3f}, score vs random {m['score_vs_random']:.2f}, "
              f"score vs perfect {m['score_vs_perfect']:.2f}")

    agent = zeroforge.load_agent(run_dir)
    params = sum(p.numel() for p in agent.net.parameters())
    print(f"net: {type(agent.net).__name__}, {params} parameters")

    task = agent.task
    state = task.initial_state(0)
    for move in (0, 4, 8, 3):  # X corner, O centre, X corner, O left edge: O threatens 3-4-5, X must block at 5
        state = task.step(state, move)
    trace = agent.search([state])[0]
    print(state.to_text())
    print(f"search ({trace.num_simulations} simulations): visits {trace.visit_counts.reshape(3, 3).tolist()}, "
          f"Q of the move {trace.q_values[trace.selected_action]:+.2f}, root value {trace.root_value:+.2f}")
    print(f"chosen move: {trace.selected_action} (the block is 5): "
          f"{'blocks' if trace.selected_action == 5 else 'misses the block'}; "
          f"raw policy's top move {int(np.argmax(agent.policy(state)))}")


if __name__ == "__main__":
    main()
