"""Beyond one process: data-parallel training of the learner (``ddp``)."""

from zeroforge.distributed.ddp import DistContext, init_from_env

__all__ = ["DistContext", "init_from_env"]
