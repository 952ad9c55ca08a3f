"""The task contract: every task is a pure MDP over immutable states (pgx / OpenSpiel style).

A `Task` turns a seed into an initial `State` and a `(State, action)` pair into the next `State`;
it never mutates a state. Every `State` carries what search and the nets need:

- ``current_player``: index of the player to move, in ``range(task.num_players)``.
- ``legal_action_mask``: ``bool[num_actions]``; all ``False`` once ``terminal``.
- ``terminal``: the episode is over (won, lost, drawn, solved, failed or out of steps).
- ``rewards``: ``float32[num_players]``, the reward each player received on the transition *into*
  this state (zero for the initial state). Two-player games: +1 / -1 to winner / loser at the end.
- ``observation``: ``int64[seq_len]`` tokens in ``range(vocab_size)`` seen **from the perspective
  of ``current_player``** (canonical form), so a net's value is the value for the player to move.
  A *structured* task (``Task.structured``) shows instead a variable number of typed tokens
  ``int64[N, 5]`` and gives action pointers (``State.action_pointers``): :mod:`.structured`.
- ``step_count``: number of actions taken from the initial state.

Action numbering follows OpenSpiel where the game exists there, so peers can referee.

Around this contract: the registry (``make_task``) is :mod:`.registry`; observation-token helpers
:mod:`.tokens`; reading user instances :mod:`.instances`; parameter checks :mod:`.params`; the verdict, score
and step budget of path-like single-agent tasks :mod:`.path`.
"""

from __future__ import annotations

import hashlib
import operator
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:
    from zeroforge.tasks.kernels import ArrayKernels

__all__ = [
    "SOLO_FAILURE",
    "SOLO_NO_REWARD",
    "SOLO_SUCCESS",
    "State",
    "Task",
    "frozen_array",
    "random_legal_action",
    "solo_rewards",
]


def frozen_array(values: Any, dtype: Any) -> np.ndarray:
    """Return a read-only numpy array (states are immutable, so their arrays are too)."""
    arr = np.array(values, dtype=dtype)
    arr.flags.writeable = False
    return arr


#: rewards ``float32[1]`` of single-agent tasks: nothing yet, success (+1), failure or timeout (-1)
SOLO_NO_REWARD = frozen_array([0.0], np.float32)
SOLO_SUCCESS = frozen_array([1.0], np.float32)
SOLO_FAILURE = frozen_array([-1.0], np.float32)


def solo_rewards(terminal: bool, success: bool) -> np.ndarray:
    """The ``float32[1]`` rewards of a single-agent transition: ``0`` while running, ``+1`` on a terminal
    success, ``-1`` on a terminal failure (or timeout)."""
    if not terminal:
        return SOLO_NO_REWARD
    return SOLO_SUCCESS if success else SOLO_FAILURE


def random_legal_action(state: State, rng: np.random.Generator) -> int:
    """A uniformly random legal action of a non-terminal ``state``."""
    legal = np.flatnonzero(state.legal_action_mask)
    return int(legal[rng.integers(len(legal))])


@dataclass(frozen=True, eq=False)
class State:
    """Immutable state of a task. Tasks subclass it to add their own fields (a board, an instance),
    always as ``@dataclass(frozen=True, eq=False)`` (arrays cannot be hashed field by field).

    Equality and hashing go through ``key()``, a hashable that identifies the state within its task.
    """

    current_player: int
    legal_action_mask: np.ndarray
    terminal: bool
    rewards: np.ndarray
    observation: np.ndarray
    step_count: int

    def key(self) -> Any:
        """A hashable identifying this state within its task (subclasses refine it)."""
        return (
            self.current_player,
            self.terminal,
            self.step_count,
            self.observation.tobytes(),
        )

    @property
    def state_id(self) -> str:
        """A stable short hex id of ``key()`` (used as ``MCTSTrace.root_state_id`` and cache key)."""
        return hashlib.blake2b(repr(self.key()).encode(), digest_size=8).hexdigest()

    def to_text(self) -> str:
        """A human-readable rendering (for people and reasoning chains)."""
        return repr(self)

    def action_pointers(self) -> np.ndarray | None:
        """Structured tasks: ``int64[A, 3]`` ``(kind, src, dst)`` per action (:mod:`zeroforge.tasks.structured`);
        ``None`` for flat observations."""
        return None

    def __setstate__(self, state: dict[str, Any]) -> None:
        # pickle / deepcopy hand back writeable arrays; keep the copies read-only like the originals.
        for value in state.values():
            if isinstance(value, np.ndarray):
                value.flags.writeable = False
        self.__dict__.update(state)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, State) and type(self) is type(other) and self.key() == other.key()

    def __hash__(self) -> int:
        return hash(self.key())


class Task(ABC):
    """A pure MDP. Subclasses set the class attributes and implement ``_initial_state`` / ``_step``.

    ``step`` validates its input (terminal state, out-of-range or illegal action) and raises a
    one-line ``ValueError`` naming the problem; ``_step`` may then assume a legal action.
    """

    name: ClassVar[str] = "task"
    num_actions: int
    num_players: int
    seq_len: int
    vocab_size: int
    max_episode_steps: int
    #: small enough for the exact ``NegamaxSolver`` (enables the ``perfect`` anchor)
    solvable: ClassVar[bool] = False
    #: number of difficulty levels ``1..difficulty_levels`` that ``initial_state`` can draw from; every
    #: level has the same shapes (``seq_len``, ``num_actions``): easier levels draw smaller or simpler
    #: instances inside them. The top level is the task as configured (the default).
    difficulty_levels: int = 1
    #: observations are typed tokens ``int64[N, 5]`` of any length ``N`` with action pointers
    #: (:mod:`zeroforge.tasks.structured`): a size-free net serves every instance within ``bounds``
    structured: ClassVar[bool] = False
    #: a flat task's padding token id in its observations (``None``: every position is content); the sequence
    #: adapter (``tasks.sequence.SequenceTask``) drops the padding
    pad_token: ClassVar[int | None] = None
    #: the largest instance ``parse`` accepts, per dimension (``{"width": 31, "height": 31}``); empty: only the
    #: configured size
    bounds: ClassVar[dict[str, int]] = {}

    def initial_state(self, seed: int = 0, difficulty: int | None = None) -> State:
        """The first state of the instance drawn with ``seed`` at ``difficulty`` (``1..difficulty_levels``,
        default the top level); the same ``(seed, difficulty)`` always gives the same instance."""
        return self._initial_state(int(seed), self.check_difficulty(difficulty))

    def check_difficulty(self, difficulty: int | None) -> int:
        """``difficulty`` validated against ``1..difficulty_levels`` (``None`` = the top level)."""
        if difficulty is None:
            return self.difficulty_levels
        if isinstance(difficulty, bool) or not isinstance(difficulty, int | np.integer):
            raise ValueError(f"{self.name}: difficulty must be an integer, got {difficulty!r}")
        if not 1 <= difficulty <= self.difficulty_levels:
            raise ValueError(
                f"{self.name}: difficulty {difficulty} is out of range 1..{self.difficulty_levels}"
            )
        return int(difficulty)

    def step(self, state: State, action: int) -> State:
        """The state after ``current_player`` plays ``action``; ``state`` is left untouched."""
        if state.terminal:
            raise ValueError(f"{self.name}: cannot step from a terminal state")
        try:
            a = operator.index(action)  # int, numpy integer, 0-d int array; not 3.7 or "3"
        except TypeError:
            raise ValueError(f"{self.name}: action must be an integer, got {action!r}") from None
        if not 0 <= a < self.num_actions:
            raise ValueError(f"{self.name}: action {a} is out of range 0..{self.num_actions - 1}")
        if not state.legal_action_mask[a]:
            legal = np.flatnonzero(state.legal_action_mask).tolist()
            raise ValueError(f"{self.name}: action {a} is illegal here; legal actions are {legal}")
        return self._step(state, a)

    def symmetries(self) -> tuple[np.ndarray, np.ndarray]:
        """Symmetries of the task as index permutations ``(obs_perms int64[K, L], action_perms int64[K, A])``.

        Symmetry ``k`` maps an observation ``o`` and a policy ``p`` to ``o[obs_perms[k]]`` and
        ``p[action_perms[k]]``; the value is unchanged. Row 0 is the identity; the default has only it.
        """
        return (np.arange(self.seq_len, dtype=np.int64)[None], np.arange(self.num_actions, dtype=np.int64)[None])

    def array_kernels(self) -> ArrayKernels | None:
        """The task's compiled state arithmetic (:mod:`zeroforge.tasks.kernels`) for the compiled search, or
        ``None`` (the default): then search steps Python ``State`` objects."""
        return None

    def outcome(self, state: State) -> str:
        """The verdict on an episode that ended in ``state``: ``success`` or ``failure``.

        Default: a single-agent episode succeeds when its last reward is positive; a game succeeds when
        it ended by its rules (who won is in the rewards). Tasks with a verifier override this.
        A non-terminal state means the episode ran out of steps: ``timeout``.
        """
        if not state.terminal:
            return "timeout"
        if self.num_players == 1:
            return "success" if float(state.rewards[0]) > 0 else "failure"
        return "success"

    def score(self, state: State) -> float | None:
        """The quality of a finished episode in ``[0, 1]``, ``1.0`` iff its solution is optimal (the
        verifier's optimum: DP, BFS, brute force); ``None`` for tasks without a graded quality or for a
        state that is not terminal. Ranked reward and the optimality gap read it."""
        return None

    def heldout_pass_rate(self, state: State) -> float | None:
        """The share of the instance's held-out test cases (never shown to the agent) that the solution of a
        finished episode passes: generalisation, not memorisation (program synthesis). ``None`` for tasks
        without held-out cases or a state that is not terminal."""
        return None

    def answer(self, state: State) -> Any:
        """The answer a finished episode gives (item indices, a tour, an expression), JSON-serialisable;
        ``None`` where the family has no answer beyond its path or the episode is not finished."""
        return None

    def demonstration(self, state: State) -> list[int] | None:
        """An optimal action sequence from ``state`` to the end of its episode, computed by the family's solver
        (BFS, DP, A*, exhaustive search), the supervised phase's targets; ``None`` where the family has no
        solver or the instance has no solution."""
        return None

    def parse(self, text: str) -> State:
        """The initial state of an instance written as text (the format of the task's docs)."""
        raise ValueError(f"{self.name}: this task does not read instances from text")

    def instance_text(self, state: State) -> str:
        """The instance ``state`` belongs to, in the text format ``parse`` reads (so that
        ``parse(instance_text(initial_state(s))) == initial_state(s)``)."""
        raise ValueError(f"{self.name}: this task does not read instances from text")

    def action_to_text(self, state: State, action: int) -> str:
        """How ``action`` reads to a person when played from ``state``."""
        return str(int(action))

    @abstractmethod
    def _initial_state(self, seed: int, difficulty: int) -> State: ...

    @abstractmethod
    def _step(self, state: State, action: int) -> State: ...

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
