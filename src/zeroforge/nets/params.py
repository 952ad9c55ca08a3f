"""The policy-value net's parameters (``net`` in a run's config)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from zeroforge.params import at_least, one_of

__all__ = ["NET_KINDS", "NetConfig"]

#: the nets registry: kind -> the module and class that implement it (``zeroforge.nets.build_net`` imports it)
NET_KINDS: dict[str, tuple[str, str]] = {
    "mlp": ("zeroforge.nets.mlp", "MLPNet"),
    "pointer": ("zeroforge.nets.pointer", "PointerNet"),
    "resnet": ("zeroforge.nets.resnet", "ResNet"),
    "transformer": ("zeroforge.nets.transformer", "TransformerNet"),
}


@dataclass(frozen=True)
class NetConfig:
    """Policy-value network: ``kind`` is ``mlp``, ``resnet`` or ``transformer`` (self-attention across the tokens;
    ``num_layers`` encoder layers of width ``embed_dim``), all over the flat fixed-length tokens of one instance
    size; or ``pointer``, the size-free net of structured tasks (``zeroforge.nets.pointer``: a
    transformer with relative positions and pointer action heads; ``num_layers`` layers of width ``embed_dim``,
    feed-forward and head width ``hidden``, the layers applied ``recurrence`` times with shared weights;
    ``match_bias``: attention also sees which tokens share a feature value, for label features such as block
    names or logic literals; ``distance_bias``: attention and the pointer heads also see how far apart two tokens'
    ``(a, b)`` coordinates are, for geometric tasks such as tsp; ``progressive``: train the recurrence with the
    progressive loss, so that more repeats can serve larger instances). ``auto`` (the default) is ``pointer`` for a
    structured task and ``mlp`` for the others."""

    SECTION: ClassVar[str] = "net"

    kind: str = "auto"
    embed_dim: int = 16
    hidden: int = 128
    num_layers: int = 2
    recurrence: int = 1
    match_bias: bool = False
    progressive: bool = False
    distance_bias: bool = False

    def __post_init__(self) -> None:
        one_of(self, "kind", ("auto", *NET_KINDS))
        at_least(self, "embed_dim", 1, 65536)
        at_least(self, "hidden", 1, 65536)
        at_least(self, "num_layers", 1, 1024)
        at_least(self, "recurrence", 1, 1024)
