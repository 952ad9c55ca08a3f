"""``resolve_device``: a torch device name checked against this machine, with a one-line error naming the key."""

from __future__ import annotations

import torch

__all__ = ["resolve_device"]


def resolve_device(name: str | torch.device, key: str = "train.device") -> torch.device:
    """``torch.device(name)``, refused in one line (a ``ValueError`` naming ``key``) when it is not a device name
    or this machine does not have it: ``cuda`` without a GPU (or its index beyond the GPUs), ``mps`` off Apple."""
    from zeroforge.params import ConfigError

    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        raise ConfigError(f"config key {key!r} must be a torch device such as 'cpu' or 'cuda:0', "
                          f"got {name!r}") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"config key {key!r} is {name!r}, but torch sees no CUDA device here; use 'cpu'")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ConfigError(f"config key {key!r} is {name!r}, but there are {torch.cuda.device_count()} CUDA devices")
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(f"config key {key!r} is {name!r}, but MPS is not available here; use 'cpu'")
    elif device.type not in ("cpu", "cuda", "mps"):
        raise ConfigError(f"config key {key!r}: device type {device.type!r} is not supported (cpu, cuda, mps)")
    return device
