"""The instruction set of the code tasks: a small, safe stack language, its programs and their text form.

Values are Python ``int`` s and lists of ints (``tuple[int, ...]`` internally, so values are immutable and
hashable). A program is a sequence of instructions; each instruction has its argument folded in, so one
instruction is one action of a task (``PUSH 3``, ``CSWAP 0 2``, ``JZ +2``, ``LOAD 0``). Nothing here ever
runs Python text: :mod:`zeroforge.tasks.code.interpreter` executes programs, and
:mod:`zeroforge.tasks.code.export` writes them out as Python source for people (run only in a sandbox).

Stack effects (``a`` the second item, ``b`` the top; ``int`` / ``list`` the required types; a wrong type, too
few items or an empty list where an item is needed is a run-time error):

=====================  ==========================  ==================================================
instruction            stack                       meaning
=====================  ==========================  ==================================================
``PUSH c``             ``-> c``                    ``c`` in ``-1..9``
``NIL``                ``-> []``                   the empty list
``DUP``                ``a -> a a``                any value
``SWAP``               ``a b -> b a``
``DROP``               ``a ->``
``OVER``               ``a b -> a b a``
``ADD SUB MUL``        ``int int -> int``          ``a + b``, ``a - b``, ``a * b``
``DIV MOD``            ``int int -> int``          floor ``a // b``, ``a % b`` (Python's); ``b == 0`` is an error
``MAX2 MIN2``          ``int int -> int``          ``max(a, b)``, ``min(a, b)``
``LT EQ``              ``int int -> int``          ``1`` if ``a < b`` / ``a == b`` else ``0``
``NEG INC DEC``        ``int -> int``              ``-a``, ``a + 1``, ``a - 1``
``LEN SUM``            ``list -> int``             length, sum (``0`` for ``[]``)
``MAXL MINL``          ``list -> int``             largest / smallest element (``[]`` is an error)
``HEAD LAST``          ``list -> int``             first / last element (``[]`` is an error)
``REVERSE SORT``       ``list -> list``            reversed, sorted ascending
``TAIL``               ``list -> list``            all but the first element (``[]`` is an error)
``TAKE``               ``list int -> list``        the first ``b`` elements (``b < 0`` is an error)
``APPEND``             ``list int -> list``        ``a + [b]``
``POP``                ``list -> list int``        all but the last element, then the last on top
``SHIFT``              ``list -> list int``        all but the first element, then the first on top
``MAP_f``              ``list -> list``            ``f`` in INC, DEC, DOUBLE, NEG, SQUARE, elementwise
``FILTER_p``           ``list -> list``            keep elements with ``p`` in POS (``> 0``), NEG (``< 0``),
                                                   EVEN, ODD
``CSWAP i j``          ``list -> list``            ``0 <= i < j <= 7``: min of positions ``i, j`` at ``i``,
                                                   max at ``j`` (the list must have more than ``j`` items)
``JZ +k``              ``int ->``                  ``k`` in ``1..8``: if zero, skip the next ``k``
                                                   instructions (a jump past the end ends the run)
``JMP -k``             ``->``                      ``k`` in ``1..8``: jump back to the instruction ``k``
                                                   before this one (loops; before the start is an error)
``ARG``                ``-> arg``                  the method's call argument (class methods; none: error)
``LOAD f`` / ``STORE f``  ``-> v`` / ``v ->``      read / write field ``f`` in ``0..3`` (class methods)
=====================  ==========================  ==================================================

Text form: an instruction is its opcode and arguments separated by spaces (``"PUSH -1"``, ``"CSWAP 0 2"``,
``"JZ +2"``, ``"JMP -3"``); a program is its instructions joined by ``"; "`` (``"PUSH 3; MUL; PUSH 2; ADD"``),
the empty program is ``""``. :func:`parse_program` reads that form back (``;`` or newlines separate).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from zeroforge.tasks.instances import short_repr

__all__ = [
    "ALL_INSTRUCTIONS",
    "BINARY_INT_OPS",
    "FIELDS",
    "FILTERS",
    "JUMP_RANGE",
    "MAPS",
    "MAX_CSWAP",
    "PUSH_RANGE",
    "Instr",
    "Program",
    "Value",
    "instr",
    "is_value",
    "parse_instr",
    "parse_program",
    "value_text",
]

#: a value of the language: an int or an (immutable) list of ints
Value = int | tuple[int, ...]

PUSH_RANGE = range(-1, 10)
JUMP_RANGE = range(1, 9)
MAX_CSWAP = 8  # CSWAP positions are 0..MAX_CSWAP-1
FIELDS = range(4)
MAPS = ("INC", "DEC", "DOUBLE", "NEG", "SQUARE")
FILTERS = ("POS", "NEG", "EVEN", "ODD")
BINARY_INT_OPS = ("ADD", "SUB", "MUL", "DIV", "MOD", "MAX2", "MIN2", "LT", "EQ")
UNARY_INT_OPS = ("NEG", "INC", "DEC")
LIST_TO_INT_OPS = ("LEN", "SUM", "MAXL", "MINL", "HEAD", "LAST")
LIST_TO_LIST_OPS = ("REVERSE", "SORT", "TAIL", *(f"MAP_{m}" for m in MAPS), *(f"FILTER_{p}" for p in FILTERS))
STACK_OPS = ("DUP", "SWAP", "DROP", "OVER")
#: opcodes without an argument
PLAIN_OPS = (
    "NIL", *STACK_OPS, *BINARY_INT_OPS, *UNARY_INT_OPS, *LIST_TO_INT_OPS, *LIST_TO_LIST_OPS,
    "TAKE", "APPEND", "POP", "SHIFT", "ARG",
)  # fmt: skip


class Instr(NamedTuple):
    """One instruction: opcode ``op`` and its folded-in arguments ``a`` / ``b`` (``0`` when unused)."""

    op: str
    a: int = 0
    b: int = 0

    def __str__(self) -> str:
        if self.op in ("PUSH", "LOAD", "STORE"):
            return f"{self.op} {self.a}"
        if self.op == "JZ":
            return f"JZ +{self.a}"
        if self.op == "JMP":
            return f"JMP -{self.a}"
        if self.op == "CSWAP":
            return f"CSWAP {self.a} {self.b}"
        return self.op


def _catalog() -> tuple[Instr, ...]:
    out = [Instr("PUSH", c) for c in PUSH_RANGE]
    out += [Instr(op) for op in PLAIN_OPS]
    out += [Instr("CSWAP", i, j) for i in range(MAX_CSWAP) for j in range(i + 1, MAX_CSWAP)]
    out += [Instr("JZ", k) for k in JUMP_RANGE]
    out += [Instr("JMP", k) for k in JUMP_RANGE]
    out += [Instr("LOAD", f) for f in FIELDS]
    out += [Instr("STORE", f) for f in FIELDS]
    return tuple(out)


#: every valid instruction (opcode with in-range arguments), in a fixed order
ALL_INSTRUCTIONS: tuple[Instr, ...] = _catalog()
_VALID = frozenset(ALL_INSTRUCTIONS)
_BY_TEXT = {str(i): i for i in ALL_INSTRUCTIONS}


def is_valid(ins: object) -> bool:
    """Whether ``ins`` is one of :data:`ALL_INSTRUCTIONS`."""
    return isinstance(ins, Instr) and ins in _VALID


def instr(text: str) -> Instr:
    """The instruction written as ``text`` (``"PUSH 3"``); raises ``ValueError`` if it is not one."""
    found = _BY_TEXT.get(" ".join(text.split()))
    if found is None:
        raise ValueError(f"unknown instruction {short_repr(text)}")
    return found


parse_instr = instr


@dataclass(frozen=True)
class Program:
    """An immutable instruction sequence."""

    instrs: tuple[Instr, ...] = ()

    @classmethod
    def of(cls, items: Iterable[Instr | str]) -> Program:
        """A program from instructions or their texts."""
        return cls(tuple(i if isinstance(i, Instr) else instr(i) for i in items))

    def __len__(self) -> int:
        return len(self.instrs)

    def __add__(self, other: Program) -> Program:
        return Program(self.instrs + other.instrs)

    @property
    def has_jumps(self) -> bool:
        """Whether the program contains ``JZ`` / ``JMP`` (exported with a pc loop then)."""
        return any(i.op in ("JZ", "JMP") for i in self.instrs)

    def text(self) -> str:
        """``"PUSH 3; MUL; PUSH 2; ADD"`` (``""`` for the empty program)."""
        return "; ".join(str(i) for i in self.instrs)

    def __str__(self) -> str:
        return self.text()


def parse_program(text: str, allowed: Sequence[Instr] | None = None) -> Program:
    """The program written as ``text`` (instructions separated by ``;`` or newlines; blank parts are
    skipped). With ``allowed``, every instruction must be one of them. Raises a ``ValueError`` naming the
    first bad instruction."""
    if not isinstance(text, str):
        raise ValueError(f"a program must be a string, got {type(text).__name__}")
    parts = [p.strip() for p in text.replace("\n", ";").split(";")]
    out = []
    for p in parts:
        if not p:
            continue
        ins = instr(p)
        if allowed is not None and ins not in allowed:
            raise ValueError(f"instruction {short_repr(p)} is not available here")
        out.append(ins)
    return Program(tuple(out))


def is_value(v: object) -> bool:
    """Whether ``v`` is a value of the language (an ``int`` - not a ``bool`` - or a tuple of them)."""
    if type(v) is int:
        return True
    return type(v) is tuple and all(type(x) is int for x in v)


def value_text(v: Value | None) -> str:
    """``"3"``, ``"[1, 2]"`` or ``"-"`` for no value."""
    if v is None:
        return "-"
    if isinstance(v, tuple):
        return "[" + ", ".join(str(x) for x in v) + "]"
    return str(v)
