"""Observation-token helpers shared by the task families: the remaining-budget bucket and numbers as digit
tokens (a number is ``count`` decimal digits ``0..9``; a fraction is 7 tokens ``[sign, n2, n1, n0, d2, d1, d0]``)."""

from __future__ import annotations

from functools import lru_cache

__all__ = ["BUDGET_BUCKETS", "budget_bucket", "digit_tokens", "fraction_tokens"]


#: how many buckets the remaining step budget is shown in (maze, blocksworld, logic observations)
BUDGET_BUCKETS = 8


def budget_bucket(remaining: int, budget: int) -> int:
    """The bucket ``0..BUDGET_BUCKETS - 1`` of ``remaining`` steps out of ``budget`` (the full budget is the
    top bucket, the last step the bottom one)."""
    return min(BUDGET_BUCKETS - 1, BUDGET_BUCKETS * remaining // max(budget, 1))


def digit_tokens(value: int, count: int) -> tuple[int, ...]:
    """The ``count`` decimal digits of ``value >= 0`` as tokens ``0..9``, most significant first (zero-padded;
    ``value < 10 ** count``)."""
    return tuple(int(c) for c in str(value).zfill(count))


@lru_cache(maxsize=65536)
def fraction_tokens(numerator: int, denominator: int, signs: tuple[int, int, int, int]) -> tuple[int, ...]:
    """The 7 tokens ``[sign, n2, n1, n0, d2, d1, d0]`` of ``numerator / denominator`` in lowest terms (three
    digits each); ``signs = (POS, NEG, POS_CLIPPED, NEG_CLIPPED)`` are the task's sign tokens. When
    ``|numerator|`` or the denominator exceeds 999 both are clipped to 999 and the sign is a clipped one."""
    pos, neg, pos_clipped, neg_clipped = signs
    mag = abs(numerator)
    clipped = mag > 999 or denominator > 999
    sign = (neg_clipped if clipped else neg) if numerator < 0 else (pos_clipped if clipped else pos)
    return (sign, *digit_tokens(min(mag, 999), 3), *digit_tokens(min(denominator, 999), 3))
