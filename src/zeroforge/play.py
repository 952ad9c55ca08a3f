"""A person against an agent in the terminal (``zeroforge play``), any two-player task.

The person types a move as its action number or as the task writes it (``action_to_text``: ``x(1,2)`` or ``1,2``
in tic-tac-toe, ``col 3`` in Connect Four, ``pile:2, take:3;`` in Nim; case, spaces and punctuation do not
matter, and the mover's mark may be left out). ``moves`` lists the legal moves, ``quit`` (or end of input) leaves.
A move that is not legal is answered with one line saying why, and the person is asked again. The agent answers
with its search (no noise, the most visited move) and shows its top moves by visits with prior and Q.

I/O goes through two callables, so that the loop is tested with scripted lines: ``read(prompt)`` returns the
person's line or ``None`` at end of input; ``write(text)`` prints one block of text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from zeroforge.agent import Agent
from zeroforge.tasks.base import State, Task

__all__ = ["GameResult", "parse_move", "play_game", "start_position"]

#: the person's words that are not moves
QUIT_WORDS = ("quit", "exit", "q")
LIST_WORDS = ("moves", "help", "?")


@dataclass(frozen=True)
class GameResult:
    """How a game ended: ``verdict`` is ``"you win"``, ``"the agent wins"``, ``"draw"`` or ``"you left"``;
    ``moves`` every action from the initial position (the start moves included)."""

    verdict: str
    moves: tuple[int, ...]


def _norm(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


def parse_move(task: Task, state: State, text: str) -> int:
    """The legal action ``text`` names (its number, or its ``action_to_text`` with or without the mover's mark);
    ``ValueError`` with one line naming what is wrong."""
    word = text.strip()
    legal = [int(a) for a in np.flatnonzero(state.legal_action_mask)]
    if re.fullmatch(r"[+-]?\d+", word):
        action = int(word)
        if not 0 <= action < task.num_actions:
            raise ValueError(f"{word} is not an action of {task.name} (0 to {task.num_actions - 1}; 'moves' lists "
                             f"the legal ones)")
        if action not in legal:
            raise ValueError(f"{word} ({task.action_to_text(state, action)}) is not legal here "
                             f"('moves' lists the legal ones)")
        return action
    key = _norm(word)
    if not key:
        raise ValueError("type a move, 'moves' to list them or 'quit'")
    texts = {a: _norm(task.action_to_text(state, a)) for a in legal}
    exact = [a for a, t in texts.items() if t == key]
    found = exact or [a for a, t in texts.items() if t.endswith(key) and len(t) - len(key) <= 1]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise ValueError(f"{word!r} could be any of: {', '.join(task.action_to_text(state, a) for a in found)}")
    raise ValueError(f"{word!r} is not a legal move here ('moves' lists them)")


def start_position(task: Task, moves: Sequence[int]) -> State:
    """The position after ``moves`` from the initial one; ``ValueError`` naming the first illegal move."""
    state = task.initial_state(0)
    for i, action in enumerate(moves):
        if state.terminal:
            raise ValueError(f"move {i + 1} ({action}): the game is already over")
        try:
            state = task.step(state, action)
        except ValueError as exc:  # the task's own words: out of range, or illegal with the legal ones listed
            raise ValueError(f"move {i + 1}: {exc}") from None
    return state


def _legal_list(task: Task, state: State) -> str:
    return "legal moves: " + ", ".join(f"{a} = {task.action_to_text(state, int(a))}"
                                       for a in np.flatnonzero(state.legal_action_mask))


def _agent_line(agent: Agent, state: State, top: int = 3) -> tuple[int, str]:
    """The agent's move and one line on its search: the move, then its top moves by visits (prior, Q)."""
    trace = agent.search([state])[0]
    action = int(trace.selected_action)
    parts = [f"{agent.task.action_to_text(state, a)} visits {int(trace.visit_counts[a])} "
             f"prior {float(trace.prior_probs[a]):.2f} Q {float(trace.q_values[a]):+.2f}"
             for a in trace.top_actions(top)]
    return action, f"agent plays {agent.task.action_to_text(state, action)} ({action}); search: " + "; ".join(parts)


def play_game(agent: Agent, human_seat: int, read: Callable[[str], str | None], write: Callable[[str], None],
              start: Sequence[int] = ()) -> GameResult:
    """One game from the position after ``start``: the person plays seat ``human_seat`` (0 moves first)."""
    task = agent.task
    if task.num_players != 2:
        raise ValueError(f"play is for two-player games; {task.name!r} is single-agent (use 'zeroforge solve')")
    if human_seat not in (0, 1):
        raise ValueError(f"human seat must be 0 (first) or 1 (second), got {human_seat}")
    moves = [int(a) for a in start]
    state = start_position(task, moves)
    if state.terminal:
        raise ValueError("the game is already over after these moves")
    write(state.to_text())
    while not state.terminal:
        if state.current_player == human_seat:
            line = read("your move: ")
            if line is None or line.strip().lower() in QUIT_WORDS:
                write("you left the game")
                return GameResult("you left", tuple(moves))
            if line.strip().lower() in LIST_WORDS:
                write(_legal_list(task, state))
                continue
            try:
                action = parse_move(task, state, line)
            except ValueError as exc:
                write(f"not played: {exc}")
                continue
        else:
            action, text = _agent_line(agent, state)
            write(text)
        state = task.step(state, action)
        moves.append(action)
        write(state.to_text())
    rewards = np.asarray(state.rewards, np.float64)
    if rewards[human_seat] > rewards[1 - human_seat]:
        verdict = "you win"
    elif rewards[human_seat] < rewards[1 - human_seat]:
        verdict = "the agent wins"
    else:
        verdict = "draw"
    write(f"game over: {verdict} (moves: {','.join(map(str, moves))})")
    return GameResult(verdict, tuple(moves))
