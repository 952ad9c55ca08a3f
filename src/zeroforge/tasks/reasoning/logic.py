"""ProntoQA-style deduction (Saparov & He 2023) as a single-agent pure MDP.

An instance is about one entity, ``Max``. A *literal* says ``Max`` is (positive) or is not (negative)
an instance of a concept; literal ``l`` encodes concept ``l // 2`` with sign ``l % 2`` (``0`` "is a X",
``1`` "is not X"). The instance holds one or more *facts* (literals known from the start), up to 40
single-premise *rules* ``premise -> conclusion`` ("Every wumpus is a yumpus.", "Every
yumpus is not a zumpus.", "Everything that is not a zumpus is a dumpus.") and a *query* literal
("Prove: Max is a dumpus."). The query is never a fact.

Bounds (``Logic.bounds = {"rules": 40, "concepts": 128}``): one task object plays and ``parse`` reads any
instance of at most 40 rules about at most 128 concepts, whatever its parameters (``num_concepts``,
``max_rules``, ``max_depth`` and ``distractors`` shape only what the generator draws); an instance beyond
gets a one-line ``ValueError`` naming the bound.

Actions (sized by the bound, ``num_actions = 41``): action ``r < 40`` applies rule ``r``, legal iff the
instance has a rule ``r`` whose premise is known and whose conclusion is not yet known (so every legal
application derives a new literal); action ``40`` (``Logic.conclude_action``) is "conclude: not provable",
legal in every non-terminal state.

Episode end and rewards ``float32[1]``:

- the query becomes known: terminal, ``+1`` (``success``), also on the last step of the budget;
- "conclude: not provable": terminal, ``+1`` iff the query is *not* entailed by forward chaining from
  the facts (it may be false or merely unknown), else ``-1``;
- the step budget runs out first: terminal, ``-1`` (``failure``).

Verifier: forward chaining to a fixed point (:func:`forward_chain`) decides entailment exactly; with
single-premise rules every proof is a path in the implication graph, so the shortest proof length is the
breadth-first distance from the facts to the query (:func:`proof_depths`, :func:`shortest_proof`, ``0`` =
not provable). Both run once per instance; the state keeps ``shortest_proof``. The optimal episode
length is ``optimal = shortest_proof`` for a provable query and ``1`` (the single "conclude") otherwise;
``score`` is ``optimal / steps`` on success and ``0.0`` on failure.

Budget: ``max(1, ceil(step_budget_factor * horizon))``, capped at ``min(R + 1, ceil(step_budget_factor * R))``
with ``R = max(max_rules, rules of the instance)``, where ``horizon`` is the largest BFS depth of any literal
derivable from the facts (the rounds of chaining to the fixed point). It depends on the facts and rules only,
never on the query: a budget scaled by the query's own proof length would give the answer away (an
unprovable query would get a budget of 1 or 2, visible in ``to_text`` and, after one step, in the budget
bucket). Since ``shortest_proof <= horizon`` and ``step_budget_factor >= 1``, an optimal episode always
fits. An episode applies every rule at most once, so it ends within ``R + 1`` steps; every depth is at most
the number of rules, so the cap (at least ``R``) never cuts off a proof, and ``max_episode_steps = min(41,
ceil(step_budget_factor * 40))`` bounds every episode and budget of an instance within the bounds.

Demonstration (``Logic.demonstration``): a shortest proof, found by breadth-first search from the known
literals over the rules with the rule that first reached each literal (:func:`proof_actions`), as rule
applications; ``[conclude]`` when the query is not entailed.

Generation (``initial_state(seed, difficulty)``, deterministic through ``np.random.default_rng(seed)``;
``difficulty_levels = max_depth``): level ``d`` builds a chain fact ``c0``, rules ``c0 -> c1 -> ... ->
cd`` (later links now and then negative, "is not"), and with probability 1/2 asks for the chain's end
(provable, ``shortest_proof == d``). Otherwise the query is not provable: the negation of a chain literal
(a false statement), a concept off the chain (with a rule concluding it from a premise that is never
derivable), or the chain's end with one link broken (its premise negated). Then ``distractors`` extra
rules are added, each kept only if the instance stays as intended (same shortest proof, query still not
entailed, no duplicate rule, no contradiction among derivable literals): branches off derivable literals,
rules whose premise is never derivable (possibly concluding the query), links between other concepts.
Sometimes a second fact about an off-chain concept is added. Facts and rules are shuffled, concepts are
then numbered by first appearance (facts, rules premise before conclusion, query) - the order ``parse``
numbers them in - and named by distinct nonsense words drawn from :data:`CONCEPT_NAMES`.

Observation (structured, :mod:`zeroforge.tasks.structured`; ``T = TOKEN_TYPE_BASE["logic"]``): a literal
``2 * concept + sign`` is written as the feature value ``2 * L[concept] + sign`` (``0..255``), its *observed*
literal, where ``L`` (``LogicState.labels``) maps the instance's concepts ``0..n - 1`` one-to-one into
``0..127`` (the first ``n`` entries of a permutation of ``0..127``), drawn once per instance from a stable hash
(``hashlib.blake2b``) of the instance (names, facts, rules, query). Concept numbers are labels, not quantities,
and a net learns one embedding per feature value: numbered by first appearance, an instance of ``n`` concepts
would only ever show the literals ``0..2n - 1``, and a net trained on small instances could not read larger
ones. With the relabelling every value ``0..255`` occurs at every size, a literal and its negation still differ
only in the low bit, and equal literals still carry equal values. The map is part of the instance, which every
state of an episode shares and ``key()`` holds, so observations stay a function of the state; it does not touch
the MDP, the texts, the actions, the state's literals or the generator. Every token sits at ``(0, 0)``: rules,
facts and derived literals are sets, with no positional identity. For an instance of ``R`` rules and ``F``
facts, in this order:

- token ``r < R``, type ``T`` (rule ``r``): ``a`` = premise literal, ``b`` = conclusion literal;
- token ``R``, type ``T + 3`` (the query): ``a = b =`` the query literal;
- tokens ``R + 1 .. R + F``, type ``T + 1`` (the facts, in the instance's order): ``a = b =`` the literal;
- token ``R + F + 1``, type ``T + 4`` (global): ``a`` = remaining-budget bucket ``min(7, 8 * remaining //
  budget)``, ``b`` = remaining steps (clipped to 1023);
- then one token per derived literal, type ``T + 2``, ``a = b =`` the literal, in order of observed literal.

(Every literal above is the observed one.)

A single literal fills both features so that a net can match it to a rule's premise (``a``) and to its
conclusion (``b``) through the same embedding. ``seq_len = 40 + 2 + 128 = 170`` (at most one known literal per
concept: derivable literals never contradict); ``vocab_size = TOKEN_VOCAB``.

Pointers (``K = POINTER_KIND_BASE["logic"]``): "apply rule ``r``" is ``(K, r + 1, r + 1)`` (rule ``r``'s token),
"conclude: not provable" is ``(K + 1, 0, 0)`` (the summary token). Rows of illegal actions are zero.

Text: ``to_text`` renders the rules, the facts, the query, what has been derived so far (in literal
order) and the step count in ProntoQA-like English. ``Logic.parse`` reads the JSON instance format
``{"facts": ["wumpus"], "rules": [["wumpus", "yumpus"], ["yumpus", "not zumpus"]], "query": "zumpus"}``
(literals are concept names made of letters with an optional ``"not "`` prefix); ``instance_text`` writes
it. A query that is already a fact is rejected (the episode would be over before it starts), and so are
instances generation never makes: a rule relating a concept to itself, facts and rules deriving a literal and
its negation.
"""

from __future__ import annotations

import json
import math
import re
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from zeroforge.tasks.base import State, solo_rewards
from zeroforge.tasks.instances import read_json_instance, short_repr
from zeroforge.tasks.params import check_budget_factor, check_int_param
from zeroforge.tasks.path import PathTask
from zeroforge.tasks.registry import register_task
from zeroforge.tasks.structured import (
    FEATURE_VOCAB,
    POINTER_KIND_BASE,
    TOKEN_TYPE_BASE,
    TOKEN_VOCAB,
    instance_labels,
    out_of_bounds,
    pointer_rows,
    token_rows,
)
from zeroforge.tasks.tokens import budget_bucket

__all__ = [
    "CONCEPT_NAMES",
    "Logic",
    "LogicState",
    "concept_labels",
    "forward_chain",
    "proof_actions",
    "proof_depths",
    "shortest_proof",
]

#: nonsense concept names in the manner of ProntoQA (generated instances draw from these)
CONCEPT_NAMES: tuple[str, ...] = (
    "wumpus", "yumpus", "zumpus", "dumpus", "rompus", "numpus", "tumpus", "vumpus",
    "impus", "jompus", "gorpus", "shumpus", "lempus", "sterpus", "grimpus", "lorpus",
    "brimpus", "timpus", "yimpus", "rempus", "fompus", "worpus", "borpus", "kempus",
    "sarpus", "dalpus", "murpus", "gulpus", "hompus", "quimpus", "felpus", "zorpus",
)  # fmt: skip

ENTITY = "Max"
MIN_CONCEPTS, MAX_CONCEPTS = 3, len(CONCEPT_NAMES)
#: the largest instance any task object plays and ``parse`` reads
RULE_BOUND, CONCEPT_BOUND = 40, 128
#: ``max_depth`` and ``distractors`` are checked against this first, then their sum against ``max_rules``
_CHAIN_PARAM_MAX = 64
_T = TOKEN_TYPE_BASE["logic"]
RULE, FACT, DERIVED, QUERY, GLOBAL = _T, _T + 1, _T + 2, _T + 3, _T + 4
APPLY, CONCLUDE = POINTER_KIND_BASE["logic"], POINTER_KIND_BASE["logic"] + 1
#: the longest concept name ``parse`` reads (letters)
MAX_NAME_LETTERS = 64
_NAME_RE = re.compile(r"[A-Za-z]+")
_DISTRACTOR_TRIES = 30

Rule = tuple[int, int]  # (premise literal, conclusion literal)
Token = tuple[int, int, int, int, int]


def forward_chain(facts: Iterable[int], rules: Iterable[Rule]) -> frozenset[int]:
    """Every literal entailed by ``facts`` under ``rules`` (forward chaining to a fixed point)."""
    by_premise: dict[int, list[int]] = {}
    for premise, conclusion in rules:
        by_premise.setdefault(premise, []).append(conclusion)
    known = set(facts)
    todo = list(known)
    while todo:
        for nxt in by_premise.get(todo.pop(), ()):
            if nxt not in known:
                known.add(nxt)
                todo.append(nxt)
    return frozenset(known)


def proof_depths(facts: Iterable[int], rules: Iterable[Rule]) -> dict[int, int]:
    """Every derivable literal with the fewest rule applications that derive it (BFS from the facts, which
    have depth ``0``); with single-premise rules a proof is a path in the implication graph."""
    by_premise: dict[int, list[int]] = {}
    for premise, conclusion in rules:
        by_premise.setdefault(premise, []).append(conclusion)
    dist = dict.fromkeys(facts, 0)
    queue = deque(dist)
    while queue:
        lit = queue.popleft()
        for nxt in by_premise.get(lit, ()):
            if nxt not in dist:
                dist[nxt] = dist[lit] + 1
                queue.append(nxt)
    return dist


def shortest_proof(facts: Iterable[int], rules: Iterable[Rule], query: int) -> int:
    """The fewest rule applications that derive ``query`` from ``facts``, ``0`` if none does (also ``0``
    when the query is a fact; instances never have that)."""
    return proof_depths(facts, rules).get(query, 0)


def proof_actions(known: Iterable[int], rules: Sequence[Rule], query: int) -> list[int] | None:
    """A shortest proof of ``query`` from the ``known`` literals as rule indices, each applicable (premise
    known, conclusion new) in turn; ``[]`` if the query is known, ``None`` if it is not entailed. Breadth-first
    search over literals, each reached through the first rule (in rule order) that reaches it."""
    by_premise: dict[int, list[int]] = {}
    for r, (premise, _) in enumerate(rules):
        by_premise.setdefault(premise, []).append(r)
    reached_by: dict[int, int | None] = dict.fromkeys(known)
    queue = deque(reached_by)
    while queue and query not in reached_by:
        lit = queue.popleft()
        for r in by_premise.get(lit, ()):
            conclusion = rules[r][1]
            if conclusion not in reached_by:
                reached_by[conclusion] = r
                queue.append(conclusion)
    if query not in reached_by:
        return None
    proof: list[int] = []
    rule = reached_by[query]
    while rule is not None:
        proof.append(rule)
        rule = reached_by[rules[rule][0]]
    return proof[::-1]


def concept_labels(names: Sequence[str], facts: Sequence[int], rules: Sequence[Rule], query: int) -> tuple[int, ...]:
    """The observed label of each concept of an instance (``len(names)`` of them): the first ``len(names)``
    entries of a permutation of ``0..CONCEPT_BOUND - 1`` seeded by a stable hash of the instance (module
    docstring)."""
    content = repr((tuple(names), tuple(facts), tuple(rules), query))
    return instance_labels(f"logic labels {content}", len(names), CONCEPT_BOUND)


def _observed(labels: Sequence[int], lit: int) -> int:
    """The feature value of literal ``lit``: ``2 * labels[concept] + sign``."""
    return 2 * labels[lit >> 1] | (lit & 1)


def _noun(name: str) -> str:
    return f"{'an' if name[0].lower() in 'aeiou' else 'a'} {name}"


def _is(names: Sequence[str], lit: int) -> str:
    """``"is a wumpus"`` / ``"is not an impus"``."""
    concept, negative = divmod(lit, 2)
    return f"is {'not ' if negative else ''}{_noun(names[concept])}"


def _every(names: Sequence[str], premise: int) -> str:
    """The subject of a rule: ``"every wumpus"`` / ``"everything that is not a wumpus"``."""
    concept, negative = divmod(premise, 2)
    return f"everything that is not {_noun(names[concept])}" if negative else f"every {names[concept]}"


def _rule_text(names: Sequence[str], rule: Rule) -> str:
    """``"Every wumpus is a yumpus."``."""
    return f"{_every(names, rule[0]).capitalize()} {_is(names, rule[1])}."


def _literal_json(names: Sequence[str], lit: int) -> str:
    concept, negative = divmod(lit, 2)
    return f"{'not ' if negative else ''}{names[concept]}"


@dataclass(frozen=True, eq=False)
class LogicState(State):
    """A point in a deduction episode.

    ``names``: concept names by index; ``facts``: the initial literals; ``rules``: ``(premise,
    conclusion)`` literal pairs; ``query``: the literal to prove; ``known``: facts plus literals derived so
    far; ``concluded``: the episode ended with "conclude: not provable"; ``shortest_proof``: BFS proof
    length of the query (``0`` = not provable); ``budget``: the step budget; ``labels``: the observed label of
    each concept (:func:`concept_labels`, shared by every state of the episode); ``pointers``:
    ``int64[num_actions, 3]`` action pointers (:meth:`action_pointers`).
    """

    names: tuple[str, ...]
    facts: tuple[int, ...]
    rules: tuple[Rule, ...]
    query: int
    known: frozenset[int]
    concluded: bool
    shortest_proof: int
    budget: int
    labels: tuple[int, ...]
    pointers: np.ndarray

    def key(self) -> tuple[Any, ...]:
        """``(names, facts, rules, query, sorted known literals, concluded, step_count, budget)``; the order
        in which literals were derived does not matter."""
        return (
            self.names,
            self.facts,
            self.rules,
            self.query,
            tuple(sorted(self.known)),
            self.concluded,
            self.step_count,
            self.budget,
        )

    def action_pointers(self) -> np.ndarray:
        """``int64[num_actions, 3]``: ``(APPLY, r + 1, r + 1)`` per applicable rule ``r``, ``(CONCLUDE, 0, 0)``
        for "conclude: not provable", zero rows elsewhere (see the module docstring)."""
        return self.pointers

    @property
    def provable(self) -> bool:
        """The query is entailed by the facts."""
        return self.shortest_proof > 0

    @property
    def proved(self) -> bool:
        """The query has been derived."""
        return self.query in self.known

    @property
    def optimal(self) -> int:
        """Length of an optimal episode: the shortest proof, or ``1`` ("conclude") when not provable."""
        return self.shortest_proof if self.shortest_proof > 0 else 1

    @property
    def solved(self) -> bool:
        """The episode ended in success (proved, or correctly concluded "not provable")."""
        return self.proved or (self.concluded and not self.provable)

    @property
    def derived(self) -> list[int]:
        """Literals derived so far (known, not facts), in literal order."""
        facts = set(self.facts)
        return sorted(lit for lit in self.known if lit not in facts)

    def to_json(self) -> str:
        """The instance (not the progress) in the format :meth:`Logic.parse` reads."""
        return json.dumps(
            {
                "facts": [_literal_json(self.names, lit) for lit in self.facts],
                "rules": [[_literal_json(self.names, p), _literal_json(self.names, c)] for p, c in self.rules],
                "query": _literal_json(self.names, self.query),
            }
        )

    def to_text(self) -> str:
        """E.g.::

        Every wumpus is a yumpus. Every yumpus is not a zumpus. Every dumpus is a zumpus.
        Max is a wumpus.
        Prove: Max is not a zumpus.
        Derived so far: Max is a yumpus.
        step 1/4
        """
        rules = " ".join(_rule_text(self.names, r) for r in self.rules) or "There are no rules."
        facts = " ".join(f"{ENTITY} {_is(self.names, lit)}." for lit in self.facts)
        derived = " ".join(f"{ENTITY} {_is(self.names, lit)}." for lit in self.derived) or "nothing yet."
        status = f"step {self.step_count}/{self.budget}"
        if self.concluded:
            status += ", concluded: not provable"
        return f"{rules}\n{facts}\nProve: {ENTITY} {_is(self.names, self.query)}.\nDerived so far: {derived}\n{status}"


@register_task("logic")
class Logic(PathTask):
    """ProntoQA-style deduction: apply rules to prove the query, or conclude that it is not provable.

    ``num_concepts`` (3..32) and ``max_rules`` (1..40) bound what the generator draws (the shapes are those of
    the bounds: 41 actions); ``max_depth`` is the longest proof chain of a generated instance (one difficulty
    level per depth); ``distractors`` the number of extra rules; ``step_budget_factor`` (>= 1) the budget as a
    multiple of the chaining horizon. A generated instance needs ``max_depth + distractors <= max_rules`` and
    ``max_depth + distractors + 2 <= num_concepts``. An instance read by ``parse`` (a JSON text of at most
    1,000,000 characters) has at most 128 concepts and 40 rules (``bounds``), at least one fact, concept names
    of at most 64 letters, no rule relating a concept to itself and no derivable contradiction; an unprovable
    query is valid.
    """

    name: ClassVar[str] = "logic"
    path_state = LogicState
    structured: ClassVar[bool] = True
    bounds: ClassVar[dict[str, int]] = {"rules": RULE_BOUND, "concepts": CONCEPT_BOUND}
    #: action "conclude: not provable" (after the rule slots)
    conclude_action: ClassVar[int] = RULE_BOUND

    def __init__(
        self,
        num_concepts: int = 12,
        max_rules: int = 12,
        max_depth: int = 4,
        distractors: int = 4,
        step_budget_factor: float = 2.0,
    ) -> None:
        n = check_int_param("logic", "num_concepts", num_concepts, MIN_CONCEPTS, MAX_CONCEPTS)
        m = check_int_param("logic", "max_rules", max_rules, 1, RULE_BOUND)
        depth = check_int_param("logic", "max_depth", max_depth, 1, _CHAIN_PARAM_MAX)
        extra = check_int_param("logic", "distractors", distractors, 0, _CHAIN_PARAM_MAX)
        if depth + extra > m:
            raise ValueError(f"logic: max_depth + distractors ({depth + extra}) must be at most max_rules ({m})")
        if depth + extra + 2 > n:
            raise ValueError(
                f"logic: num_concepts ({n}) must be at least max_depth + distractors + 2 ({depth + extra + 2})"
            )
        factor = check_budget_factor("logic", step_budget_factor)
        self.num_concepts = n
        self.max_rules = m
        self.max_depth = depth
        self.distractors = extra
        self.step_budget_factor = factor
        self.difficulty_levels = depth
        self.num_actions = RULE_BOUND + 1
        self.max_episode_steps = self._step_cap(RULE_BOUND)
        self.vocab_size = TOKEN_VOCAB
        self.seq_len = RULE_BOUND + 2 + CONCEPT_BOUND

    # ----------------------------------------------------------------- states

    def _step_cap(self, rules: int) -> int:
        """The most steps an episode of ``rules`` rules may need: ``min(rules + 1, ceil(factor * rules))``."""
        return min(rules + 1, math.ceil(self.step_budget_factor * rules))

    def budget_for(self, facts: Iterable[int], rules: Sequence[Rule]) -> int:
        """The step budget of an instance: ``max(1, ceil(step_budget_factor * horizon))``, ``horizon`` the largest
        proof depth of a derivable literal (independent of the query), capped at ``_step_cap(max(max_rules,
        len(rules)))``."""
        horizon = max(proof_depths(facts, rules).values(), default=0)
        return min(self._step_cap(max(self.max_rules, len(rules))), self.step_budget(horizon))

    @staticmethod
    def _static_tokens(
        facts: tuple[int, ...], rules: tuple[Rule, ...], query: int, labels: tuple[int, ...]
    ) -> list[Token]:
        """The tokens that never change within an instance: the rules, the query, the facts (observed literals)."""
        q = _observed(labels, query)
        return [
            *((RULE, _observed(labels, premise), _observed(labels, conclusion), 0, 0) for premise, conclusion in rules),
            (QUERY, q, q, 0, 0),
            *((FACT, _observed(labels, lit), _observed(labels, lit), 0, 0) for lit in facts),
        ]

    def _tokens(
        self,
        base: LogicState | None,
        facts: tuple[int, ...],
        rules: tuple[Rule, ...],
        query: int,
        known: frozenset[int],
        remaining: int,
        budget: int,
        labels: tuple[int, ...],
    ) -> np.ndarray:
        """The observation ``int64[R + F + 2 + derived, 5]`` (module docstring); the static tokens are copied
        from ``base``'s observation when there is one."""
        static_len = len(rules) + 1 + len(facts)
        static = base.observation[:static_len] if base is not None else self._static_tokens(facts, rules, query, labels)
        fact_set = set(facts)
        derived = sorted(_observed(labels, lit) for lit in known if lit not in fact_set)
        dynamic = [
            (GLOBAL, budget_bucket(remaining, budget), min(remaining, FEATURE_VOCAB - 1), 0, 0),
            *((DERIVED, lit, lit, 0, 0) for lit in derived),
        ]
        return token_rows(np.concatenate([np.asarray(static, np.int64).reshape(-1, 5), token_rows(dynamic)]))

    def _pointers(self, applicable: list[int], terminal: bool) -> np.ndarray:
        """``int64[num_actions, 3]``: the ``applicable`` rules' and (unless ``terminal``) "conclude"'s pointers."""
        pointers = {r: (APPLY, r + 1, r + 1) for r in applicable}
        if not terminal:
            pointers[self.conclude_action] = (CONCLUDE, 0, 0)
        return pointer_rows(self.num_actions, pointers)

    def _state(
        self,
        base: LogicState | None,
        names: tuple[str, ...],
        facts: tuple[int, ...],
        rules: tuple[Rule, ...],
        query: int,
        known: frozenset[int],
        concluded: bool,
        steps: int,
        shortest: int,
        budget: int,
        labels: tuple[int, ...],
    ) -> LogicState:
        proved = query in known
        solved = proved or (concluded and shortest == 0)
        terminal = proved or concluded or steps >= budget
        applicable = [] if terminal else [r for r, (p, c) in enumerate(rules) if p in known and c not in known]
        mask = np.zeros(self.num_actions, dtype=np.bool_)
        mask[applicable] = True
        mask[self.conclude_action] = not terminal
        mask.flags.writeable = False
        return LogicState(
            current_player=0,
            legal_action_mask=mask,
            terminal=terminal,
            rewards=solo_rewards(terminal, solved),
            observation=self._tokens(base, facts, rules, query, known, budget - steps, budget, labels),
            step_count=steps,
            names=names,
            facts=facts,
            rules=rules,
            query=query,
            known=known,
            concluded=concluded,
            shortest_proof=shortest,
            budget=budget,
            labels=labels,
            pointers=self._pointers(applicable, terminal),
        )

    def make_state(self, names: Sequence[str], facts: Sequence[int], rules: Sequence[Rule], query: int) -> LogicState:
        """The initial state of an instance given by literal numbers (names by concept index)."""
        names_t, facts_t = tuple(names), tuple(int(f) for f in facts)
        rules_t = tuple((int(p), int(c)) for p, c in rules)
        if len(names_t) > CONCEPT_BOUND:
            raise out_of_bounds(self.name, "an instance of", f"{len(names_t)} concepts", f"of {CONCEPT_BOUND} concepts")
        if len(rules_t) > RULE_BOUND:
            raise out_of_bounds(self.name, "an instance of", f"{len(rules_t)} rules", f"of {RULE_BOUND} rules")
        if not facts_t:
            raise ValueError("logic: an instance needs at least one fact")
        lits = [*facts_t, *(lit for rule in rules_t for lit in rule), int(query)]
        if any(not 0 <= lit < 2 * len(names_t) for lit in lits):
            raise ValueError(f"logic: literals must be in 0..{2 * len(names_t) - 1} for {len(names_t)} concepts")
        if query in facts_t:
            raise ValueError(f"logic: the query {_literal_json(names_t, query)!r} is already a fact")
        shortest = shortest_proof(facts_t, rules_t, query)
        budget = self.budget_for(facts_t, rules_t)
        labels = concept_labels(names_t, facts_t, rules_t, int(query))
        known = frozenset(facts_t)
        return self._state(None, names_t, facts_t, rules_t, int(query), known, False, 0, shortest, budget, labels)

    def _step(self, state: State, action: int) -> LogicState:
        if type(state) is not LogicState:
            raise ValueError(f"{self.name}: expected a LogicState, got {type(state).__name__}")
        if len(state.rules) > RULE_BOUND or len(state.names) > CONCEPT_BOUND:
            raise ValueError(f"{self.name}: the state's instance is beyond this task's bounds")
        known, concluded = state.known, action == self.conclude_action
        if not concluded:
            known = known | {state.rules[action][1]}
        steps = state.step_count + 1
        s = state
        return self._state(
            s, s.names, s.facts, s.rules, s.query, known, concluded, steps, s.shortest_proof, s.budget, s.labels
        )

    # ----------------------------------------------------------------- generation

    def _consistent(self, facts: list[int], rules: list[Rule], query: int, depth: int, provable: bool) -> bool:
        """The instance is as intended: no duplicate or self rule, no derivable contradiction, and the
        query at shortest proof ``depth`` (provable) or not entailed."""
        if len(set(rules)) < len(rules) or any(p // 2 == c // 2 for p, c in rules):
            return False
        closure = forward_chain(facts, rules)
        if any(lit ^ 1 in closure for lit in closure):
            return False
        if provable:
            return shortest_proof(facts, rules, query) == depth
        return query not in closure

    def generate(self, seed: int, depth: int) -> tuple[tuple[str, ...], list[int], list[Rule], int]:
        """The instance drawn with ``seed`` at proof depth ``depth``: ``(names, facts, rules, query)``,
        concepts numbered by first appearance."""
        rng = np.random.default_rng(seed)
        n_concepts = depth + 1  # concepts are allocated 0, 1, ... as they are needed
        chain = [0] + [int(rng.random() < (0.5 if i == depth else 0.25)) for i in range(1, depth + 1)]
        lits = [2 * i + s for i, s in enumerate(chain)]
        rules: list[Rule] = [(lits[i], lits[i + 1]) for i in range(depth)]
        facts = [lits[0]]
        provable = bool(rng.random() < 0.5)
        forced = False  # the first distractor concludes the (off-chain) query from a fresh premise
        if provable:
            query = lits[depth]
        else:
            kind = int(rng.integers(3))
            if kind == 0:  # a false statement: the negation of a derivable literal
                i = depth if rng.random() < 0.5 else int(rng.integers(depth))
                query = lits[i] ^ 1
            elif kind == 1:  # a concept off the chain, concluded only from a premise never derivable
                query = 2 * n_concepts + int(rng.integers(2))
                forced = True
                n_concepts += 1
            else:  # the chain's end with one link broken
                k = int(rng.integers(depth))
                rules[k] = (lits[k] ^ 1, lits[k + 1])
                query = lits[depth]
        if self.num_concepts - n_concepts - self.distractors >= 1 and rng.random() < 1 / 3:
            facts.append(2 * n_concepts)  # a second fact, about an off-chain concept
            n_concepts += 1
        for j in range(self.distractors):
            if j == 0 and forced:
                rules.append((2 * n_concepts + int(rng.integers(2)), query))
                n_concepts += 1
                continue
            for _ in range(_DISTRACTOR_TRIES):
                rule = self._distractor(rng, facts, rules, n_concepts)
                if self._consistent(facts, [*rules, rule], query, depth, provable):
                    break
            else:  # a premise about a fresh concept is never derivable: always consistent
                rule = (2 * n_concepts, int(rng.integers(2 * n_concepts)))
            rules.append(rule)
            n_concepts += any(lit // 2 == n_concepts for lit in rule)
        order = rng.permutation(len(rules))
        rules = [rules[int(i)] for i in order]
        facts = [facts[int(i)] for i in rng.permutation(len(facts))]
        words = [CONCEPT_NAMES[int(i)] for i in rng.choice(len(CONCEPT_NAMES), size=n_concepts, replace=False)]
        # renumber concepts by first appearance, as parse does
        renum: dict[int, int] = {}
        for lit in [*facts, *(lit for rule in rules for lit in rule), query]:
            renum.setdefault(lit // 2, len(renum))

        def relit(lit: int) -> int:
            return 2 * renum[lit // 2] + lit % 2

        names = [""] * len(renum)
        for old, new in renum.items():
            names[new] = words[old]
        return (
            tuple(names),
            [relit(f) for f in facts],
            [(relit(p), relit(c)) for p, c in rules],
            relit(query),
        )

    def _distractor(self, rng: np.random.Generator, facts: list[int], rules: list[Rule], n_concepts: int) -> Rule:
        """A candidate extra rule; it may name the next fresh concept ``n_concepts``."""
        closure = forward_chain(facts, rules)
        fresh = bool(rng.random() < 0.5)
        kind = int(rng.integers(3))
        if kind == 0:  # a branch off a derivable literal
            derivable = sorted(closure)
            premise = derivable[int(rng.integers(len(derivable)))]
            concept = n_concepts if fresh else int(rng.integers(n_concepts))
            return premise, 2 * concept + int(rng.random() < 0.3)
        if kind == 1:  # a premise never derivable (it may conclude anything, the query included)
            if fresh:
                premise = 2 * n_concepts + int(rng.integers(2))
            else:
                underivable = [lit for lit in range(2 * n_concepts) if lit not in closure]
                premise = underivable[int(rng.integers(len(underivable)))]
            return premise, int(rng.integers(2 * n_concepts))
        premise = int(rng.integers(2 * n_concepts))  # a link between any two concepts
        return premise, 2 * n_concepts + int(rng.random() < 0.3) if fresh else int(rng.integers(2 * n_concepts))

    def _initial_state(self, seed: int, difficulty: int) -> LogicState:
        return self.make_state(*self.generate(seed, difficulty))

    # ----------------------------------------------------------------- verdicts

    def is_solved(self, state: State) -> bool:
        """The query was proved, or "not provable" was concluded rightly."""
        assert isinstance(state, LogicState)
        return state.solved

    def optimal_steps(self, state: State) -> int:
        """The shortest proof, or ``1`` ("conclude") when the query is not provable."""
        assert isinstance(state, LogicState)
        return state.optimal

    def demonstration(self, state: State) -> list[int] | None:
        """A shortest proof from ``state`` (:func:`proof_actions`), or ``[conclude]`` when the query is not
        entailed; ``[]`` for a terminal state, ``None`` when the proof does not fit the remaining budget."""
        if not isinstance(state, LogicState):
            raise ValueError(f"{self.name}: expected a LogicState, got {type(state).__name__}")
        if state.terminal:
            return []
        proof = proof_actions(state.known, state.rules, state.query)
        if proof is None:
            return [self.conclude_action]
        return proof if len(proof) <= state.budget - state.step_count else None

    def answer(self, state: State) -> str | None:
        """``"true"`` if the query was proved, ``"not provable"`` if concluded so (right or wrong); else ``None``."""
        if not isinstance(state, LogicState) or not state.terminal:
            return None
        if state.proved:
            return "true"
        return "not provable" if state.concluded else None

    def action_to_text(self, state: State, action: int) -> str:
        """``"Max is a wumpus, every wumpus is a yumpus, so Max is a yumpus."`` / ``"conclude: not provable"``."""
        a = int(action)
        if a == self.conclude_action:
            return "conclude: not provable"
        if isinstance(state, LogicState) and 0 <= a < len(state.rules):
            premise, conclusion = state.rules[a]
            names = state.names
            return (
                f"{ENTITY} {_is(names, premise)}, {_every(names, premise)} {_is(names, conclusion)}, "
                f"so {ENTITY} {_is(names, conclusion)}."
            )
        return f"apply rule {a}"

    # ----------------------------------------------------------------- text

    def instance_text(self, state: State) -> str:
        """The instance in the format :meth:`parse` reads."""
        if not isinstance(state, LogicState):
            raise ValueError(f"{self.name}: expected a LogicState, got {type(state).__name__}")
        return state.to_json()

    def parse(self, text: str) -> LogicState:
        """The instance in ``text``: JSON ``{"facts": [...], "rules": [[premise, conclusion], ...], "query": q}``.

        Literals are concept names (letters only) with an optional ``"not "`` prefix; concepts are numbered
        in order of first appearance (facts, rules, query). At most 128 concepts and 40 rules (``bounds``,
        whatever the task's parameters); concept names of at most 64 letters; at least one fact; no repeated fact
        or rule; no rule relating a concept to itself; no contradiction (a literal and its negation) among the
        facts or anything they derive; the query must not be a fact. A query that is not entailed (about a concept no
        rule concludes, say) is a valid instance whose answer is "not provable". Anything else raises a one-line
        ``ValueError``.
        """
        data = read_json_instance("logic", text, ("facts", "rules", "query"))
        index: dict[str, int] = {}

        def literal(where: str, value: Any) -> int:
            if not isinstance(value, str):
                raise ValueError(
                    f"logic: {where} must be a string like 'wumpus' or 'not wumpus', got {short_repr(value)}"
                )
            words = value.split()
            negative = len(words) == 2 and words[0] == "not"
            if not (len(words) == 1 or negative) or not _NAME_RE.fullmatch(words[-1]) or words[-1] == "not":
                raise ValueError(
                    f"logic: {where} {short_repr(value)} is not a literal (a concept name of letters, optionally "
                    f"after 'not ')"
                )
            if len(words[-1]) > MAX_NAME_LETTERS:
                raise ValueError(
                    f"logic: {where} has a concept name of {len(words[-1])} letters, at most {MAX_NAME_LETTERS}"
                )
            concept = index.setdefault(words[-1], len(index))
            if len(index) > CONCEPT_BOUND:
                what = f"{len(index)} ({short_repr(words[-1])} in {where})"
                raise out_of_bounds(self.name, "concept", what, f"of {CONCEPT_BOUND} concepts")
            return 2 * concept + negative

        facts_in, rules_in = data["facts"], data["rules"]
        if not isinstance(facts_in, list) or not facts_in:
            raise ValueError("logic: 'facts' must be a non-empty list of literals")
        if not isinstance(rules_in, list):
            got = short_repr(rules_in)
            raise ValueError(f"logic: 'rules' must be a list of [premise, conclusion] pairs, got {got}")
        if len(rules_in) > RULE_BOUND:
            raise out_of_bounds(self.name, "an instance of", f"{len(rules_in)} rules", f"of {RULE_BOUND} rules")
        facts = [literal(f"fact {i + 1}", f) for i, f in enumerate(facts_in)]
        if len(set(facts)) < len(facts):
            raise ValueError("logic: a fact is listed twice")
        if any(f ^ 1 in facts for f in facts):
            raise ValueError("logic: the facts contradict each other")
        rules: list[Rule] = []
        for i, rule in enumerate(rules_in):
            if not isinstance(rule, list) or len(rule) != 2:
                raise ValueError(f"logic: rule {i + 1} must be a [premise, conclusion] pair, got {short_repr(rule)}")
            premise = literal(f"rule {i + 1} premise", rule[0])
            conclusion = literal(f"rule {i + 1} conclusion", rule[1])
            if premise // 2 == conclusion // 2:
                raise ValueError(f"logic: rule {i + 1} relates {rule[1].split()[-1]!r} to itself")
            rules.append((premise, conclusion))
        if len(set(rules)) < len(rules):
            raise ValueError("logic: a rule is listed twice")
        query = literal("query", data["query"])
        names = [""] * len(index)
        for word, concept in index.items():
            names[concept] = word
        closure = forward_chain(facts, rules)
        clash = min((lit for lit in closure if lit % 2 == 0 and lit + 1 in closure), default=None)
        if clash is not None:
            raise ValueError(
                f"logic: the facts and rules derive both {names[clash // 2]!r} and 'not {names[clash // 2]}'"
            )
        return self.make_state(names, facts, rules, query)

    def __repr__(self) -> str:
        return (
            f"Logic(num_concepts={self.num_concepts}, max_rules={self.max_rules}, max_depth={self.max_depth}, "
            f"distractors={self.distractors}, step_budget_factor={self.step_budget_factor})"
        )
