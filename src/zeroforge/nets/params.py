"""The policy-value net's parameters (``net`` in a run's config)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from zeroforge.params import at_least, one_of, unit_interval

__all__ = ["NET_KINDS", "RECURSIVE_KINDS", "STRUCTURED_KINDS", "HRMConfig", "NetConfig", "TRMConfig"]

#: the nets registry: kind -> the module and class that implement it (``zeroforge.nets.build_net`` imports it)
NET_KINDS: dict[str, tuple[str, str]] = {
    "mlp": ("zeroforge.nets.mlp", "MLPNet"),
    "pointer": ("zeroforge.nets.pointer", "PointerNet"),
    "resnet": ("zeroforge.nets.resnet", "ResNet"),
    "transformer": ("zeroforge.nets.transformer", "TransformerNet"),
    "trm": ("zeroforge.nets.trm", "TRMNet"),
    "hrm": ("zeroforge.nets.hrm", "HRMNet"),
}
#: the kinds that read size-free structured tokens (a flat task's tokens reach them as a 1-D sequence)
STRUCTURED_KINDS = ("pointer", "trm", "hrm")
#: the recursive reasoning nets, trained with deep supervision (``zeroforge.train.deep``)
RECURSIVE_KINDS = ("trm", "hrm")


@dataclass(frozen=True)
class TRMConfig:
    """The Tiny Recursive Model (``net.kind: trm``, ``zeroforge.nets.trm``): one net of ``net.num_layers`` layers;
    per supervision segment ``cycles`` (``T``) cycles of ``latent_steps`` (``n``) latent updates and one answer
    update, the first ``T - 1`` cycles without gradient; up to ``supervision_steps`` (``N_sup``) segments, each
    with its own loss and optimiser step in training, halting per row at inference; ``halt_exploration``: the
    probability that a training row must think a random 2..``N_sup`` segments. The paper's Sudoku run has ``T = 3, n
    = 6, N_sup = 16``: 336 passes through the net per answer, 1.8 s for 256 tic-tac-toe positions on one CPU core
    (``embed_dim`` 16). The defaults (``T = 2, n = 2, N_sup = 2``: 12 passes, 70 ms) fit a search on CPU.
    ``adaptive_halting``: at inference a row stops at the first segment whose halting head says so, instead of
    running all ``N_sup`` (the reference code's evaluation, and the default here: ``RecursiveNet``)."""

    SECTION: ClassVar[str] = "net.trm"

    cycles: int = 2
    latent_steps: int = 2
    supervision_steps: int = 2
    halt_exploration: float = 0.1
    adaptive_halting: bool = False

    def __post_init__(self) -> None:
        at_least(self, "cycles", 1, 1024)
        at_least(self, "latent_steps", 1, 1024)
        at_least(self, "supervision_steps", 1, 1024)
        unit_interval(self, "halt_exploration")


@dataclass(frozen=True)
class HRMConfig:
    """The Hierarchical Reasoning Model (``net.kind: hrm``, ``zeroforge.nets.hrm``): high- and low-level modules of
    ``net.num_layers`` layers each; per supervision segment ``cycles`` (``N``) high-level cycles of ``low_steps``
    (``T``) low-level steps, all but the last step of each module without gradient (one-step gradient); up to
    ``supervision_steps`` segments with an ACT Q-head (halt / continue) and ``halt_exploration`` as TRM's. The
    paper's run: ``N = 2, T = 2``, 16 segments; the default here 2 segments (as ``TRMConfig``: search on CPU);
    ``adaptive_halting`` as ``TRMConfig``'s."""

    SECTION: ClassVar[str] = "net.hrm"

    cycles: int = 2
    low_steps: int = 2
    supervision_steps: int = 2
    halt_exploration: float = 0.1
    adaptive_halting: bool = False

    def __post_init__(self) -> None:
        at_least(self, "cycles", 1, 1024)
        at_least(self, "low_steps", 1, 1024)
        at_least(self, "supervision_steps", 1, 1024)
        unit_interval(self, "halt_exploration")


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
    trm: TRMConfig = field(default_factory=TRMConfig)
    hrm: HRMConfig = field(default_factory=HRMConfig)

    def __post_init__(self) -> None:
        one_of(self, "kind", ("auto", *NET_KINDS))
        at_least(self, "embed_dim", 1, 65536)
        at_least(self, "hidden", 1, 65536)
        at_least(self, "num_layers", 1, 1024)
        at_least(self, "recurrence", 1, 1024)
