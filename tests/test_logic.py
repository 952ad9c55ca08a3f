"""Tests for the ProntoQA-style deduction task (``logic``): known proofs, the verifier, generation, text."""

from __future__ import annotations

import json

import numpy as np
import pytest

from zeroforge.tasks import make_task
from zeroforge.tasks.reasoning.logic import (
    CONCEPT_NAMES,
    Logic,
    LogicState,
    forward_chain,
    proof_depths,
    shortest_proof,
)

# concepts by first appearance: wumpus 0, rompus 1, yumpus 2, zumpus 3, dumpus 4
CHAIN = {
    "facts": ["wumpus"],
    "rules": [["wumpus", "rompus"], ["wumpus", "yumpus"], ["yumpus", "zumpus"], ["zumpus", "not dumpus"]],
    "query": "not dumpus",
}
PROOF = [1, 2, 3]  # wumpus -> yumpus -> zumpus -> not dumpus; rule 0 is a distractor


def _instance(**changes: object) -> str:
    return json.dumps({**CHAIN, **changes})


def _play(task: Logic, state: LogicState, actions: list[int]) -> LogicState:
    for a in actions:
        state = task.step(state, a)
    return state


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


def test_budget_is_capped_at_max_episode_steps() -> None:
    task = Logic(num_concepts=5, max_rules=3, max_depth=2, distractors=1)
    assert task.max_episode_steps == 4  # 3 rule applications and "conclude"
    state = task.parse(json.dumps({"facts": ["a"], "rules": [["a", "b"], ["b", "c"], ["c", "d"]], "query": "d"}))
    assert state.shortest_proof == 3 and state.budget == 4  # not ceil(2.0 * 3) = 6
    assert task.score(_play(task, state, [0, 1, 2])) == 1.0


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
    assert mask.tolist() == [True, True, False, False, False] + [False] * (task.max_rules - 5) + [True]
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


def test_observation_layout(task: Logic) -> None:
    n = task.num_concepts
    pos, neg, pad, unknown, known, bucket0 = n, n + 1, n + 2, n + 3, n + 4, n + 5
    assert task.seq_len == 4 * task.max_rules + 2 * n + 3 and task.vocab_size == n + 13
    assert task.num_actions == task.max_rules + 1
    state = task.parse(_instance())
    obs = state.observation.tolist()
    assert obs[:16] == [0, pos, 1, pos, 0, pos, 2, pos, 2, pos, 3, pos, 3, pos, 4, neg]
    assert obs[16 : 4 * task.max_rules] == [pad] * (4 * task.max_rules - 16)
    bits = obs[4 * task.max_rules : 4 * task.max_rules + 2 * n]
    assert bits == [known] + [unknown] * (2 * n - 1)
    assert obs[-3:] == [4, neg, bucket0 + 7]
    state = task.step(state, 1)  # Max is a yumpus (concept 2, positive)
    bits = state.observation[4 * task.max_rules : 4 * task.max_rules + 2 * n].tolist()
    assert [i for i, b in enumerate(bits) if b == known] == [0, 4]
    assert state.observation[-1] == bucket0 + 6  # 5 of 6 steps left: 8 * 5 // 6 = 6


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
            state = _play(task, state, path[::-1])
        assert task.outcome(state) == "success" and task.score(state) == 1.0


def test_registered_with_defaults() -> None:
    task = make_task("logic")
    assert isinstance(task, Logic)
    assert task.max_episode_steps == min(task.max_rules + 1, int(np.ceil(2.0 * task.max_rules)))
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
        (_instance(rules=[["wumpus", "yumpus"]] * 13), "13 rules, at most max_rules = 12"),
        (_instance(rules=[["wumpus", "yumpus"]] * 2), "rule is listed twice"),
        (_instance(facts=["wumpus", "wumpus"]), "fact is listed twice"),
        (_instance(facts=["wumpus", "not wumpus"]), "contradict"),
        (_instance(rules=[[f"c{chr(97 + i)}", f"d{chr(97 + i)}"] for i in range(6)]), "num_concepts"),
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
