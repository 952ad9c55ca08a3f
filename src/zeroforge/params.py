"""What every component's parameter dataclass shares: ``ConfigError`` and the value checks of their
``__post_init__``. A parameter class names its section of the run config in ``SECTION`` (``mcts``, ``train``,
...), so an error names the dotted key (``config key 'train.batch_size' must be >= 1, got int 0``).

The arrow points from ``zeroforge.config`` (which composes the sections and loads YAML) to the components that
own them (``search.params``, ``selfplay.params``, ``train.params``, ``arena.params``, ``nets.params``); the
components import only this module."""

from __future__ import annotations

import math
from collections.abc import Collection

__all__ = ["ConfigError", "at_least", "is_number", "one_of", "positive", "require", "short", "unit_interval"]


class ConfigError(ValueError):
    """A configuration problem, described in one line that names the dotted key or the file."""


def short(value: object, limit: int = 60) -> str:
    """``type 'repr'`` of a value on one line, truncated."""
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"{type(value).__name__} {text}"


def _key(obj: object, name: str) -> str:
    prefix = getattr(type(obj), "SECTION", "")
    return f"{prefix}.{name}" if prefix else name


def require(obj: object, name: str, ok: bool, requirement: str) -> None:
    """A ``ConfigError`` naming ``SECTION.name`` and its value unless ``ok``."""
    if not ok:
        value = getattr(obj, name)
        raise ConfigError(f"config key {_key(obj, name)!r} must be {requirement}, got {short(value)}")


def is_number(value: object) -> bool:
    """A finite int or float (not a bool)."""
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, int) and not isinstance(value, bool)


def at_least(obj: object, name: str, low: float, high: float | None = None) -> None:
    """``low <= value`` (and ``<= high``: a count so big it would exhaust the machine is a typo, not a plan)."""
    value = getattr(obj, name)
    require(obj, name, is_number(value) and value >= low, f">= {low}")
    if high is not None:
        require(obj, name, value <= high, f"<= {high:,}")


def positive(obj: object, name: str) -> None:
    value = getattr(obj, name)
    require(obj, name, is_number(value) and value > 0, "> 0 (and finite)")


def one_of(obj: object, name: str, choices: Collection[str]) -> None:
    require(obj, name, getattr(obj, name) in choices, f"one of {sorted(choices)}")


def unit_interval(obj: object, name: str) -> None:
    value = getattr(obj, name)
    require(obj, name, is_number(value) and 0 <= value <= 1, "in [0, 1]")
