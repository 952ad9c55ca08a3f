"""Policy-value networks. Every net maps ``tokens int64[B, L]`` to ``(logits[B, A], value[B])``."""

from __future__ import annotations

from torch import nn

from zeroforge.config import NetConfig
from zeroforge.nets.mlp import MLPNet
from zeroforge.nets.resnet import ResNet
from zeroforge.nets.rules import RuleNet
from zeroforge.nets.transformer import TransformerNet
from zeroforge.tasks.base import Task

__all__ = ["MLPNet", "ResNet", "RuleNet", "TransformerNet", "build_net"]

_KINDS: dict[str, type[nn.Module]] = {
    "mlp": MLPNet, "resnet": ResNet, "transformer": TransformerNet, "rules": RuleNet,
}


def build_net(config: NetConfig, task: Task) -> nn.Module:
    """The net of ``config.kind`` sized for ``task`` (its vocabulary, sequence length and actions)."""
    if config.kind not in _KINDS:
        raise ValueError(f"unknown net kind {config.kind!r}; choose one of {sorted(_KINDS)}")
    return _KINDS[config.kind](
        vocab_size=task.vocab_size,
        seq_len=task.seq_len,
        num_actions=task.num_actions,
        embed_dim=config.embed_dim,
        hidden=config.hidden,
        num_layers=config.num_layers,
    )
