"""The observation vocabulary of the math tasks and their numbers: token ids, a number as 7 tokens, a
number as text.

Token vocabulary (every math task uses the same ids; ``VOCAB_SIZE = 31``):

- ``0..9`` decimal digits; ``10`` PAD; ``11`` POS, ``12`` NEG, ``13`` POS_CLIPPED, ``14`` NEG_CLIPPED (the
  sign token of a number); ``15`` EMPTY (an empty slot);
- ``16`` CONST, ``17`` X, ``18`` X2 (the kind of an equation term: constant, ``c*x``, ``c*x^2``);
- ``19`` RUNNING, ``20`` SOLVED, ``21`` DECLARED, ``22`` FAILED (the status of an episode);
- ``23..30`` remaining-budget bucket ``0..7`` (:func:`~zeroforge.tasks.tokens.budget_bucket`).

The arithmetic task reuses ``16..19`` as its operators ``+ - * /``.

A number is :data:`NUMBER_TOKENS` = 7 tokens ``[sign, n2, n1, n0, d2, d1, d0]``: the value in lowest terms
``sign * numerator / denominator`` with three digits each (an integer has denominator ``001``, zero is
POS ``000/001``). If ``|numerator|`` or the denominator exceeds 999 both are clipped to 999 and the sign
becomes ``*_CLIPPED``.
"""

from __future__ import annotations

from fractions import Fraction

from zeroforge.tasks.tokens import BUDGET_BUCKETS, fraction_tokens

__all__ = [
    "BUDGET0",
    "CONST",
    "DECLARED",
    "EMPTY",
    "EMPTY_NUMBER",
    "FAILED",
    "NEG",
    "NEG_CLIPPED",
    "NUMBER_TOKENS",
    "PAD",
    "POS",
    "POS_CLIPPED",
    "RUNNING",
    "SOLVED",
    "VOCAB_SIZE",
    "X2",
    "X",
    "fmt",
    "number_tokens",
]  # fmt: skip

PAD, POS, NEG, POS_CLIPPED, NEG_CLIPPED, EMPTY = 10, 11, 12, 13, 14, 15
CONST, X, X2 = 16, 17, 18
RUNNING, SOLVED, DECLARED, FAILED = 19, 20, 21, 22
BUDGET0 = 23
VOCAB_SIZE = BUDGET0 + BUDGET_BUCKETS
NUMBER_TOKENS = 7
_SIGNS = (POS, NEG, POS_CLIPPED, NEG_CLIPPED)
EMPTY_NUMBER = (EMPTY,) + (PAD,) * (NUMBER_TOKENS - 1)


def number_tokens(value: Fraction) -> tuple[int, ...]:
    """The 7 tokens of an exact number (see the module docstring)."""
    return fraction_tokens(value.numerator, value.denominator, _SIGNS)


def fmt(value: Fraction) -> str:
    """``"3"``, ``"-3"``, ``"1/2"``, ``"-1/2"`` (lowest terms)."""
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
