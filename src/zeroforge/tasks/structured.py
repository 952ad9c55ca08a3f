"""Size-free observations: typed tokens and action pointers (DESIGN §3, issue 13).

A *structured* task (``Task.structured = True``) shows each state as a variable number of typed tokens, so that
one net (``zeroforge.nets.pointer.PointerNet``) serves every instance size:

- ``State.observation`` is ``int64[N, TOKEN_FIELDS]``; ``N`` varies with the instance (a 9 x 9 and a 15 x 15 maze,
  10 or 30 items). Each row is one token ``(type, a, b, row, col)``:

  * ``type`` in ``1 .. NUM_TOKEN_TYPES - 1``: what the token is (a free square, the agent, an item, a city, a
    rule ...). ``0`` is padding and never produced by a task. Every family owns a disjoint range of types
    (``TOKEN_TYPE_BASE``), so one net can read several families at once (``task: mix``).
  * ``a``, ``b`` in ``0 .. FEATURE_VOCAB - 1``: two small integer features (a weight, a value, a digit, a symbol
    id, a budget bucket); ``0`` where unused.
  * ``row``, ``col`` in ``0 .. MAX_POSITION - 1``: where the token sits. Grid squares use their 2-D square
    ``(row, col)``; sequence tokens ``(0, index)``; members of a set all ``(0, 0)`` (no positional identity:
    their order carries no meaning). Nets read only *differences* of positions (a relative attention bias),
    never absolute ones, so a larger grid or a longer sequence than any trained on has nothing unseen.
  The token order is the task's and fixed per state (pointers index it); nets must not depend on it.

- ``State.action_pointers()`` is ``int64[A, 3]``: for every action ``(kind, src, dst)``. The net reads the logit of
  the action from the tokens it names: ``src`` and ``dst`` are ``0`` for the net's summary token (global actions:
  "stop", "conclude") or ``i + 1`` for token ``i``; ``kind`` in ``0 .. NUM_POINTER_KINDS - 1`` says which
  action it is (families own disjoint ranges, ``POINTER_KIND_BASE``). "Take item i" is ``(TAKE, i + 1, i + 1)``,
  "go from city c to city j" is ``(GO, c + 1, j + 1)``, a maze step is ``(STEP, agent + 1, target square + 1)``.
  Rows of illegal actions are ignored (zero by convention). ``A = task.num_actions`` is sized by the task's
  *bounds* (the largest instance it accepts), so search and the episode table keep fixed-width action arrays.

A structured task documents its bounds (``Task.bounds``: e.g. ``{"width": 31, "height": 31}``) and ``parse``
accepts any instance within them; an instance beyond gets a one-line ``ValueError`` naming the bound
(``out_of_bounds``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from zeroforge.tasks.base import State, Task

__all__ = [
    "FEATURE_VOCAB",
    "MAX_POSITION",
    "NUM_POINTER_KINDS",
    "NUM_TOKEN_TYPES",
    "POINTER_KIND_BASE",
    "TOKEN_FIELDS",
    "TOKEN_TYPE_BASE",
    "TOKEN_VOCAB",
    "check_episode",
    "check_structured",
    "instance_labels",
    "out_of_bounds",
    "pointer_rows",
    "token_rows",
]

#: fields of a token: ``(type, a, b, row, col)``
TOKEN_FIELDS = 5
TYPE, FEATURE_A, FEATURE_B, ROW, COL = range(TOKEN_FIELDS)
#: token types ``0 .. NUM_TOKEN_TYPES - 1`` (``0`` = padding)
NUM_TOKEN_TYPES = 256
#: values of the ``a`` and ``b`` features
FEATURE_VOCAB = 1024
#: positions ``row``, ``col`` in ``0 .. MAX_POSITION - 1``
MAX_POSITION = 1024
#: every field of a token is below this (the episode table stores tokens as ``uint16``)
TOKEN_VOCAB = max(NUM_TOKEN_TYPES, FEATURE_VOCAB, MAX_POSITION)
#: pointer kinds ``0 .. NUM_POINTER_KINDS - 1``
NUM_POINTER_KINDS = 1024

#: the first token type of each family (16 types each); a family's types are ``base + 0 .. base + 15``
TOKEN_TYPE_BASE: dict[str, int] = {
    "maze": 16, "knapsack": 32, "tsp": 48, "blocksworld": 64, "logic": 80, "countdown": 96, "code_function": 112,
    "sequence": 128, "sudoku": 144,
}
#: the first pointer kind of each family (64 kinds each; ``sequence``: action ``a`` of the flat task in slot ``s``
#: of ``SequenceTask`` is kind ``base + 32 * s + a``, 16 slots of up to 32 actions)
POINTER_KIND_BASE: dict[str, int] = {
    "maze": 0, "knapsack": 64, "tsp": 128, "blocksworld": 192, "logic": 256, "countdown": 320, "code_function": 384,
    "sudoku": 448, "sequence": 512,
}


def token_rows(rows: list[tuple[int, int, int, int, int]] | np.ndarray) -> np.ndarray:
    """Tokens ``(type, a, b, row, col)`` as a read-only ``int64[N, TOKEN_FIELDS]`` observation."""
    arr = np.array(rows, dtype=np.int64).reshape(-1, TOKEN_FIELDS)
    arr.flags.writeable = False
    return arr


def pointer_rows(num_actions: int, pointers: dict[int, tuple[int, int, int]]) -> np.ndarray:
    """``int64[num_actions, 3]`` action pointers from ``{action: (kind, src, dst)}`` (other rows zero), read-only."""
    out = np.zeros((num_actions, 3), np.int64)
    for action, ptr in pointers.items():
        out[action] = ptr
    out.flags.writeable = False
    return out


def instance_labels(content: str, count: int, bound: int) -> tuple[int, ...]:
    """Arbitrary names (block letters, concept words) as feature values: the first ``count`` entries of a permutation
    of ``0..bound - 1`` seeded by a stable hash (blake2b, never ``hash()``) of the instance's ``content``. Equal
    instances get equal labels, and over many instances every value up to the bound occurs, so a net trained on
    small instances has seen the label values of large ones."""
    digest = hashlib.blake2b(content.encode(), digest_size=8).digest()
    perm = np.random.default_rng(int.from_bytes(digest, "little")).permutation(bound)
    return tuple(int(v) for v in perm[:count])


def out_of_bounds(task_name: str, what: str, value: object, bound: object) -> ValueError:
    """The one-line error of an instance beyond a task's bounds: ``"maze: a 41 x 41 grid is beyond the bound
    31 x 31"``."""
    return ValueError(f"{task_name}: {what} {value} is beyond the bound {bound}")


def check_structured(task: Task, state: State) -> None:
    """Raise a one-line ``ValueError`` unless ``state`` keeps the contract of the module docstring: its tokens'
    shape, dtype and field ranges, and pointers of every legal action inside ``0 .. N``."""
    obs = state.observation
    name = task.name
    if not isinstance(obs, np.ndarray) or obs.ndim != 2 or obs.shape[1] != TOKEN_FIELDS or obs.dtype != np.int64:
        raise ValueError(f"{name}: a structured observation must be int64[N, {TOKEN_FIELDS}], got "
                         f"{getattr(obs, 'dtype', type(obs).__name__)}{getattr(obs, 'shape', '')}")
    if len(obs) == 0:
        raise ValueError(f"{name}: a structured observation needs at least one token")
    limits = (NUM_TOKEN_TYPES, FEATURE_VOCAB, FEATURE_VOCAB, MAX_POSITION, MAX_POSITION)
    for field, limit in enumerate(limits):
        column = obs[:, field]
        low = 1 if field == TYPE else 0
        if column.min() < low or column.max() >= limit:
            raise ValueError(f"{name}: token field {field} must be in {low}..{limit - 1}, got "
                             f"{column.min()}..{column.max()}")
    pointers = state.action_pointers()
    if pointers is None or pointers.shape != (task.num_actions, 3):
        raise ValueError(f"{name}: action_pointers() must be int64[{task.num_actions}, 3]")
    legal = pointers[state.legal_action_mask]
    if len(legal) and (legal[:, 0].min() < 0 or legal[:, 0].max() >= NUM_POINTER_KINDS):
        raise ValueError(f"{name}: pointer kinds must be in 0..{NUM_POINTER_KINDS - 1}")
    if len(legal) and (legal[:, 1:].min() < 0 or legal[:, 1:].max() > len(obs)):
        raise ValueError(f"{name}: pointers must name tokens 0..{len(obs)} (0 = the summary token)")


def check_episode(task: Task, state: State, actions: Sequence[int]) -> State:
    """Play ``actions`` from ``state`` and return the last state, checking ``check_structured`` on every state on
    the way and that every step returns the state class of ``state`` (a ``ValueError`` / ``AssertionError``)."""
    check_structured(task, state)
    for action in actions:
        nxt = task.step(state, action)
        if type(nxt) is not type(state):
            raise AssertionError(f"{task.name}: step returned a {type(nxt).__name__}, not a {type(state).__name__}")
        check_structured(task, nxt)
        state = nxt
    return state
