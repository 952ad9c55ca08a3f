"""The episode viewer's data (``zeroforge report``): a run's newest episodes, read from its Parquet episode files
(``RUN/episodes/iter_NNNNNN.parquet``) and replayed with the run's task into what a person reads at each step —
the state as the task draws it, who moves, the move played, the search's root value and its top moves.

The newest iteration's file comes first; at most ``max_episodes`` episodes in all, each file's in their order. Only
the row groups needed are read, so a run with large episode files costs little. A file that does not read (not
Parquet, truncated, not an episode table) and an episode that does not replay (no seed, a replay that diverges)
are skipped, each with a one-line warning in ``EpisodeViews.warnings``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zeroforge.data.table import EpisodeTable
from zeroforge.search.trace import MCTSTrace
from zeroforge.tasks.base import State, Task

__all__ = ["MAX_MOVES", "EpisodeView", "EpisodeViews", "MoveStat", "StepView", "episode_files", "read_episode_file",
           "read_episodes", "views_json"]

#: the top moves a step shows (by visit count)
MAX_MOVES = 8
_FILE = re.compile(r"iter_(\d+)\.parquet")


@dataclass(frozen=True)
class MoveStat:
    """One legal action of a searched position: its id and ``text`` (``Task.action_to_text``), the root's
    ``visits`` to it, the evaluator's ``prior`` probability and ``q`` (mean backed-up value from the mover's
    view, in [-1, 1]; ``None`` where the search never visited it)."""

    action: int
    text: str
    visits: int
    prior: float
    q: float | None


@dataclass(frozen=True)
class StepView:
    """Position ``t`` of an episode, before its move ``t``: the state's ``text`` (``State.to_text``), the
    ``player`` to move, the move played (``action`` id, ``action_text``), the search's ``root_value`` (mover's view,
    [-1, 1]), its ``visits_total`` (root visits) and its top ``moves`` by visits (at most ``MAX_MOVES``)."""

    text: str
    player: int
    action: int
    action_text: str
    root_value: float
    visits_total: int
    moves: tuple[MoveStat, ...]


@dataclass(frozen=True)
class EpisodeView:
    """One episode: where it is from (``iteration``, ``index`` in that iteration's file), its ``seed`` and
    ``difficulty`` (``None``: none stored), ``outcome`` (``OUTCOMES``), ``returns`` per player, ``winner`` (games:
    a player, ``None`` for a draw; ``-1``: none, a single-agent task or an unfinished game), its ``steps`` (one per
    move) and the final state's text."""

    iteration: int
    index: int
    seed: int
    difficulty: int | None
    outcome: str
    returns: tuple[float, ...]
    winner: int | None
    steps: tuple[StepView, ...]
    final_text: str

    @property
    def length(self) -> int:
        """Moves played."""
        return len(self.steps)


@dataclass(frozen=True)
class EpisodeViews:
    """What the viewer shows: the ``episodes`` read, the number of episode ``files`` found (0: the run saved none)
    and one line per file or episode skipped (``warnings``)."""

    episodes: tuple[EpisodeView, ...]
    files: int
    warnings: tuple[str, ...]


def episode_files(folder: Path) -> list[tuple[int, Path]]:
    """``(iteration, path)`` of the episode files in ``folder``, newest iteration first (none if no folder)."""
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _FILE.fullmatch(p.name)) and p.is_file()]
    return sorted(found, reverse=True)


def read_episodes(folder: Path, task: Task | None, max_episodes: int) -> EpisodeViews:
    """The newest ``max_episodes`` episodes of the files in ``folder``, replayed with ``task`` (``None``: the run's
    task is unknown, so no episode can be replayed; one warning says so)."""
    files = episode_files(folder)
    if task is None:
        warn = (f"{len(files)} episode files, but the run's task is unknown (no readable config.yaml or "
                f"checkpoint), so they cannot be replayed",) if files else ()
        return EpisodeViews((), len(files), warn)
    views: list[EpisodeView] = []
    warnings: list[str] = []
    for iteration, path in files:
        need = max_episodes - len(views)
        if need <= 0:
            break
        try:
            table = read_episode_file(path, need)
        except ValueError as exc:
            warnings.append(f"skipped {path.parent.name}/{path.name}: {exc}")
            continue
        for i in range(len(table)):
            try:
                views.append(_episode_view(table, i, task, iteration))
            except (ValueError, IndexError) as exc:
                warnings.append(f"skipped episode {i} of {path.parent.name}/{path.name}: {_first_line(exc)}")
    return EpisodeViews(tuple(views), len(files), tuple(warnings))


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:200]


def read_episode_file(path: Path, limit: int | None = None) -> EpisodeTable:
    """The first ``limit`` episodes of an episode file (all of them without a limit; only the row groups they are
    in are read); a one-line ``ValueError`` for a file that is not a readable zeroforge episode file or holds none."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from zeroforge.data.parquet import COLUMNS, from_arrow

    try:
        pf = pq.ParquetFile(path)
        columns = [name for name in COLUMNS if name in pf.schema_arrow.names]
        groups: list[pa.Table] = []
        rows = 0
        for g in range(pf.num_row_groups):
            if limit is not None and rows >= limit:
                break
            groups.append(pf.read_row_group(g, columns=columns))
            rows += groups[-1].num_rows
        if not rows:
            raise ValueError("no episodes in the file")
        table = pa.concat_tables(groups)
        return from_arrow(table if limit is None else table.slice(0, limit))
    except (ValueError, OSError, pa.ArrowException) as exc:
        raise ValueError(_first_line(exc)) from None


def _episode_view(table: EpisodeTable, i: int, task: Task, iteration: int) -> EpisodeView:
    episode = table.to_episode(i, task)
    meta = episode.metadata
    steps = tuple(_step_view(task, state, action.action_id, trace)
                  for state, action, trace in zip(episode.states, episode.actions, episode.mcts_traces, strict=False))
    winner = meta.get("winner", -1) if task.num_players > 1 else -1
    return EpisodeView(
        iteration=iteration, index=i, seed=int(table.seeds[i]),
        difficulty=int(table.difficulties[i]) if table.difficulties[i] > 0 else None, outcome=episode.outcome,
        returns=tuple(float(r) for r in meta["returns"]), winner=winner, steps=steps,
        final_text=episode.states[-1].to_text(),
    )


def _step_view(task: Task, state: State, action: int, trace: MCTSTrace) -> StepView:
    legal = np.flatnonzero(trace.legal_action_mask)
    # most visits first, then the higher prior, then the lower action id
    order = sorted(legal.tolist(), key=lambda a: (-int(trace.visit_counts[a]), -float(trace.prior_probs[a]), a))
    moves = tuple(
        MoveStat(action=a, text=task.action_to_text(state, a), visits=int(trace.visit_counts[a]),
                 prior=float(trace.prior_probs[a]),
                 q=float(trace.q_values[a]) if trace.visit_counts[a] > 0 else None)
        for a in order[:MAX_MOVES]
    )
    return StepView(text=state.to_text(), player=int(state.current_player), action=int(action),
                    action_text=task.action_to_text(state, action), root_value=float(trace.root_value),
                    visits_total=int(trace.visit_counts.sum()), moves=moves)


def views_json(views: EpisodeViews, num_players: int) -> dict[str, Any]:
    """The viewer's JSON: ``{"num_players", "episodes": [{iteration, index, seed, difficulty, outcome, returns,
    winner, length, final_text, steps: [{text, player, action, value, visits, moves: [[text, visits, prior, q],
    ...]}]}]}``; floats to 3 decimals, ``q`` ``null`` where unvisited, the chosen move flagged by its text."""

    def r3(x: float | None) -> float | None:
        return None if x is None else round(x, 3)

    return {
        "num_players": num_players,
        "episodes": [
            {"iteration": ep.iteration, "index": ep.index, "seed": ep.seed, "difficulty": ep.difficulty,
             "outcome": ep.outcome, "returns": [r3(r) for r in ep.returns], "winner": ep.winner,
             "length": ep.length, "final_text": ep.final_text,
             "steps": [{"text": s.text, "player": s.player, "action": s.action_text, "action_id": s.action,
                        "value": r3(s.root_value), "visits": s.visits_total,
                        "moves": [[m.text, m.visits, r3(m.prior), r3(m.q), m.action] for m in s.moves]}
                       for s in ep.steps]}
            for ep in views.episodes
        ],
    }
