"""Single-agent search tasks (path finding, arithmetic search, ...); importing registers them."""

from zeroforge.tasks.search import (
    countdown,  # noqa: F401
    knapsack,  # noqa: F401
    maze,  # noqa: F401
    tsp,  # noqa: F401
)
