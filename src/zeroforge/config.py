"""Nested frozen configuration of a zeroforge run, loaded from YAML with ``--set`` overrides.

Every knob of the loop lives in one typed dataclass tree (cleanrl style): ``ZeroforgeConfig`` holds a
``TaskConfig``, ``NetConfig``, ``MCTSConfig``, ``SelfPlayConfig``, ``TrainConfig`` and ``ArenaConfig``.
Unknown keys are rejected with the closest valid name.

Loading: ``load_config(path, overrides)`` = schema defaults <- YAML file <- ``a.b=value`` overrides;
``config_from_dict`` builds and type-checks the tree, each class's ``__post_init__`` checks value ranges,
and every problem is a one-line `ConfigError` naming the dotted key. ``config_to_dict`` / ``save_config``
go the other way (YAML/JSON-safe, round-trips exactly).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import re
import types
import typing
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import yaml

__all__ = [
    "ArenaConfig",
    "ConfigError",
    "CurriculumConfig",
    "MCTSConfig",
    "NetConfig",
    "SelfPlayConfig",
    "TaskConfig",
    "TrainConfig",
    "ZeroforgeConfig",
    "config_from_dict",
    "config_to_dict",
    "load_config",
    "parse_override",
    "save_config",
]

NET_KINDS = frozenset({"mlp", "resnet", "rules", "transformer"})
ANCHORS = frozenset({"random", "rollout", "perfect"})


class ConfigError(ValueError):
    """A configuration problem, described in one line that names the dotted key or the file."""


# --------------------------------------------------------------------------------------------------
# value checks used by the schema's __post_init__ (the section prefix comes from _SECTIONS below)


def _key(obj: object, name: str) -> str:
    prefix = _SECTIONS.get(type(obj), "")
    return f"{prefix}.{name}" if prefix else name


def _require(obj: object, name: str, ok: bool, requirement: str) -> None:
    if not ok:
        value = getattr(obj, name)
        raise ConfigError(f"config key {_key(obj, name)!r} must be {requirement}, got {_short(value)}")


def _at_least(obj: object, name: str, low: float, high: float | None = None) -> None:
    """``low <= value`` (and ``<= high``: a count so big it would exhaust the machine is a typo, not a plan)."""
    value = getattr(obj, name)
    _require(obj, name, _is_number(value) and value >= low, f">= {low}")
    if high is not None:
        _require(obj, name, value <= high, f"<= {high:,}")


def _positive(obj: object, name: str) -> None:
    value = getattr(obj, name)
    _require(obj, name, _is_number(value) and value > 0, "> 0 (and finite)")


def _one_of(obj: object, name: str, choices: Collection[str]) -> None:
    _require(obj, name, getattr(obj, name) in choices, f"one of {sorted(choices)}")


def _unit_interval(obj: object, name: str) -> None:
    value = getattr(obj, name)
    _require(obj, name, _is_number(value) and 0 <= value <= 1, "in [0, 1]")


def _is_number(value: object) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class TaskConfig:
    """Which task to train on: ``make_task(name, **params)``.

    ``ranked_reward`` (single-agent optimisation tasks with a ``score``): terminal rewards become +1 / -1
    against the ``ranked_reward_alpha``-quantile of the last ``ranked_reward_window`` episode scores
    (Ranked Reward, Laterre et al. 2018); success still means matching the exact optimum.
    """

    name: str = "tictactoe"
    params: dict[str, Any] = field(default_factory=dict)
    ranked_reward: bool = False
    ranked_reward_alpha: float = 0.75
    ranked_reward_window: int = 1000

    def __post_init__(self) -> None:
        _require(self, "name", isinstance(self.name, str) and bool(self.name.strip()), "a non-empty name")
        _unit_interval(self, "ranked_reward_alpha")
        _at_least(self, "ranked_reward_window", 1, 10**8)


@dataclass(frozen=True)
class CurriculumConfig:
    """Progressive complexity over the task's difficulty levels (``Task.difficulty_levels``).

    When ``enabled``, each iteration plays at the current level (``start_level`` first, ``0`` = level 1);
    a fraction ``review_fraction`` of the episodes replays uniformly drawn lower levels. After the
    iteration the level rises by one if the success rate at the current level was ``>= raise_at`` and drops
    by one if it was ``<= lower_at``. Off, every episode is drawn at the task's top level.
    """

    enabled: bool = False
    start_level: int = 1
    raise_at: float = 0.8
    lower_at: float = 0.2
    review_fraction: float = 0.2

    def __post_init__(self) -> None:
        _at_least(self, "start_level", 1, 1000)
        _unit_interval(self, "raise_at")
        _unit_interval(self, "lower_at")
        _require(self, "lower_at", self.lower_at < self.raise_at, f"below curriculum.raise_at ({self.raise_at})")
        _unit_interval(self, "review_fraction")


@dataclass(frozen=True)
class MCTSConfig:
    """Search settings (AlphaZero / Gumbel MuZero / KataGo names and defaults).

    ``root_policy``: ``puct`` (AlphaZero: PUCT everywhere, Dirichlet noise at the root in self-play) or
    ``gumbel`` (Gumbel MuZero, Danihelka et al. 2022: Gumbel-top-k of ``gumbel_num_considered`` root actions,
    sequential halving, the deterministic "full Gumbel" rule below the root, and the improved policy
    ``softmax(logits + sigma(completed Q))`` as the policy target, where
    ``sigma(q) = (gumbel_c_visit + max_b N(b)) * gumbel_c_scale * q``). With ``gumbel`` the played action is
    the sequential-halving winner: neither temperature nor Dirichlet noise is used.

    ``temperature`` applies to the first ``temperature_threshold`` moves of a self-play episode (PUCT), after
    which the most visited action is played. Dirichlet noise is mixed into root priors in self-play only.

    Playout-cap randomisation (KataGo, Wu 2019): a share ``playout_cap_fraction`` of self-play moves gets the
    full search (``num_simulations``, noise, temperature) and is a policy training target; the others get a
    fast search of ``playout_cap_simulations`` without noise at temperature 0 and train only the value.
    ``playout_cap_fraction = 1`` turns it off.

    ``backend``: ``numba`` (compiled tree loops; for tasks with array kernels the whole simulation but the
    net), ``numpy`` (vectorised numpy, no compiler needed) or ``auto`` (numba when it is installed). Both give
    the same visit counts; only the speed differs.

    ``leaves_per_step`` > 1 (compiled search of tasks with array kernels only; elsewhere one leaf per tree per
    step): each evaluator call takes that many leaves of every tree, spread by virtual loss (pending descents
    count as lost visits) — bigger net batches when few trees are searched, at a small cost in search
    quality; results then differ from the one-leaf search.

    ``search_threads`` > 1 shares the trees of a batch among that many numba threads (compiled search, 32+
    trees). They spin-wait between simulation steps: ~20 % faster on a machine of one's own, several times
    slower for every job when others share the cores (``zeroforge.threads``); 1 runs the loops serially.
    """

    num_simulations: int = 64
    c_puct: float = 1.25
    dirichlet_epsilon: float = 0.25
    dirichlet_alpha: float = 0.3
    temperature: float = 1.0
    temperature_threshold: int = 9
    discount: float = 1.0
    root_policy: str = "puct"
    gumbel_num_considered: int = 16
    gumbel_c_visit: float = 50.0
    gumbel_c_scale: float = 0.1
    playout_cap_fraction: float = 1.0
    playout_cap_simulations: int = 8
    backend: str = "auto"
    leaves_per_step: int = 1
    search_threads: int = 1

    def __post_init__(self) -> None:
        _at_least(self, "num_simulations", 1, 10**6)
        _positive(self, "c_puct")
        _unit_interval(self, "dirichlet_epsilon")
        _positive(self, "dirichlet_alpha")
        _at_least(self, "temperature", 0)
        _at_least(self, "temperature_threshold", 0, 10**6)
        _require(self, "discount", _is_number(self.discount) and 0 < self.discount <= 1, "in (0, 1]")
        _one_of(self, "root_policy", ("gumbel", "puct"))
        _at_least(self, "gumbel_num_considered", 1, 10**4)
        _at_least(self, "gumbel_c_visit", 0, 10**6)
        _positive(self, "gumbel_c_scale")
        fraction = self.playout_cap_fraction
        _require(self, "playout_cap_fraction", _is_number(fraction) and 0 < fraction <= 1, "in (0, 1]")
        _at_least(self, "playout_cap_simulations", 1, 10**6)
        _one_of(self, "backend", ("auto", "numba", "numpy"))
        _at_least(self, "leaves_per_step", 1, 1024)
        _at_least(self, "search_threads", 1, 4096)
        if fraction < 1:
            _require(self, "playout_cap_simulations", self.playout_cap_simulations <= self.num_simulations,
                     f"<= num_simulations ({self.num_simulations}) when playout_cap_fraction < 1")


@dataclass(frozen=True)
class NetConfig:
    """Policy-value network over token observations: ``kind`` is ``mlp``, ``resnet``, ``transformer``
    (self-attention across the tokens; ``num_layers`` encoder layers of width ``embed_dim``) or ``rules``
    (the relational net of the ``logic`` family: ``num_layers`` rounds of one attention layer over rule slots)."""

    kind: str = "mlp"
    embed_dim: int = 16
    hidden: int = 128
    num_layers: int = 2

    def __post_init__(self) -> None:
        _one_of(self, "kind", NET_KINDS)
        _at_least(self, "embed_dim", 1, 65536)
        _at_least(self, "hidden", 1, 65536)
        _at_least(self, "num_layers", 1, 1024)


@dataclass(frozen=True)
class SelfPlayConfig:
    """Self-play: episodes per iteration, advanced ``parallel_batch_size`` at a time in lockstep.

    ``eval_cache_size`` > 0 puts an LRU cache of that many net evaluations in front of the net (hit rate in
    the metrics as ``eval_cache_hit_rate``); ``inference_dtype`` (``float32``, ``bfloat16``, ``float16``) is
    the autocast type of self-play inference (both in-process only, ``num_workers: 0``); ``save_episodes``
    writes each iteration's episodes with their search traces to ``episodes/iter_NNNNNN.parquet`` in the run
    directory.

    ``num_workers`` > 0 plays self-play in that many worker processes (``SelfPlayWorkerPool``), each running
    chunks of ``chunk_size`` episodes (``0``: ``parallel_batch_size``) in lockstep with its own copy of the
    best net (``inference: local``) or sending its leaves to one inference server process (``server``, the
    GPU layout), which batches the requests arriving within ``server_window_ms``. A dead worker is restarted
    (at most ``max_restarts`` times per chunk) and its chunk replayed; so is a hung one, which sent no sign of
    life for ``heartbeat_timeout_s`` while playing. Each chunk has its own random stream,
    so results do not depend on the number of workers, but they differ from the in-process path
    (``num_workers: 0``).
    """

    games_per_iteration: int = 256
    parallel_batch_size: int = 256
    eval_cache_size: int = 0
    inference_dtype: str = "float32"
    save_episodes: bool = True
    num_workers: int = 0
    chunk_size: int = 0
    inference: str = "local"
    server_window_ms: float = 2.0
    max_restarts: int = 3
    heartbeat_timeout_s: float = 30.0

    def __post_init__(self) -> None:
        _at_least(self, "games_per_iteration", 1, 10**7)
        _at_least(self, "parallel_batch_size", 1, 10**6)
        _at_least(self, "eval_cache_size", 0, 10**9)
        _one_of(self, "inference_dtype", ("bfloat16", "float16", "float32"))
        _require(self, "save_episodes", isinstance(self.save_episodes, bool), "true or false")
        _at_least(self, "num_workers", 0, 1024)
        _at_least(self, "chunk_size", 0, 10**7)
        _one_of(self, "inference", ("local", "server"))
        _at_least(self, "server_window_ms", 0, 60_000)
        _at_least(self, "max_restarts", 0, 1000)
        _require(self, "heartbeat_timeout_s", _is_number(self.heartbeat_timeout_s) and self.heartbeat_timeout_s > 1,
                 "> 1 (seconds)")
        if self.num_workers > 0:  # the worker processes build their own plain float32 evaluators
            _require(self, "eval_cache_size", self.eval_cache_size == 0, "0 when num_workers > 0 (in-process only)")
            _require(self, "inference_dtype", self.inference_dtype == "float32",
                     "float32 when num_workers > 0 (in-process only)")


@dataclass(frozen=True)
class TrainConfig:
    """Learner: AdamW on policy cross-entropy + ``value_loss_weight`` * value MSE + ``l2_coef`` * L2.
    ``augment_symmetries`` trains on random symmetric images of the examples (``Task.symmetries``).
    ``self_imitation`` (single-agent tasks): in episodes that succeeded, the policy target of each move is
    ``(1 - w) * visits + w * played action`` (self-imitation learning, Oh et al. 2018): where search alone
    gives flat visit counts (sparse rewards, deep proofs), the agent's own successes say which move led on."""

    batch_size: int = 256
    steps_per_iteration: int = 300
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    l2_coef: float = 1e-4
    value_loss_weight: float = 1.0
    grad_clip: float = 1.0
    replay_buffer_size: int = 50_000
    augment_symmetries: bool = True
    device: str = "cpu"
    self_imitation: float = 0.0

    def __post_init__(self) -> None:
        _at_least(self, "batch_size", 1, 10**6)
        _at_least(self, "steps_per_iteration", 0, 10**8)
        _positive(self, "learning_rate")
        _require(self, "learning_rate", self.learning_rate <= 10, "<= 10")
        _at_least(self, "weight_decay", 0)
        _at_least(self, "l2_coef", 0)
        _at_least(self, "value_loss_weight", 0)
        _positive(self, "grad_clip")
        _at_least(self, "replay_buffer_size", 1, 10**9)
        _require(self, "device", isinstance(self.device, str) and bool(self.device.strip()), "a device name")
        _unit_interval(self, "self_imitation")


@dataclass(frozen=True)
class ArenaConfig:
    """Evaluation: candidate vs best (gating) and games against fixed anchors.

    With ``gating`` off the candidate always replaces the best (AlphaZero's continuous update).
    ``opening_random_moves`` random plies start each arena game so that deterministic players meet in
    varied positions. Anchors: ``random``, ``rollout`` (pure random-rollout MCTS with
    ``rollout_simulations``) and ``perfect`` (a minimax player; only for solvable games).
    Single-agent tasks are evaluated instead on ``heldout_episodes`` held-out instances of the top level
    (seeds never used in training), searching with ``num_simulations``.
    """

    gating: bool = False
    games: int = 20
    win_threshold: float = 0.55
    num_simulations: int = 32
    opening_random_moves: int = 1
    anchors: tuple[str, ...] = ("random", "rollout", "perfect")
    anchor_games: int = 20
    rollout_simulations: int = 32
    eval_every: int = 1
    heldout_episodes: int = 64

    def __post_init__(self) -> None:
        _at_least(self, "games", 1 if self.gating else 0, 10**6)
        _unit_interval(self, "win_threshold")
        _at_least(self, "num_simulations", 1, 10**6)
        _at_least(self, "opening_random_moves", 0, 1000)
        unknown = sorted(set(self.anchors) - ANCHORS)
        _require(self, "anchors", not unknown, f"a subset of {sorted(ANCHORS)} (unknown: {unknown})")
        _require(self, "anchors", len(set(self.anchors)) == len(self.anchors), "without duplicates")
        _at_least(self, "anchor_games", 0, 10**6)
        _at_least(self, "rollout_simulations", 1, 10**6)
        _at_least(self, "eval_every", 1, 10**7)
        _at_least(self, "heldout_episodes", 0, 10**7)


@dataclass(frozen=True)
class ZeroforgeConfig:
    """The whole run. ``agent_simulations`` is the search budget of ``load_agent(...).select_action``;
    ``keep_checkpoints`` is how many of the newest checkpoints a run directory keeps. ``threads`` is the most
    threads the process runs at once (0: the cores it may use, from its CPU affinity and cgroup quota); every
    pool is sized within it: ``torch_threads`` is torch's intra-op count (1 suits small nets: their matrices are
    too small to split), ``mcts.search_threads`` numba's."""

    seed: int = 0
    iterations: int = 15
    agent_simulations: int = 64
    keep_checkpoints: int = 3
    threads: int = 0
    torch_threads: int = 1
    task: TaskConfig = field(default_factory=TaskConfig)
    curriculum: CurriculumConfig = field(default_factory=CurriculumConfig)
    net: NetConfig = field(default_factory=NetConfig)
    mcts: MCTSConfig = field(default_factory=MCTSConfig)
    selfplay: SelfPlayConfig = field(default_factory=SelfPlayConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    arena: ArenaConfig = field(default_factory=ArenaConfig)

    def __post_init__(self) -> None:
        _at_least(self, "seed", 0, 2**63 - 1)
        _at_least(self, "iterations", 0, 10**7)
        _at_least(self, "agent_simulations", 1, 10**6)
        _at_least(self, "keep_checkpoints", 1, 10**4)
        _at_least(self, "threads", 0, 4096)
        _at_least(self, "torch_threads", 1, 4096)


# --------------------------------------------------------------------------------------------------
# loading machinery

_SECTIONS: dict[type, str] = {
    TaskConfig: "task",
    CurriculumConfig: "curriculum",
    NetConfig: "net",
    MCTSConfig: "mcts",
    SelfPlayConfig: "selfplay",
    TrainConfig: "train",
    ArenaConfig: "arena",
}

T = TypeVar("T")


class _Loader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that also reads ``1e-3`` as a float (YAML 1.1 alone needs ``1.0e-3``)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


def _yaml_load(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)  # _Loader is a SafeLoader: no arbitrary objects


def _short(value: object, limit: int = 60) -> str:
    """``type 'repr'`` of a value on one line, truncated."""
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"{type(value).__name__} {text}"


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _fail_type(key: str, expected: str, value: object) -> NoReturn:
    raise ConfigError(f"config key {key!r} expects {expected}, got {_short(value)}")


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _type_name(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin is tuple:
        return f"a list of {_type_name(typing.get_args(hint)[0])}"
    if origin is dict or hint is dict:
        return "a mapping"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(hint))
    if hint is type(None):
        return "null"
    if dataclasses.is_dataclass(hint):
        return "a mapping"
    return getattr(hint, "__name__", str(hint))


def _all_leaf_keys(cls: type, path: str = "") -> list[str]:
    """Every dotted key of the schema (sections included), for suggestions."""
    keys: list[str] = []
    for name, hint in _hints(cls).items():
        key = _join(path, name)
        keys.append(key)
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            keys.extend(_all_leaf_keys(hint, key))
    return keys


def _unknown_key(path: str, name: str, valid: Sequence[str]) -> NoReturn:
    key = _join(path, str(name))
    close = difflib.get_close_matches(str(name), list(valid), n=1, cutoff=0.6)
    if close:
        raise ConfigError(f"unknown config key {key!r}; did you mean {_join(path, close[0])!r}?")
    # the right name in another section? (``batch_size`` at the top level -> ``train.batch_size``)
    everywhere = _all_leaf_keys(ZeroforgeConfig)
    leaf = {k: k.rsplit(".", 1)[-1] for k in everywhere}
    same = [k for k, last in leaf.items() if last == str(name)]
    if not same:
        near = difflib.get_close_matches(str(name), sorted(set(leaf.values())), n=1, cutoff=0.75)
        same = [k for k, last in leaf.items() if near and last == near[0]]
    if same:
        raise ConfigError(f"unknown config key {key!r}; did you mean {same[0]!r}?")
    raise ConfigError(f"unknown config key {key!r}; valid keys here: {', '.join(valid)}")


def _coerce(hint: Any, value: Any, key: str) -> Any:
    """Check ``value`` against the field type ``hint`` and return it in canonical form."""
    origin = typing.get_origin(hint)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if value is None:  # an empty YAML section
            value = {}
        if not isinstance(value, Mapping):
            _fail_type(key, "a mapping", value)
        return config_from_dict(hint, value, key)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(hint):
            try:
                return _coerce(arg, value, key)
            except ConfigError:
                continue
        _fail_type(key, _type_name(hint), value)
    if hint is type(None):
        if value is not None:
            _fail_type(key, "null", value)
        return None
    if hint is Any:
        return value
    if hint is bool:
        if not isinstance(value, bool):
            _fail_type(key, "bool", value)
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            _fail_type(key, "int", value)
        return int(value)
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            _fail_type(key, "float", value)
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            _fail_type(key, "str", value)
        return value
    if origin is tuple:
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            _fail_type(key, _type_name(hint), value)
        item_hint = typing.get_args(hint)[0]  # the schema only uses tuple[X, ...]
        return tuple(_coerce(item_hint, item, f"{key}[{i}]") for i, item in enumerate(value))
    if origin is dict or hint is dict:
        if value is None:
            value = {}
        if not isinstance(value, Mapping):
            _fail_type(key, "a mapping", value)
        bad = [k for k in value if not isinstance(k, str)]
        if bad:
            _fail_type(f"{key}.{bad[0]}", "a str key", bad[0])
        return dict(value)
    raise TypeError(f"config key {key!r} has an unsupported field type {hint!r}")  # schema bug


def config_from_dict(cls: type[T], data: Mapping[str, Any], path: str = "") -> T:
    """Build the frozen dataclass ``cls`` (recursively) from plain data, checking keys and types.

    ``path`` is the dotted prefix used in error messages. Missing keys keep their defaults.
    """
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise TypeError(f"{cls!r} is not a dataclass type")
    if not isinstance(data, Mapping):
        _fail_type(path or "<root>", "a mapping", data)
    hints = _hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        if name not in names:
            _unknown_key(path, name, names)
        kwargs[name] = _coerce(hints[name], value, _join(path, name))
    return cls(**kwargs)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def config_to_dict(cfg: Any) -> dict[str, Any]:
    """Plain nested dict of a config dataclass: tuples as lists, safe for YAML and JSON."""
    if not (dataclasses.is_dataclass(cfg) and not isinstance(cfg, type)):
        raise TypeError(f"expected a config dataclass instance, got {type(cfg).__name__}")
    result: dict[str, Any] = _plain(cfg)
    return result


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``"a.b=value"`` into ``("a.b", value)``; the value is parsed as YAML.

    ``=3`` is an int, ``=0.5`` or ``=1e-3`` a float, ``=true`` a bool, ``=[a, b]`` a list, ``=abc`` a str.
    """
    if "=" not in text:
        raise ConfigError(f"override {text!r} must look like key=value (e.g. mcts.num_simulations=32)")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key or any(not part.strip() or part != part.strip() for part in key.split(".")):
        raise ConfigError(f"override {text!r} has an invalid key {key!r}")
    try:
        value = _yaml_load(raw)
    except yaml.YAMLError as exc:
        reason = getattr(exc, "problem", None) or type(exc).__name__
        raise ConfigError(f"override {text!r}: value is not valid YAML ({reason})") from None
    return key, value


def _apply_override(data: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    node = data
    for depth, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        elif not isinstance(child, dict):
            where = ".".join(parts[: depth + 1])
            raise ConfigError(f"cannot set {key!r}: config key {where!r} is a value, not a section")
        node = child
    node[parts[-1]] = value


def _to_dict_tree(value: Any) -> Any:
    """Copy nested mappings into plain dicts so overrides never touch the caller's data."""
    if isinstance(value, Mapping):
        return {k: _to_dict_tree(v) for k, v in value.items()}
    return value


def load_config(path: str | Path | None = None, overrides: Sequence[str] = ()) -> ZeroforgeConfig:
    """Schema defaults <- YAML file at ``path`` (optional) <- ``key=value`` overrides, validated."""
    if isinstance(overrides, str):
        overrides = [overrides]
    data: dict[str, Any] = {}
    if path is not None:
        file = Path(path)
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"config file {str(file)!r} not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config file {str(file)!r} cannot be read: {exc}") from None
        try:
            loaded = _yaml_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or type(exc).__name__
            raise ConfigError(f"config file {str(file)!r} is not valid YAML{where}: {problem}") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, Mapping):
            raise ConfigError(
                f"config file {str(file)!r} must contain a mapping of sections, got {type(loaded).__name__}"
            )
        data = _to_dict_tree(loaded)
    for text_override in overrides:
        key, value = parse_override(text_override)
        _apply_override(data, key, value)
    return config_from_dict(ZeroforgeConfig, data)


def save_config(cfg: ZeroforgeConfig, path: str | Path) -> Path:
    """Write ``cfg`` as YAML (atomically: temp file, then rename); returns the path."""
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(config_to_dict(cfg), sort_keys=False, default_flow_style=False)
    tmp = file.with_name(f".{file.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, file)
    finally:
        tmp.unlink(missing_ok=True)
    return file
