"""Tests for the sudoku task: known answers first (a published 9 x 9 puzzle and hand-written 4 x 4, 6 x 6 and
8 x 8 ones), then the rules, the rating, the generator, bad inputs, tokens and pointers."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from zeroforge.tasks import make_task
from zeroforge.tasks.generators import MultiStepReasoningGenerator
from zeroforge.tasks.reasoning.sudoku import (
    CLUE,
    EMPTY,
    PLACE_KIND,
    PLACED,
    RATING_CAP,
    Sudoku,
    SudokuState,
    count_solutions,
    is_solution,
    rating,
    solve_grid,
)
from zeroforge.tasks.structured import POINTER_KIND_BASE, TOKEN_TYPE_BASE, check_episode, check_structured

# The example puzzle of Wikipedia's "Sudoku" article and its unique solution.
WIKIPEDIA = """
53..7....
6..195...
.98....6.
8...6...3
4..8.3..1
7...2...6
.6....28.
...419..5
....8..79
"""
WIKIPEDIA_SOLUTION = """
534678912
672195348
198342567
859761423
426853791
713924856
961537284
287419635
345286179
"""
# "AI Escargot" (Arto Inkala, 2006): unique, and the plain search backtracks on it
ESCARGOT = "1....7.9.\n.3..2...8\n..96..5..\n..53..9..\n.1..8...2\n6....4...\n3......1.\n.4......7\n..7...3..\n"

# hand-written, each with a unique solution (checked below by the rules and by the solver)
FOUR = ".2.4\n3...\n...3\n4.2.\n"
FOUR_SOLUTION = "1234\n3412\n2143\n4321"
SIX = "1.3..6\n.5.1.3\n2.1.4.\n.6.3.2\n3.2.6.\n6..2.1\n"  # boxes of 2 rows x 3 columns
SIX_SOLUTION = "123456\n456123\n231645\n564312\n312564\n645231"
EIGHT = ".7184.5.\n2.4.1.7.\n.46.8.1.\n71..65.3\n.8.5.46.\n4.3..18.\n.2.4.63.\n6.7.5.2.\n"  # boxes of 2 x 4
EIGHT_SOLUTION = "37184256\n25461378\n54638712\n71826543\n18253467\n46372185\n82547631\n63715824"
# box 1 has no place for a 9 (rows 1, 2 and columns 1, 2 hold one elsewhere, cell (3, 3) holds a 5), yet no digit
# repeats and every empty cell has a candidate
NO_NINE_IN_BOX_1 = "...9.....\n......9..\n..5......\n9........\n.........\n.........\n.9.......\n.........\n" \
                   ".........\n"


def _rows(text: str) -> list[list[int]]:
    return [[0 if ch == "." else int(ch) for ch in line] for line in text.split()]


def _play(task: Sudoku, state: SudokuState, actions: list[int]) -> SudokuState:
    end = check_episode(task, state, actions)
    assert isinstance(end, SudokuState)
    return end


def _action(row: int, col: int, digit: int) -> int:
    return (row * 9 + col) * 9 + digit - 1


@pytest.fixture
def task() -> Sudoku:
    return Sudoku()


# ------------------------------------------------------------------------------------------------ known answers
def test_published_puzzle_is_solved_by_the_demonstration(task: Sudoku) -> None:
    solution = _rows(WIKIPEDIA_SOLUTION)
    assert is_solution(_rows(WIKIPEDIA), solution)  # the rules say the published solution is one
    assert count_solutions(_rows(WIKIPEDIA)) == 1 and solve_grid(_rows(WIKIPEDIA)) == solution
    state = task.parse(WIKIPEDIA)
    assert state.side == 9 and state.blanks == 51 and not state.terminal
    demo = task.demonstration(state)
    assert demo is not None and len(demo) == 51
    end = _play(task, state, demo)
    assert end.terminal and end.rewards.tolist() == [1.0] and end.step_count == 51
    assert task.outcome(end) == "success" and task.score(end) == 1.0 and task.is_solved(end)
    assert task.answer(end) == WIKIPEDIA_SOLUTION.strip()
    assert end.rows == solution


@pytest.mark.parametrize(("text", "solution", "side"), [(FOUR, FOUR_SOLUTION, 4), (SIX, SIX_SOLUTION, 6),
                                                         (EIGHT, EIGHT_SOLUTION, 8)])
def test_hand_written_grids_of_other_sides(task: Sudoku, text: str, solution: str, side: int) -> None:
    """4 x 4, 6 x 6 (2 x 3 boxes) and 8 x 8 (2 x 4 boxes, a side the default sizes never draw) puzzles."""
    assert is_solution(_rows(text), _rows(solution)) and count_solutions(_rows(text)) == 1
    state = task.parse(text)
    assert state.side == side and state.blanks == text.count(".")
    demo = task.demonstration(state)
    assert demo is not None
    end = _play(task, state, demo)
    assert task.outcome(end) == "success" and task.answer(end) == solution
    assert 8 not in task.sizes


def test_the_demonstration_fills_the_most_constrained_cell_first(task: Sudoku) -> None:
    state = task.parse(FOUR)
    demo = task.demonstration(state)
    assert demo is not None
    cells = [divmod(a // 9, 9) for a in demo]
    # (0, 0): row 0 has 2, 4, column 0 has 3, 4 -> only 1; the first such cell by index
    assert cells[0] == (0, 0) and demo[0] == _action(0, 0, 1)
    s = state
    for a in demo:  # each chosen cell has the fewest legal digits, ties by cell index
        mask = s.legal_action_mask.reshape(81, 9)
        counts = {c: int(mask[c].sum()) for c in range(81) if mask[c].any()}
        best = min(counts.values())
        assert a // 9 == min(c for c, n in counts.items() if n == best)
        s = task.step(s, a)


def test_demonstration_from_the_middle_and_off_the_stored_solution(task: Sudoku) -> None:
    state = task.parse("1234\n....\n....\n....\n")  # many solutions
    mid = task.step(state, _action(1, 0, 4))  # whatever the stored solution says
    demo = task.demonstration(mid)
    assert demo is not None and len(demo) == mid.blanks - 1
    end = _play(task, mid, demo)
    assert task.outcome(end) == "success" and task.answer(end) is not None
    assert task.demonstration(end) == []


# ------------------------------------------------------------------------------------------------------ the rules
def test_a_digit_in_the_row_column_or_box_is_illegal(task: Sudoku) -> None:
    state = task.parse(WIKIPEDIA)
    legal = state.legal_action_mask.reshape(9, 9, 9)  # row, column, digit - 1
    # cell (0, 2): row 0 has 5 3 7, column 2 has 8, box 0 has 5 3 6 9 8
    assert [d + 1 for d in np.flatnonzero(legal[0, 2])] == [1, 2, 4]
    assert not legal[0, 0].any() and not legal[1, 4].any()  # clues
    for digit, why in ((5, "row"), (8, "column"), (9, "box")):
        assert not state.legal_action_mask[_action(0, 2, digit)], why
        with pytest.raises(ValueError, match="illegal"):
            task.step(state, _action(0, 2, digit))
    six = task.parse(SIX).legal_action_mask.reshape(9, 9, 9)
    assert not six[6:].any() and not six[:, 6:].any(), "cells off a 6 x 6 grid have no action"
    assert not six[..., 6:].any(), "digits 7..9 are never legal on a 6 x 6 grid"


def test_a_dead_end_ends_the_episode_with_minus_one(task: Sudoku) -> None:
    state = task.parse("123.\n....\n....\n....\n")  # (0, 3) can only be 4
    assert state.legal_action_mask[_action(1, 2, 4)]
    end = _play(task, state, [_action(1, 2, 4)])  # a 4 in its box: (0, 3) has no legal digit left
    assert end.terminal and end.rewards.tolist() == [-1.0] and not end.legal_action_mask.any()
    assert task.outcome(end) == "failure" and task.score(end) == 0.0 and task.answer(end) is None
    assert task.demonstration(end) is None and "dead end" in end.to_text()


def test_a_grid_without_a_solution_plays_on_until_a_dead_end(task: Sudoku) -> None:
    state = task.parse("12..\n....\n....\n....\n")
    wrong = _play(task, state, [_action(1, 2, 3)])  # legal, but (0, 2) and (0, 3) both need the 4 now
    assert not wrong.terminal and task.demonstration(wrong) is None
    end = _play(task, wrong, [_action(0, 2, 4)])
    assert end.terminal and task.outcome(end) == "failure"


def test_a_full_grid_ends_the_episode_with_plus_one(task: Sudoku) -> None:
    state = task.parse(FOUR_SOLUTION.replace("1", ".", 1))
    assert state.blanks == 1 and task.demonstration(state) == [_action(0, 0, 1)]
    end = _play(task, state, [_action(0, 0, 1)])
    assert end.terminal and end.rewards.tolist() == [1.0] and task.outcome(end) == "success"
    assert task.score(end) == 1.0 and "solved" in end.to_text()


def test_the_verifier_checks_every_rule() -> None:
    puzzle, good = _rows(FOUR), _rows(FOUR_SOLUTION)
    assert is_solution(puzzle, good)
    swapped = [r[:] for r in good]
    swapped[0][0], swapped[0][1] = swapped[0][1], swapped[0][0]  # rows still permutations, columns not
    assert not is_solution(puzzle, swapped)
    other = _rows("2143\n4321\n1234\n3412")  # a valid grid that drops the clues
    assert is_solution(_rows("....\n....\n....\n...."), other) and not is_solution(puzzle, other)
    assert not is_solution(puzzle, [[*r[:3], 0] for r in good])  # not full


def test_rating_counts_backtracks_of_the_plain_search() -> None:
    assert rating(_rows(FOUR)) == 0 and rating(_rows(WIKIPEDIA)) == 0  # naked singles all the way
    hard = rating(_rows(ESCARGOT))
    assert hard > 0 and hard == rating(_rows(ESCARGOT))
    assert count_solutions(_rows(ESCARGOT)) == 1
    state = Sudoku().parse(ESCARGOT)
    assert state.rating == hard and f"rating {hard}," in state.to_text()
    with pytest.raises(ValueError, match="sudoku: a grid must be square"):
        rating([[1, 2], [3, 4]])


# ------------------------------------------------------------------------------------------------------ tokens
def test_tokens_and_pointers(task: Sudoku) -> None:
    state = task.parse(SIX)
    obs = state.observation
    assert TOKEN_TYPE_BASE["sudoku"] == CLUE and POINTER_KIND_BASE["sudoku"] == PLACE_KIND
    assert obs.shape == (36, 5) and obs.dtype == np.int64 and not obs.flags.writeable
    assert obs[0].tolist() == [CLUE, 1, 1, 0, 0]
    assert obs[1].tolist() == [EMPTY, 0, 1, 0, 1]
    assert obs[3].tolist() == [EMPTY, 0, 2, 0, 3]  # box 1: rows 0-1, columns 3-5
    assert obs[35].tolist() == [CLUE, 1, 6, 5, 5]
    assert obs[6 * 2 + 0, 2] == 3  # row 2 is in box row 1
    a = _action(0, 1, 2)
    assert state.legal_action_mask[a]
    assert state.action_pointers()[a].tolist() == [PLACE_KIND + 1, 2, 2]  # digit 2, token 1
    nxt = task.step(state, a)
    assert nxt.observation[1].tolist() == [PLACED, 2, 1, 0, 1]
    pointers = nxt.action_pointers()
    assert not pointers[~nxt.legal_action_mask].any()
    legal = np.flatnonzero(nxt.legal_action_mask)
    cells = legal // 9
    np.testing.assert_array_equal(pointers[legal, 0], PLACE_KIND + legal % 9)
    np.testing.assert_array_equal(pointers[legal, 1], (cells // 9) * 6 + cells % 9 + 1)
    check_structured(task, nxt)
    assert task.action_to_text(state, a) == "place 2 at row 1, column 2"


@pytest.mark.parametrize("text", [FOUR, SIX, EIGHT, WIKIPEDIA])
def test_demonstration_episodes_keep_the_structured_contract(task: Sudoku, text: str) -> None:
    state = task.parse(text)
    demo = task.demonstration(state)
    assert demo is not None
    end = check_episode(task, state, demo)
    assert task.outcome(end) == "success"


def test_key_text_and_round_trip(task: Sudoku) -> None:
    state = task.parse(WIKIPEDIA)
    assert task.parse(task.instance_text(state)) == state
    assert task.instance_text(state).split() == WIKIPEDIA.split()
    text = state.to_text()
    assert text.splitlines()[0] == "5 3 . | . 7 . | . . ." and text.splitlines()[3] == "------+-------+------"
    assert text.splitlines()[-1] == "9 x 9 sudoku, rating 0, step 0/51"
    assert task.parse("\n".join(text.splitlines()[:-1])) == state  # the grid of to_text reads back
    assert task.parse(WIKIPEDIA.replace(".", "0")) == state
    assert task.parse("\n\n" + " ".join(WIKIPEDIA.strip()) + "\n\n") == state  # spaces, blank lines at the ends
    six = task.parse(SIX).to_text().splitlines()
    assert six[0] == "1 . 3 | . . 6" and six[2] == "------+------"
    eight = task.parse(EIGHT).to_text().splitlines()
    assert eight[0] == ". 7 1 8 | 4 . 5 ." and eight[2] == "--------+--------"
    a, b = _action(0, 2, 1), _action(0, 3, 6)
    assert task.step(task.step(state, a), b) == task.step(task.step(state, b), a)


# ---------------------------------------------------------------------------------------------------- generator
@pytest.mark.parametrize("side", [4, 6, 8, 9])
def test_generated_puzzles_are_unique_within_the_blank_range_and_seeded(side: int) -> None:
    task = Sudoku(sizes=[side])
    n = side * side
    low, high = math.ceil(0.35 * n), math.floor(0.55 * n)
    for seed in range(12):
        state = task.initial_state(seed)
        assert state.side == side and low <= state.blanks <= high
        assert count_solutions([list(state.clues[r * side : (r + 1) * side]) for r in range(side)]) == 1
        assert is_solution(state.rows, [list(state.solution[r * side : (r + 1) * side]) for r in range(side)])
        again = task.initial_state(seed)
        assert again == state and again.to_text() == state.to_text() and again.solution == state.solution
        assert task.parse(task.instance_text(state)) == state
    assert task.initial_state(0) != task.initial_state(1)


def test_sizes_levels_and_max_rating() -> None:
    task = make_task("sudoku")
    assert isinstance(task, Sudoku) and task.sizes == (4, 6, 9) and task.difficulty_levels == 3
    assert {task.initial_state(s, 1).side for s in range(10)} == {4}
    assert {task.initial_state(s, 2).side for s in range(20)} == {4, 6}
    assert {task.initial_state(s).side for s in range(30)} == {4, 6, 9}
    hard = Sudoku(sizes=[9], blank_fraction=[0.6, 0.8])
    easy = Sudoku(sizes=[9], blank_fraction=[0.6, 0.8], max_rating=0)
    ratings = [hard.initial_state(s).rating for s in range(6)]
    assert max(ratings) > 0
    for s in range(6):
        state = easy.initial_state(s)
        assert state.rating == 0 == rating(state.rows)
        assert count_solutions(state.rows) == 1


def test_the_reasoning_generator_draws_sudoku() -> None:
    items = MultiStepReasoningGenerator((1, 3), seed=2, sub_types=["sudoku"]).generate(6)
    assert {g.sub_type for g in items} == {"sudoku"}
    assert all(isinstance(g.state, SudokuState) and g.state == g.task.initial_state(g.seed, g.difficulty)
               for g in items)


# ---------------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "sudoku: empty text"),
        ("  \n\t\n", "sudoku: empty text"),
        ("1234\n123\n....\n....\n", "sudoku: row 2 has 3 cells, expected 4"),
        (".....\n" * 5, "sudoku: a 5 x 5 grid has no box shape; sides are 4, 6, 8 or 9"),
        ("..........\n" * 10, "sudoku: a grid of 10 rows is beyond the bound 9 x 9"),
        ("........\n" * 9, "sudoku: row 1 has 8 cells, expected 9"),
        ("1234567891\n" + ".........\n" * 8, "sudoku: row 1 of 10 cells is beyond the bound 9 x 9"),
        (SIX.replace("5", "7", 1), "sudoku: row 2 column 2 has digit 7; a 6 x 6 grid holds 1..6"),
        ("11..\n....\n....\n....\n", "sudoku: digit 1 appears twice in row 1"),
        ("1...\n....\n1...\n....\n", "sudoku: digit 1 appears twice in column 1"),
        ("1...\n.1..\n....\n....\n", "sudoku: digit 1 appears twice in box 1"),
        ("123.\n...4\n....\n....\n", "sudoku: no solution"),
        (NO_NINE_IN_BOX_1, "sudoku: no solution"),
        (FOUR_SOLUTION, "sudoku: the grid is already full"),
        ("12x4\n....\n....\n....\n", "sudoku: row 1 column 3 has unknown character 'x'"),
        ("1234\n\n....\n....\n....\n", "sudoku: row 2 is blank"),
        ("." * 5000, "sudoku: text has 5000 characters, at most 4096"),
    ],
)
def test_bad_instances_are_one_line_errors(task: Sudoku, text: str, match: str) -> None:
    with pytest.raises(ValueError) as info:
        task.parse(text)
    assert str(info.value).startswith(match) or match in str(info.value), str(info.value)
    assert "\n" not in str(info.value)


def test_no_solution_is_found_without_search_blowup(task: Sudoku) -> None:
    # "no solution", not the solver's "gave up after MAX_NODES": unit reasoning decides it at once
    with pytest.raises(ValueError, match="no solution"):
        task.parse(NO_NINE_IN_BOX_1)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"sizes": [5]}, "sudoku: sizes must be a non-empty list of sides from \\[4, 6, 8, 9\\], got \\[5\\]"),
        ({"sizes": []}, "sizes must be a non-empty list"),
        ({"sizes": [10]}, "sizes must be a non-empty list"),
        ({"sizes": [4, 4]}, "sudoku: sizes must be distinct"),
        ({"sizes": 9}, "sizes must be a non-empty list"),
        ({"blank_fraction": [0.6, 0.4]}, "sudoku: blank_fraction must be a \\[low, high\\] range"),
        ({"blank_fraction": [0, 0.5]}, "blank_fraction"),
        ({"blank_fraction": 0.5}, "blank_fraction"),
        ({"blank_fraction": [0.5, 1.0]}, "blank_fraction"),
        ({"max_rating": -1}, f"sudoku: max_rating must be an integer in 0..{RATING_CAP}"),
    ],
)
def test_bad_parameters(params: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match) as info:
        make_task("sudoku", **params)
    assert "\n" not in str(info.value)


def test_instance_file_round_trip_as_solve_reads_it(task: Sudoku, tmp_path: Path) -> None:
    """What ``zeroforge solve --task sudoku --instance FILE`` does around the agent: read the file, parse it, play,
    report the answer; the answer is a grid in the same text form (a full one, which parse refuses as solved)."""
    path = tmp_path / "puzzle.txt"
    path.write_text(task.instance_text(task.initial_state(4)), encoding="utf-8")
    state = task.parse(path.read_text(encoding="utf-8"))
    assert state == task.initial_state(4)
    end = _play(task, state, task.demonstration(state) or [])
    answer = task.answer(end)
    assert isinstance(answer, str) and is_solution(state.rows, _rows(answer))
    assert _rows(answer) == [list(end.solution[r * end.side : (r + 1) * end.side]) for r in range(end.side)]
    with pytest.raises(ValueError, match="sudoku: the grid is already full"):
        task.parse(answer)
