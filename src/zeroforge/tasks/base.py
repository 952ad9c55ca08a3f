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
- ``step_count``: number of actions taken from the initial state.

Action numbering follows OpenSpiel where the game exists there, so peers can referee.
"""

from __future__ import annotations

import hashlib
import json
import math
import operator
import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:
    from zeroforge.tasks.kernels import ArrayKernels

__all__ = [
    "BUDGET_BUCKETS",
    "MAX_JSON_CHARS",
    "SOLO_FAILURE",
    "SOLO_NO_REWARD",
    "SOLO_SUCCESS",
    "State",
    "Task",
    "available_tasks",
    "budget_bucket",
    "check_budget_factor",
    "check_int_param",
    "digit_tokens",
    "fraction_tokens",
    "frozen_array",
    "make_task",
    "path_score",
    "random_legal_action",
    "read_json_instance",
    "register_task",
    "short_repr",
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


#: how many buckets the remaining step budget is shown in (maze, blocksworld, logic observations)
BUDGET_BUCKETS = 8


def budget_bucket(remaining: int, budget: int) -> int:
    """The bucket ``0..BUDGET_BUCKETS - 1`` of ``remaining`` steps out of ``budget`` (the full budget is the
    top bucket, the last step the bottom one)."""
    return min(BUDGET_BUCKETS - 1, BUDGET_BUCKETS * remaining // max(budget, 1))


def digit_tokens(value: int, count: int) -> tuple[int, ...]:
    """The ``count`` decimal digits of ``value >= 0`` as tokens ``0..9``, most significant first (zero-padded;
    ``value < 10 ** count``)."""
    return tuple(int(c) for c in str(value).zfill(count))


@lru_cache(maxsize=65536)
def fraction_tokens(numerator: int, denominator: int, signs: tuple[int, int, int, int]) -> tuple[int, ...]:
    """The 7 tokens ``[sign, n2, n1, n0, d2, d1, d0]`` of ``numerator / denominator`` in lowest terms (three
    digits each); ``signs = (POS, NEG, POS_CLIPPED, NEG_CLIPPED)`` are the task's sign tokens. When
    ``|numerator|`` or the denominator exceeds 999 both are clipped to 999 and the sign is a clipped one."""
    pos, neg, pos_clipped, neg_clipped = signs
    mag = abs(numerator)
    clipped = mag > 999 or denominator > 999
    sign = (neg_clipped if clipped else neg) if numerator < 0 else (pos_clipped if clipped else pos)
    return (sign, *digit_tokens(min(mag, 999), 3), *digit_tokens(min(denominator, 999), 3))


def path_score(solved: bool, optimal_steps: int, steps: int) -> float:
    """The score of a finished path-like episode: ``optimal_steps / steps`` (``1.0`` on a shortest solution)
    if it was solved, else ``0.0``."""
    return min(1.0, optimal_steps / max(steps, 1)) if solved else 0.0


def short_repr(x: Any, limit: int = 60) -> str:
    """``repr(x)`` cut to at most ``limit`` characters (ending in ``...`` when cut): error messages quote values
    read from an instance, which may be large (a JSON instance is at most :data:`MAX_JSON_CHARS` long)."""
    text = repr(x)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_int_param(task: str, name: str, x: Any, lo: int, hi: int) -> int:
    """A task parameter that must be an integer (Python or numpy, not bool) in ``lo..hi``; else a one-line
    ``ValueError`` starting with ``task``."""
    if isinstance(x, bool) or not isinstance(x, int | np.integer) or not lo <= x <= hi:
        raise ValueError(f"{task}: {name} must be an integer in {lo}..{hi}, got {x!r}")
    return int(x)


def check_budget_factor(task: str, x: Any) -> float:
    """``step_budget_factor``: a finite number ``>= 1`` (Python or numpy, not bool); else a one-line
    ``ValueError`` starting with ``task``."""
    numeric = isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool)
    if not numeric or not math.isfinite(x) or x < 1:
        raise ValueError(f"{task}: step_budget_factor must be a finite number >= 1, got {x!r}")
    return float(x)


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


#: the longest JSON instance text ``read_json_instance`` reads (characters); every task's largest valid instance
#: is a few kilobytes, so a longer text is refused before it is parsed (time and memory stay bounded)
MAX_JSON_CHARS = 1_000_000

#: characters a text instance never holds: C0 controls but tab / newline / carriage return, and DEL
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class _DuplicateKeyError(Exception):
    """A JSON object with a key given twice (raised from ``json.loads``'s ``object_pairs_hook``)."""

    def __init__(self, key: str) -> None:
        self.key = key


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKeyError(key)
        out[key] = value
    return out


def _where(text: str, index: int) -> str:
    """``"line L column C"`` of ``text[index]`` (both from 1)."""
    line = text.count("\n", 0, index) + 1
    column = index - text.rfind("\n", 0, index)
    return f"line {line} column {column}"


def read_json_instance(task_name: str, text: str, keys: tuple[str, ...],
                       optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """Parse a JSON instance that must be an object with all ``keys`` and perhaps some ``optional`` ones;
    any other input raises a one-line ``ValueError`` starting with ``task_name``: an empty text, one of more
    than :data:`MAX_JSON_CHARS` characters, a control character (NUL, escape, ...: a binary file), malformed
    or too deeply nested JSON, an integer of too many digits, a key given twice in one object (JSON would keep
    the last one silently), another type than an object, missing or unknown keys. The values are the caller's
    to check."""
    if not isinstance(text, str):
        raise ValueError(f"{task_name}: an instance must be a string, got {type(text).__name__}")
    if len(text) > MAX_JSON_CHARS:
        raise ValueError(f"{task_name}: instance has {len(text)} characters, at most {MAX_JSON_CHARS}")
    if not text.strip():
        raise ValueError(f"{task_name}: malformed JSON instance: the text is empty")
    bad = _CONTROL_CHARS.search(text)
    if bad:
        raise ValueError(f"{task_name}: malformed JSON instance: control character {bad.group()!r} at "
                         f"{_where(text, bad.start())} (a binary file?)")
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{task_name}: malformed JSON instance: {exc.msg} at line {exc.lineno} column "
                         f"{exc.colno}") from None
    except _DuplicateKeyError as exc:
        raise ValueError(f"{task_name}: instance has the key {exc.key[:40]!r} twice in one object") from None
    except RecursionError:
        raise ValueError(f"{task_name}: malformed JSON instance: nested too deeply") from None
    except ValueError:  # int(): more digits than sys.get_int_max_str_digits()
        raise ValueError(f"{task_name}: malformed JSON instance: an integer with too many digits") from None
    if not isinstance(data, dict):
        raise ValueError(f"{task_name}: instance must be a JSON object, got {type(data).__name__}")
    for key in keys:
        if key not in data:
            raise ValueError(f"{task_name}: instance is missing the key {key!r}")
    extra = sorted(set(data) - set(keys) - set(optional))
    if extra:
        shown = ", ".join(repr(k[:40]) for k in extra[:5]) + (", ..." if len(extra) > 5 else "")
        raise ValueError(f"{task_name}: instance has unknown keys [{shown}]")
    return data


_REGISTRY: dict[str, Callable[..., Task]] = {}


def register_task(name: str) -> Callable[[Callable[..., Task]], Callable[..., Task]]:
    """Class decorator: make ``make_task(name, **params)`` build this task."""

    def deco(factory: Callable[..., Task]) -> Callable[..., Task]:
        if name in _REGISTRY:
            raise ValueError(f"task {name!r} is already registered")
        _REGISTRY[name] = factory
        return factory

    return deco


def available_tasks() -> list[str]:
    """Names accepted by ``make_task``, sorted."""
    return sorted(_REGISTRY)


def make_task(name: str, **params: Any) -> Task:
    """Build a registered task by name; unknown names get the closest valid one in the error."""
    import difflib

    from zeroforge import tasks as _tasks  # noqa: F401  (registers the built-in tasks)

    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown task {name!r}{hint} (available: {', '.join(available_tasks())})")
    import inspect

    factory = _REGISTRY[name]
    valid = [p for p in inspect.signature(factory).parameters if p != "self"]
    for key in params:
        if key not in valid:
            close = difflib.get_close_matches(key, valid, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"unknown parameter {key!r} for task {name!r}{hint} (valid: {', '.join(valid) or 'none'})")
    try:
        return factory(**params)
    except TypeError as exc:
        raise ValueError(f"bad parameters for task {name!r}: {exc}") from None
