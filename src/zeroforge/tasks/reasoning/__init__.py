"""Single-agent multi-step reasoning tasks (planning, logic); importing registers them."""

from zeroforge.tasks.reasoning import (
    blocksworld,  # noqa: F401
    logic,  # noqa: F401
)
