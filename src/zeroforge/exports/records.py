"""An episode as language-model training data: one SFT record per verified solution, step-level DPO pairs.

Texts (the same for every family, built from the task's own renderings):

- ``prompt``: ``Solve this <family> problem. ...`` and the instance exactly as ``zeroforge solve --instance``
  reads it (``task.instance_text``);
- a step: ``Step k: <action as the task writes it>`` and the state it led to (``State.to_text``), one block per
  move; the chain ends with ``Answer: <the answer as JSON>`` (``task.answer``, what ``zeroforge solve`` prints).

**SFT** (``sft_record``): prompt, the whole verified chain as ``completion``, and the same as chat ``messages``;
``answer`` is the answer's JSON text, the characters ``zeroforge solve`` prints for it (one type in every row, so
that a mix's answers of different shapes share one column).
**DPO** (``dpo_pairs``, step-level preferences as in MCTS-DPO): at step ``t`` of a verified solution, ``prompt`` is
the task and the steps before ``t``; ``chosen`` is the verified continuation from ``t`` to the answer; ``rejected``
is one sibling move from the same state with its resulting state: a sibling whose move ends the episode in a
verified failure (``reason: verified_failure``, the failed answer appended), else the searched sibling with the
lowest Q if that is at least ``margin`` below the chosen move's Q (``reason: q_gap``). Q is the search's
``Q(root, a)`` of the mover. A step without such a sibling gives no pair.

Only verified episodes (``RunEpisode.verified``) make records: positives are never unverified.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from zeroforge.exports.episodes import RunEpisode
from zeroforge.tasks.base import State, Task

__all__ = ["answer_line", "dpo_pairs", "prompt_text", "sft_record", "step_text"]

#: a sibling is a DPO rejection by Q when its Q is at least this far below the chosen move's (values in [-1, 1])
DEFAULT_MARGIN = 0.3


def prompt_text(family: str, instance: str) -> str:
    return (f"Solve this {family} problem. Write one step at a time (the move, then the state it leads to), "
            f"then the answer.\n\n{instance}")


def step_text(task: Task, state: State, action: int, k: int, nxt: State | None = None) -> str:
    """Step ``k`` (from 1): the move played from ``state`` and the state it leads to (``nxt``, else stepped)."""
    after = task.step(state, action) if nxt is None else nxt
    return f"Step {k}: {task.action_to_text(state, action)}\n{after.to_text()}"


def answer_line(task: Task, final: State) -> str:
    return "Answer: " + json.dumps(task.answer(final))


def _provenance(ep: RunEpisode) -> dict[str, Any]:
    return {"task": ep.family, "family": ep.family, "difficulty": ep.difficulty, "seed": ep.seed,
            "iteration": ep.iteration, "phase": ep.phase}


def _chain(ep: RunEpisode, start: int = 0) -> list[str]:
    return [step_text(ep.task, ep.states[t], a, t + 1, ep.states[t + 1]) for t, a in enumerate(ep.actions)
            if t >= start]


def sft_record(ep: RunEpisode) -> dict[str, Any]:
    """The SFT record of a verified episode (module docstring); ``ValueError`` for one that is not verified."""
    if not ep.verified:
        raise ValueError(f"episode {ep.index} of iteration {ep.iteration} is not a verified solution")
    instance = ep.task.instance_text(ep.states[0])
    prompt = prompt_text(ep.family, instance)
    completion = "\n\n".join([*_chain(ep), answer_line(ep.task, ep.states[-1])])
    return {
        **_provenance(ep), "instance": instance, "prompt": prompt, "completion": completion,
        "answer": json.dumps(ep.task.answer(ep.states[-1])), "actions": list(ep.actions), "steps": len(ep.actions),
        "score": ep.task.score(ep.states[-1]), "verified": True,
        "messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": completion}],
    }


def _rejection(ep: RunEpisode, t: int, margin: float) -> tuple[int, str, str] | None:
    """``(action, reason, text)`` of step ``t``'s rejected sibling, or ``None`` (module docstring)."""
    state, chosen, trace = ep.states[t], ep.actions[t], ep.traces[t]
    task = ep.task
    visited = [int(a) for a in np.flatnonzero(trace.visit_counts > 0) if int(a) != chosen]
    visited.sort(key=lambda a: (float(trace.q_values[a]), a))  # lowest Q first
    for a in visited:
        nxt = task.step(state, a)
        if nxt.terminal and task.outcome(nxt) != "success":
            return a, "verified_failure", f"{step_text(task, state, a, t + 1, nxt)}\n\n{answer_line(task, nxt)}"
    if visited and float(trace.q_values[chosen]) - float(trace.q_values[visited[0]]) >= margin:
        return visited[0], "q_gap", step_text(task, state, visited[0], t + 1)
    return None


def dpo_pairs(ep: RunEpisode, margin: float = DEFAULT_MARGIN) -> list[dict[str, Any]]:
    """The step-level DPO pairs of a verified episode (module docstring; none for one that is not verified)."""
    if not ep.verified:
        return []
    instance = ep.task.instance_text(ep.states[0])
    head = prompt_text(ep.family, instance)
    chain = _chain(ep)
    answer = answer_line(ep.task, ep.states[-1])
    pairs: list[dict[str, Any]] = []
    for t in range(len(ep.actions)):
        found = _rejection(ep, t, margin)
        if found is None:
            continue
        action, reason, rejected = found
        trace = ep.traces[t]
        pairs.append({
            **_provenance(ep), "instance": instance, "step": t + 1,
            "prompt": "\n\n".join([head, *chain[:t]]), "chosen": "\n\n".join([*chain[t:], answer]),
            "rejected": rejected, "reason": reason, "prompt_actions": list(ep.actions[:t]),
            "chosen_action": ep.actions[t], "rejected_action": action,
            "q_chosen": round(float(trace.q_values[ep.actions[t]]), 4),
            "q_rejected": round(float(trace.q_values[action]), 4),
        })
    return pairs
