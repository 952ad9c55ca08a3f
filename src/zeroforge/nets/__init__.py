"""Policy-value networks. Flat nets map ``tokens int64[B, L]`` to ``(logits[B, A], value[B])``; the size-free
``PointerNet`` maps structured ``(tokens int64[B, N, 5], pointers int64[B, A, 3])`` (``zeroforge.nets.inputs``)."""

from __future__ import annotations

import importlib

from torch import nn

from zeroforge.nets.mlp import MLPNet
from zeroforge.nets.params import NET_KINDS, NetConfig
from zeroforge.nets.pointer import PointerNet
from zeroforge.nets.resnet import ResNet
from zeroforge.nets.transformer import TransformerNet
from zeroforge.tasks.base import Task

__all__ = ["MLPNet", "PointerNet", "ResNet", "TransformerNet", "build_net"]


def build_net(config: NetConfig, task: Task) -> nn.Module:
    """The net of ``config.kind`` for ``task``: a flat net sized for its vocabulary, sequence length and actions,
    or the size-free ``pointer`` net of a structured task (``Task.structured``); ``auto`` picks the one that fits."""
    kind = ("pointer" if task.structured else "mlp") if config.kind == "auto" else config.kind
    if kind not in NET_KINDS:
        raise ValueError(f"unknown net kind {config.kind!r}; choose one of {sorted(NET_KINDS)}")
    module, name = NET_KINDS[kind]
    net_class: type[nn.Module] = getattr(importlib.import_module(module), name)
    if task.structured != bool(getattr(net_class, "structured", False)):
        if task.structured:
            raise ValueError(f"task {task.name!r} has size-free structured observations: use net.kind 'pointer' "
                             f"(net kind {config.kind!r} reads flat tokens of one size)")
        raise ValueError(f"net kind {config.kind!r} reads structured observations; task {task.name!r} has flat "
                         f"tokens: use one of {sorted(k for k in NET_KINDS if k != config.kind)}")
    sizes = {"embed_dim": config.embed_dim, "hidden": config.hidden, "num_layers": config.num_layers}
    if task.structured:
        return net_class(**sizes, recurrence=config.recurrence, match_bias=config.match_bias,
                         progressive=config.progressive, distance_bias=config.distance_bias)
    if config.recurrence != 1:
        raise ValueError(f"net.recurrence is for the pointer net; net kind {kind!r} has none (set it to 1)")
    for flag in ("match_bias", "progressive", "distance_bias"):
        if getattr(config, flag):
            raise ValueError(f"net.{flag} is for the pointer net; net kind {kind!r} has none (set it to false)")
    return net_class(vocab_size=task.vocab_size, seq_len=task.seq_len, num_actions=task.num_actions, **sizes)
