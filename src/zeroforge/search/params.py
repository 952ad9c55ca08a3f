"""The search's parameters (``mcts`` in a run's config)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from zeroforge.params import at_least, is_number, one_of, positive, require, unit_interval

__all__ = ["MCTSConfig"]


@dataclass(frozen=True)
class MCTSConfig:
    """Search settings (AlphaZero / Gumbel MuZero / KataGo names and defaults).

    ``root_policy``: ``puct`` (AlphaZero: PUCT everywhere, Dirichlet noise at the root in self-play) or
    ``gumbel`` (Gumbel MuZero, Danihelka et al. 2022: Gumbel-top-k of ``gumbel_num_considered`` root actions,
    sequential halving, the deterministic "full Gumbel" rule below the root, and the improved policy
    ``softmax(logits + sigma(completed Q))`` as the policy target, where
    ``sigma(q) = (gumbel_c_visit + max_b N(b)) * gumbel_c_scale * q``). With ``gumbel`` the played action is
    the sequential-halving winner: neither temperature nor Dirichlet noise is used.

    ``temperature`` applies to the first ``temperature_threshold`` moves of a self-play episode (PUCT), after
    which the most visited action is played. Dirichlet noise is mixed into root priors in self-play only.

    Playout-cap randomisation (KataGo, Wu 2019): a share ``playout_cap_fraction`` of self-play moves gets the
    full search (``num_simulations``, noise, temperature) and is a policy training target; the others get a
    fast search of ``playout_cap_simulations`` without noise at temperature 0 and train only the value.
    ``playout_cap_fraction = 1`` turns it off.

    ``backend``: ``numba`` (compiled tree loops; for tasks with array kernels the whole simulation but the
    net), ``numpy`` (the same kernels uncompiled, as plain Python: what runs without numba; slow on big
    batches) or ``auto`` (numba when it is installed). Both give the same visit counts; only the speed differs.

    ``leaves_per_step`` > 1 (compiled search of tasks with array kernels only; elsewhere one leaf per tree per
    step): each evaluator call takes that many leaves of every tree, spread by virtual loss (pending descents
    count as lost visits) — bigger net batches when few trees are searched, at a small cost in search
    quality; results then differ from the one-leaf search.

    ``search_threads`` > 1 shares the trees of a batch among that many numba threads (compiled search, 32+
    trees). They spin-wait between simulation steps: ~20 % faster on a machine of one's own, several times
    slower for every job when others share the cores (``zeroforge.threads``); 1 runs the loops serially.
    """

    SECTION: ClassVar[str] = "mcts"

    num_simulations: int = 64
    c_puct: float = 1.25
    dirichlet_epsilon: float = 0.25
    dirichlet_alpha: float = 0.3
    temperature: float = 1.0
    temperature_threshold: int = 9
    discount: float = 1.0
    root_policy: str = "puct"
    gumbel_num_considered: int = 16
    gumbel_c_visit: float = 50.0
    gumbel_c_scale: float = 0.1
    playout_cap_fraction: float = 1.0
    playout_cap_simulations: int = 8
    backend: str = "auto"
    leaves_per_step: int = 1
    search_threads: int = 1

    def __post_init__(self) -> None:
        at_least(self, "num_simulations", 1, 10**6)
        positive(self, "c_puct")
        unit_interval(self, "dirichlet_epsilon")
        positive(self, "dirichlet_alpha")
        at_least(self, "temperature", 0)
        at_least(self, "temperature_threshold", 0, 10**6)
        require(self, "discount", is_number(self.discount) and 0 < self.discount <= 1, "in (0, 1]")
        one_of(self, "root_policy", ("gumbel", "puct"))
        at_least(self, "gumbel_num_considered", 1, 10**4)
        at_least(self, "gumbel_c_visit", 0, 10**6)
        positive(self, "gumbel_c_scale")
        fraction = self.playout_cap_fraction
        require(self, "playout_cap_fraction", is_number(fraction) and 0 < fraction <= 1, "in (0, 1]")
        at_least(self, "playout_cap_simulations", 1, 10**6)
        one_of(self, "backend", ("auto", "numba", "numpy"))
        at_least(self, "leaves_per_step", 1, 1024)
        at_least(self, "search_threads", 1, 4096)
        if fraction < 1:
            require(self, "playout_cap_simulations", self.playout_cap_simulations <= self.num_simulations,
                     f"<= num_simulations ({self.num_simulations}) when playout_cap_fraction < 1")
