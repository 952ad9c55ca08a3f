"""``SelfPlayEpisodeGenerator``: many episodes in lockstep, one batched search per move for all of them.

Up to ``parallel_batch_size`` episodes are in flight; every move of every in-flight episode is chosen by
one call of ``MCTS.search`` over all their current states, so each simulation step makes a single
evaluator call for the whole batch. Finished episodes are replaced by new ones at once.

Playout-cap randomisation (KataGo, Wu 2019; ``config.playout_cap_fraction < 1``): each move is a full
search with probability ``playout_cap_fraction`` (``num_simulations``, root noise, the move's temperature)
and otherwise a fast search (``playout_cap_simulations``, no noise, temperature 0, ``full_search=False`` in
its trace, so it trains the value but not the policy). The full and the fast roots of a lockstep step are
searched by two calls, the full ones first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from zeroforge.search.evaluator import Evaluator
from zeroforge.search.mcts import make_mcts
from zeroforge.search.params import MCTSConfig
from zeroforge.search.trace import MCTSTrace
from zeroforge.selfplay.episode import Action, SelfPlayEpisode
from zeroforge.tasks.base import State, Task

__all__ = ["SelfPlayEpisodeGenerator"]


@dataclass
class _Running:
    seed: int
    difficulty: int
    states: list[State]
    actions: list[Action] = field(default_factory=list)
    traces: list[MCTSTrace] = field(default_factory=list)


class SelfPlayEpisodeGenerator:
    """Plays episodes of ``task`` with the search of ``config`` (PUCT or Gumbel) guided by ``evaluator``.

    Moves before ``config.temperature_threshold`` are sampled from visit counts at ``config.temperature``;
    later moves take the most visited action (a Gumbel search plays its own choice). Root noise is added
    at every full search when ``add_noise`` (self-play). With ``config.playout_cap_fraction < 1`` and
    ``playout_cap`` only that share of moves gets the full search (see the module docstring); ``playout_cap``
    defaults to ``add_noise``, so that an evaluation without noise searches every move in full.
    An episode longer than ``max_moves`` (default ``task.max_episode_steps``) ends as ``timeout``.
    """

    def __init__(self, task: Task, evaluator: Evaluator, config: MCTSConfig, parallel_batch_size: int = 64,
                 max_moves: int | None = None, add_noise: bool = True, playout_cap: bool | None = None) -> None:
        if parallel_batch_size < 1:
            raise ValueError(f"parallel_batch_size must be >= 1, got {parallel_batch_size}")
        self.task = task
        self.config = config
        self.mcts = make_mcts(task, evaluator, config)
        self.parallel_batch_size = parallel_batch_size
        self.max_moves = task.max_episode_steps if max_moves is None else max_moves
        self.add_noise = add_noise
        self.playout_cap = add_noise if playout_cap is None else playout_cap

    def generate(self, seeds: Sequence[int], rng: np.random.Generator,
                 on_episode: Callable[[SelfPlayEpisode], None] | None = None,
                 difficulties: Sequence[int] | None = None) -> list[SelfPlayEpisode]:
        """One episode per seed (``task.initial_state(seed, difficulty)``; ``difficulties`` default to the
        task's top level), returned in the order of ``seeds``."""
        if difficulties is None:
            levels = [self.task.difficulty_levels] * len(seeds)
        else:
            if len(difficulties) != len(seeds):
                raise ValueError(f"got {len(difficulties)} difficulties for {len(seeds)} seeds")
            levels = [self.task.check_difficulty(int(d)) for d in difficulties]
        pending = list(enumerate(seeds))[::-1]
        running: dict[int, _Running] = {}
        done: dict[int, SelfPlayEpisode] = {}

        def refill() -> None:
            while pending and len(running) < self.parallel_batch_size:
                i, seed = pending.pop()
                running[i] = _Running(int(seed), levels[i], [self.task.initial_state(int(seed), levels[i])])

        refill()
        while running:
            order = list(running)
            roots = [running[i].states[-1] for i in order]
            temps = [
                self.config.temperature if len(running[i].actions) < self.config.temperature_threshold else 0.0
                for i in order
            ]
            traces = self._search(roots, temps, rng)
            for i, trace in zip(order, traces, strict=True):
                ep = running[i]
                state = ep.states[-1]
                action = trace.selected_action
                try:
                    nxt = self.task.step(state, action)
                    text = self.task.action_to_text(state, action)
                except Exception as exc:  # a task failing on the played move ends only that episode
                    done[i] = self._finish(ep, "error", {"error": f"{type(exc).__name__}: {exc}"})
                    del running[i]
                    if on_episode is not None:
                        on_episode(done[i])
                    continue
                ep.actions.append(Action(action, text, state.current_player))
                ep.traces.append(trace)
                ep.states.append(nxt)
                if nxt.terminal or len(ep.actions) >= self.max_moves:
                    done[i] = self._finish(ep, self.task.outcome(nxt), {})
                    del running[i]
                    if on_episode is not None:
                        on_episode(done[i])
            refill()
        return [done[i] for i in range(len(seeds))]

    def _search(self, roots: list[State], temps: list[float], rng: np.random.Generator) -> list[MCTSTrace]:
        """One move for every root: all full searches, or with playout-cap randomisation a coin per root
        (drawn from ``rng`` before the searches) between the full and the fast search."""
        if not self.playout_cap or self.config.playout_cap_fraction >= 1.0:
            return self.mcts.search(roots, rng, add_noise=self.add_noise, temperatures=temps)
        full = rng.random(len(roots)) < self.config.playout_cap_fraction
        wide, fast = np.flatnonzero(full).tolist(), np.flatnonzero(~full).tolist()
        traces: dict[int, MCTSTrace] = {}
        if wide:
            found = self.mcts.search([roots[k] for k in wide], rng, add_noise=self.add_noise,
                                     temperatures=[temps[k] for k in wide])
            traces.update(zip(wide, found, strict=True))
        if fast:
            found = self.mcts.search([roots[k] for k in fast], rng, add_noise=False, temperatures=0.0,
                                     num_simulations=self.config.playout_cap_simulations)
            traces.update((k, replace(trace, full_search=False)) for k, trace in zip(fast, found, strict=True))
        return [traces[k] for k in range(len(roots))]

    def _finish(self, ep: _Running, outcome: str, extra: dict[str, object]) -> SelfPlayEpisode:
        meta: dict[str, object] = {"seed": ep.seed, "difficulty": ep.difficulty, **extra}
        score = self.task.score(ep.states[-1])
        if score is not None:
            meta["score"] = float(score)  # the graded quality, kept in the episode table (curricula, ranked reward)
        return SelfPlayEpisode.build(
            task_id=f"{self.task.name}-{ep.seed}",
            states=ep.states,
            actions=ep.actions,
            traces=ep.traces,
            outcome=outcome,
            num_players=self.task.num_players,
            metadata=meta,
        )
