"""Single-agent multi-step reasoning tasks (planning, logic, sudoku); importing registers them."""

from zeroforge.tasks.reasoning import (
    blocksworld,  # noqa: F401
    logic,  # noqa: F401
    sudoku,  # noqa: F401
)
