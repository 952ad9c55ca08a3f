"""A person against the agent (``zeroforge.play``): move parsing in every game's notation and scripted games."""

from __future__ import annotations

import itertools

import pytest

from zeroforge.agent import create_agent
from zeroforge.play import parse_move, play_game, start_position
from zeroforge.tasks import make_task

TTT = make_task("tictactoe")


@pytest.mark.parametrize(("text", "action"), [("4", 4), ("x(1,1)", 4), ("X (1, 1)", 4), ("1,1", 4), (" 2,0 ", 6)])
def test_tictactoe_moves_by_number_or_by_their_text(text: str, action: int) -> None:
    assert parse_move(TTT, TTT.initial_state(0), text) == action


def test_nim_and_connect_four_moves_by_their_text() -> None:
    nim = make_task("nim")
    s = nim.initial_state(0)
    a = parse_move(nim, s, "pile 2, take 1")
    assert nim.action_to_text(s, a) == "pile:2, take:1;"
    c4 = make_task("connect_four")
    assert parse_move(c4, c4.initial_state(0), "col 3") == 3 == parse_move(c4, c4.initial_state(0), "COL3")


@pytest.mark.parametrize(("text", "message"), [
    ("9", "9 is not an action of tictactoe (0 to 8"),
    ("-1", "-1 is not an action of tictactoe"),
    ("0", "0 (o(0,0)) is not legal here"),
    ("o(0,0)", "'o(0,0)' is not a legal move here"),
    ("banana", "'banana' is not a legal move here"),
    ("!!", "type a move"),
])
def test_moves_that_are_not_legal_say_why(text: str, message: str) -> None:
    after_x0 = start_position(TTT, [0])
    with pytest.raises(ValueError) as err:
        parse_move(TTT, after_x0, text)
    assert message in str(err.value)


def test_start_position_names_the_first_bad_move() -> None:
    with pytest.raises(ValueError, match="move 3: tictactoe: action 0 is illegal here"):
        start_position(TTT, [0, 1, 0])
    with pytest.raises(ValueError, match=r"move 6 .* the game is already over"):
        start_position(TTT, [0, 3, 1, 4, 2, 5])


@pytest.mark.parametrize("seat", [0, 1])
def test_a_whole_game_ends_with_the_boards_verdict(seat: int) -> None:
    agent = create_agent({"task": {"name": "tictactoe"}}, num_simulations=16)
    out: list[str] = []
    cells = itertools.cycle(range(9))  # the person tries the cells in turn: taken ones are refused, the next tried
    result = play_game(agent, seat, lambda prompt: str(next(cells)), out.append)
    end = start_position(TTT, list(result.moves[:-1]))
    end = TTT.step(end, result.moves[-1])
    assert end.terminal
    r = end.rewards
    expected = "you win" if r[seat] > r[1 - seat] else "the agent wins" if r[seat] < r[1 - seat] else "draw"
    assert result.verdict == expected and out[-1].startswith(f"game over: {expected}")
    agent_moves = [m for i, m in enumerate(result.moves) if i % 2 != seat]
    assert sum(line.startswith("agent plays") for line in out) == len(agent_moves)
    assert out[0] == TTT.initial_state(0).to_text() and out[-2] == end.to_text()


def test_play_refuses_a_single_agent_task() -> None:
    agent = create_agent({"task": {"name": "maze"}})
    with pytest.raises(ValueError, match="play is for two-player games; 'maze' is single-agent"):
        play_game(agent, 0, lambda p: None, lambda t: None)
