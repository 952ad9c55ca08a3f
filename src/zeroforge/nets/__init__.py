"""Policy-value networks. Every net maps ``tokens int64[B, L]`` to ``(logits[B, A], value[B])``."""

from __future__ import annotations

import importlib

from torch import nn

from zeroforge.nets.mlp import MLPNet
from zeroforge.nets.params import NET_KINDS, NetConfig
from zeroforge.nets.resnet import ResNet
from zeroforge.nets.rules import RuleNet
from zeroforge.nets.transformer import TransformerNet
from zeroforge.tasks.base import Task

__all__ = ["MLPNet", "ResNet", "RuleNet", "TransformerNet", "build_net"]



def build_net(config: NetConfig, task: Task) -> nn.Module:
    """The net of ``config.kind`` sized for ``task`` (its vocabulary, sequence length and actions)."""
    if config.kind not in NET_KINDS:
        raise ValueError(f"unknown net kind {config.kind!r}; choose one of {sorted(NET_KINDS)}")
    module, name = NET_KINDS[config.kind]
    net_class: type[nn.Module] = getattr(importlib.import_module(module), name)
    return net_class(
        vocab_size=task.vocab_size,
        seq_len=task.seq_len,
        num_actions=task.num_actions,
        embed_dim=config.embed_dim,
        hidden=config.hidden,
        num_layers=config.num_layers,
    )
