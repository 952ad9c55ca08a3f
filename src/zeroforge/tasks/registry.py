"""The task registry: ``@register_task(name)`` on a task class, ``make_task(name, **params)`` to build one,
``available_tasks()`` to list them. Importing :mod:`zeroforge.tasks` registers the built-in tasks."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from zeroforge.tasks.base import Task

__all__ = ["available_tasks", "make_task", "register_task"]

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
