"""DABStep: the scorer's quasi-exact match on known answers, the loader on JSONL / Parquet / datasets folders with
one-line errors for malformed rows, the bundled fixture's answers re-derived from its context data, the CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from zeroforge.cli import main
from zeroforge.integrations.dabstep import FIXTURE, DABStepLoader, question_scorer, score_answers, sft_records


@pytest.mark.parametrize(("agent", "expected", "match"), [
    # numbers: separators, currency, trailing zeros, tolerance, rounding to the fewer decimals
    ("25", "25.00", True), ("1,234.5", "1234.50", True), ("$12.30", "12.3", True), ("0.12345", "0.1235", True),
    ("3.14159", "3.14", True), ("0.5", "0.6", False), ("100", "101", False), ("1,000", "1001", False),
    ("the answer is 42", "42", True),
    # lists: any order, ',' or ';', brackets; items compared by the same rules
    ("NexPay, GlobalCard", "globalcard; nexpay", True), ("[A, B]", "B, A", True), ("a, b", "a, b, c", False),
    ("1.50, 2", "2.0, 1.5", True),
    # strings: case, punctuation, single-word subset, near-identical text
    ("TransactPlus", "transactplus", True), ("Not Applicable.", "not applicable", True),
    ("NexPay", "the scheme is nexpay", True), ("GlobalCard", "NexPay", False),
    ("crossfit hanna gym", "golfclub baron friso", False),
    (None, "1", False), ("1", None, False),
])
def test_scorer_known_answers(agent: str | None, expected: str | None, match: bool) -> None:
    assert question_scorer(agent, expected) is match


def test_fixture_answers_follow_from_its_context_data() -> None:
    with (FIXTURE.parent / "context" / "payments.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    amount = lambda r: float(r["eur_amount"])  # noqa: E731
    fraud = lambda r: r["is_fraudulent"] == "True"  # noqa: E731
    totals: dict[str, float] = {}
    for r in rows:
        totals[r["merchant"]] = totals.get(r["merchant"], 0.0) + amount(r)
    nl = [r for r in rows if r["ip_country"] == "NL"]
    nexpay = [amount(r) for r in rows if r["card_scheme"] == "NexPay"]
    schemes = sorted({r["card_scheme"] for r in rows})
    rate = {s: sum(fraud(r) for r in rows if r["card_scheme"] == s) / sum(r["card_scheme"] == s for r in rows)
            for s in schemes}
    derived = {
        "1": str(len(rows)), "2": f"{sum(map(amount, rows)):.2f}", "3": ", ".join(schemes),
        "4": max(totals, key=totals.__getitem__), "5": f"{100 * sum(map(fraud, nl)) / len(nl):.2f}",
        "6": ", ".join(sorted({r["merchant"] for r in rows if fraud(r) and amount(r) > 100})),
        "7": f"{sum(nexpay) / len(nexpay):.2f}", "8": max(rate, key=rate.__getitem__),
    }
    loader = DABStepLoader(FIXTURE, FIXTURE.parent / "context")
    assert {t.task_id: t.answer for t in loader.tasks} == derived
    assert [len(v) for v in loader.by_level().values()] == [4, 4]
    assert loader.context_files() == ["manual.md", "payments.csv"]
    assert "Context files: manual.md, payments.csv" in loader.tasks[0].prompt(loader.context_files())


def test_loader_reads_jsonl_parquet_and_a_datasets_folder_alike(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    datasets = pytest.importorskip("datasets")
    rows = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
    rows[0]["task_id"] = 1  # DABStep's task ids are integers in some copies
    pq.write_table(pa.Table.from_pylist([{**r, "task_id": str(r["task_id"])} for r in rows]), tmp_path / "t.parquet")
    datasets.Dataset.from_list([{**r, "task_id": str(r["task_id"])} for r in rows]).save_to_disk(str(tmp_path / "ds"))
    (tmp_path / "t.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    loaded = [DABStepLoader(tmp_path / name).tasks for name in ("t.jsonl", "t.parquet", "ds")]
    assert loaded[0] == loaded[1] == loaded[2] == DABStepLoader(FIXTURE).tasks


@pytest.mark.parametrize(("line", "message"), [
    ('{"task_id": "9", "question": "q", "guidelines": "g"}', "t.jsonl:2: missing level"),
    ('{"task_id": "9", "question": "q", "guidelines": "g", "level": "medium"}', "level must be easy or hard"),
    ('{"task_id": [9], "question": "q", "guidelines": "g", "level": "easy"}', "task_id must be a string or an int"),
    ('{"task_id": "9", "question": 7, "guidelines": "g", "level": "easy"}', "question must be text"),
    ('{"task_id": "1", "question": "q", "guidelines": "g", "level": "easy"}', "task_id '1' appears twice"),
    ("[1, 2]", "t.jsonl:2: a task is a JSON object"),
    ("{oops", "t.jsonl:2: not JSON"),
])
def test_malformed_rows_are_one_line_errors(tmp_path: Path, line: str, message: str) -> None:
    first = FIXTURE.read_text(encoding="utf-8").splitlines()[0]
    (tmp_path / "t.jsonl").write_text(first + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(ValueError) as err:
        DABStepLoader(tmp_path / "t.jsonl")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_scores_per_level_and_test_split_without_answers(tmp_path: Path) -> None:
    loader = DABStepLoader(FIXTURE)
    answers = [{"task_id": "1", "agent_answer": "10"}, {"task_id": "2", "agent_answer": "2000"},
               {"task_id": "5", "agent_answer": "25%"}, {"task_id": 6, "agent_answer": "Martinis_Fine_Steakhouse"}]
    got = score_answers(loader, answers)
    assert (got["accuracy_easy"], got["accuracy_hard"], got["accuracy"]) == (0.5, 0.5, 0.5)
    assert [t["correct"] for t in got["tasks"]] == [True, False, True, False]
    with pytest.raises(ValueError, match="answer 1: no DABStep task '99'"):
        score_answers(loader, [{"task_id": "99", "agent_answer": "1"}])
    test_split = tmp_path / "test.jsonl"
    test_split.write_text(json.dumps({"task_id": "5", "question": "q", "guidelines": "g", "level": "hard",
                                      "answer": ""}) + "\n", encoding="utf-8")
    private = DABStepLoader(test_split)
    assert private.tasks[0].answer is None and sft_records(private) == []
    with pytest.raises(ValueError, match="has no reference answer"):
        score_answers(private, [{"task_id": "5", "agent_answer": "1"}])
    records = sft_records(loader)
    assert len(records) == 8 and records[0]["completion"] == "10" and records[0]["difficulty"] == "easy"


def test_cli_scores_a_submission(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    answers = tmp_path / "answers.jsonl"
    answers.write_text('{"task_id": "3", "agent_answer": "SwiftCharge; TransactPlus; NexPay; GlobalCard"}\n'
                       '{"task_id": "8", "agent_answer": "NexPay"}\n', encoding="utf-8")
    main(["score-dabstep", str(answers), "--json"])
    got = json.loads(capsys.readouterr().out)
    assert got["accuracy"] == 0.5 and got["accuracy_easy"] == 1.0 and got["accuracy_hard"] == 0.0
    main(["score-dabstep", str(answers), "--tasks", str(FIXTURE)])
    assert "all: 0.500 (2 answered)" in capsys.readouterr().out
    answers.write_text('{"task": "3"}\n', encoding="utf-8")
    with pytest.raises(SystemExit) as code:
        main(["score-dabstep", str(answers)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code.value.code == 2 and err == [f"error: {answers}:1: an answer is a JSON object with task_id and "
                                            f"agent_answer"]
