"""``code_sort``: build a sorting network from compare-and-swap instructions (AlphaDev-style).

An instance sorts arrays of ``m`` elements (``2 <= m <= length``). Its visible test cases are some
unsorted 0-1 vectors of length ``m`` (or, from text, any arrays of digits); the held-out ones are the
other unsorted 0-1 vectors. By the 0-1 principle a comparator network sorts every input iff it sorts all
``2^m`` 0-1 vectors, so the held-out pass rate is ``1.0`` exactly for a network that sorts everything
(sorted 0-1 vectors pass any network and are left out).

Actions (``num_actions = length * (length - 1) / 2``): action ``a`` appends ``CSWAP i j`` for the
``a``-th pair ``i < j`` in lexicographic order (``(0,1), (0,2), ..., (1,2), ...``); legal iff ``j < m``.
The program is the comparator sequence; it runs on a visible array pushed on the stack and outputs the
array.

Episode end and rewards ``float32[1]``: the episode ends with ``+1`` (``success``) as soon as every visible
array is sorted, or with ``-1`` (``failure``) when the network reaches the budget ``optimal(m) + slack``
without sorting them, ``optimal`` the known minimal sizes ``1, 3, 5, 9, 12`` for ``m = 2..6``
(:data:`OPTIMAL_SIZE`); ``max_episode_steps = optimal(length) + slack``. ``outcome`` re-runs the finished
program with the interpreter on the visible arrays. ``heldout_pass_rate`` is the fraction of held-out
arrays it sorts (``None`` before the end or when there are none). ``score = min(1, optimal(m) / size)``
on success (``path_score``): ``1.0`` for an optimal network (a network that sorts only the visible arrays
can be smaller than optimal and also scores ``1.0``; its held-out pass rate tells). ``answer`` on success
is the network as Python, ``def sort(a)`` with one ``if a[i] > a[j]: a[i], a[j] = a[j], a[i]`` line per
comparator.

Generation (``np.random.default_rng(seed)``): the ``U = 2^m - m - 1`` unsorted 0-1 vectors are shuffled;
the first ``min(num_examples, U - U // 3)`` are visible, the rest held out (both kept in lexicographic
order). Difficulty levels ``1..length - 1``: level ``k`` has ``m = k + 1``; the top level (default) is
``m = length``. Every generated instance is solvable within its budget (an optimal network sorts every
array).

Observation (``seq_len = num_examples * (length + 1) + 2``, ``vocab_size = 97``; value tokens as in
:mod:`zeroforge.tasks.code.common`): per visible slot the current array (``length`` tokens, PAD past
``m``) and a status token (``95`` sorted, ``96`` unsorted); an unused slot is PAD; then the token of ``m``
and the remaining-budget bucket.

Text: ``CodeSort.parse`` reads JSON ``{"kind": "algorithm", "name": "sort", "length": 4, "examples":
[[0, 1, 0, 1], ...], "heldout": [[1, 0, 0, 0], ...]}``: ``length`` in ``2..length`` of the task,
``examples`` 1..num_examples arrays of ``length`` digits ``0..9``, at least one unsorted (default: the
first visible-count unsorted 0-1 vectors in lexicographic order), ``heldout`` at most 64 such arrays
(default: every unsorted 0-1 vector that is not an example). ``instance_text`` writes all keys.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from zeroforge.tasks.base import State, Task, frozen_array, solo_rewards
from zeroforge.tasks.code.common import (
    FIRST_FREE,
    PAD,
    budget_token,
    check_int,
    check_kind,
    check_list,
    int_token,
)
from zeroforge.tasks.code.dsl import Instr, Program
from zeroforge.tasks.code.export import network_to_python
from zeroforge.tasks.code.interpreter import run
from zeroforge.tasks.instances import read_json_instance
from zeroforge.tasks.params import check_int_param
from zeroforge.tasks.path import path_score
from zeroforge.tasks.registry import register_task

__all__ = ["OPTIMAL_SIZE", "CodeSort", "SortState", "unsorted_binary_vectors"]

#: the fewest comparators of a sorting network on ``n`` inputs (Knuth, TAOCP 5.3.4; Codish et al. for 9, 12)
OPTIMAL_SIZE = {2: 1, 3: 3, 4: 5, 5: 9, 6: 12}
MAX_HELDOUT = 64
SORTED, UNSORTED = FIRST_FREE, FIRST_FREE + 1

Array = tuple[int, ...]


def unsorted_binary_vectors(m: int) -> list[Array]:
    """The ``2^m - m - 1`` unsorted 0-1 vectors of length ``m``, in lexicographic order."""
    return [v for v in itertools.product((0, 1), repeat=m) if list(v) != sorted(v)]


def _is_sorted(v: Array) -> bool:
    return all(v[k] <= v[k + 1] for k in range(len(v) - 1))


def _cswap(v: Array, i: int, j: int) -> Array:
    if v[i] <= v[j]:
        return v
    w = list(v)
    w[i], w[j] = v[j], v[i]
    return tuple(w)


@dataclass(frozen=True, eq=False)
class SortState(State):
    """A network under construction: ``m`` the array length, ``examples`` / ``heldout`` the arrays,
    ``budget`` the size limit, ``pairs`` the comparators so far, ``arrays`` the visible arrays after them,
    ``solved`` whether they are all sorted."""

    m: int
    examples: tuple[Array, ...]
    heldout: tuple[Array, ...]
    budget: int
    pairs: tuple[tuple[int, int], ...]
    arrays: tuple[Array, ...]
    solved: bool

    def key(self) -> tuple[Any, ...]:
        """The instance and the comparators so far."""
        return (self.m, self.examples, self.heldout, self.budget, self.pairs)

    @property
    def program(self) -> Program:
        """The network as a program of ``CSWAP`` instructions."""
        return Program(tuple(Instr("CSWAP", i, j) for i, j in self.pairs))

    def to_text(self) -> str:
        """E.g.::

        code_sort n=3: network [1/5]: CSWAP 0 1
        visible: 010 -> 010 unsorted; 100 -> 010 unsorted; 110 -> 110 unsorted
        """

        def digits(v: Array) -> str:
            return "".join(str(x) for x in v)

        cases = "; ".join(
            f"{digits(x)} -> {digits(now)} {'sorted' if _is_sorted(now) else 'unsorted'}"
            for x, now in zip(self.examples, self.arrays, strict=True)
        )
        net = self.program.text() or "(empty)"
        return f"code_sort n={self.m}: network [{len(self.pairs)}/{self.budget}]: {net}\nvisible: {cases}"


@register_task("code_sort")
class CodeSort(Task):
    """Sorting-network synthesis for arrays of up to ``length`` (2..6) elements, ``num_examples`` (1..16)
    visible arrays, budget ``optimal + slack`` (``slack`` 0..8). An instance read by ``parse`` (a JSON text of at
    most 1,000,000 characters) sorts ``2..length`` elements, with 1..num_examples visible arrays of digits 0..9 (one
    at least unsorted) and at most 64 held-out ones. See the module docstring."""

    name: ClassVar[str] = "code_sort"
    pad_token: ClassVar[int | None] = PAD
    num_players = 1
    vocab_size = FIRST_FREE + 2

    def __init__(self, length: int = 4, num_examples: int = 8, slack: int = 2) -> None:
        self.length = check_int_param(self.name, "length", length, 2, 6)
        self.num_examples = check_int_param(self.name, "num_examples", num_examples, 1, 16)
        self.slack = check_int_param(self.name, "slack", slack, 0, 8)
        n = self.length
        self.pairs: tuple[tuple[int, int], ...] = tuple((i, j) for i in range(n) for j in range(i + 1, n))
        self.num_actions = len(self.pairs)
        self.max_episode_steps = OPTIMAL_SIZE[n] + self.slack
        self.difficulty_levels = n - 1
        self.seq_len = self.num_examples * (n + 1) + 2
        self._no_actions = frozen_array(np.zeros(self.num_actions, dtype=np.bool_), np.bool_)
        self._masks = {
            m: frozen_array([j < m for _, j in self.pairs], np.bool_) for m in range(2, n + 1)
        }

    def budget(self, m: int) -> int:
        """The size limit for arrays of ``m`` elements: ``OPTIMAL_SIZE[m] + slack``."""
        return OPTIMAL_SIZE[m] + self.slack

    def encode_action(self, i: int, j: int) -> int:
        """The action of ``CSWAP i j``."""
        return self.pairs.index((i, j))

    # ------------------------------------------------------------------------------------------ states
    def _observation(self, m: int, arrays: tuple[Array, ...], budget: int, size: int) -> np.ndarray:
        n = self.length
        tokens: list[int] = []
        for v in arrays:
            tokens += [int_token(x) for x in v] + [PAD] * (n - m)
            tokens.append(SORTED if _is_sorted(v) else UNSORTED)
        tokens += [PAD] * ((n + 1) * (self.num_examples - len(arrays)))
        tokens += [int_token(m), budget_token(budget - size, budget)]
        return frozen_array(tokens, np.int64)

    def _make(
        self,
        m: int,
        examples: tuple[Array, ...],
        heldout: tuple[Array, ...],
        budget: int,
        pairs: tuple[tuple[int, int], ...],
        arrays: tuple[Array, ...],
    ) -> SortState:
        solved = all(_is_sorted(v) for v in arrays)
        terminal = solved or len(pairs) >= budget
        return SortState(
            current_player=0,
            legal_action_mask=self._no_actions if terminal else self._masks[m],
            terminal=terminal,
            rewards=solo_rewards(terminal, solved),
            observation=self._observation(m, arrays, budget, len(pairs)),
            step_count=len(pairs),
            m=m,
            examples=examples,
            heldout=heldout,
            budget=budget,
            pairs=pairs,
            arrays=arrays,
            solved=solved,
        )

    def make_state(self, m: int, examples: Sequence[Array], heldout: Sequence[Array] | None = None) -> SortState:
        """The initial state for arrays of ``m`` elements (validated); ``heldout=None`` takes every unsorted
        0-1 vector that is not an example."""
        m = check_int(self.name, "length", m, 2, self.length)
        ex = tuple(tuple(v) for v in examples)
        if not 1 <= len(ex) <= self.num_examples:
            raise ValueError(f"code_sort: expected 1..{self.num_examples} examples, got {len(ex)}")
        held = tuple(v for v in unsorted_binary_vectors(m) if v not in ex) if heldout is None else tuple(heldout)
        if len(held) > MAX_HELDOUT:
            raise ValueError(f"code_sort: at most {MAX_HELDOUT} held-out arrays, got {len(held)}")
        for v in (*ex, *held):
            if len(v) != m or any(isinstance(x, bool) or not isinstance(x, int) or not 0 <= x <= 9 for x in v):
                raise ValueError(f"code_sort: arrays must be {m} digits 0..9, got {list(v)!r}"[:160])
        if all(_is_sorted(v) for v in ex):
            raise ValueError("code_sort: at least one example must be unsorted")
        return self._make(m, ex, held, self.budget(m), (), ex)

    def _initial_state(self, seed: int, difficulty: int) -> SortState:
        m = difficulty + 1
        rng = np.random.default_rng(seed)
        pool = unsorted_binary_vectors(m)
        order = rng.permutation(len(pool))
        count = min(self.num_examples, len(pool) - len(pool) // 3)
        visible = sorted(pool[int(k)] for k in order[:count])
        held = sorted(pool[int(k)] for k in order[count:])
        return self.make_state(m, visible, held)

    def _step(self, state: State, action: int) -> SortState:
        if type(state) is not SortState:
            raise ValueError(f"{self.name}: expected a SortState, got {type(state).__name__}")
        if state.m > self.length or len(state.examples) > self.num_examples:
            raise ValueError(f"{self.name}: the state's instance does not fit this task's shapes")
        i, j = self.pairs[action]
        s = state
        arrays = tuple(_cswap(v, i, j) for v in s.arrays)
        return self._make(s.m, s.examples, s.heldout, s.budget, (*s.pairs, (i, j)), arrays)

    # --------------------------------------------------------------------------------------- verdicts
    def _sorts(self, state: SortState, arrays: Sequence[Array]) -> list[bool]:
        program = state.program
        out = []
        for v in arrays:
            res = run(program, v)
            out.append(res.ok and res.output == tuple(sorted(v)))
        return out

    def outcome(self, state: State) -> str:
        """``success`` iff the interpreter's run of the network sorts every visible array."""
        if not state.terminal:
            return "timeout"
        if isinstance(state, SortState):
            return "success" if all(self._sorts(state, state.examples)) else "failure"
        return super().outcome(state)

    def heldout_pass_rate(self, state: State) -> float | None:
        """The fraction of held-out arrays the finished network sorts (``None`` before the end / if none)."""
        if not isinstance(state, SortState) or not state.terminal or not state.heldout:
            return None
        return sum(self._sorts(state, state.heldout)) / len(state.heldout)

    def score(self, state: State) -> float | None:
        """``min(1, OPTIMAL_SIZE[m] / size)`` on success, ``0.0`` on failure, ``None`` before the end."""
        if not isinstance(state, SortState) or not state.terminal:
            return None
        return path_score(state.solved, OPTIMAL_SIZE[state.m], len(state.pairs))

    def answer(self, state: State) -> str | None:
        """On success the network as Python source (``def sort(a): ...``); else ``None``."""
        if not isinstance(state, SortState) or not state.terminal or not state.solved:
            return None
        return network_to_python(state.pairs)

    def action_to_text(self, state: State, action: int) -> str:
        """``"CSWAP i j"``."""
        i, j = self.pairs[int(action)]
        return f"CSWAP {i} {j}"

    # ------------------------------------------------------------------------------------------- text
    def instance_text(self, state: State) -> str:
        """The instance as the JSON :meth:`parse` reads."""
        if not isinstance(state, SortState):
            raise ValueError(f"{self.name}: expected a SortState, got {type(state).__name__}")
        return json.dumps(
            {
                "kind": "algorithm",
                "name": "sort",
                "length": state.m,
                "examples": [list(v) for v in state.examples],
                "heldout": [list(v) for v in state.heldout],
            }
        )

    def parse(self, text: str) -> SortState:
        """The initial state of a JSON instance (format in the module docstring); anything malformed raises a
        one-line ``ValueError`` starting with ``code_sort``."""
        data = read_json_instance(self.name, text, ("kind", "name", "length"), ("examples", "heldout"))
        check_kind(self.name, data, "algorithm")
        if data["name"] != "sort":
            raise ValueError(f"code_sort: the algorithm name must be 'sort', got {str(data['name'])[:40]!r}")
        m = check_int(self.name, "length", data["length"], 2, self.length)
        if "examples" in data:
            examples = self._arrays("examples", data["examples"], 1, self.num_examples)
        else:
            pool = unsorted_binary_vectors(m)
            examples = pool[: min(self.num_examples, len(pool) - len(pool) // 3)]
        heldout = self._arrays("heldout", data["heldout"], 0, MAX_HELDOUT) if "heldout" in data else None
        return self.make_state(m, examples, heldout)

    def _arrays(self, where: str, items: Any, lo: int, hi: int) -> list[Array]:
        out = []
        for k, v in enumerate(check_list(self.name, f"'{where}'", items, lo, hi)):
            if not isinstance(v, list) or len(v) > 6:
                raise ValueError(f"code_sort: {where}[{k}] must be a list of at most 6 digits")
            out.append(tuple(check_int(self.name, f"{where}[{k}] elements", x, 0, 9) for x in v))
        return out

    def __repr__(self) -> str:
        return f"CodeSort(length={self.length}, num_examples={self.num_examples}, slack={self.slack})"
