"""LangGraph: a graph that routes a problem to the family that reads it, solves it with that family's agent and
verifies the answer — offline, no language model (``zeroforge.integrations.langgraph``; the langgraph extra).

Each problem is text in a family's instance format. ``route`` tries the families' parsers, ``solve`` runs the
family's agent (its tree search, one move at a time, with a trace of each search), ``verify`` replays the moves on
the parsed instance and asks the task's verifier. The agents are runs given with ``--agent FAMILY=RUN`` or, by
default, untrained nets whose search alone handles these small instances (a 3 x 3 maze, linear equations).
The same graph is offered to tool-calling LLM agents as the LangChain tool ``zeroforge_solve``.

    python examples/08_langgraph_router.py [--agent maze=runs/maze] [--out DIR]

Writes ``DIR/results.jsonl``: one graph result per problem.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from zeroforge.agent import Agent, create_agent, load_agent
from zeroforge.integrations.langgraph import build_graph, solve_tool


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agent", action="append", default=[], metavar="FAMILY=RUN",
                        help="a trained agent for a family (repeatable)")
    parser.add_argument("--out", type=Path, default=Path("runs/examples/08_langgraph_router"))
    args = parser.parse_args()
    agents: dict[str, Agent] = {
        "linear_equation": create_agent({"task": {"name": "linear_equation"}}, num_simulations=64),
        "maze": create_agent({"task": {"name": "maze", "params": {"size": 3}}}, num_simulations=64),
    }
    for spec in args.agent:
        family, _, run = spec.partition("=")
        agents[family] = load_agent(run)
    graph = build_graph(agents)

    # problems as a user would bring them: instance texts of the families, and one that no family reads
    problems = [agents["linear_equation"].task.instance_text(agents["linear_equation"].task.initial_state(s, 1))
                for s in (1, 2)]
    problems.append("#####\n#S..#\n###.#\n#G..#\n#####")  # a maze drawn by hand, not by the generator
    problems.append("what is the capital of France?")
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "results.jsonl").open("w", encoding="utf-8") as fh:
        for text in problems:
            result = graph.invoke({"instance": text})
            fh.write(json.dumps(result) + "\n")
            first = text.splitlines()[0]
            if "error" in result:
                print(f"{first!r}: {result['error']}")
            else:
                print(f"{first!r}: routed to {result['task']}, {len(result['actions'])} moves, answer "
                      f"{result['answer']}, outcome {result['outcome']}, verified {result['verified']}")
    tool = solve_tool(agents)
    reply = tool.invoke({"task": "maze", "instance": problems[2]})
    print(f"tool {tool.name}: maze -> verified {reply['verified']}, path {' '.join(reply['solution_path'])}")


if __name__ == "__main__":
    main()
