"""Replay buffer: a 100k-position connect-four buffer held as episode tables, bounded by its configured bytes,
and what a training minibatch costs when taken from it.

Connect-four episodes are self-played (uniform evaluator, ``--simulations`` per move), then copies are added in
rounds of ``--round`` episodes (as the trainer adds an iteration's table) to an ``EpisodeBuffer`` bounded to
``--positions`` positions and ``--mb`` MB, well past the point where it evicts. Reported: the largest ``nbytes``
seen after any add against the bound, bytes per position held, the growth of this process's resident memory,
and the microseconds per 256-position minibatch (``take``, in blocks of minibatches as the learner takes
them). The reference is the path this replaced: a ring of dense ``int64`` observations and ``float32``
policies over all actions, copied in full into a new dataset at every iteration (its bytes computed from
the same positions; its copy timed here, amortised over ``--steps`` training steps).

    python benchmarks/replay_buffer.py [--positions 100000] [--mb 64] [--episodes 300]
"""

from __future__ import annotations

import argparse
import gc
import time

import numpy as np

from _common import emit
from zeroforge.config import MCTSConfig
from zeroforge.data.buffer import EpisodeBuffer
from zeroforge.data.table import EpisodeTable
from zeroforge.search.evaluator import UniformEvaluator
from zeroforge.selfplay.generator import SelfPlayEpisodeGenerator
from zeroforge.tasks import make_task
from zeroforge.train.learner import Learner

MB = 1024 * 1024


def rss() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--positions", type=int, default=100_000)
    ap.add_argument("--mb", type=float, default=64.0, help="the buffer's byte bound")
    ap.add_argument("--episodes", type=int, default=300, help="distinct episodes played (then copied)")
    ap.add_argument("--simulations", type=int, default=16)
    ap.add_argument("--round", type=int, default=256, help="episodes added at a time")
    ap.add_argument("--steps", type=int, default=300, help="training steps per iteration (amortises the old copy)")
    ap.add_argument("--batch", type=int, default=256)
    args = ap.parse_args()
    task = make_task("connect_four")
    gen = SelfPlayEpisodeGenerator(task, UniformEvaluator(), MCTSConfig(num_simulations=args.simulations),
                                   parallel_batch_size=64)
    table = EpisodeTable.from_episodes(gen.generate(range(args.episodes), np.random.default_rng(0)), task.vocab_size)
    bound = int(args.mb * MB)
    gc.collect()
    before = rss()
    buf = EpisodeBuffer(bound, args.positions)
    peak, added = 0, 0
    while buf.total_evicted < 2 * len(table):  # well past full: evicting by one bound or the other
        k = min(args.round, len(table))
        lo = added % (len(table) - k + 1)
        buf.add(table.select(lo, lo + k))
        added += k
        peak = max(peak, buf.nbytes)
        if added > 50 * args.positions:
            raise SystemExit("the buffer never filled: too few positions per episode?")
    gc.collect()
    grown = rss() - before
    held = buf.num_positions
    emit("c4_buffer_positions_held", held, "positions", note=f"bound {args.positions} positions, {args.mb:g} MB")
    emit("c4_buffer_max_nbytes", peak / MB, "MB", note=f"largest after any of {added // args.round} adds; bound "
         f"{bound / MB:g} MB: {'within' if peak <= bound else 'OVER'}")
    dense = held * (task.seq_len * 8 + task.num_actions * (1 + 4) + 4)  # the ring's int64 / bool / float32 rows
    emit("c4_buffer_bytes_per_position", buf.nbytes / held, "bytes", dense / held, higher_is_better=False,
         note="reference: the old ring's dense rows (int64 tokens, float32 policy over all actions)")
    emit("c4_buffer_rss_growth", grown / MB, "MB", 2 * dense / MB, higher_is_better=False,
         note="this process's resident memory after filling; reference: the ring plus its per-iteration copy")
    rng = np.random.default_rng(0)
    rows = [rng.integers(0, held, args.batch) for _ in range(256)]
    per_block = max(1, Learner.BLOCK_POSITIONS // args.batch)  # the learner takes a block of minibatches at once
    start = time.perf_counter()
    for k in range(0, len(rows), per_block):
        buf.take(np.concatenate(rows[k:k + per_block]))
    take_us = (time.perf_counter() - start) / len(rows) * 1e6
    start = time.perf_counter()
    whole = buf.policy_value_arrays()  # what the old path copied every iteration (here: built from the tables)
    copy_s = time.perf_counter() - start
    start = time.perf_counter()
    for r in rows:
        whole.take(r)
    gather_us = (time.perf_counter() - start) / len(rows) * 1e6
    emit("c4_minibatch_take", take_us, f"us per {args.batch} positions", gather_us + copy_s * 1e6 / args.steps,
         higher_is_better=False, note=f"reference: gather from a full copy made once per {args.steps} steps "
                                      f"({copy_s:.2f} s a copy)")


if __name__ == "__main__":
    main()
