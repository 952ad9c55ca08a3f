"""Tests for the ProntoQA-style deduction task (``logic``): known proofs, the verifier, generation, text, the
structured tokens and pointers, the bounds and the demonstrations."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from zeroforge.tasks import make_task
from zeroforge.tasks.reasoning.logic import (
    APPLY,
    CONCEPT_NAMES,
    CONCLUDE,
    DERIVED,
    FACT,
    GLOBAL,
    QUERY,
    RULE,
    Logic,
    LogicState,
    concept_labels,
    forward_chain,
    proof_actions,
    proof_depths,
    shortest_proof,
)
from zeroforge.tasks.structured import TOKEN_VOCAB, check_episode, check_structured

# concepts by first appearance: wumpus 0, rompus 1, yumpus 2, zumpus 3, dumpus 4
CHAIN = {
    "facts": ["wumpus"],
    "rules": [["wumpus", "rompus"], ["wumpus", "yumpus"], ["yumpus", "zumpus"], ["zumpus", "not dumpus"]],
    "query": "not dumpus",
}
PROOF = [1, 2, 3]  # wumpus -> yumpus -> zumpus -> not dumpus; rule 0 is a distractor


def _instance(**changes: object) -> str:
    return json.dumps({**CHAIN, **changes})


def _lit(state: LogicState, lit: int) -> int:
    """The feature value of literal ``lit`` in ``state``'s observation: ``2 * labels[concept] + sign``."""
    return 2 * state.labels[lit // 2] + lit % 2


def _play(task: Logic, state: LogicState, actions: list[int]) -> LogicState:
    """Play ``actions`` checking the structured contract on every state."""
    end = check_episode(task, state, actions)
    assert isinstance(end, LogicState)
    return end


@pytest.fixture
def task() -> Logic:
    return Logic()


def test_listed_proof_succeeds_optimally(task: Logic) -> None:
    state = task.parse(_instance())
    assert state.names == ("wumpus", "rompus", "yumpus", "zumpus", "dumpus")
    assert state.facts == (0,) and state.query == 2 * 4 + 1
    assert state.shortest_proof == 3 and state.provable and state.budget == 6
    for i, a in enumerate(PROOF):
        assert not state.terminal and task.score(state) is None and task.answer(state) is None
        state = task.step(state, a)
        assert state.step_count == i + 1
    assert state.terminal and state.proved
    assert state.rewards.tolist() == [1.0]
    assert task.outcome(state) == "success"
    assert task.score(state) == 1.0
    assert task.answer(state) == "true"
    assert not state.legal_action_mask.any()


def test_detour_lowers_the_score(task: Logic) -> None:
    state = _play(task, task.parse(_instance()), [0, *PROOF])
    assert task.outcome(state) == "success"
    assert task.score(state) == pytest.approx(3 / 4)


def test_concluding_not_provable_on_a_provable_query_fails(task: Logic) -> None:
    state = task.step(task.parse(_instance()), task.conclude_action)
    assert state.terminal and state.concluded
    assert state.rewards.tolist() == [-1.0]
    assert task.outcome(state) == "failure"
    assert task.score(state) == 0.0
    assert task.answer(state) == "not provable"


@pytest.mark.parametrize("query", ["dumpus", "not yumpus", "lempus", "not lempus"])
def test_unprovable_query_concluding_succeeds(task: Logic, query: str) -> None:
    """The negation of a derivable literal, and a concept the rules never mention."""
    state = task.parse(_instance(query=query))
    assert state.shortest_proof == 0 and not state.provable
    done = task.step(state, task.conclude_action)
    assert done.terminal and done.rewards.tolist() == [1.0]
    assert task.outcome(done) == "success" and task.score(done) == 1.0
    assert task.answer(done) == "not provable"
    late = _play(task, state, [1, task.conclude_action])  # right, but one step late
    assert task.outcome(late) == "success" and task.score(late) == 0.5


def test_unprovable_query_budget_runs_out() -> None:
    task = Logic(step_budget_factor=1.0)
    state = task.parse(_instance(query="dumpus"))
    assert state.budget == 3  # horizon 3: zumpus -> not dumpus is 3 rules deep
    state = _play(task, state, [0, 1])
    assert not state.terminal and state.legal_action_mask[task.conclude_action]
    state = task.step(state, 2)
    assert state.terminal and not state.proved and not state.concluded
    assert state.rewards.tolist() == [-1.0]
    assert task.outcome(state) == "failure" and task.score(state) == 0.0
    assert task.answer(state) is None


def test_proof_on_the_last_step_of_the_budget_succeeds() -> None:
    task = Logic(step_budget_factor=1.0)
    state = _play(task, task.parse(_instance()), PROOF)
    assert state.step_count == state.budget == 3
    assert task.outcome(state) == "success" and task.score(state) == 1.0


def test_budget_does_not_depend_on_the_query(task: Logic) -> None:
    budgets = {task.parse(_instance(query=q)).budget for q in ("not dumpus", "dumpus", "zumpus", "lempus")}
    assert budgets == {6}


def test_budget_is_capped_by_the_rule_count() -> None:
    task = Logic(num_concepts=5, max_rules=3, max_depth=2, distractors=1)
    assert task.max_episode_steps == 41  # 40 rule applications and "conclude": the bound
    state = task.parse(json.dumps({"facts": ["a"], "rules": [["a", "b"], ["b", "c"], ["c", "d"]], "query": "d"}))
    assert state.shortest_proof == 3 and state.budget == 4  # 3 rule applications and "conclude", not 2.0 * 3 = 6
    assert task.score(_play(task, state, [0, 1, 2])) == 1.0
    # an instance of more rules than max_rules gets the cap of its own rule count
    chain = [[f"c{'x' * i}", f"c{'x' * (i + 1)}"] for i in range(5)]
    longer = task.parse(json.dumps({"facts": ["c"], "rules": chain, "query": "cxxxxx"}))
    assert longer.shortest_proof == 5 and longer.budget == 6


def test_diamond_forward_chaining_and_shortest_proof() -> None:
    # a(0) -> b(2) -> c(4) -> not d(7), and a(0) -> e(8) -> not d(7): the short path has length 2
    rules = [(0, 2), (2, 4), (4, 7), (0, 8), (8, 7)]
    assert forward_chain([0], rules) == {0, 2, 4, 7, 8}
    assert proof_depths([0], rules) == {0: 0, 2: 1, 8: 1, 4: 2, 7: 2}
    assert shortest_proof([0], rules, 7) == 2
    assert shortest_proof([0], rules, 4) == 2
    assert shortest_proof([0], rules, 6) == 0  # "d", the negation of a derivable literal
    assert shortest_proof([0], rules[:3], 7) == 3  # without the short branch
    assert shortest_proof([2], rules, 7) == 2  # from the middle of the long path
    assert forward_chain([6], rules) == {6}  # nothing follows from an unrelated fact
    task = Logic()
    state = task.parse(
        json.dumps(
            {
                "facts": ["a"],
                "rules": [["a", "b"], ["b", "c"], ["c", "not d"], ["a", "e"], ["e", "not d"]],
                "query": "not d",
            }
        )
    )
    assert state.rules == tuple(rules) and state.shortest_proof == 2
    assert task.score(_play(task, state, [3, 4])) == 1.0
    assert task.score(_play(task, state, [0, 1, 2])) == pytest.approx(2 / 3)


def test_legality(task: Logic) -> None:
    state = task.parse(_instance(rules=[*CHAIN["rules"], ["rompus", "wumpus"]]))
    mask = state.legal_action_mask
    assert mask.tolist() == [True, True, False, False, False] + [False] * (40 - 5) + [True]
    with pytest.raises(ValueError, match="illegal"):
        task.step(state, 2)  # premise "yumpus" is not known yet
    state = task.step(state, 1)
    assert not state.legal_action_mask[1]  # its conclusion "yumpus" is known now
    assert state.legal_action_mask[2]
    state = task.step(state, 0)  # Max is a rompus
    assert not state.legal_action_mask[4]  # rompus -> wumpus concludes a fact
    with pytest.raises(ValueError, match="illegal"):
        task.step(state, 4)
    with pytest.raises(ValueError, match="illegal"):
        task.step(state, 7)  # an empty rule slot


def test_tokens_and_pointers(task: Logic) -> None:
    assert task.structured and task.bounds == {"rules": 40, "concepts": 128}
    assert task.num_actions == 41 and task.conclude_action == 40
    assert task.seq_len == 40 + 2 + 128 and task.vocab_size == TOKEN_VOCAB
    state = task.parse(_instance())
    # literals: wumpus 0, rompus 2, yumpus 4, zumpus 6, not dumpus 9, each observed through the instance's labels
    assert state.labels == concept_labels(state.names, state.facts, state.rules, state.query)
    wumpus, rompus, yumpus, zumpus, not_dumpus = (_lit(state, lit) for lit in (0, 2, 4, 6, 9))
    assert not_dumpus % 2 == 1 and [wumpus % 2, rompus % 2, yumpus % 2, zumpus % 2] == [0, 0, 0, 0]
    assert len({wumpus, rompus, yumpus, zumpus, not_dumpus - 1}) == 5  # five concepts, five labels
    np.testing.assert_array_equal(
        state.observation,
        [
            (RULE, wumpus, rompus, 0, 0),  # every wumpus is a rompus
            (RULE, wumpus, yumpus, 0, 0),  # every wumpus is a yumpus
            (RULE, yumpus, zumpus, 0, 0),  # every yumpus is a zumpus
            (RULE, zumpus, not_dumpus, 0, 0),  # every zumpus is not a dumpus
            (QUERY, not_dumpus, not_dumpus, 0, 0),
            (FACT, wumpus, wumpus, 0, 0),
            (GLOBAL, 7, 6, 0, 0),  # budget bucket 7, 6 steps left
        ],
    )
    pointers = state.action_pointers()
    assert pointers.shape == (41, 3) and not pointers.flags.writeable
    assert pointers[0].tolist() == [APPLY, 1, 1] and pointers[1].tolist() == [APPLY, 2, 2]  # rule r: token r
    assert pointers[40].tolist() == [CONCLUDE, 0, 0]  # the summary token
    assert not pointers[~state.legal_action_mask].any()  # rules 2, 3 (premise unknown) and empty slots
    state = task.step(state, 1)  # Max is a yumpus
    assert isinstance(state, LogicState)
    assert state.observation[:6].tolist() == task.parse(_instance()).observation[:6].tolist()
    assert state.observation[6:].tolist() == [[GLOBAL, 6, 5, 0, 0], [DERIVED, yumpus, yumpus, 0, 0]]  # 8*5//6 = 6
    assert state.action_pointers()[2].tolist() == [APPLY, 3, 3] and not state.action_pointers()[1].any()
    end = task.step(state, task.conclude_action)
    assert not end.action_pointers().any()


def test_text(task: Logic) -> None:
    state = task.parse(_instance(rules=[*CHAIN["rules"], ["not impus", "yumpus"]]))
    text = state.to_text()
    assert "Every wumpus is a yumpus." in text
    assert "Every zumpus is not a dumpus." in text
    assert "Everything that is not an impus is a yumpus." in text
    assert "\nMax is a wumpus.\n" in text
    assert "Prove: Max is not a dumpus." in text
    assert "Derived so far: nothing yet." in text
    assert task.action_to_text(state, 1) == "Max is a wumpus, every wumpus is a yumpus, so Max is a yumpus."
    assert task.action_to_text(state, task.conclude_action) == "conclude: not provable"
    state = _play(task, state, [1, 2])
    assert "Derived so far: Max is a yumpus. Max is a zumpus." in state.to_text()
    assert task.action_to_text(state, 3) == "Max is a zumpus, every zumpus is not a dumpus, so Max is not a dumpus."
    assert "concluded: not provable" in task.step(state, task.conclude_action).to_text()


def test_parse_round_trip_and_key(task: Logic) -> None:
    state = task.parse(_instance())
    assert task.parse(task.instance_text(state)) == state
    assert json.loads(task.instance_text(state)) == CHAIN
    # the same derived set in another order is the same state
    a = _play(task, state, [0, 1])
    b = _play(task, state, [1, 0])
    assert a == b and a.state_id == b.state_id
    assert a != _play(task, state, [1, 2])


def test_generated_instances() -> None:
    task = Logic()
    assert task.difficulty_levels == task.max_depth == 4
    for depth in range(1, task.max_depth + 1):
        kinds = set()
        for seed in range(50):
            state = task.initial_state(seed, depth)
            assert state == task.initial_state(seed, depth)
            assert state.to_text() == task.initial_state(seed, depth).to_text()
            kinds.add(state.provable)
            if state.provable:
                assert state.shortest_proof == depth
            else:
                assert state.query not in forward_chain(state.facts, state.rules)
            assert len(state.rules) == depth + task.distractors
            assert len(set(state.names)) == len(state.names) <= task.num_concepts
            assert set(state.names) <= set(CONCEPT_NAMES)
            assert state.query not in state.facts
            assert state.optimal <= state.budget <= task.max_episode_steps
            closure = forward_chain(state.facts, state.rules)
            assert not any(lit ^ 1 in closure for lit in closure), "derivable literals never contradict"
            assert task.parse(task.instance_text(state)) == state
        assert kinds == {True, False}, f"depth {depth}: need provable and unprovable queries"
    assert task.initial_state(0) != task.initial_state(1)


def test_optimal_play_solves_generated_instances() -> None:
    task = Logic()
    for seed in range(20):
        state = task.initial_state(seed)
        if not state.provable:
            state = task.step(state, task.conclude_action)
        else:  # follow BFS parents back from the query
            depths = proof_depths(state.facts, state.rules)
            path, lit = [], state.query
            while depths[lit] > 0:
                r = next(i for i, (p, c) in enumerate(state.rules) if c == lit and depths.get(p) == depths[lit] - 1)
                path.append(r)
                lit = state.rules[r][0]
            assert len(task.demonstration(state) or []) == len(path) == state.shortest_proof
            state = _play(task, state, path[::-1])
        assert task.outcome(state) == "success" and task.score(state) == 1.0


def test_registered_with_defaults() -> None:
    task = make_task("logic")
    assert isinstance(task, Logic)
    assert task.max_episode_steps == 41  # min(40 + 1, ceil(2.0 * 40)): sized by the bound
    small = make_task("logic", num_concepts=5, max_rules=3, max_depth=2, distractors=1, step_budget_factor=1.5)
    for seed in range(10):
        for depth in (1, 2):
            state = small.initial_state(seed, depth)
            assert len(state.rules) == depth + 1 and len(state.names) <= 5


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "malformed JSON"),
        ("[1]", "JSON object"),
        (json.dumps({"facts": ["a"], "rules": []}), "missing the key 'query'"),
        (json.dumps({**CHAIN, "extra": 1}), "unknown keys"),
        (_instance(facts=[]), "non-empty list"),
        (_instance(facts="wumpus"), "non-empty list"),
        (_instance(facts=[3]), "fact 1 must be a string"),
        (_instance(query=None), "query must be a string"),
        (_instance(query="wumpus"), "already a fact"),
        (_instance(query="two words"), "not a literal"),
        (_instance(query="not"), "not a literal"),
        (_instance(query="wum-pus"), "not a literal"),
        (_instance(rules="x"), "list of"),
        (_instance(rules=[["wumpus"]]), "rule 1 must be a"),
        (_instance(rules=[["wumpus", 7]]), "rule 1 conclusion must be a string"),
        (_instance(rules=[["wumpus", "yumpus"]] * 41), "an instance of 41 rules is beyond the bound of 40 rules"),
        (_instance(rules=[["wumpus", "yumpus"]] * 2), "rule is listed twice"),
        (_instance(facts=["wumpus", "wumpus"]), "fact is listed twice"),
        (_instance(facts=["wumpus", "not wumpus"]), "contradict"),
        (_instance(facts=[f"c{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(129)]),
         "concept 129 \\('cey' in fact 129\\) is beyond the bound of 128 concepts"),
        (_instance(rules=[[f"c{chr(97 + i % 26) * (1 + i // 26)}", "dumpus"] for i in range(130)]),
         "an instance of 130 rules is beyond the bound of 40 rules"),
    ],
)
def test_parse_errors(task: Logic, text: str, match: str) -> None:
    with pytest.raises(ValueError, match=match) as err:
        task.parse(text)
    assert str(err.value).startswith("logic:") and "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"num_concepts": 2}, "num_concepts must be an integer in 3..32"),
        ({"num_concepts": 33}, "num_concepts"),
        ({"num_concepts": 12.0}, "num_concepts"),
        ({"max_rules": 0}, "max_rules"),
        ({"max_rules": 41}, "max_rules must be an integer in 1..40"),
        ({"max_rules": True}, "max_rules"),
        ({"max_depth": 0}, "max_depth"),
        ({"distractors": -1}, "distractors"),
        ({"max_depth": 8, "distractors": 5}, r"max_depth \+ distractors \(13\) must be at most max_rules \(12\)"),
        ({"num_concepts": 9}, r"num_concepts \(9\) must be at least max_depth \+ distractors \+ 2 \(10\)"),
        ({"step_budget_factor": 0.5}, "step_budget_factor"),
        ({"step_budget_factor": float("nan")}, "step_budget_factor"),
        ({"step_budget_factor": "2"}, "step_budget_factor"),
    ],
)
def test_bad_parameters(params: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match) as err:
        Logic(**params)  # type: ignore[arg-type]
    assert str(err.value).startswith("logic:")


def test_solved_episode_yields_a_readable_reasoning_chain(task: Logic) -> None:
    """The extractor's reasoning example of the listed proof: the query is the problem in English and each
    step names the rule applied and the state after it."""
    from zeroforge.data.extractor import TrainingDataExtractor
    from zeroforge.search.trace import MCTSTrace
    from zeroforge.selfplay.episode import Action, SelfPlayEpisode

    states = [task.parse(_instance())]
    actions, traces = [], []
    for a in PROOF:
        s = states[-1]
        visits = s.legal_action_mask.astype(np.int32)
        zeros = np.zeros(task.num_actions, np.float32)
        traces.append(MCTSTrace(s.state_id, int(visits.sum()), visits, zeros, zeros, zeros, s.legal_action_mask,
                                0.0, 0.0, a, 1, 0.0))
        actions.append(Action(a, task.action_to_text(s, a), 0))
        states.append(task.step(s, a))
    ep = SelfPlayEpisode.build("logic-0", states, actions, traces, task.outcome(states[-1]), 1)
    (example,) = TrainingDataExtractor().extract([ep])["reasoning"]
    assert example.query is not None and "Prove: Max is not a dumpus." in example.query
    assert example.reasoning_chain is not None and len(example.reasoning_chain) == 3
    assert "so Max is a yumpus" in example.reasoning_chain[0]
    assert "so Max is not a dumpus" in example.reasoning_chain[2]


# ------------------------------------------------------------------ size-free: bounds and demonstrations


def _name(i: int) -> str:
    """A concept name of letters for number ``i``: ``qa``, ``qb``, ... ``qz``, ``qba``, ..."""
    digits = []
    while True:
        i, d = divmod(i, 26)
        digits.append(chr(97 + d))
        if i == 0:
            return "q" + "".join(reversed(digits))


def _forty_rules() -> tuple[str, list[int]]:
    """A 40-rule instance (the bound; the default generator draws 8): a chain q0 -> ... -> q30 (rules 0..29),
    two shortcuts q3 -> q12 and q12 -> q25 (rules 30, 31) and 8 rules from premises never derived (32..39).
    The shortest proof of q30 is q0 -> q1 -> q2 -> q3 => q12 => q25 -> q26 -> ... -> q30: 10 rules, one way."""
    q = [_name(i) for i in range(31)]
    rules = [[q[i], q[i + 1]] for i in range(30)]
    rules += [[q[3], q[12]], [q[12], q[25]]]
    rules += [[f"dead{chr(97 + j)}", q[4 * j]] for j in range(8)]
    text = json.dumps({"facts": [q[0]], "rules": rules, "query": q[30]})
    return text, [0, 1, 2, 30, 31, 25, 26, 27, 28, 29]


def test_proof_actions_finds_a_shortest_applicable_proof() -> None:
    rules = [(0, 2), (2, 4), (4, 7), (0, 8), (8, 7)]  # the diamond: a -> b -> c -> not d, a -> e -> not d
    assert proof_actions([0], rules, 7) == [3, 4]
    assert proof_actions([0, 4], rules, 7) == [2]  # from a later point: c is known
    assert proof_actions([0], rules, 6) is None and proof_actions([0], rules, 0) == []


@pytest.mark.parametrize(
    ("text", "demo"),
    [
        (_instance(), [1, 2, 3]),  # the listed proof; rule 0 is a distractor
        (json.dumps({"facts": ["a"], "rules": [["a", "b"]], "query": "b"}), [0]),  # one rule: smaller than generated
        (json.dumps({"facts": ["a"], "rules": [["a", "b"], ["b", "c"], ["c", "not d"], ["a", "e"], ["e", "not d"]],
                     "query": "not d"}), [3, 4]),  # the diamond's short side
        (_instance(query="dumpus"), [40]),  # the negation of a derivable literal: conclude
        (_instance(query="lempus"), [40]),  # a concept no rule mentions
        (_forty_rules()[0], _forty_rules()[1]),
    ],
)
def test_demonstration_is_the_shortest_proof(text: str, demo: list[int]) -> None:
    task = Logic()
    state = task.parse(text)
    assert task.demonstration(state) == demo
    end = _play(task, state, demo)
    assert end.terminal and task.outcome(end) == "success" and task.score(end) == 1.0
    assert task.demonstration(end) == []


def test_forty_rule_instance_tokens_and_budget() -> None:
    task = Logic()  # max_rules=12: reads up to 40 all the same
    text, demo = _forty_rules()
    state = task.parse(text)
    assert len(state.rules) == 40 and len(state.names) == 39 and state.shortest_proof == 10
    assert state.budget == 32  # horizon 16 (q24, reached along the chain from q12), times 2.0
    obs = state.observation
    assert obs.shape == (40 + 3, 5) and obs[:40, 0].tolist() == [RULE] * 40
    assert obs[30].tolist() == [RULE, _lit(state, 6), _lit(state, 24), 0, 0]  # q3 -> q12: literals 2 * 3, 2 * 12
    q30, q0 = _lit(state, 60), _lit(state, 0)
    assert obs[40:].tolist() == [[QUERY, q30, q30, 0, 0], [FACT, q0, q0, 0, 0], [GLOBAL, 7, 32, 0, 0]]
    assert np.flatnonzero(state.legal_action_mask).tolist() == [0, 40]
    end = _play(task, state, demo)
    assert end.observation[43:, 0].tolist() == [DERIVED] * 10


def test_demonstration_from_the_middle_of_an_episode() -> None:
    task = Logic()
    detour = _play(task, task.parse(_instance()), [0, 1])  # rompus (a detour), yumpus
    assert task.demonstration(detour) == [2, 3]
    tight = Logic(step_budget_factor=1.0)
    late = _play(tight, tight.parse(_instance()), [0])  # budget 3, 2 steps left, 3 rules needed
    assert tight.demonstration(late) is None


def test_one_task_plays_instances_of_several_sizes() -> None:
    task = Logic()
    many_facts = json.dumps({"facts": [_name(i) for i in range(127)], "rules": [], "query": "zumpus"})
    for text, rules, concepts in ((_instance(), 4, 5), (_forty_rules()[0], 40, 39), (many_facts, 0, 128)):
        state = task.parse(text)
        assert len(state.rules) == rules and len(state.names) == concepts
        assert len(state.observation) == rules + 2 + len(state.facts) <= task.seq_len
        end = _play(task, state, task.demonstration(state) or [])
        assert task.outcome(end) == "success" and task.score(end) == 1.0


def test_random_play_keeps_the_structured_contract() -> None:
    task = Logic()
    rng = np.random.default_rng(0)
    for text in (_instance(), _forty_rules()[0]):
        for _ in range(5):
            state = task.parse(text)
            check_structured(task, state)
            while not state.terminal:
                nxt = task.step(state, int(rng.choice(np.flatnonzero(state.legal_action_mask))))
                assert isinstance(nxt, LogicState)
                check_structured(task, nxt)
                derived = nxt.observation[nxt.observation[:, 0] == DERIVED, 1].tolist()
                assert derived == sorted(_lit(nxt, lit) for lit in nxt.derived)  # in observed-literal order
                state = nxt


def test_demonstrations_are_fast() -> None:
    task = Logic(num_concepts=24, max_rules=20, max_depth=6, distractors=12)
    states = [s for s in map(task.initial_state, range(200)) if isinstance(s, LogicState)]
    assert len(states) == 200
    start = time.perf_counter()
    demos = [task.demonstration(s) for s in states]
    assert time.perf_counter() - start < 2.0  # ~20 us each
    assert all(d is not None and len(d) == (s.optimal if s.provable else 1) for d, s in zip(demos, states, strict=True))


# ------------------------------------------------------------------ concept labels: a per-instance permutation


def test_a_literal_and_its_negation_differ_only_in_the_low_bit() -> None:
    task = Logic()
    state = task.parse(
        json.dumps(
            {"facts": ["wumpus"], "rules": [["wumpus", "not zumpus"], ["not zumpus", "dumpus"],
                                            ["zumpus", "not dumpus"]], "query": "dumpus"}
        )
    )
    rules = state.observation[:3, 1:3].tolist()
    not_zumpus, zumpus = rules[0][1], rules[2][0]
    assert rules[1][0] == not_zumpus  # the same literal, the same value: a conclusion matches a premise
    assert not_zumpus == zumpus ^ 1 and zumpus % 2 == 0
    dumpus, not_dumpus = rules[1][1], rules[2][1]
    assert not_dumpus == dumpus ^ 1 and state.observation[3, 1] == dumpus  # the query
    end = _play(task, state, [0, 1])
    assert end.observation[end.observation[:, 0] == DERIVED, 1].tolist() == sorted([not_zumpus, dumpus])


def test_labels_are_a_permutation_of_the_concept_bound() -> None:
    task = Logic()
    many = task.parse(json.dumps({"facts": [_name(i) for i in range(127)], "rules": [], "query": "zumpus"}))
    assert sorted(many.labels) == list(range(128))  # 128 concepts: every label, each once
    facts = many.observation[many.observation[:, 0] == FACT, 1].tolist()
    assert sorted(facts) == [2 * c for c in range(128) if c != many.labels[127]]  # the query's concept is not a fact
    small = task.parse(_instance())
    assert len(set(small.labels)) == 5 and all(0 <= c < 128 for c in small.labels)


def test_concept_labels_cover_the_bound_on_small_instances() -> None:
    task = Logic()  # default generator: at most 12 concepts, literals 0..23 before relabelling
    seen: set[int] = set()
    for seed in range(200):
        state = task.initial_state(seed)
        assert isinstance(state, LogicState) and len(state.names) <= 12
        seen.update(v // 2 for v in state.observation[state.observation[:, 0] != GLOBAL, 1:3].ravel().tolist())
    assert len(seen) >= 120  # a larger instance's concepts meet labels that training on these showed


def test_observation_is_a_function_of_the_instance() -> None:
    task, other = Logic(), Logic()
    for seed in range(20):
        state, again = task.initial_state(seed), other.initial_state(seed)  # drawn twice
        assert isinstance(state, LogicState) and isinstance(again, LogicState)
        twins = (again, task.parse(state.to_json()), other.parse(state.to_json()))  # and parsed twice
        for twin in twins:
            assert twin == state and twin.labels == state.labels
            np.testing.assert_array_equal(twin.observation, state.observation)
        demo = task.demonstration(state) or []
        one, two = _play(task, state, demo), _play(other, twins[1], demo)  # states reached by the same steps
        np.testing.assert_array_equal(one.observation, two.observation)
    first, second = task.parse(_instance()), task.parse(_instance())
    np.testing.assert_array_equal(first.observation, second.observation)
    # another instance (here: another query) draws its own labels
    assert task.parse(_instance(query="zumpus")).labels != first.labels


def test_labels_stay_fixed_through_an_episode_and_keep_the_contract() -> None:
    task = Logic()
    rng = np.random.default_rng(2)
    for seed in range(40):
        state = task.initial_state(seed)
        assert isinstance(state, LogicState)
        labels, static = state.labels, state.observation[: len(state.rules) + 1 + len(state.facts)].tolist()
        check_structured(task, state)
        while not state.terminal:
            nxt = task.step(state, int(rng.choice(np.flatnonzero(state.legal_action_mask))))
            assert isinstance(nxt, LogicState)
            check_structured(task, nxt)
            assert nxt.labels == labels and nxt.observation[: len(static)].tolist() == static
            state = nxt
