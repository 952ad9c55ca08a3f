"""Task generators (seeded, difficulty ranges, sub-types) and the curriculum's progressive complexity."""

from __future__ import annotations

import pytest

from zeroforge.tasks.generators import (
    CodeGenerationTaskGenerator,
    Curriculum,
    MathProblemGenerator,
    MCTSSearchTaskGenerator,
    MultiStepReasoningGenerator,
)


def test_curriculum_raises_on_success_and_lowers_on_collapse() -> None:
    cur = Curriculum(1, 3, raise_at=0.8, lower_at=0.2)
    assert cur.level == 1
    assert cur.update([True] * 9 + [False]) == 2  # 90 % >= 80 %
    assert cur.update([True] * 5 + [False] * 5) == 2  # 50 %: stays
    assert cur.update([True] * 8 + [False] * 2) == 3
    assert cur.update([True] * 10) == 3  # already at the top
    assert cur.update([False] * 10) == 2  # 0 % <= 20 %
    assert cur.update([]) == 2  # nothing played: nothing learned
    assert cur.history == [(1, 0.9), (2, 0.5), (2, 0.8), (3, 1.0), (3, 0.0)]
    again = Curriculum(1, 3)
    again.load_state_dict(cur.state_dict())
    assert again.level == 2 and again.history == cur.history


def test_curriculum_needs_enough_episodes_and_stays_in_range() -> None:
    cur = Curriculum(2, 4, start_level=2, min_episodes=5)
    assert cur.update([True] * 4) == 2, "4 episodes are fewer than min_episodes"
    assert cur.update([False] * 5) == 2, "never below min_level"
    with pytest.raises(ValueError, match="min_level 3 is above max_level 2"):
        Curriculum(3, 2)
    with pytest.raises(ValueError, match="start_level"):
        Curriculum(1, 3, start_level=4)
    with pytest.raises(ValueError, match="lower_at < raise_at"):
        Curriculum(1, 3, raise_at=0.3, lower_at=0.5)
    with pytest.raises(ValueError, match="outside"):
        Curriculum(1, 3).load_state_dict({"level": 7, "history": []})


def test_search_generator_is_seeded_and_draws_within_the_range() -> None:
    gen = MCTSSearchTaskGenerator(difficulty_range=(1, 3), seed=7)
    items = gen.generate(40)
    again = MCTSSearchTaskGenerator(difficulty_range=(1, 3), seed=7).generate(10, start=30)
    assert [(g.sub_type, g.difficulty, g.seed) for g in items[30:]] == [(g.sub_type, g.difficulty, g.seed)
                                                                       for g in again]
    assert all(g.state == g.task.initial_state(g.seed, g.difficulty) for g in items)
    assert {g.sub_type for g in items} == set(MCTSSearchTaskGenerator.SUB_TYPES), "every sub-type occurs"
    for g in items:
        assert 1 <= g.difficulty <= min(3, g.task.difficulty_levels)
        assert g.query == g.state.to_text()
    games = [g for g in items if g.sub_type in ("nim", "connect_n")]
    assert games and all(g.difficulty == 1 for g in games), "games have one level"
    other = MCTSSearchTaskGenerator(difficulty_range=(1, 3), seed=8).generate(40)
    assert [g.seed for g in other] != [g.seed for g in items]


@pytest.mark.parametrize("kind", [MathProblemGenerator, CodeGenerationTaskGenerator])
def test_math_and_code_generators_share_the_generator_and_its_curriculum(kind: type) -> None:
    items = kind(difficulty_range=(1, 2), seed=3).generate(30)
    assert [(g.sub_type, g.seed) for g in items] == [(g.sub_type, g.seed) for g in kind((1, 2), seed=3).generate(30)]
    assert {g.sub_type for g in items} == set(kind.SUB_TYPES), "every sub-type occurs"
    assert all(g.state == g.task.initial_state(g.seed, g.difficulty) and 1 <= g.difficulty <= 2 for g in items)
    gen = kind((1, 2), seed=0, progressive=True)
    assert {g.difficulty for g in gen.generate(6)} == {1}
    assert gen.report([True] * 10) == 2 and {g.difficulty for g in gen.generate(6)} == {2}
    with pytest.raises(ValueError, match="unknown sub-type 'poetry'"):
        kind(sub_types=["poetry"])


def test_generator_sub_types_and_task_params() -> None:
    gen = MCTSSearchTaskGenerator((2, 2), seed=0, sub_types=["maze"], task_params={"maze": {"size": 6}})
    items = gen.generate(5)
    assert {g.sub_type for g in items} == {"maze"} and {g.difficulty for g in items} == {2}
    assert items[0].task.size == 6 and items[0].state.observation.shape[1] == 5
    reasoning = MultiStepReasoningGenerator((1, 2), seed=1, sub_types=["blocksworld"]).generate(6)
    assert {g.sub_type for g in reasoning} == {"blocksworld"}


def test_progressive_generator_follows_its_curriculum() -> None:
    gen = MCTSSearchTaskGenerator((1, 3), seed=0, sub_types=["maze"], progressive=True)
    assert {g.difficulty for g in gen.generate(8)} == {1}
    assert gen.report([True] * 8) == 2
    assert {g.difficulty for g in gen.generate(8)} == {2}
    with pytest.raises(ValueError, match="progressive=True"):
        MCTSSearchTaskGenerator((1, 3)).report([True])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sub_types": ["sudoku"]}, "unknown sub-type 'sudoku'"),
        ({"sub_types": []}, "sub_types is empty"),
        ({"difficulty_range": (0, 2)}, "difficulty_range"),
        ({"difficulty_range": (3, 1)}, "difficulty_range"),
        ({"difficulty_range": (1, 99)}, "difficulty_range"),
        ({"difficulty_range": "easy"}, "two integers"),
        ({"seed": -1}, "seed must be"),
        ({"sub_types": ["maze"], "task_params": {"tsp": {}}}, "not among sub_types"),
        ({"sub_types": ["maze"], "task_params": {"maze": {"size": -3}}}, "maze"),
    ],
)
def test_bad_generator_parameters_are_clear_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MCTSSearchTaskGenerator(**kwargs)  # type: ignore[arg-type]
