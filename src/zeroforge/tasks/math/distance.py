"""The breadth-first distance of a one-variable equation to its goal: the horizon that sets the step budget
and the optimal episode length of ``linear_equation`` and ``quadratic``.

The moves searched are every non-terminal action except swap and the declarations (moves, combines, LCD,
divide); states are compared as multisets of terms per side and up to swapping sides, which changes no
distance. The goal is the solved form ``x = c`` (linear), a collected form with no x-term and at most one
constant (a linear equation without a unique solution), or a state where factor / formula / square root is
legal (quadratic: the standard form or ``x^2 = c``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from fractions import Fraction
from functools import lru_cache

from zeroforge.tasks.math.sides import (
    Side,
    abc,
    can_combine,
    combine,
    divide_linear,
    lcd,
    linear_divisible,
    linear_solved,
    move_term,
    scale,
    sqrt_form,
    standard_side,
)

__all__ = ["canonical_sides", "shortest_distance", "shortest_path"]


def canonical_sides(left: Side, right: Side) -> tuple[Side, Side]:
    """``left = right`` as the positions of :func:`shortest_path` are written: each side's terms sorted, the
    smaller side first."""
    a, b = tuple(sorted(left)), tuple(sorted(right))
    return (a, b) if a <= b else (b, a)


def _successors(left: Side, right: Side, k: int, quadratic: bool) -> list[tuple[Side, Side]]:
    """Every state one BFS action away (moves, combines, LCD, divide; not swap, finishing or declaring)."""
    out: list[tuple[Side, Side]] = []
    for src, dst, flip in ((left, right, False), (right, left, True)):
        if len(dst) < k:
            for term in dict.fromkeys(src):
                new_src, new_dst = move_term(src, dst, src.index(term))
                out.append((new_dst, new_src) if flip else (new_src, new_dst))
    if can_combine(left):
        out.append((combine(left), right))
    if can_combine(right):
        out.append((left, combine(right)))
    factor = lcd(left, right)
    if factor != 1:
        out.append((scale(left, Fraction(factor)), scale(right, Fraction(factor))))
    if quadratic:
        std = standard_side(left, right)
        if std is not None and abc(std)[0] != 1:
            inv = 1 / abc(std)[0]
            out.append((scale(left, inv), scale(right, inv)))
    elif linear_divisible(left, right):
        out.append(divide_linear(left, right))
    return out


def _linear_goal(degenerate: bool) -> Callable[[Side, Side], bool]:
    if degenerate:
        return lambda left, right: all(deg == 0 for deg, _ in left + right) and len(left) + len(right) <= 1
    return linear_solved


def _quadratic_goal(left: Side, right: Side) -> bool:
    return standard_side(left, right) is not None or sqrt_form(left, right) is not None


@lru_cache(maxsize=4096)
def shortest_distance(left: Side, right: Side, k: int, quadratic: bool, degenerate: bool, limit: int) -> int | None:
    """Breadth-first distance (at most ``limit``) from ``left = right`` to the goal of the task (see the module
    docstring); ``None`` if the goal is farther."""
    path = shortest_path(left, right, k, quadratic, degenerate, limit)
    return None if path is None else len(path)


def shortest_path(left: Side, right: Side, k: int, quadratic: bool, degenerate: bool,
                  limit: int) -> list[tuple[Side, Side]] | None:
    """The positions of a shortest path (at most ``limit`` steps) from ``left = right`` to the goal, the start
    left out and the goal last, each canonical (each side's terms sorted, the smaller side first); ``[]`` at the
    goal, ``None`` if the goal is farther."""
    goal = _quadratic_goal if quadratic else _linear_goal(degenerate)
    start = canonical_sides(left, right)
    if goal(*start):
        return []
    parents: dict[tuple[Side, Side], tuple[Side, Side] | None] = {start: None}
    frontier = deque([(start, 0)])
    while frontier:
        (a, b), dist = frontier.popleft()
        if dist >= limit:
            continue
        for nxt in _successors(a, b, k, quadratic):
            key = canonical_sides(*nxt)
            if key in parents:
                continue
            parents[key] = (a, b)
            if goal(*key):
                path: list[tuple[Side, Side]] = []
                at: tuple[Side, Side] | None = key
                while at is not None and at != start:
                    path.append(at)
                    at = parents[at]
                return path[::-1]
            frontier.append((key, dist + 1))
    return None
