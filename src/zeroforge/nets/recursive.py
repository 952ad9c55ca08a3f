"""``RecursiveNet``: what the recursive reasoning nets (``TRMNet``, ``HRMNet``) share on the size-free interface.

Both papers (Wang et al. 2025, HRM; Jolicoeur-Martineau 2025, TRM) train a net that refines two latent states
``(y, z)`` (TRM: answer ``y`` and reasoning latent ``z``; HRM: the slow ``z_H`` and the fast ``z_L``) in
**supervision segments**: one segment runs the net's recursion (``reason``, the subclass's) from the carry the last
segment left, *detached*, and is scored on its own (deep supervision); a **halting head** ``Q`` on the summary token
of ``y`` says when to stop. Here every state is ``float[B, N + 1, D]`` over the summary token and the ``N`` tokens of
a structured observation, and the heads are the pointer net's (``PointerIO``): policy logits from the tokens each
action names in ``y``, the value from ``y``'s summary token. The halting probability ``sigmoid(q_halt)`` is trained
to say "the policy's choice is right" and so doubles as the net's confidence in its answer.

Inference (``forward``) runs all ``segments`` by default, as both reference implementations do at evaluation (their
halting stops rows only in training). With ``adaptive_halting`` it is **adaptive per row**: segments run until each
row's halting head says stop (``q_halt > 0`` for TRM; ``q_halt > q_continue`` for HRM) or ``segments`` is reached;
a row that halts keeps its answer and drops out of the batch (the next segment runs on the rows still thinking), and
the call ends when all rows have halted. That saves net time, at a price measured in README ("Recursive nets
compared"): trained on positions the search mostly gets right after one segment, the head halts nearly every row
there, also on larger instances than any trained, where the second segment would still have helped.
``segments`` (the cap) and ``recurrence`` (cycles per segment) are search-time knobs: more thinking per node or more
nodes. ``last_segments`` holds how many segments each row of the last call used.

Training runs segment by segment (``segment``; the learner's deep supervision, ``zeroforge.train.deep``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from zeroforge.nets.pointer import PointerIO, _EncoderLayer, check_count, distance_features

__all__ = ["Carry", "Prepared", "RecursiveNet", "SegmentOutput", "initial_vector", "post_norm_layers",
           "recursive_core"]


@dataclass(frozen=True)
class Carry:
    """The recursion's state handed from one supervision segment to the next: ``y`` (TRM's answer, HRM's ``z_H``)
    and ``z`` (TRM's latent, HRM's ``z_L``), each ``float[B, N + 1, D]``."""

    y: torch.Tensor
    z: torch.Tensor

    def take(self, rows: torch.Tensor) -> Carry:
        """The carry of ``rows`` (``int64[b]`` or ``bool[B]``)."""
        return Carry(self.y[rows], self.z[rows])

    def detach(self) -> Carry:
        return Carry(self.y.detach(), self.z.detach())


@dataclass(frozen=True)
class Prepared:
    """What every segment of one batch reads: the input embedding ``x float[B, N + 1, D]`` (summary token first),
    the attention biases of each layer group (``float[B, H, N + 1, N + 1]`` per layer) and, with a distance bias,
    the pair distances for the pointer head."""

    x: torch.Tensor
    biases: tuple[tuple[torch.Tensor, ...], ...]
    distances: torch.Tensor | None

    def take(self, rows: torch.Tensor) -> Prepared:
        """The inputs of ``rows``."""
        biases = tuple(tuple(b[rows] for b in group) for group in self.biases)
        return Prepared(self.x[rows], biases, None if self.distances is None else self.distances[rows])


@dataclass(frozen=True)
class SegmentOutput:
    """One supervision segment's output: ``logits float[B, A]``, ``values float[B]`` (player to move), the halting
    logits ``q_halt float[B]`` and ``q_continue float[B]`` (HRM's Q-learning head; TRM trains only ``q_halt``) and
    the new carry (detached: no gradient crosses segments)."""

    logits: torch.Tensor
    values: torch.Tensor
    q_halt: torch.Tensor
    q_continue: torch.Tensor
    carry: Carry


class RecursiveNet(PointerIO):
    """Base of ``TRMNet`` and ``HRMNet``: ``(tokens int64[B, N, 5], pointers int64[B, A, 3]) -> (logits float[B, A],
    value float[B])`` as every structured net (``PointerNet``), computed in up to ``segments`` supervision segments.

    Subclasses build ``layer_groups`` (one ``nn.ModuleList`` of post-norm encoder layers per module: TRM's one
    shared net, HRM's H and L modules) and implement ``reason(prepared, carry) -> carry`` (one segment's
    recursion with the paper's gradient rule) and ``initial_state() -> (y0, z0)``; ``cycles`` (``recurrence``) is
    the number of recursion cycles a segment runs.
    """

    #: "halt when q_halt > q_continue" (HRM) instead of "when q_halt > 0" (TRM)
    uses_continue = False

    def __init__(self, embed_dim: int, hidden: int, match_bias: bool, distance_bias: bool, cycles: int,
                 supervision_steps: int, halt_exploration: float, adaptive_halting: bool) -> None:
        super().__init__(embed_dim, hidden, match_bias, distance_bias)
        self.cycles = cycles
        #: per-row halting at inference (module docstring); a search-time knob
        self.adaptive_halting = adaptive_halting
        self.supervision_steps = check_count("supervision_steps", supervision_steps)
        self.halt_exploration = halt_exploration
        self._segments = self.supervision_steps
        self.q_head = nn.Linear(embed_dim, 2)
        with torch.no_grad():  # both papers: Q starts near "do not halt" (sigmoid(-5)) so early training thinks on
            self.q_head.weight.zero_()
            self.q_head.bias.fill_(-5.0)
        self.last_segments: torch.Tensor | None = None
        self.last_halt_probability: torch.Tensor | None = None

    # -- subclass hooks ---------------------------------------------------------------------------------------

    def layer_groups(self) -> list[nn.ModuleList]:
        raise NotImplementedError

    def initial_state(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(y0, z0)``, each ``float[D]``: the states every row starts its first segment from."""
        raise NotImplementedError

    def reason(self, prepared: Prepared, carry: Carry) -> Carry:
        """One segment's recursion from ``carry`` over ``prepared`` inputs (with gradient where the paper has it)."""
        raise NotImplementedError

    @property
    def cycles(self) -> int:
        """The recursion cycles one segment runs (TRM's ``T``, HRM's high-level ``N``); may be changed on a trained
        net."""
        return self._cycles

    @cycles.setter
    def cycles(self, value: int) -> None:
        self._cycles = check_count("cycles", value)

    @property
    def recurrence(self) -> int:
        """``cycles``, under the name every recurrent net's search-time knob has (``PointerNet.recurrence``)."""
        return self.cycles

    @recurrence.setter
    def recurrence(self, value: int) -> None:
        self.cycles = value

    # -- shared machinery -------------------------------------------------------------------------------------

    @property
    def segments(self) -> int:
        """The most supervision segments a forward pass runs (default ``supervision_steps``); a search-time knob."""
        return self._segments

    @segments.setter
    def segments(self, value: int) -> None:
        self._segments = check_count("segments", value)

    def apply_group(self, group: int, prepared: Prepared, state: torch.Tensor, injection: torch.Tensor) -> torch.Tensor:
        """The papers' reasoning module: ``state + injection`` through the layers of ``layer_groups()[group]``."""
        hidden = state + injection
        for layer, bias in zip(self.encoder_layers(self.layer_groups()[group]), prepared.biases[group], strict=True):
            hidden = layer(hidden, bias)
        return hidden

    def prepare(self, tokens: torch.Tensor) -> Prepared:
        """The inputs every segment of ``tokens int64[B, N, 5]`` reads (embedding, attention biases, distances)."""
        distances = distance_features(tokens) if self.distance_bias else None
        bias_inputs = self.attention_inputs(tokens, distances)
        biases = tuple(tuple(layer.attention_bias(*bias_inputs) for layer in self.encoder_layers(group))
                       for group in self.layer_groups())
        return Prepared(self.embed(tokens), biases, distances)

    def initial_carry(self, prepared: Prepared) -> Carry:
        """Every row at the initial states (``initial_state``), shaped like ``prepared.x``."""
        y0, z0 = self.initial_state()
        return Carry(y0.expand_as(prepared.x), z0.expand_as(prepared.x))

    def segment(self, prepared: Prepared, pointers: torch.Tensor, carry: Carry) -> SegmentOutput:
        """One supervision segment: ``reason`` from ``carry``, then the heads on the new ``y``."""
        new = self.reason(prepared, carry)
        logits, values = self.heads(new.y, pointers, prepared.distances)
        q = self.q_head(new.y[:, 0]).float()
        return SegmentOutput(logits, values, q[:, 0], q[:, 1], new.detach())

    def halts(self, out: SegmentOutput) -> torch.Tensor:
        """``bool[B]``: the rows whose halting head says stop after ``out``."""
        return out.q_halt > out.q_continue if self.uses_continue else out.q_halt > 0

    def forward(self, tokens: torch.Tensor, pointers: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``segments`` supervision segments, or with ``adaptive_halting`` until every row has halted (module
        docstring)."""
        prepared = self.prepare(tokens)
        carry = self.initial_carry(prepared)
        b = len(tokens)
        active = torch.arange(b, device=tokens.device)
        logits: torch.Tensor | None = None
        values = torch.zeros(b, device=tokens.device)
        used = torch.zeros(b, dtype=torch.int64, device=tokens.device)
        halt_p = torch.zeros(b, device=tokens.device)
        for s in range(self.segments):
            last = s == self.segments - 1
            part = prepared if len(active) == b else prepared.take(active)
            out = self.segment(part, pointers[active], carry)
            if logits is None:
                logits = out.logits.new_zeros((b, out.logits.shape[1]))
            logits, values = logits.index_copy(0, active, out.logits), values.index_copy(0, active, out.values)
            used[active] += 1
            halt_p[active] = torch.sigmoid(out.q_halt)
            if last or not self.adaptive_halting:
                stop = torch.full_like(out.q_halt, last, dtype=torch.bool)
            else:
                stop = self.halts(out)
            if bool(stop.all()):
                break
            active, carry = active[~stop], out.carry.take(~stop)
        assert logits is not None
        self.last_segments, self.last_halt_probability = used, halt_p
        return logits, values


def recursive_core(net: nn.Module) -> RecursiveNet | None:
    """The recursive net inside ``net`` (itself, or the structured net a ``SequenceView`` wraps), else ``None``."""
    inner = getattr(net, "inner", net)
    return inner if isinstance(inner, RecursiveNet) else None


def initial_vector(dim: int) -> torch.Tensor:
    """A ``float[dim]`` initial state drawn from a unit normal truncated at 2 (both papers' ``trunc_normal(std=1)``):
    about the scale of the post-norm states it stands for."""
    return torch.nn.init.trunc_normal_(torch.empty(dim), std=1.0, a=-2.0, b=2.0)


def post_norm_layers(count: int, embed_dim: int, hidden: int, match_bias: bool,
                     distance_bias: bool) -> nn.ModuleList:
    """``count`` post-norm encoder layers (the papers' blocks, with the pointer net's relative attention biases)."""
    return nn.ModuleList(_EncoderLayer(embed_dim, hidden, match_bias, distance_bias, post_norm=True)
                         for _ in range(count))
