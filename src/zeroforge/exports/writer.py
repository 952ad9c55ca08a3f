"""``zeroforge export``: a run's verified episodes as an SFT or DPO dataset, in one of ``FORMATS``, with a dataset
card.

``OUT`` is a directory (created; files of an earlier export of the same format are replaced):

- ``sft``: ``OUT/sft.jsonl``, one SFT record a line (``zeroforge.exports.records``);
- ``dpo``: ``OUT/dpo.jsonl``, one DPO pair a line;
- ``parquet``: ``OUT/sft.parquet`` and ``OUT/dpo.parquet``;
- ``hf``: ``OUT/sft`` and ``OUT/dpo``, Hugging Face ``datasets`` saved with ``save_to_disk`` (``load_from_disk``
  reads them; needs the ``hf`` extra);

and ``OUT/README.md``, the dataset card: counts per family and difficulty, what was skipped and why, the schema,
and how the data was made. Filters: ``families``, ``difficulties``; ``dedup`` keeps one SFT record per instance (the
shortest solution, the first found on a tie) and one DPO pair per (prompt, chosen, rejected). Every file is written
beside its final name and renamed into place, so a crash never leaves half a dataset under the final name.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zeroforge.atomic import write_text_atomic
from zeroforge.exports.episodes import read_run_episodes
from zeroforge.exports.records import DEFAULT_MARGIN, dpo_pairs, sft_record

__all__ = ["FORMATS", "ExportSummary", "export_run"]

FORMATS = ("sft", "dpo", "parquet", "hf")
CARD = "README.md"

SFT_FIELDS = {
    "task": "the family (the task name `zeroforge solve --task` takes)",
    "family": "the same, for grouping",
    "difficulty": "the instance's difficulty level (null: not recorded)",
    "seed": "the generator seed of the instance",
    "iteration": "the training iteration that played it",
    "phase": "selfplay (the agent's search) or supervised (a solver's demonstration)",
    "instance": "the instance text, exactly as `zeroforge solve --instance FILE` reads it",
    "prompt": "the task statement and the instance",
    "completion": "the verified chain: `Step k: <move>` and the state it leads to, then `Answer: <JSON>`",
    "answer": "the answer's JSON text, as `zeroforge solve` prints it",
    "actions": "the action ids played (replaying them from the instance reproduces the chain)",
    "steps": "number of moves",
    "score": "the verifier's quality in [0, 1] (1: optimal), null where the family grades none",
    "verified": "always true: the task's verifier accepted the replayed final state",
    "messages": "the same as chat messages: user = prompt, assistant = completion",
}
DPO_FIELDS = {
    "task, family, difficulty, seed, iteration, phase, instance": "as in the SFT records",
    "step": "the step (from 1) the preference is about",
    "prompt": "the task statement, the instance and the verified steps before `step`",
    "chosen": "the verified continuation from `step` to the answer",
    "rejected": "one sibling move from the same state and the state it leads to (and its failed answer)",
    "reason": "verified_failure (the sibling ends the episode and the verifier rejects it) or q_gap (its search Q is "
              "at least the margin below the chosen move's)",
    "prompt_actions": "the action ids of the steps in the prompt (replayed from the instance: the step's state)",
    "chosen_action, rejected_action": "their action ids",
    "q_chosen, q_rejected": "the search's Q(root, a) of the mover",
}


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote: ``files`` (paths), the counts behind the card, and the ``warnings`` of skipped
    files and episodes."""

    out: Path
    format: str
    files: tuple[Path, ...]
    episodes: int
    verified: int
    sft_records: int
    dpo_pairs: int
    filtered_out: int
    duplicates: int
    by_family: dict[str, int] = field(default_factory=dict)
    by_difficulty: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    dabstep_records: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"out": str(self.out), "format": self.format, "files": [str(p) for p in self.files],
                "episodes": self.episodes, "verified": self.verified, "sft_records": self.sft_records,
                "dpo_pairs": self.dpo_pairs, "filtered_out": self.filtered_out, "duplicates": self.duplicates,
                "by_family": self.by_family, "by_difficulty": self.by_difficulty, "reasons": self.reasons,
                "warnings": list(self.warnings), "dabstep_records": self.dabstep_records}


def _jsonl(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    write_text_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def _parquet(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(pa.Table.from_pylist(list(rows)), tmp)
    os.replace(tmp, path)


def _hf(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    try:
        import datasets
    except ImportError:
        raise ValueError("the hf format needs the datasets package: pip install 'zeroforge[hf]'") from None
    datasets.disable_progress_bars()  # ours is the only progress display
    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    data = datasets.Dataset.from_list(list(rows)) if rows else datasets.Dataset.from_dict({})
    data.save_to_disk(str(tmp))
    shutil.rmtree(path, ignore_errors=True)
    os.replace(tmp, path)


def _dedup_sft(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for r in records:
        key = (r["family"], r["instance"])
        if key not in best or r["steps"] < best[key]["steps"]:
            best[key] = r
    keep = {id(r) for r in best.values()}
    return [r for r in records if id(r) in keep]


def _dedup_dpo(pairs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[tuple[str, str, str]] = set()
    out = []
    for p in pairs:
        key = (p["prompt"], p["chosen"], p["rejected"])
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def export_run(run_dir: Path, fmt: str, out: Path, families: Sequence[str] = (), difficulties: Sequence[int] = (),
               dedup: bool = True, margin: float = DEFAULT_MARGIN, command: str = "",
               on_episode: Callable[[int], None] | None = None, dabstep: Path | None = None) -> ExportSummary:
    """Export the verified episodes of ``run_dir`` (module docstring). A one-line ``ValueError`` for an unknown
    format, a family the run does not have, or a two-player run (exports are for single-agent tasks, whose
    verifier says what a solution is); ``FileNotFoundError`` for a run without episode files. ``dabstep``: DABStep
    tasks (``zeroforge.integrations.dabstep``) whose reference answers join an SFT export as prompt / answer
    records in a part of their own, ``dabstep`` (their difficulty is a level name, not a number)."""
    from zeroforge.html_report import run_config_and_task
    from zeroforge.tasks.mix import MixedTask

    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; one of: {', '.join(FORMATS)}")
    extra: list[dict[str, Any]] = []
    if dabstep is not None:
        from zeroforge.integrations.dabstep import DABStepLoader
        from zeroforge.integrations.dabstep import sft_records as dabstep_records

        if fmt == "dpo":
            raise ValueError("--dabstep: DABStep tasks have answers, not preferences; export them with sft, "
                             "parquet or hf")
        extra = dabstep_records(DABStepLoader(dabstep))
    if not (run_dir / "config.yaml").is_file() and not (run_dir / "checkpoints").is_dir():
        raise FileNotFoundError(f"{run_dir}: not a run directory (no config.yaml, no checkpoints)")
    _, task, problem = run_config_and_task(run_dir)
    if task is None:
        raise ValueError(f"{run_dir}: {problem}")
    if task.num_players != 1:
        raise ValueError(f"{run_dir}: {task.name!r} is a two-player game; exports are for single-agent tasks (their "
                         f"verifier says what a solution is)")
    known = list(task.families) if isinstance(task, MixedTask) else [task.name]
    unknown = [f for f in families if f not in known]
    if unknown:
        raise ValueError(f"--family {unknown[0]!r}: the run has {', '.join(known)}")
    warnings: list[str] = []
    sft: list[dict[str, Any]] = []
    dpo: list[dict[str, Any]] = []
    seen = verified = filtered = 0
    for ep in read_run_episodes(run_dir, task, warnings.append):
        seen += 1
        if on_episode is not None:
            on_episode(seen)
        if (families and ep.family not in families) or (difficulties and ep.difficulty not in difficulties):
            filtered += 1
            continue
        if not ep.verified:
            continue
        verified += 1
        if fmt != "dpo":
            sft.append(sft_record(ep))
        if fmt != "sft":
            dpo.extend(dpo_pairs(ep, margin))
    before = len(sft) + len(dpo)
    if dedup:
        sft, dpo = _dedup_sft(sft), _dedup_dpo(dpo)
    out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    parts = {"sft": [("sft", sft)], "dpo": [("dpo", dpo)]}.get(fmt, [("sft", sft), ("dpo", dpo)])
    if dabstep is not None:
        parts.append(("dabstep", extra))
    for name, rows in parts:
        if fmt in ("sft", "dpo"):
            path = out / f"{name}.jsonl"
            _jsonl(path, rows)
        elif fmt == "parquet":
            path = out / f"{name}.parquet"
            _parquet(path, rows)
        else:
            path = out / name
            _hf(path, rows)
        files.append(path)
    by_family = Counter(r["family"] for r in (sft or dpo))
    by_level = Counter(str(r["difficulty"]) for r in (sft or dpo))
    summary = ExportSummary(out=out, format=fmt, files=(*files, out / CARD), episodes=seen, verified=verified,
                            sft_records=len(sft), dpo_pairs=len(dpo), filtered_out=filtered,
                            duplicates=before - len(sft) - len(dpo), by_family=dict(sorted(by_family.items())),
                            by_difficulty=dict(sorted(by_level.items())),
                            reasons=dict(sorted(Counter(p["reason"] for p in dpo).items())),
                            warnings=tuple(warnings), dabstep_records=len(extra))
    write_text_atomic(out / CARD, dataset_card(summary, run_dir, task.name, margin, command,
                                          parts=[name for name, _ in parts]))
    return summary


def dataset_card(s: ExportSummary, run_dir: Path, task_name: str, margin: float, command: str,
                 parts: Sequence[str]) -> str:
    """The export's README.md: YAML front matter (the files per config, as the Hugging Face hub reads it), counts,
    provenance and schema."""
    ext = {"sft": ".jsonl", "dpo": ".jsonl", "parquet": ".parquet"}.get(s.format)
    lines = ["---", "configs:"]
    for name in parts:
        lines += [f"- config_name: {name}", "  data_files:", "  - split: train",
                  f"    path: {name}{ext}" if ext else f"    path: {name}/*.arrow"]
    lines += ["tags:", "- zeroforge", "- self-play", "- verified", "---", "",
              f"# zeroforge export of `{run_dir.name}` ({task_name})", "",
              f"Made {datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%d %H:%M UTC')} by "
              f"`{command or 'zeroforge export'}` from the run directory `{run_dir}`: its recorded episodes "
              f"(self-play searches and, in a supervised phase, solver demonstrations) replayed from their seeds "
              f"and re-verified with the task's verifier. Only verified solutions are positives.", "",
              "| | count |", "|---|---|",
              f"| episodes read | {s.episodes} |", f"| filtered out (family / difficulty) | {s.filtered_out} |",
              f"| verified solutions | {s.verified} |", f"| SFT records | {s.sft_records} |",
              f"| DPO pairs | {s.dpo_pairs} |", f"| duplicates dropped | {s.duplicates} |",
              f"| files or episodes skipped (unreadable) | {len(s.warnings)} |",
              *([f"| DABStep prompt / answer records | {s.dabstep_records} |"] if "dabstep" in parts else []), ""]
    if s.by_family:
        lines += ["Records per family: " + ", ".join(f"{k} {v}" for k, v in s.by_family.items()) + ".",
                  "Per difficulty level: " + ", ".join(f"{k} {v}" for k, v in s.by_difficulty.items()) + ".", ""]
    if s.reasons:
        lines += ["DPO rejections by reason: " + ", ".join(f"{k} {v}" for k, v in s.reasons.items())
                  + f" (Q margin {margin}).", ""]
    for name, fields in (("sft", SFT_FIELDS), ("dpo", DPO_FIELDS)):
        if name in parts:
            lines += [f"## `{name}` fields", "", "| field | meaning |", "|---|---|",
                      *(f"| {k} | {v} |" for k, v in fields.items()), ""]
    if "dabstep" in parts:
        lines += ["## `dabstep` fields", "", "DABStep tasks with their reference answers (`--dabstep`): `task` and "
                  "`family` are `dabstep`, `difficulty` the level (easy / hard), `task_id`, `prompt` (question, "
                  "guidelines, context file names), `completion` = `answer` (the reference answer), `verified` "
                  "(the benchmark's answer), `messages`.", ""]
    if s.warnings:
        lines += ["## Skipped", "", *(f"- {w}" for w in s.warnings), ""]
    return "\n".join(lines)
