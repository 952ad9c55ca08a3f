"""Code tasks: programs in a small, safe DSL built instruction by instruction and verified on test cases;
importing registers them (``code_function``, ``code_sort``, ``code_class``)."""

from zeroforge.tasks.code import (
    classes,  # noqa: F401
    function,  # noqa: F401
    sorting,  # noqa: F401
)
