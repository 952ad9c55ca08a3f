"""A run's recorded episodes (``RUN/episodes/iter_NNNNNN.parquet``), replayed with the run's task from their seeds
and re-verified: what the exports are made of.

Replaying (``EpisodeTable.to_episode``) rebuilds every state from the seed and the actions and checks each against
the stored observation, so an exported chain is the task's own rendering of states the search really visited; the
verdict is the task's verifier on the replayed final state (``task.outcome``), not the stored outcome. A mix's
episodes come out as their family's: the member task, its states and its family name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from zeroforge.report_episodes import episode_files, read_episode_file
from zeroforge.runstate import EPISODES_DIR, METRICS_FILE
from zeroforge.search.trace import MCTSTrace
from zeroforge.tasks.base import State, Task
from zeroforge.tasks.mix import MixedState, MixedTask

__all__ = ["RunEpisode", "count_run_episodes", "read_run_episodes"]


@dataclass(frozen=True, eq=False)
class RunEpisode:
    """One recorded episode, replayed.

    ``states[t + 1]`` follows ``actions[t]`` from ``states[0]``; ``traces[t]`` is the search that chose
    ``actions[t]`` (the searching player's view). ``phase`` is the iteration's (``selfplay``, or ``supervised``:
    a solver's demonstration); ``verified`` is the task's verifier on the replayed final state (``success``).
    ``task`` is the family's own task (a mix's member), ``family`` its name."""

    iteration: int
    index: int
    phase: str
    family: str
    difficulty: int | None
    seed: int
    task: Task
    states: tuple[State, ...]
    actions: tuple[int, ...]
    traces: tuple[MCTSTrace, ...]
    outcome: str
    verified: bool


def _phases(run_dir: Path) -> dict[int, str]:
    """``iteration -> phase`` from ``metrics.jsonl`` (the last line of an iteration wins; unreadable lines are
    skipped: an episode file without its metrics line is from a self-play iteration cut short)."""
    from zeroforge.runstate import scan_metrics

    out: dict[int, str] = {}
    path = run_dir / METRICS_FILE
    if path.is_file():
        for line in scan_metrics(path):
            if line.record is not None and isinstance(line.record.get("iteration"), int):
                out[line.record["iteration"]] = str(line.record.get("phase", "selfplay"))
    return out


def count_run_episodes(run_dir: Path) -> int:
    """How many episodes the run's episode files hold, from their Parquet footers (files that cannot be read
    count 0: ``read_run_episodes`` says why when it reaches them)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    total = 0
    for _, path in episode_files(run_dir / EPISODES_DIR):
        try:
            total += pq.ParquetFile(path).metadata.num_rows
        except (OSError, pa.ArrowException):
            continue
    return total


def read_run_episodes(run_dir: Path, task: Task, warn: Callable[[str], None] | None = None) -> Iterator[RunEpisode]:
    """Every episode of the run's episode files, oldest iteration first, replayed with ``task`` (the run's).
    A file or episode that cannot be read or replayed is skipped with one ``warn`` line naming it (nothing is
    skipped silently); ``FileNotFoundError`` when the run saved no episode files."""
    say = warn or (lambda text: None)
    files = sorted(episode_files(run_dir / EPISODES_DIR))
    if not files:
        raise FileNotFoundError(f"{run_dir}: no episode files ({EPISODES_DIR}/iter_NNNNNN.parquet); train with "
                                f"selfplay.save_episodes: true")
    phases = _phases(run_dir)
    for iteration, path in files:
        try:
            table = read_episode_file(path)
        except ValueError as exc:
            say(f"skipped {path.parent.name}/{path.name}: {exc}")
            continue
        for i in range(len(table)):
            try:
                episode = table.to_episode(i, task)
            except (ValueError, IndexError) as exc:
                say(f"skipped episode {i} of {path.parent.name}/{path.name}: {' '.join(str(exc).split())[:200]}")
                continue
            states: tuple[State, ...] = episode.states
            member: Task = task
            family = task.name
            if isinstance(task, MixedTask):
                family = task.family_of(states[0])
                member = task.members[family]
                states = tuple(s.member if isinstance(s, MixedState) else s for s in states)
            level = int(table.difficulties[i])
            yield RunEpisode(
                iteration=iteration, index=i, phase=phases.get(iteration, "selfplay"), family=family,
                difficulty=level if level > 0 else None, seed=int(table.seeds[i]), task=member, states=states,
                actions=tuple(a.action_id for a in episode.actions), traces=episode.mcts_traces,
                outcome=episode.outcome, verified=states[-1].terminal and member.outcome(states[-1]) == "success")

