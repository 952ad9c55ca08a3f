"""Tasks: pure MDPs over immutable states, built by name with ``make_task``.

Importing this package registers the built-in tasks (the modules below register themselves with
``@register_task`` when imported).
"""

from zeroforge.tasks import (
    code,  # noqa: F401  (registers the program-synthesis tasks)
    games,  # noqa: F401  (registers tictactoe, connect_four, connect_n, nim)
    math,  # noqa: F401  (registers the step-by-step math tasks)
    mix,  # noqa: F401  (registers mix: one task over several families)
    reasoning,  # noqa: F401  (registers the single-agent reasoning tasks)
    search,  # noqa: F401  (registers the single-agent search tasks)
)
from zeroforge.tasks.base import State, Task, frozen_array
from zeroforge.tasks.mix import MixedTask
from zeroforge.tasks.registry import available_tasks, make_task, register_task
from zeroforge.tasks.sequence import SequenceTask

__all__ = ["MixedTask", "SequenceTask", "State", "Task", "available_tasks", "frozen_array", "make_task",
           "register_task"]
