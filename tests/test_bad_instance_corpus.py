"""Bad instance files for every task that reads instances (issue 11): each is refused with one line naming what
is wrong, never a traceback from deep inside, never silent acceptance.

The corpus is data: ``tests/bad_inputs/instances/<task>/`` holds small files and ``manifest.json`` lists each
with the substring its error must contain and its kind (``empty``, ``whitespace``, ``binary``, ``control``,
``malformed``, ``type``, ``bounds``, ``unsolvable``). Files are read as bytes and decoded as UTF-8 with
``surrogateescape``, so that the binary files (not UTF-8: PNG / gzip headers, UTF-16, Latin-1) reach ``parse``
too, which must refuse them on its own; the CLI refuses them before, as "not a UTF-8 text file" (checked
end to end below). Huge instances (beyond each task's documented bounds) are generated here rather than stored.

Well-formed instances without a solution: a task refuses one at parse time where it can tell cheaply (maze:
goal unreachable; blocksworld / linear_system: already solved; arithmetic: division by zero; code_function:
one input with two outputs; code_sort: nothing unsorted; logic: a derivable contradiction; sudoku: no completion).
The others are read and then their verifier decides: ``test_well_formed_instances_without_a_solution`` lists what
each task does.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from zeroforge.tasks import available_tasks, make_task
from zeroforge.tasks.base import State, Task
from zeroforge.tasks.instances import MAX_JSON_CHARS

CORPUS = Path(__file__).parent / "bad_inputs" / "instances"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text())
CASES: list[dict[str, str]] = MANIFEST["cases"]
PARAMS: dict[str, dict[str, Any]] = MANIFEST["params"]
#: a message that names what is wrong fits on a screen line or two, however large the input
MAX_MESSAGE = 300
KINDS = {"empty", "whitespace", "binary", "control", "malformed", "type", "bounds", "unsolvable"}


def _task(name: str) -> Task:
    return make_task(name, **PARAMS.get(name, {}))


def _reads_text(name: str) -> bool:
    return type(make_task(name)).parse is not Task.parse


PARSING_TASKS = [name for name in available_tasks() if _reads_text(name)]
JSON_TASKS = ["knapsack", "tsp", "countdown", "blocksworld", "logic", "code_function", "code_sort", "code_class", "mix"]


def _assert_refused(name: str, task: Task, text: str, expect: str) -> str:
    with pytest.raises(ValueError) as info:
        task.parse(text)
    msg = str(info.value)
    assert msg.startswith(f"{name}: "), msg[:MAX_MESSAGE]
    assert "\n" not in msg and "\r" not in msg, msg[:MAX_MESSAGE]
    assert len(msg) <= MAX_MESSAGE, msg[:MAX_MESSAGE]
    assert expect in msg, (expect, msg)
    return msg


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_bad_instance_file_is_one_clear_line(case: dict[str, str]) -> None:
    name = case["file"].split("/")[0]
    raw = (CORPUS / case["file"]).read_bytes()
    if case["kind"] == "binary":  # the CLI refuses these itself before parse: not UTF-8
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
    _assert_refused(name, _task(name), raw.decode("utf-8", errors="surrogateescape"), case["expect"])


def test_corpus_covers_every_task_and_kind() -> None:
    assert {c["kind"] for c in CASES} <= KINDS
    listed = {c["file"] for c in CASES}
    on_disk = {str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*") if p.is_file() and p.name != "manifest.json"}
    assert listed == on_disk and len(listed) == len(CASES)
    kinds: dict[str, Counter[str]] = {}
    for c in CASES:
        kinds.setdefault(c["file"].split("/")[0], Counter())[c["kind"]] += 1
    assert set(kinds) == set(PARSING_TASKS)
    for name, counts in kinds.items():
        need = {"empty", "whitespace", "binary", "control", "malformed", "bounds"} | ({"type"} if name in JSON_TASKS
                                                                                     else set())
        assert need <= set(counts), (name, need - set(counts))
        assert sum(counts.values()) >= 8, name
        assert HUGE.get(name), name
    assert len(CASES) + sum(len(v) for v in HUGE.values()) >= 110


def test_games_do_not_read_instances() -> None:
    games = [name for name in available_tasks() if name not in PARSING_TASKS]
    assert set(games) == {"tictactoe", "connect_four", "connect_n", "nim", "openspiel"}
    for name in games:
        _assert_refused(name, make_task(name), "{}", "this task does not read instances from text")


# ------------------------------------------------------------------------------------------------------ huge
N = 100_000


def _dumps(data: Any) -> str:
    return json.dumps(data)


#: per task: (what, a generator of a huge text, the substring of its error); each is beyond a documented bound
HUGE: dict[str, list[tuple[str, Callable[[], str], str]]] = {
    "maze": [
        ("3001 x 3001 grid", lambda: ("." * 3001 + "\n") * 3001, "text has 9009002 characters, at most 5116"),
        ("one row of 5M squares", lambda: "#" * 5_000_000, "text has 5000000 characters"),
        ("10k rows of 7 squares", lambda: "#######\n" * 10_000, "text has 80000 characters"),
    ],
    "knapsack": [
        ("100k items", lambda: _dumps({"capacity": 10, "weights": [1] * N, "values": [1] * N}),
         "an instance of 100000 items is beyond the bound 50 items"),
        ("a 2 MB text", lambda: _dumps({"capacity": 10, "weights": [1] * 700_000, "values": [1]}),
         f"characters, at most {MAX_JSON_CHARS}"),
    ],
    "tsp": [
        ("50k cities", lambda: _dumps({"coords": [[i, i] for i in range(50_000)]}),
         "an instance of 50000 cities is beyond the bound 20 cities"),
        ("a city of 100k numbers", lambda: _dumps({"coords": [[0] * N, [0, 1], [1, 1]]}),
         "city 0 must be an [x, y] pair, got [0, 0,"),
    ],
    "countdown": [
        ("100k numbers", lambda: _dumps({"numbers": [1] * N, "target": 24}),
         "an instance of 100000 numbers is beyond the bound of 7 numbers"),
        ("a 5000-digit target", lambda: '{"numbers": [1, 2], "target": ' + "9" * 5000 + "}",
         "malformed JSON instance: an integer with too many digits"),
    ],
    "blocksworld": [
        ("100k stacks", lambda: _dumps({"initial": [["A"]] * N, "goal": [["A"]]}), "has block 'A' more than once"),
        ("100k nested lists", lambda: '{"initial": ' + "[" * N + "]" * N + ', "goal": []}',
         "malformed JSON instance: nested too deeply"),
        ("a block name of 500k letters", lambda: _dumps({"initial": [["A" * 500_000]], "goal": [["A"]]}),
         "'initial' has unknown block 'AAAA"),
    ],
    "logic": [
        ("20k rules", lambda: _dumps({"facts": ["a"], "rules": [["a", "b"]] * 20_000, "query": "b"}),
         "an instance of 20000 rules is beyond the bound of 40 rules"),
        ("a 500k-letter name", lambda: _dumps({"facts": ["a" * 500_000], "rules": [], "query": "b"}),
         "fact 1 has a concept name of 500000 letters, at most 64"),
        ("a query of 100k items", lambda: _dumps({"facts": ["a"], "rules": [], "query": [1] * N}),
         "query must be a string"),
        ("a rule of 100k literals", lambda: _dumps({"facts": ["a"], "rules": [["a"] * N], "query": "b"}),
         "rule 1 must be a [premise, conclusion] pair"),
    ],
    "code_function": [
        ("20k examples", lambda: _dumps({"kind": "function", "examples": [{"input": 1, "output": 1}] * 20_000}),
         "an instance of 20000 examples is beyond the bound of 8 examples"),
        ("a 900k-character solution",
         lambda: _dumps({"kind": "function", "examples": [{"input": 1, "output": 1}], "solution": "X" * 900_000}),
         "bad solution: unknown instruction 'XXX"),
    ],
    "code_sort": [
        ("50k examples",
         lambda: _dumps({"kind": "algorithm", "name": "sort", "length": 3, "examples": [[1, 0, 0]] * 50_000}),
         "'examples' must have 1..8 items, got 50000"),
        ("an array of 100k digits",
         lambda: _dumps({"kind": "algorithm", "name": "sort", "length": 3, "examples": [[1] * N]}),
         "examples[0] must be a list of at most 6 digits"),
    ],
    "code_class": [
        ("20k sequences", lambda: _dumps({"kind": "class", "name": "stack", "methods": ["push"],
                                          "calls": [[[["push", 1], None]]] * 20_000}),
         "'calls' must have 1..2 items, got 20000"),
        ("a method body of 100k instructions",
         lambda: _dumps({"kind": "class", "name": "stack", "methods": ["push"], "calls": [[[["push", 1], None]]],
                         "solution": ["LOAD 0; " * N]}),
         "the solution takes 100001 actions, the budget is 15"),
        ("a method name of 900k letters", lambda: _dumps({"kind": "class", "name": "stack", "methods": ["m" * 900_000],
                                                          "calls": [[[["push", 1], None]]]}),
         "stack has no method 'mmm"),
    ],
    "arithmetic": [
        ("a 1M-character expression", lambda: "1+" * 500_000 + "1", "input has 1000001 characters, at most 1000"),
        ("100k lines", lambda: "1 + 2\n" * N, "expected one expression on one line, got 100000 lines"),
    ],
    "linear_equation": [("a 1M-character equation", lambda: "x+" * 500_000 + "x = 1", "at most 1000")],
    "quadratic": [("a 1M-character equation", lambda: "x**2+" * 200_000 + "x = 1", "at most 1000")],
    "linear_system": [
        ("100k equations", lambda: "x + y = 1\n" * N, "expected 2..3 equations, one a line, got 100000"),
        ("a 1M-character equation", lambda: "x+" * 500_000 + "y = 1\nx - y = 2", "at most 1000"),
    ],
    "sudoku": [
        ("a 3001 x 3001 grid", lambda: ("." * 3001 + "\n") * 3001, "text has 9009002 characters, at most 4096"),
        ("10k rows of 4 cells", lambda: "....\n" * 10_000, "text has 50000 characters, at most 4096"),
        ("a row of 4000 cells", lambda: "." * 4000 + "\n", "row 1 of 4000 cells is beyond the bound 9 x 9"),
        ("1000 rows of one cell", lambda: ".\n" * 1000, "a grid of 1000 rows is beyond the bound 9 x 9"),
    ],
    "mix": [  # a member's bound holds inside the mix (its refusal comes back as "mix: <family>: ...")
        ("a 3001 x 3001 maze", lambda: _dumps({"family": "maze", "instance": ("." * 3001 + "\n") * 3001}),
         f"characters, at most {MAX_JSON_CHARS}"),
        ("a maze of 10k rows", lambda: _dumps({"family": "maze", "instance": "#######\n" * 10_000}),
         "mix: maze: text has 80000 characters, at most 5116"),
        ("a knapsack of 20k items",
         lambda: _dumps({"family": "knapsack", "instance": _dumps({"capacity": 10, "weights": [1] * 20_000,
                                                                   "values": [1] * 20_000})}),
         "mix: knapsack: an instance of 20000 items is beyond the bound 50 items"),
        ("a knapsack of 200k nested lists",
         lambda: _dumps({"family": "knapsack", "instance": "[" * 200_000 + "]" * 200_000}),
         "mix: knapsack: malformed JSON instance: nested too deeply"),
        ("an 800k-character equation",
         lambda: _dumps({"family": "linear_equation", "instance": "x+" * 400_000 + "x = 1"}),
         "mix: linear_equation: input has 800002 characters, at most 1000"),
        ("a family name of 500k letters", lambda: _dumps({"family": "m" * 500_000, "instance": ""}),
         "mix: unknown family 'mmm"),
    ],
}
HUGE_CASES = [(name, what, gen, expect) for name, cases in HUGE.items() for what, gen, expect in cases]
JSON_OVER_CAP = '{"comment": "' + "a" * MAX_JSON_CHARS + '"}'


@pytest.mark.parametrize(("name", "what", "gen", "expect"), HUGE_CASES, ids=[f"{c[0]}-{c[1]}" for c in HUGE_CASES])
def test_huge_instance_is_refused_quickly(name: str, what: str, gen: Callable[[], str], expect: str) -> None:
    text = gen()
    start = time.perf_counter()
    _assert_refused(name, _task(name), text, expect)
    assert time.perf_counter() - start < 5.0, what  # linear scans: ~0.1 s; generous for a loaded machine


@pytest.mark.parametrize("name", JSON_TASKS)
def test_json_instance_over_the_size_bound_is_refused_before_parsing(name: str) -> None:
    _assert_refused(name, _task(name), JSON_OVER_CAP, f"instance has {len(JSON_OVER_CAP)} characters, at most")


# --------------------------------------------------------------------------------------- without a solution
def _outcomes(task: Task, state: State, limit: int = 20_000) -> dict[str, Any]:
    """Every outcome reachable from ``state`` by legal play, with the answer of the first episode found to
    end so (exhaustive; the instances below are small)."""
    found: dict[str, Any] = {}
    stack, seen = [state], 0
    while stack:
        s = stack.pop()
        seen += 1
        assert seen <= limit, "instance too large for an exhaustive check"
        if s.terminal:
            found.setdefault(task.outcome(s), task.answer(s))
            continue
        stack.extend(task.step(s, int(a)) for a in np.flatnonzero(s.legal_action_mask))
    return found


#: well-formed instances without a solution in the everyday sense, and what each task does with them:
#: "fails" = read, and every episode ends in failure (the verifier says so: checked exhaustively); an answer
#: = read, and the task's answer is a declaration that some episode reaches
WITHOUT_SOLUTION = [
    ("countdown", '{"numbers": [1, 1, 1, 1], "target": 24}', "fails"),
    ("code_function", '{"kind": "function", "examples": [{"input": 1, "output": 999999}], "budget": 2}', "fails"),
    ("code_class", '{"kind": "class", "name": "counter", "methods": ["get"], '
                   '"calls": [[[["get"], 1]], [[["get"], 2]]], "budget": 3}', "fails"),
    ("logic", '{"facts": ["wumpus"], "rules": [["wumpus", "yumpus"]], "query": "zumpus"}', "not provable"),
    ("knapsack", '{"capacity": 3, "weights": [5, 4], "values": [1, 2]}', []),  # nothing fits: the optimum is 0
    ("linear_equation", "1 = 2", "no solution"),
    ("linear_equation", "x + 1 = x + 1", "infinitely many"),
    ("quadratic", "x**2 = -1", "no real solution"),
    ("linear_system", "x + y = 1\nx + y = 2", "no solution"),
]


@pytest.mark.parametrize(("name", "text", "verdict"), WITHOUT_SOLUTION, ids=[f"{w[0]}-{w[2]}" for w in
                                                                              WITHOUT_SOLUTION])
def test_well_formed_instances_without_a_solution(name: str, text: str, verdict: Any) -> None:
    """Never a crash: either parse refuses (the corpus's ``unsolvable`` kind) or it reads the instance and the
    verifier decides; maze, blocksworld, tsp and code_sort instances that parse are always solvable."""
    task = _task(name)
    found = _outcomes(task, task.parse(text))
    if verdict == "fails":
        assert set(found) == {"failure"}
    else:
        assert found.get("success") == verdict, found


# --------------------------------------------------------------------------------------- through the real CLI
@pytest.fixture
def maze_run(tiny_run: Callable[..., Path]) -> Path:
    """A barely trained size-3 maze agent (the corpus's maze files are size 3)."""
    return tiny_run("task.name=maze", "task.params.size=3")


@pytest.mark.parametrize(
    ("file", "expect"),
    [
        ("maze/binary.bin", "not a UTF-8 text file"),
        ("maze/empty.txt", "maze: empty text"),
        ("maze/two_starts.txt", "maze: expected exactly one 'S', found 2"),
        ("maze/unreachable_goal.txt", "maze: 'G' is not reachable from 'S'"),
        ("HUGE", "9,009,002 bytes; an instance file holds at most 4,194,304"),
    ],
)
def test_cli_solve_refuses_a_bad_instance_in_one_line(maze_run: Path, tmp_path: Path, file: str, expect: str) -> None:
    if file == "HUGE":
        path = tmp_path / "huge.txt"
        path.write_text(("." * 3001 + "\n") * 3001)  # refused by its size before it is read
    else:
        path = CORPUS / file
    res = subprocess.run([sys.executable, "-m", "zeroforge", "solve", "--task", "maze", "--agent", str(maze_run),
                          "--instance", str(path)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 2, res.stderr
    assert res.stdout == ""
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expect in lines[0], res.stderr
