"""Policy-value networks. Flat nets map ``tokens int64[B, L]`` to ``(logits[B, A], value[B])``; the size-free
``PointerNet`` maps structured ``(tokens int64[B, N, 5], pointers int64[B, A, 3])`` (``zeroforge.nets.inputs``)."""

from __future__ import annotations

import dataclasses
import importlib

from torch import nn

from zeroforge.nets.mlp import MLPNet
from zeroforge.nets.params import NET_KINDS, STRUCTURED_KINDS, NetConfig
from zeroforge.nets.pointer import PointerNet
from zeroforge.nets.resnet import ResNet
from zeroforge.nets.sequence import SequenceView
from zeroforge.nets.token_mlp import TokenMLPNet
from zeroforge.nets.transformer import TransformerNet
from zeroforge.tasks.base import Task

__all__ = ["MLPNet", "PointerNet", "ResNet", "SequenceView", "TokenMLPNet", "TransformerNet", "build_net"]


def build_net(config: NetConfig, task: Task) -> nn.Module:
    """The net of ``config.kind`` for ``task``: a flat net sized for its vocabulary, sequence length and actions, or
    a size-free structured net (``pointer``, ``trm``, ``hrm``); ``auto`` is ``pointer`` for a structured task
    (``Task.structured``) and ``mlp`` for the others. A structured net reads a flat task's tokens as a 1-D sequence
    (``SequenceView``); a flat net cannot read a structured task."""
    kind = ("pointer" if task.structured else "mlp") if config.kind == "auto" else config.kind
    if kind not in NET_KINDS:
        raise ValueError(f"unknown net kind {config.kind!r}; choose one of {sorted(NET_KINDS)}")
    module, name = NET_KINDS[kind]
    net_class: type[nn.Module] = getattr(importlib.import_module(module), name)
    sizes = {"embed_dim": config.embed_dim, "hidden": config.hidden, "num_layers": config.num_layers}
    if kind == "mlp" and task.structured:  # the size-free MLP: per-token blocks, no attention
        _check_defaults(config, kind, ("recurrence", "match_bias", "progressive", "distance_bias"))
        return TokenMLPNet(**sizes)
    if kind not in STRUCTURED_KINDS:
        if task.structured:
            raise ValueError(f"task {task.name!r} has size-free structured observations: use net.kind 'pointer' "
                             f"(net kind {config.kind!r} reads flat tokens of one size)")
        _check_defaults(config, kind, ("recurrence", "match_bias", "progressive", "distance_bias"))
        return net_class(vocab_size=task.vocab_size, seq_len=task.seq_len, num_actions=task.num_actions, **sizes)
    options = {"match_bias": config.match_bias, "distance_bias": config.distance_bias}
    if kind == "pointer":
        net = net_class(**sizes, **options, recurrence=config.recurrence, progressive=config.progressive)
    else:
        _check_defaults(config, kind, ("recurrence", "progressive"), f"the pointer net; net kind {kind!r} recurs by "
                        f"net.{kind}")
        net = net_class(**sizes, **options, **dataclasses.asdict(getattr(config, kind)))
    return net if task.structured else SequenceView(net, task.vocab_size, task.seq_len, task.num_actions)


def _check_defaults(config: NetConfig, kind: str, flags: tuple[str, ...], owner: str | None = None) -> None:
    """A one-line ``ValueError`` for the first of ``flags`` set away from its default: net ``kind`` has no use for
    it (``owner`` says which nets do)."""
    for flag in flags:
        default = getattr(NetConfig, flag)
        if getattr(config, flag) != default:
            who = owner or f"the structured nets {list(STRUCTURED_KINDS)}; net kind {kind!r} has none"
            raise ValueError(f"net.{flag} is for {who} (leave it at {default})")
