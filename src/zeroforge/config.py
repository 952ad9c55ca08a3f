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
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, NoReturn, TypeVar

import yaml

from zeroforge.arena.params import ArenaConfig
from zeroforge.nets.params import HRMConfig, NetConfig, TRMConfig
from zeroforge.params import ConfigError, at_least, require, short, unit_interval
from zeroforge.search.params import MCTSConfig
from zeroforge.selfplay.params import SelfPlayConfig
from zeroforge.train.params import TrainConfig

__all__ = [
    "ArenaConfig",
    "ConfigError",
    "CurriculumConfig",
    "HRMConfig",
    "MCTSConfig",
    "MonitorConfig",
    "NetConfig",
    "SelfPlayConfig",
    "SupervisedConfig",
    "TRMConfig",
    "TaskConfig",
    "TrainConfig",
    "ZeroforgeConfig",
    "config_from_dict",
    "config_to_dict",
    "load_config",
    "parse_override",
    "save_config",
]


@dataclass(frozen=True)
class TaskConfig:
    """Which task to train on: ``make_task(name, **params)``.

    ``ranked_reward`` (single-agent optimisation tasks with a ``score``): terminal rewards become +1 / -1
    against the ``ranked_reward_alpha``-quantile of the last ``ranked_reward_window`` episode scores
    (Ranked Reward, Laterre et al. 2018); success still means matching the exact optimum.
    """

    SECTION: ClassVar[str] = "task"

    name: str = "tictactoe"
    params: dict[str, Any] = field(default_factory=dict)
    ranked_reward: bool = False
    ranked_reward_alpha: float = 0.75
    ranked_reward_window: int = 1000

    def __post_init__(self) -> None:
        require(self, "name", isinstance(self.name, str) and bool(self.name.strip()), "a non-empty name")
        unit_interval(self, "ranked_reward_alpha")
        at_least(self, "ranked_reward_window", 1, 10**8)


@dataclass(frozen=True)
class CurriculumConfig:
    """Progressive complexity over the task's difficulty levels (``Task.difficulty_levels``).

    When ``enabled``, each iteration plays at the current level (``start_level`` first, ``0`` = level 1);
    a fraction ``review_fraction`` of the episodes replays uniformly drawn lower levels. After the
    iteration the level rises by one if the success rate at the current level was ``>= raise_at`` and drops
    by one if it was ``<= lower_at``. Off, every episode is drawn at the task's top level.
    """

    SECTION: ClassVar[str] = "curriculum"

    enabled: bool = False
    start_level: int = 1
    raise_at: float = 0.8
    lower_at: float = 0.2
    review_fraction: float = 0.2

    def __post_init__(self) -> None:
        at_least(self, "start_level", 1, 1000)
        unit_interval(self, "raise_at")
        unit_interval(self, "lower_at")
        require(self, "lower_at", self.lower_at < self.raise_at, f"below curriculum.raise_at ({self.raise_at})")
        unit_interval(self, "review_fraction")


@dataclass(frozen=True)
class MonitorConfig:
    """The run's resource monitor (``zeroforge.monitor.SystemMonitor``): when ``enabled``, CPU percent and memory
    of the main process, the self-play workers and the inference server (and GPU use, where ``nvidia-ml-py`` and a
    GPU are present) are sampled every ``interval_s`` seconds in a background thread and summarised into each
    iteration's metrics (``resource_*`` keys). ``tensorboard``: also write each iteration's metrics and search
    histograms as TensorBoard event files under ``<run_dir>/tensorboard`` (``zeroforge.tensorboard_log``; needs
    the ``tensorboard`` extra). Its settings may change on ``--resume``."""

    SECTION: ClassVar[str] = "monitor"

    enabled: bool = True
    interval_s: float = 2.0
    tensorboard: bool = False

    def __post_init__(self) -> None:
        require(self, "interval_s", self.interval_s >= 0.01, "at least 0.01 seconds")


@dataclass(frozen=True)
class SupervisedConfig:
    """The supervised phase (issue 13; the spec's ``train_phase("supervised")``): the run's first ``iterations``
    iterations learn from solver demonstrations (``Task.demonstration``: BFS paths, DP / Held-Karp optima, optimal
    plans) instead of self-play, ``episodes_per_iteration`` instances each, drawn uniformly over the task's
    difficulty levels (its sizes) from ``min_level`` up; then ``ZeroforgeConfig.iterations`` self-play iterations
    fine-tune that net. ``detour_fraction`` of the demonstrations start with random moves (no policy target there)
    and end as the solver can from where those led, so the value head sees positions worse than a solver's. Both
    phases are one resumable run: the metrics say each line's ``phase``. The demonstrations stay in the replay
    buffer until self-play's episodes push them out. ``steps_per_iteration`` is the optimiser steps of a supervised
    iteration (``0``: ``train.steps_per_iteration``, self-play's): demonstrations are cheap to make and worth more
    steps than a self-play round. With ``task.ranked_reward`` a demonstration wins iff it ends within 5 % of the
    optimum (``arena.heldout.NEAR_OPTIMAL_SCORE``; a detour may lose the exact optimum and still be near it), so
    the value head learns the chance of a near-optimal finish rather than of an exact one."""

    SECTION: ClassVar[str] = "supervised"

    iterations: int = 0
    episodes_per_iteration: int = 256
    min_level: int = 1
    detour_fraction: float = 0.5
    steps_per_iteration: int = 0

    def __post_init__(self) -> None:
        at_least(self, "iterations", 0, 10**6)
        at_least(self, "episodes_per_iteration", 1, 10**7)
        at_least(self, "min_level", 1, 1000)
        unit_interval(self, "detour_fraction")
        at_least(self, "steps_per_iteration", 0, 10**8)


@dataclass(frozen=True)
class ZeroforgeConfig:
    """The whole run. ``agent_simulations`` is the search budget of ``load_agent(...).select_action``;
    ``keep_checkpoints`` is how many of the newest checkpoints a run directory keeps. ``threads`` is the most
    threads the process runs at once (0: the cores it may use, from its CPU affinity and cgroup quota); every
    pool is sized within it: ``torch_threads`` is torch's intra-op count (1 suits small nets: their matrices are
    too small to split), ``mcts.search_threads`` numba's. ``cpu_budget_minutes`` > 0 ends the run at the first
    iteration boundary where its iterations have used that much CPU time (``iteration_cpu_seconds`` summed over
    the run, resumed parts included): nets compared at equal compute."""

    seed: int = 0
    iterations: int = 15
    agent_simulations: int = 64
    keep_checkpoints: int = 3
    threads: int = 0
    torch_threads: int = 1
    cpu_budget_minutes: float = 0.0
    task: TaskConfig = field(default_factory=TaskConfig)
    curriculum: CurriculumConfig = field(default_factory=CurriculumConfig)
    supervised: SupervisedConfig = field(default_factory=SupervisedConfig)
    net: NetConfig = field(default_factory=NetConfig)
    mcts: MCTSConfig = field(default_factory=MCTSConfig)
    selfplay: SelfPlayConfig = field(default_factory=SelfPlayConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    arena: ArenaConfig = field(default_factory=ArenaConfig)
    monitor: MonitorConfig = field(default_factory=MonitorConfig)

    def __post_init__(self) -> None:
        at_least(self, "seed", 0, 2**63 - 1)
        at_least(self, "iterations", 0, 10**7)
        at_least(self, "agent_simulations", 1, 10**6)
        at_least(self, "keep_checkpoints", 1, 10**4)
        at_least(self, "threads", 0, 4096)
        at_least(self, "torch_threads", 1, 4096)
        at_least(self, "cpu_budget_minutes", 0)

    @property
    def total_iterations(self) -> int:
        """The run's iterations: the supervised phase's, then self-play's."""
        return self.supervised.iterations + self.iterations

    def phase(self, i: int) -> str:
        """``supervised`` or ``selfplay``: the phase of iteration ``i``."""
        return "supervised" if i < self.supervised.iterations else "selfplay"


# --------------------------------------------------------------------------------------------------
# loading machinery

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


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _fail_type(key: str, expected: str, value: object) -> NoReturn:
    raise ConfigError(f"config key {key!r} expects {expected}, got {short(value)}")


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
    from zeroforge.atomic import write_text_atomic

    text = yaml.safe_dump(config_to_dict(cfg), sort_keys=False, default_flow_style=False)
    return write_text_atomic(Path(path), text)
