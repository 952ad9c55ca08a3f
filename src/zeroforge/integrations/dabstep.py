"""DABStep (Adyen's Data Agent Benchmark for multi-step reasoning): load its tasks from local files and score
answers the way the benchmark does. No hub access at run time: the tasks come from a JSONL file, a Parquet file
or a Hugging Face ``datasets`` folder (``save_to_disk``) the user downloaded.

**Schema** (one task a row): ``task_id`` (string or integer), ``question`` (text), ``guidelines`` (the answer
format the question asks for), ``level`` (``easy`` or ``hard``), and ``answer`` (text; empty or absent in the
test split, whose answers are private). The benchmark's context files (payments table, fee rules, the manual)
sit in a folder beside the tasks; ``DABStepLoader(context_dir=...)`` lists them and puts their names into the
prompt.

**Scoring** (``question_scorer``: the benchmark's quasi-exact match, re-implemented here from its published
rules): both answers are stripped and lower-cased; then

1. if either looks like a number with thousands separators or a decimal (``1,234.5``, ``0.99``, ``$12.30``),
   both are compared as numbers (the first number in each, commas and ``$`` removed);
2. else if either holds ``,`` or ``;``, both are lists: brackets dropped, items split on ``,`` / ``;``, trimmed
   and sorted; equal lists match, and lists of equal length match when their sorted items match pairwise;
3. else if both hold a number, they are compared as numbers;
4. else as strings: equal once everything but letters, digits and ``_`` is removed; or, when either is a single
   word, when one's words are a subset of the other's; or when their similarity ratio exceeds 0.95.

Numbers match when equal; when both are below 1, within 1e-4 (relative or absolute); otherwise when equal after
rounding both to the fewer decimal places of the two, or within 1e-4 relative.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

__all__ = ["FIXTURE", "LEVELS", "DABStepLoader", "DABStepTask", "question_scorer", "read_answers", "score_answers",
           "sft_records"]

LEVELS = ("easy", "hard")
#: a small set of tasks in DABStep's schema, made here, with its context files (``FIXTURE.parent / "context"``)
FIXTURE = Path(__file__).resolve().parent / "dabstep_fixture" / "tasks.jsonl"
_REQUIRED = ("task_id", "question", "guidelines", "level")
_SEPARATED = re.compile(r"^\$?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+[.,]\d+)$")
_FIRST_NUMBER = re.compile(r"(\d*\.\d+|\d+\.?\d*)%?")


@dataclass(frozen=True)
class DABStepTask:
    """One DABStep task (module docstring); ``answer`` is ``None`` where the split has none."""

    task_id: str
    question: str
    guidelines: str
    level: str
    answer: str | None

    def prompt(self, context_files: Sequence[str] = ()) -> str:
        files = f"\n\nContext files: {', '.join(context_files)}" if context_files else ""
        return f"{self.question.strip()}\n\nGuidelines: {self.guidelines.strip()}{files}"


# -- scoring ---------------------------------------------------------------------------------------------------


def _number(text: str) -> float | None:
    found = _FIRST_NUMBER.search(text.replace(",", "").replace("$", ""))
    return float(found.group(1)) if found else None


def _decimals(x: float) -> int:
    text = str(x)
    return len(text.split(".")[-1]) if "." in text else 0


def numbers_match(a: float, b: float) -> bool:
    """The benchmark's number comparison (module docstring)."""
    if a == b:
        return True
    if a < 1 and b < 1:
        return math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-4)
    places = min(_decimals(a), _decimals(b))
    return round(a, places) == round(b, places) or math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-4)


def _strings_match(a: str, b: str) -> bool:
    if re.sub(r"[^\w]", "", a) == re.sub(r"[^\w]", "", b):
        return True
    wa, wb = re.findall(r"\b\w+\b", a), re.findall(r"\b\w+\b", b)
    if wa and wb and (len(wa) == 1 or len(wb) == 1):
        return set(wa) <= set(wb) or set(wb) <= set(wa)
    return SequenceMatcher(None, a, b).ratio() > 0.95


def _items(text: str) -> list[str]:
    body = re.sub(r"^\[|\]$", "", text.strip())
    return sorted(item.strip() for item in re.split(r"[,;]", body) if item.strip())


def _lists_match(a: str, b: str) -> bool:
    ia, ib = _items(a), _items(b)
    if ia == ib:
        return True
    return len(ia) == len(ib) and all(question_scorer(x, y) for x, y in zip(ia, ib, strict=True))


def question_scorer(agent_answer: str | None, expected: str | None) -> bool:
    """Whether ``agent_answer`` matches ``expected`` under DABStep's rules (module docstring)."""
    if agent_answer is None or expected is None:
        return False
    a, b = str(agent_answer).strip().lower(), str(expected).strip().lower()
    if _SEPARATED.match(a) or _SEPARATED.match(b):
        na, nb = _number(a), _number(b)
        return na is not None and nb is not None and numbers_match(na, nb)
    if any(sep in a or sep in b for sep in ",;"):
        return _lists_match(a, b)
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None:
        return numbers_match(na, nb)
    return _strings_match(a, b)


# -- loading ---------------------------------------------------------------------------------------------------


def _rows(path: Path) -> Iterable[tuple[str, dict[str, Any]]]:
    """``(where, row)`` of a JSONL file, a Parquet file or a ``datasets`` folder."""
    if path.is_dir():
        try:
            import datasets
        except ImportError:
            raise ValueError(f"{path}: reading a datasets folder needs the datasets package "
                             f"(pip install 'zeroforge[hf]'); JSONL and Parquet need nothing more") from None
        try:
            data = datasets.load_from_disk(str(path))
        except (FileNotFoundError, ValueError, OSError) as exc:
            raise ValueError(f"{path}: not a datasets folder ({' '.join(str(exc).split())[:160]})") from None
        if isinstance(data, datasets.DatasetDict):
            for split, part in data.items():
                yield from ((f"{path}[{split}] row {i + 1}", dict(r)) for i, r in enumerate(part))
        else:
            yield from ((f"{path} row {i + 1}", dict(r)) for i, r in enumerate(data))
    elif path.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except (OSError, pa.ArrowException) as exc:
            raise ValueError(f"{path}: not a readable Parquet file ({' '.join(str(exc).split())[:160]})") from None
        yield from ((f"{path} row {i + 1}", r) for i, r in enumerate(table.to_pylist()))
    else:
        for n, row in _jsonl(path):
            if not isinstance(row, dict):
                raise ValueError(f"{path}:{n}: a task is a JSON object, got {type(row).__name__}")
            yield f"{path}:{n}", row


def _jsonl(path: str | Path) -> Iterator[tuple[int, Any]]:
    """``(line number, value)`` of each non-blank line of a JSONL file; a line that is not JSON is a one-line
    ``ValueError`` naming it."""
    with Path(path).open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield n, json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{n}: not JSON ({exc.msg})") from None


def _task(where: str, row: dict[str, Any]) -> DABStepTask:
    missing = [k for k in _REQUIRED if k not in row or row[k] is None]
    if missing:
        raise ValueError(f"{where}: missing {', '.join(missing)} (a DABStep task has task_id, question, "
                         f"guidelines, level, answer)")
    task_id = row["task_id"]
    if isinstance(task_id, bool) or not isinstance(task_id, str | int):
        raise ValueError(f"{where}: task_id must be a string or an integer, got {type(task_id).__name__}")
    for key in ("question", "guidelines"):
        if not isinstance(row[key], str):
            raise ValueError(f"{where}: {key} must be text, got {type(row[key]).__name__}")
    level = str(row["level"]).strip().lower()
    if level not in LEVELS:
        raise ValueError(f"{where}: level must be easy or hard, got {str(row['level'])[:40]!r}")
    answer = row.get("answer")
    if answer is not None and not isinstance(answer, str | int | float):
        raise ValueError(f"{where}: answer must be text, got {type(answer).__name__}")
    text = None if answer is None or str(answer).strip() == "" else str(answer)
    return DABStepTask(str(task_id), row["question"], row["guidelines"], level, text)


class DABStepLoader:
    """DABStep tasks from ``path`` (JSONL, Parquet or a ``datasets`` folder; module docstring), validated row by
    row: a malformed row is a one-line ``ValueError`` naming the file, the row and the field. ``context_dir``:
    the benchmark's context files (listed in prompts)."""

    def __init__(self, path: str | Path, context_dir: str | Path | None = None) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise FileNotFoundError(f"{self.path}: no such file or folder")
        self.context_dir = None if context_dir is None else Path(context_dir)
        if self.context_dir is not None and not self.context_dir.is_dir():
            raise FileNotFoundError(f"{self.context_dir}: no such context folder")
        tasks = [_task(where, row) for where, row in _rows(self.path)]
        seen: set[str] = set()
        for t in tasks:
            if t.task_id in seen:
                raise ValueError(f"{self.path}: task_id {t.task_id!r} appears twice")
            seen.add(t.task_id)
        self.tasks: tuple[DABStepTask, ...] = tuple(tasks)

    def __len__(self) -> int:
        return len(self.tasks)

    def by_level(self) -> dict[str, list[DABStepTask]]:
        """``easy`` and ``hard`` tasks (both keys always present)."""
        return {level: [t for t in self.tasks if t.level == level] for level in LEVELS}

    def context_files(self) -> list[str]:
        if self.context_dir is None:
            return []
        return sorted(p.name for p in self.context_dir.iterdir() if p.is_file())

    def get(self, task_id: str | int) -> DABStepTask:
        for t in self.tasks:
            if t.task_id == str(task_id):
                return t
        raise KeyError(f"no DABStep task {str(task_id)!r} in {self.path}")


def read_answers(path: str | Path) -> list[dict[str, Any]]:
    """A DABStep submission: JSONL rows with ``task_id`` and ``agent_answer``; one-line errors naming the line."""
    rows = []
    for n, row in _jsonl(path):
        if not isinstance(row, dict) or "task_id" not in row or "agent_answer" not in row:
            raise ValueError(f"{path}:{n}: an answer is a JSON object with task_id and agent_answer")
        rows.append(row)
    return rows


def score_answers(loader: DABStepLoader, answers: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Scores of ``answers`` (rows with ``task_id`` and ``agent_answer``, as DABStep submissions) against the
    loader's answers: per task, per level and overall accuracy (over the tasks answered; a task the loader has
    no answer for is a one-line error, as is an unknown task_id)."""
    rows: list[dict[str, Any]] = []
    for n, a in enumerate(answers, 1):
        if not isinstance(a, dict) or "task_id" not in a or "agent_answer" not in a:
            raise ValueError(f"answer {n}: needs task_id and agent_answer")
        try:
            task = loader.get(a["task_id"])
        except KeyError as exc:
            raise ValueError(f"answer {n}: {exc.args[0]}") from None
        if task.answer is None:
            raise ValueError(f"answer {n}: task {task.task_id!r} has no reference answer in {loader.path} "
                             f"(the test split's answers are private)")
        rows.append({"task_id": task.task_id, "level": task.level,
                     "correct": question_scorer(None if a["agent_answer"] is None else str(a["agent_answer"]),
                                                task.answer)})
    out: dict[str, Any] = {"answered": len(rows), "accuracy": sum(r["correct"] for r in rows) / max(1, len(rows))}
    for level in LEVELS:
        mine = [r for r in rows if r["level"] == level]
        out[f"accuracy_{level}"] = sum(r["correct"] for r in mine) / len(mine) if mine else None
        out[f"answered_{level}"] = len(mine)
    out["tasks"] = rows
    return out


def sft_records(loader: DABStepLoader) -> list[dict[str, Any]]:
    """The tasks with a reference answer as SFT prompt / answer records (the export's fields where they apply:
    ``task`` is ``dabstep``, ``difficulty`` the level)."""
    files = loader.context_files()
    out = []
    for t in loader.tasks:
        if t.answer is None:
            continue
        prompt = t.prompt(files)
        out.append({"task": "dabstep", "family": "dabstep", "difficulty": t.level, "task_id": t.task_id,
                    "prompt": prompt, "completion": t.answer, "answer": t.answer, "verified": True,
                    "messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": t.answer}]})
    return out
