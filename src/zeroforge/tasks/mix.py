"""``mix``: one task whose instances come from several families, so that one size-free net (``PointerNet``) learns
them all (issue 13, "One agent, many families").

``make_task("mix", families={"maze": {"size": 5}, "knapsack": {"num_items": 10}, "linear_equation": {}},
weights={"maze": 2, "knapsack": 1, "linear_equation": 1})``. ``families`` maps registered single-agent task names to
their parameters (default: ``maze`` of size 3, ``knapsack`` of 6 items, ``linear_equation`` as it comes); structured
families are used as they are, flat ones are wrapped in :class:`~zeroforge.tasks.sequence.SequenceTask` (slot = their
index among the flat families, in the order given). ``weights`` (default: all equal) are relative: each family's
share of the instances is its weight over their sum; every family needs one (``0`` keeps a family out of play but
in ``members``). Every family owns its token types and pointer kinds (:mod:`zeroforge.tasks.structured`), so the net
tells them apart from the tokens alone.

Shapes. ``num_actions``, ``seq_len`` and ``max_episode_steps`` are the largest of the members'; a member's mask is
padded with ``False`` and its pointers with zero rows up to ``num_actions`` (an action beyond a member's width is
illegal: ``step`` refuses it with the usual "illegal" error). Observations are the member's tokens, unchanged.

Instances. ``initial_state(seed, level)`` draws the family from ``seed`` alone (``np.random.default_rng([seed,
7919])`` with the normalised weights), then plays the member's instance ``initial_state(seed, member level)``.
Levels: the mix has ``K = max L_f`` levels (``L_f`` a member's); mix level ``k`` is member level ``max(1, ceil(k *
L_f / K))``, a shared curriculum axis on which every family climbs in proportion and stands at its top at ``K``
(maze 2, knapsack 5, linear_equation 4 levels: mix level 2 of 5 is maze 1, knapsack 2, linear_equation 2).

Text. An instance is the JSON ``{"family": "maze", "instance": "<the member's own instance text>"}``; ``parse``
reads it (a member's refusal comes back starting ``mix: <family>: ``), ``instance_text`` writes it.

Everything else (verdict, score, answer, held-out rate, demonstration, action text, ``to_text``) is the member's, on
the member state a ``MixedState`` carries. ``members`` holds the built member tasks (per-family held-out evaluation,
``solve`` of one family); ``family_of`` tells a state's family.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from zeroforge.tasks.base import State, Task
from zeroforge.tasks.instances import read_json_instance, short_repr
from zeroforge.tasks.registry import make_task, register_task
from zeroforge.tasks.sequence import SequenceTask
from zeroforge.tasks.structured import TOKEN_VOCAB

__all__ = ["DEFAULT_FAMILIES", "FAMILY_STREAM", "MixedState", "MixedTask"]

#: the families of ``make_task("mix")``
DEFAULT_FAMILIES: dict[str, dict[str, Any]] = {"maze": {"size": 3}, "knapsack": {"num_items": 6}, "linear_equation": {}}
#: the second entry of the seed sequence that draws an instance's family (``default_rng([seed, FAMILY_STREAM])``)
FAMILY_STREAM = 7919


@dataclass(frozen=True, eq=False)
class MixedState(State):
    """A state of the member task ``family``: its ``member`` state, with the mask and the action ``pointers``
    ``int64[A, 3]`` padded to the mix's ``A = num_actions``; tokens, rewards, player, step count and ``terminal``
    are the member's."""

    family: str
    member: State
    pointers: np.ndarray

    def key(self) -> tuple[str, Any]:
        """``(family, the member state's key)``."""
        return (self.family, self.member.key())

    def to_text(self) -> str:
        """The member state's text."""
        return self.member.to_text()

    def action_pointers(self) -> np.ndarray:
        """``int64[A, 3]``: the member's pointers, zero rows past its width."""
        return self.pointers


@register_task("mix")
class MixedTask(Task):
    """Instances of several single-agent families in one structured task (see the module docstring)."""

    name: ClassVar[str] = "mix"
    structured: ClassVar[bool] = True
    vocab_size = TOKEN_VOCAB
    num_players = 1

    def __init__(self, families: Mapping[str, Mapping[str, Any]] | None = None,
                 weights: Mapping[str, float] | None = None) -> None:
        self.family_params = _check_families(DEFAULT_FAMILIES if families is None else families)
        self.members: dict[str, Task] = _build_members(self.family_params)
        self.families: tuple[str, ...] = tuple(self.members)
        self.weights: dict[str, float] = _check_weights(weights, self.families)
        total = sum(self.weights.values())
        self._probs = np.array([self.weights[f] / total for f in self.families], np.float64)
        tasks = list(self.members.values())
        self.num_actions = max(t.num_actions for t in tasks)
        self.seq_len = max(t.seq_len for t in tasks)
        self.max_episode_steps = max(t.max_episode_steps for t in tasks)
        self.difficulty_levels = max(t.difficulty_levels for t in tasks)
        self.solvable = all(t.solvable for t in tasks)  # type: ignore[misc]
        self.bounds = {f"{f}.{k}": v for f, t in self.members.items() for k, v in t.bounds.items()}  # type: ignore[misc]

    # ------------------------------------------------------------------ families and levels
    def family_for_seed(self, seed: int) -> str:
        """The family of the instance drawn with ``seed`` (at every level)."""
        rng = np.random.default_rng([int(seed), FAMILY_STREAM])
        return self.families[int(rng.choice(len(self.families), p=self._probs))]

    def member_level(self, family: str, level: int | None = None) -> int:
        """The level of ``family`` at mix level ``level`` (default the top): ``max(1, ceil(level * L_f / K))``."""
        k = self.check_difficulty(level)
        levels = self._member(family).difficulty_levels
        return max(1, -(-k * levels // self.difficulty_levels))

    def family_of(self, state: State) -> str:
        """The family a ``MixedState`` belongs to."""
        return self._unwrap(state)[0]

    def family_index(self, state: State) -> int:
        """The index in ``families`` of the family ``state`` belongs to."""
        return self.families.index(self.family_of(state))

    # ------------------------------------------------------------------ wrapping
    def wrap(self, family: str, member_state: State) -> MixedState:
        """The mixed state of a state of member ``family``."""
        pointers = member_state.action_pointers()
        if pointers is None:
            raise ValueError(f"mix: family {family!r} gave a state without action pointers")
        return MixedState(
            current_player=member_state.current_player,
            legal_action_mask=_padded(member_state.legal_action_mask, self.num_actions),
            terminal=member_state.terminal,
            rewards=member_state.rewards,
            observation=member_state.observation,
            step_count=member_state.step_count,
            family=family,
            member=member_state,
            pointers=_padded(pointers, self.num_actions),
        )

    def _member(self, family: str) -> Task:
        if family not in self.members:
            raise ValueError(f"mix: unknown family {short_repr(family)} (families: {', '.join(self.families)})")
        return self.members[family]

    def _unwrap(self, state: State) -> tuple[str, Task, State]:
        """``(family, member task, member state)`` of a ``MixedState``; a one-line ``ValueError`` otherwise."""
        if not isinstance(state, MixedState):
            raise ValueError(f"mix: expected a MixedState, got {type(state).__name__}")
        return state.family, self._member(state.family), state.member

    # ------------------------------------------------------------------ the MDP
    def _initial_state(self, seed: int, difficulty: int) -> MixedState:
        family = self.family_for_seed(seed)
        member = self.members[family]
        return self.wrap(family, member.initial_state(seed, self.member_level(family, difficulty)))

    def _step(self, state: State, action: int) -> MixedState:
        family, member, inner = self._unwrap(state)
        return self.wrap(family, member.step(inner, action))

    # ------------------------------------------------------------------ delegated
    def outcome(self, state: State) -> str:
        _, member, inner = self._unwrap(state)
        return member.outcome(inner)

    def score(self, state: State) -> float | None:
        _, member, inner = self._unwrap(state)
        return member.score(inner)

    def heldout_pass_rate(self, state: State) -> float | None:
        _, member, inner = self._unwrap(state)
        return member.heldout_pass_rate(inner)

    def answer(self, state: State) -> Any:
        _, member, inner = self._unwrap(state)
        return member.answer(inner)

    def demonstration(self, state: State) -> list[int] | None:
        _, member, inner = self._unwrap(state)
        return member.demonstration(inner)

    def action_to_text(self, state: State, action: int) -> str:
        _, member, inner = self._unwrap(state)
        if not 0 <= int(action) < member.num_actions:
            return str(int(action))
        return member.action_to_text(inner, action)

    # ------------------------------------------------------------------ text
    def instance_text(self, state: State) -> str:
        """``{"family": ..., "instance": <the member's instance text>}`` (JSON)."""
        family, member, inner = self._unwrap(state)
        return json.dumps({"family": family, "instance": member.instance_text(inner)})

    def parse(self, text: str) -> MixedState:
        """The initial state of a mixed instance (the JSON of :meth:`instance_text`); a one-line ``ValueError``
        starting ``mix: `` on anything malformed, ``mix: <family>: `` where the member refuses its instance."""
        data = read_json_instance(self.name, text, ("family", "instance"))
        family, instance = data["family"], data["instance"]
        if not isinstance(family, str):
            raise ValueError(f"mix: 'family' must be a string, one of {', '.join(self.families)}; got "
                             f"{short_repr(family)}")
        if family not in self.members:
            raise ValueError(f"mix: unknown family {short_repr(family)} (families: {', '.join(self.families)})")
        if not isinstance(instance, str):
            raise ValueError(f"mix: 'instance' must be the {family} instance as a string, got "
                             f"{type(instance).__name__}")
        try:
            member_state = self.members[family].parse(instance)
        except ValueError as exc:
            message = str(exc)
            named = message if message.startswith(f"{family}:") else f"{family}: {message}"
            raise ValueError(f"mix: {named}") from None
        return self.wrap(family, member_state)

    def __repr__(self) -> str:
        return f"MixedTask(families={self.family_params!r}, weights={self.weights!r})"


def _padded(arr: np.ndarray, width: int) -> np.ndarray:
    """``arr`` (``[A_f, ...]``) padded with zero / ``False`` rows to ``[width, ...]``, read-only (itself if wide
    enough)."""
    if len(arr) >= width:
        return arr
    out = np.zeros((width, *arr.shape[1:]), arr.dtype)
    out[: len(arr)] = arr
    out.flags.writeable = False
    return out


def _check_families(families: Any) -> dict[str, dict[str, Any]]:
    """``families`` as ``{name: params}``; a one-line ``ValueError`` for an empty or malformed mapping or ``mix``
    inside ``mix``."""
    if not isinstance(families, Mapping):
        raise ValueError(f"mix: families must map task names to their parameters, got {type(families).__name__}")
    if not families:
        raise ValueError("mix: families is empty; name at least one task (e.g. {'maze': {'size': 5}})")
    out: dict[str, dict[str, Any]] = {}
    for name, params in families.items():
        if not isinstance(name, str):
            raise ValueError(f"mix: family names must be task names (strings), got {short_repr(name)}")
        if name == "mix":
            raise ValueError("mix: a mix cannot hold 'mix' as a family")
        if params is None:
            params = {}
        if not isinstance(params, Mapping):
            raise ValueError(f"mix: the parameters of family {name!r} must be a mapping, got {type(params).__name__}")
        out[name] = dict(params)
    return out


def _build_members(specs: dict[str, dict[str, Any]]) -> dict[str, Task]:
    """The member tasks: ``make_task`` per family, flat ones wrapped in ``SequenceTask`` (slots in order)."""
    members: dict[str, Task] = {}
    slot = 0
    for name, params in specs.items():
        try:
            task = make_task(name, **params)
        except ValueError as exc:
            raise ValueError(f"mix: family {name!r}: {exc}") from None
        if task.num_players != 1:
            raise ValueError(f"mix: family {name!r} is a {task.num_players}-player game; a mix holds single-agent "
                             f"tasks")
        if not task.structured:
            try:
                task = SequenceTask(task, slot)
            except ValueError as exc:
                raise ValueError(f"mix: family {name!r}: {exc}") from None
            slot += 1
        members[name] = task
    return members


def _check_weights(weights: Any, families: tuple[str, ...]) -> dict[str, float]:
    """``{family: weight}`` (all ``1.0`` when ``weights`` is ``None``); a one-line ``ValueError`` for a weight of an
    unknown or a missing family, a negative or non-finite weight, or all weights zero."""
    if weights is None:
        return dict.fromkeys(families, 1.0)
    if not isinstance(weights, Mapping):
        raise ValueError(f"mix: weights must map families to numbers, got {type(weights).__name__}")
    unknown = [k for k in weights if k not in families]
    if unknown:
        raise ValueError(f"mix: weights name {short_repr(unknown[0])}, which is not among the families "
                         f"({', '.join(families)})")
    missing = [f for f in families if f not in weights]
    if missing:
        raise ValueError(f"mix: weights give no weight to {', '.join(missing)} (give every family one; 0 leaves it "
                         f"out of play)")
    out: dict[str, float] = {}
    for family in families:
        w = weights[family]
        numeric = isinstance(w, int | float | np.integer | np.floating) and not isinstance(w, bool)
        if not numeric or not math.isfinite(w) or w < 0:
            raise ValueError(f"mix: the weight of {family!r} must be a finite number >= 0, got {short_repr(w)}")
        out[family] = float(w)
    if not any(out.values()):
        raise ValueError("mix: the weights are all zero; at least one family needs a positive weight")
    return out
