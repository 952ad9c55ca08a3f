"""The policy-value net's parameters (``net`` in a run's config)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from zeroforge.params import at_least, one_of

__all__ = ["NET_KINDS", "NetConfig"]

#: the nets registry: kind -> the module and class that implement it (``zeroforge.nets.build_net`` imports it)
NET_KINDS: dict[str, tuple[str, str]] = {
    "mlp": ("zeroforge.nets.mlp", "MLPNet"),
    "resnet": ("zeroforge.nets.resnet", "ResNet"),
    "rules": ("zeroforge.nets.rules", "RuleNet"),
    "transformer": ("zeroforge.nets.transformer", "TransformerNet"),
}


@dataclass(frozen=True)
class NetConfig:
    """Policy-value network over token observations: ``kind`` is ``mlp``, ``resnet``, ``transformer``
    (self-attention across the tokens; ``num_layers`` encoder layers of width ``embed_dim``) or ``rules``
    (the relational net of the ``logic`` family: ``num_layers`` rounds of one attention layer over rule slots)."""

    SECTION: ClassVar[str] = "net"

    kind: str = "mlp"
    embed_dim: int = 16
    hidden: int = 128
    num_layers: int = 2

    def __post_init__(self) -> None:
        one_of(self, "kind", NET_KINDS)
        at_least(self, "embed_dim", 1, 65536)
        at_least(self, "hidden", 1, 65536)
        at_least(self, "num_layers", 1, 1024)
