"""Math tasks solved step by step with exact rewrite operations (arithmetic, equations, systems); importing
registers them."""

from zeroforge.tasks.math import (
    arithmetic,  # noqa: F401  (registers arithmetic)
    linear_equation,  # noqa: F401  (registers linear_equation)
    linear_system,  # noqa: F401  (registers linear_system)
    quadratic,  # noqa: F401  (registers quadratic)
)
