"""What the three code tasks share: value tokens for observations and JSON instance reading.

Value tokens (the low end of every code task's vocabulary):

- ``0 .. 79``: the integers ``-20 .. 59`` (token ``v + 20``);
- ``80`` LOW (an integer below ``-20``), ``81`` HIGH (above ``59``), ``82`` PAD, ``83`` INT, ``84`` LIST
  (type tags), ``85`` NONE (no value), ``86`` ERR (the run failed), ``87 .. 94`` remaining-budget
  buckets ``0 .. 7``; tasks number their own tokens from :data:`FIRST_FREE` = ``95``.

A value *block* of width ``1 + MAX_LIST`` is ``[INT, v, PAD...]`` for an int, ``[LIST, e0, e1, ...,
PAD...]`` for a list (elements past ``MAX_LIST`` are not shown), ``[NONE, PAD...]`` / ``[ERR, PAD...]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from zeroforge.tasks.code.dsl import Instr, Value, parse_program
from zeroforge.tasks.tokens import BUDGET_BUCKETS, budget_bucket

__all__ = [
    "ERR",
    "FIRST_FREE",
    "INT",
    "LIST",
    "MAX_ABS",
    "MAX_LIST",
    "NONE",
    "PAD",
    "budget_token",
    "check_int",
    "check_kind",
    "check_list",
    "check_value",
    "instruction_action",
    "int_token",
    "to_json",
    "value_block",
    "value_token",
]

VALUE_LO, VALUE_HI = -20, 59
LOW, HIGH = 80, 81
PAD, INT, LIST, NONE, ERR = 82, 83, 84, 85, 86
BUDGET0 = 87
FIRST_FREE = BUDGET0 + BUDGET_BUCKETS
#: longest list an instance may hold (and a value block shows)
MAX_LIST = 6
#: largest magnitude of an integer in an instance read from text
MAX_ABS = 10**6


def int_token(v: int) -> int:
    """The token of integer ``v`` (clipped to LOW / HIGH outside ``-20..59``)."""
    if v < VALUE_LO:
        return LOW
    if v > VALUE_HI:
        return HIGH
    return v - VALUE_LO


def budget_token(remaining: int, budget: int) -> int:
    """The token of the remaining-budget bucket (``BUDGET0 + budget_bucket(remaining, budget)``)."""
    return BUDGET0 + budget_bucket(remaining, budget)


def value_token(v: Value | None, error: bool = False) -> int:
    """A single token for a value: its int token, ``LIST`` for a list, ``NONE`` / ``ERR``."""
    if error:
        return ERR
    if v is None:
        return NONE
    if isinstance(v, tuple):
        return LIST
    return int_token(v)


def value_block(v: Value | None, error: bool = False) -> list[int]:
    """The ``1 + MAX_LIST`` tokens of a value (see the module docstring)."""
    if error:
        return [ERR] + [PAD] * MAX_LIST
    if v is None:
        return [NONE] + [PAD] * MAX_LIST
    if isinstance(v, tuple):
        shown = [int_token(x) for x in v[:MAX_LIST]]
        return [LIST, *shown] + [PAD] * (MAX_LIST - len(shown))
    return [INT, int_token(v)] + [PAD] * (MAX_LIST - 1)


def to_json(v: Value | None) -> Any:
    """A value as JSON data (lists for tuples)."""
    return list(v) if isinstance(v, tuple) else v


def check_int(task: str, where: str, x: Any, lo: int = -MAX_ABS, hi: int = MAX_ABS) -> int:
    """``x`` as an int in ``lo..hi`` or a one-line ``ValueError`` starting with ``task``."""
    if isinstance(x, bool) or not isinstance(x, int) or not lo <= x <= hi:
        raise ValueError(f"{task}: {where} must be an integer in {lo}..{hi}, got {_short(x)}")
    return int(x)


def check_value(task: str, where: str, x: Any, allow_list: bool = True) -> Value:
    """A JSON value as a language value: an int with ``|v| <= MAX_ABS`` or (``allow_list``) a list of at most
    ``MAX_LIST`` such ints; anything else raises a one-line ``ValueError`` starting with ``task``."""
    if isinstance(x, list) and allow_list:
        if len(x) > MAX_LIST:
            raise ValueError(f"{task}: {where} is a list of {len(x)} items, at most {MAX_LIST} allowed")
        return tuple(check_int(task, f"{where} elements", e) for e in x)
    if isinstance(x, bool) or not isinstance(x, int):
        kind = "an integer or a list of integers" if allow_list else "an integer"
        raise ValueError(f"{task}: {where} must be {kind}, got {_short(x)}")
    return check_int(task, where, x)


def _short(x: Any) -> str:
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


def instruction_action(task: str, text: str, instructions: Sequence[Instr], stop: tuple[str, int]) -> int:
    """The action of one instruction's text among a task's ``instructions`` (action ``a`` appends
    ``instructions[a]``), or of the task's stop word ``stop = (text, action)`` (``"RETURN"``, ``"END"``)."""
    if text.strip() == stop[0]:
        return stop[1]
    ins = parse_program(text, instructions).instrs
    if len(ins) != 1:
        raise ValueError(f"{task}: expected one instruction, got {text!r}")
    return list(instructions).index(ins[0])


def check_kind(task: str, data: dict[str, Any], kind: str) -> None:
    """The instance's ``"kind"`` must be ``kind``."""
    if data.get("kind") != kind:
        raise ValueError(f"{task}: instance kind must be {kind!r}, got {_short(data.get('kind'))}")


def check_list(task: str, where: str, x: Any, lo: int, hi: int) -> list[Any]:
    """``x`` must be a JSON list of ``lo..hi`` items."""
    if not isinstance(x, list):
        raise ValueError(f"{task}: {where} must be a list, got {type(x).__name__}")
    if not lo <= len(x) <= hi:
        raise ValueError(f"{task}: {where} must have {lo}..{hi} items, got {len(x)}")
    return x
