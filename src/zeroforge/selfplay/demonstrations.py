"""Solver demonstrations: episodes played by the family's solver (``Task.demonstration``: BFS paths, DP and
Held-Karp optima, optimal plans, shortest proofs, exhaustive countdown solutions), recorded as the same episodes
and episode table as self-play, for the supervised phase (issue 13; the spec's ``train_phase("supervised")``).

A demonstrated move's trace is the solver's choice as a search would record it: one visit on the demonstrated
action (``policy_target`` one-hot on it), uniform priors over the legal actions, no simulations, the episode's
own return as the root value; so the training targets (``zeroforge.data.targets``) are the solver's action and
the return the demonstration earned.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import torch

from zeroforge.data.table import EpisodeTable
from zeroforge.search.trace import MCTSTrace
from zeroforge.selfplay.episode import Action, SelfPlayEpisode
from zeroforge.selfplay.source import SelfPlayRound
from zeroforge.tasks.base import State, Task, random_legal_action
from zeroforge.tasks.ranked import RankedRewardTask

__all__ = ["DemonstrationSource", "demonstration_episode", "demonstration_episodes", "demonstration_metrics"]


def _trace(state: State, action: int, demonstrated: bool = True) -> MCTSTrace:
    """A demonstrated move (one-hot policy target), or a detour move (``demonstrated=False``: no policy target)."""
    mask = np.asarray(state.legal_action_mask, bool)
    one_hot = np.zeros(len(mask), np.float32)
    one_hot[action] = 1.0
    return MCTSTrace(
        root_state_id=state.state_id, num_simulations=0, visit_counts=one_hot.astype(np.int32),
        q_values=np.zeros(len(mask), np.float32), prior_probs=mask / np.float32(max(1, mask.sum())),
        value_estimates=np.zeros(len(mask), np.float32), legal_action_mask=mask, root_value=0.0,
        root_prior_value=0.0, selected_action=int(action), tree_depth=0, search_time=0.0,
        policy_target=one_hot if demonstrated else None, full_search=demonstrated)


def demonstration_episode(task: Task, seed: int, difficulty: int | None = None, detour: int = 0,
                          rng: np.random.Generator | None = None) -> SelfPlayEpisode | None:
    """The solver's episode of the instance ``(seed, difficulty)``, or ``None`` where the family has no solver or
    the instance no solution; a ``ValueError`` if the solver's actions are illegal or do not end the episode.

    ``detour > 0`` first plays that many uniformly random moves (``rng``), then the solver's best continuation from
    where they led, or random moves to the end where none is left: the detour's moves carry no policy target
    (``full_search`` false) but every move gets the value of how the episode ended, so the value head also sees
    positions that are worse than the solver's (a demonstration alone always succeeds)."""
    state = task.initial_state(seed, difficulty)
    plain = task.demonstration(state) if detour == 0 else None
    if detour == 0 and plain is None:
        return None
    rng = rng if rng is not None else np.random.default_rng(seed)
    states: list[State] = [state]
    moves: list[Action] = []
    traces: list[MCTSTrace] = []

    def play(action: int, demonstrated: bool) -> None:
        if states[-1].terminal:
            raise ValueError(f"{task.name}: the demonstration of seed {seed} goes on after the episode ended")
        traces.append(_trace(states[-1], action, demonstrated))
        moves.append(Action(action, task.action_to_text(states[-1], action), states[-1].current_player))
        states.append(task.step(states[-1], action))

    for _ in range(detour):
        if states[-1].terminal:
            break
        play(random_legal_action(states[-1], rng), False)
    actions = plain if detour == 0 else task.demonstration(states[-1]) if not states[-1].terminal else []
    for a in actions or []:
        play(int(a), True)
    while actions is None and not states[-1].terminal and len(moves) < task.max_episode_steps:
        play(random_legal_action(states[-1], rng), False)
    if actions is not None and not states[-1].terminal:
        raise ValueError(f"{task.name}: the demonstration of seed {seed} stops before the episode ends")
    meta: dict[str, object] = {"seed": int(seed), "difficulty": task.check_difficulty(difficulty),
                               "demonstration": True, "detour": len([t for t in traces if not t.full_search])}
    score = task.score(states[-1])
    if score is not None:
        meta["score"] = float(score)
    return SelfPlayEpisode.build(f"{task.name}-{seed}", states, moves, traces, task.outcome(states[-1]),
                                 task.num_players, meta)


def demonstration_episodes(task: Task, seeds: Iterable[int],
                           difficulty: int | Sequence[int] | None = None) -> list[SelfPlayEpisode]:
    """The solver's episodes of ``seeds`` at ``difficulty`` (one level for all, or one per seed); instances
    without a demonstration are left out."""
    seeds = list(seeds)
    levels = difficulty if isinstance(difficulty, Sequence) else [difficulty] * len(seeds)
    out = []
    for seed, level in zip(seeds, levels, strict=True):
        episode = demonstration_episode(task, int(seed), None if level is None else int(level))
        if episode is not None:
            out.append(episode)
    return out


class DemonstrationSource:
    """The supervised phase's ``SelfPlaySource``: a round is the solver's episodes of the seeds, at levels drawn
    uniformly from ``min_level`` to the task's top level (its sizes) with the caller's ``rng``; a share
    ``detour_fraction`` of them starts with a random detour up to twice as long as the plain demonstration (value
    targets of worse positions, see ``demonstration_episode``); the net is not used. A round where no instance has a
    demonstration raises a one-line ``ValueError`` (the family has no solver: the supervised phase cannot run).
    A ``ranked_threshold`` plays the demonstrations as ``RankedRewardTask(task, threshold)``: an episode wins iff its
    score beats the threshold (the trainer passes ``NEAR_OPTIMAL_SCORE`` for ranked-reward runs)."""

    def __init__(self, task: Task, min_level: int = 1, detour_fraction: float = 0.0) -> None:
        self.task = task
        self.min_level = min(max(1, min_level), task.difficulty_levels)
        self.detour_fraction = detour_fraction

    def play(self, net: torch.nn.Module, generation: int, seeds: Sequence[int], levels: Sequence[int] | None,
             ranked_threshold: float | None, rng: np.random.Generator,
             on_progress: Callable[[int, int], None] | None = None) -> SelfPlayRound:
        start = time.perf_counter()
        task = self.task if ranked_threshold is None else RankedRewardTask(self.task, ranked_threshold)
        drawn = rng.integers(self.min_level, self.task.difficulty_levels + 1, len(seeds)).tolist()
        detours = rng.random(len(seeds)) < self.detour_fraction
        episodes = []
        for k, (seed, level) in enumerate(zip(seeds, drawn, strict=True)):
            episode = demonstration_episode(task, int(seed), int(level))
            if episode is not None and detours[k] and len(episode.actions) > 0:
                length = int(rng.integers(1, 2 * len(episode.actions) + 1))
                episode = demonstration_episode(task, int(seed), int(level), length,
                                                np.random.default_rng([int(seed), length]))
            if episode is not None:
                episodes.append(episode)
            if on_progress is not None:
                on_progress(k + 1, len(seeds))
        if not episodes:
            raise ValueError(f"{self.task.name}: no demonstrations (the family has no solver, or none of "
                             f"{len(seeds)} instances has a solution): set supervised.iterations to 0")
        table = EpisodeTable.from_episodes(episodes, self.task.vocab_size)
        return SelfPlayRound(table, time.perf_counter() - start, 0, 0.0,
                             {"demonstrations": len(episodes), "demonstration_levels": float(np.mean(drawn))})

    def process_roles(self) -> dict[int, str]:
        """None: the solver runs in this process."""
        return {}

    def close(self) -> None:
        """Nothing to release."""


def demonstration_metrics(played: SelfPlayRound) -> dict[str, object]:
    """The metrics of a supervised round: demonstrations, their positions, lengths and mean level (no self-play
    success rate: a solver's episodes succeed by construction)."""
    t = played.table
    return {"episodes": len(t), "positions": int(t.num_moves), "avg_episode_length": float(np.mean(t.episode_lengths)),
            "demonstration_seconds": played.seconds, **played.extra}
