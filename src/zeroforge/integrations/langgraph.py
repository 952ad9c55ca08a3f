"""LangGraph nodes and a LangChain tool around zeroforge agents (the ``langgraph`` extra); no language model
needed: routing, solving and verifying are zeroforge's own.

The graph state (``ProblemState``) holds the problem as text; the nodes add to it:

- ``route`` (``route_node``): the family whose ``parse`` reads the instance (the families tried in the order of
  ``agents``; the first that reads it wins) → ``task``, or ``error`` when none does;
- ``solve`` (``solver_node``): ``agents[task]`` solves it with its search → ``answer`` (as ``zeroforge solve``
  prints it), ``solution_path``, ``actions``, ``outcome`` and ``trace`` (per move: the move, its visits, the
  search's root value and its top moves by visits with prior and Q);
- ``verify`` (``verify_node``): the instance parsed again, the actions replayed and the task's verifier asked →
  ``verified``.

``build_graph(agents)`` wires them (route → solve → verify, ending early on a routing error); ``solve_tool`` is a
``StructuredTool`` for an LLM agent that solves one instance of a named family.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypedDict

try:
    from langchain_core.tools import StructuredTool
    from langgraph.graph import END, START, StateGraph
except ImportError as exc:  # pragma: no cover - the langgraph extra is not installed
    raise ImportError("zeroforge.integrations.langgraph needs langgraph: pip install 'zeroforge[langgraph]'") from exc

from zeroforge.agent import Agent, family_agent, load_agent

__all__ = ["ProblemState", "build_graph", "route_node", "solve_instance", "solve_tool", "solver_node",
           "verify_node"]


class ProblemState(TypedDict, total=False):
    """The graph's state: ``instance`` (the problem text) and, optionally, ``task`` (its family, if known); the
    nodes add the rest (module docstring)."""

    instance: str
    task: str
    answer: str
    actions: list[int]
    solution_path: list[str]
    outcome: str
    trace: list[dict[str, Any]]
    verified: bool
    error: str


Agents = Mapping[str, Agent]


def _agents(agents: Mapping[str, Agent | str | Path]) -> dict[str, Agent]:
    """Each family's agent: an ``Agent``, or a run / checkpoint path to load (a mixed agent serves its family)."""
    out: dict[str, Agent] = {}
    for family, a in agents.items():
        agent = a if isinstance(a, Agent) else load_agent(a)
        out[family] = family_agent(agent, family) if agent.task.name != family else agent
    return out


def solve_instance(agent: Agent, instance: str, top: int = 3) -> dict[str, Any]:
    """``agent`` solves the instance text (its task's ``parse`` format): answer, path, actions, outcome, trace."""
    task = agent.task
    state = task.parse(instance)
    actions: list[int] = []
    path: list[str] = []
    trace: list[dict[str, Any]] = []
    while not state.terminal and len(actions) < task.max_episode_steps:
        t = agent.search([state])[0]
        a = int(t.selected_action)
        trace.append({"move": task.action_to_text(state, a), "visits": int(t.visit_counts[a]),
                      "simulations": int(t.num_simulations), "root_value": round(float(t.root_value), 4),
                      "top": [{"move": task.action_to_text(state, b), "visits": int(t.visit_counts[b]),
                               "prior": round(float(t.prior_probs[b]), 4), "q": round(float(t.q_values[b]), 4)}
                              for b in t.top_actions(top)]})
        path.append(task.action_to_text(state, a))
        actions.append(a)
        state = task.step(state, a)
    return {"answer": json.dumps(task.answer(state)), "actions": actions, "solution_path": path,
            "outcome": task.outcome(state), "trace": trace}


def route_node(agents: Mapping[str, Agent | str | Path]) -> Callable[[ProblemState], ProblemState]:
    """The ``route`` node over ``agents``' families (module docstring)."""
    families = _agents(agents)

    def route(state: ProblemState) -> ProblemState:
        if state.get("task"):
            if state["task"] not in families:
                return {"error": f"no agent for family {state['task']!r} (have: {', '.join(families)})"}
            return {}
        for family, agent in families.items():
            try:
                agent.task.parse(state["instance"])
            except ValueError:
                continue
            return {"task": family}
        return {"error": f"no family reads this instance (tried: {', '.join(families)})"}

    return route


def solver_node(agents: Mapping[str, Agent | str | Path]) -> Callable[[ProblemState], ProblemState]:
    """The ``solve`` node (module docstring); a malformed instance is an ``error``, not an exception."""
    families = _agents(agents)

    def solve(state: ProblemState) -> ProblemState:
        try:
            return solve_instance(families[state["task"]], state["instance"])  # type: ignore[return-value]
        except ValueError as exc:
            return {"error": " ".join(str(exc).split())}

    return solve


def verify_node(agents: Mapping[str, Agent | str | Path]) -> Callable[[ProblemState], ProblemState]:
    """The ``verify`` node: replays ``actions`` on the parsed instance and asks the task's verifier."""
    families = _agents(agents)

    def verify(state: ProblemState) -> ProblemState:
        task = families[state["task"]].task
        s = task.parse(state["instance"])
        try:
            for a in state.get("actions", []):
                s = task.step(s, a)
        except ValueError as exc:
            return {"verified": False, "error": " ".join(str(exc).split())}
        ok = s.terminal and task.outcome(s) == "success" and json.dumps(task.answer(s)) == state.get("answer")
        return {"verified": bool(ok)}

    return verify


def build_graph(agents: Mapping[str, Agent | str | Path]) -> Any:
    """The compiled graph route → solve → verify over ``agents`` (``family -> Agent or run path``);
    ``graph.invoke({"instance": text})`` returns the final ``ProblemState``."""
    families = _agents(agents)
    g = StateGraph(ProblemState)  # add_node is typed with its node protocols, not plain callables: ignored below
    g.add_node("route", route_node(families))  # type: ignore[call-overload]
    g.add_node("solve", solver_node(families))  # type: ignore[call-overload]
    g.add_node("verify", verify_node(families))  # type: ignore[call-overload]
    g.add_edge(START, "route")
    g.add_conditional_edges("route", lambda s: END if s.get("error") else "solve", ["solve", END])
    g.add_conditional_edges("solve", lambda s: END if s.get("error") else "verify", ["verify", END])
    g.add_edge("verify", END)
    return g.compile()


def solve_tool(agents: Mapping[str, Agent | str | Path]) -> StructuredTool:
    """A LangChain tool ``zeroforge_solve(task, instance)`` that solves and verifies one instance (the graph's
    final state as a dict) for a tool-calling agent."""
    graph = build_graph(agents)
    families = ", ".join(agents)

    def zeroforge_solve(task: str, instance: str) -> dict[str, Any]:
        """Solve one instance of a task family with a zeroforge agent's tree search and verify the answer."""
        return dict(graph.invoke({"task": task, "instance": instance}))

    return StructuredTool.from_function(zeroforge_solve, name="zeroforge_solve",
                                        description=f"Solve and verify one instance (families: {families}); "
                                                    f"instance is the task's text format.")
