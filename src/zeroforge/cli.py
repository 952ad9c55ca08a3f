"""``zeroforge`` command line: ``train``, ``play`` (a game move), ``solve`` (one instance), ``evaluate``
(held-out solve rates), ``report`` (redraw the learning curve)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

app = typer.Typer(add_completion=False, no_args_is_help=True, help="zeroforge: AlphaZero-style self-play.")
console = Console(stderr=True)


@app.command()
def train(
    config: Annotated[Path | None, typer.Option("--config", help="YAML config file")] = None,
    overrides: Annotated[list[str] | None, typer.Option("--set", help="override: key.sub=value")] = None,
    run_dir: Annotated[Path, typer.Option("--run-dir", help="where checkpoints and metrics go")] = Path(
        "runs/default"),
    resume: Annotated[bool, typer.Option("--resume", help="continue from the newest checkpoint")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="no progress bar")] = False,
) -> None:
    """Train an agent by self-play; one checkpoint, metrics line and plot per iteration."""
    from zeroforge.config import load_config
    from zeroforge.trainer import SelfPlayTrainer

    if config is None and resume and (run_dir / "config.yaml").exists():
        config = run_dir / "config.yaml"
    cfg = load_config(config, overrides or [])
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, disable=quiet, transient=False) as progress:
        bars: dict[str, TaskID] = {}

        def on_progress(stage: str, done: int, total: int) -> None:
            if stage not in bars:
                bars[stage] = progress.add_task(stage, total=total)
            progress.update(bars[stage], completed=done, total=total)

        with SelfPlayTrainer(cfg, run_dir, resume=resume, on_progress=on_progress) as trainer:
            start = trainer.next_iteration
            it_bar = progress.add_task("iterations", total=cfg.iterations, completed=start)
            for i in range(start, cfg.iterations):
                for stage in list(bars):
                    progress.remove_task(bars.pop(stage))
                m = trainer.run_iteration(i)
                progress.update(it_bar, completed=i + 1)
                progress.console.print(_summary(m))
    console.print(f"done: {run_dir} (metrics.jsonl, learning_curve.png, checkpoints/)")


def _summary(m: dict[str, object]) -> str:
    keys = ("iteration", "loss_policy", "loss_value", "accepted", "score_vs_random", "score_vs_rollout",
            "score_vs_perfect", "perfect_play_losses", "elo", "episodes_per_second", "iteration_seconds")
    parts = []
    for k in keys:
        if k in m:
            v = m[k]
            parts.append(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}")
    return " ".join(parts)


@app.command()
def play(
    agent: Annotated[Path, typer.Option("--agent", help="run or checkpoint directory")] = Path("runs/default"),
    moves: Annotated[str, typer.Option("--moves", help="comma-separated actions played so far")] = "",
) -> None:
    """Print the agent's move (and search statistics) after the given moves."""
    from zeroforge.agent import load_agent

    ag = load_agent(agent)
    state = ag.task.initial_state(0)
    for tok in filter(None, (t.strip() for t in moves.split(","))):
        state = ag.task.step(state, int(tok))
    if state.terminal:
        raise ValueError("the game is already over after these moves")
    trace = ag.search([state])[0]
    print(state.to_text())
    print(json.dumps({"action": trace.selected_action, "root_value": trace.root_value,
                      "visit_counts": trace.visit_counts.tolist()}))


@app.command()
def solve(
    task: Annotated[str, typer.Option("--task", help="task name (must be the agent's)")],
    agent: Annotated[Path, typer.Option("--agent", help="run or checkpoint directory")],
    instance: Annotated[Path, typer.Option("--instance", help="instance file in the task's text format")],
    simulations: Annotated[int | None, typer.Option("--simulations", help="search budget per move")] = None,
) -> None:
    """Solve one instance and print a JSON object: outcome, solution_path, answer, verified."""
    from zeroforge.agent import load_agent

    ag = load_agent(agent, num_simulations=simulations)
    if ag.task.name != task:
        raise ValueError(f"the agent at {agent} was trained on {ag.task.name!r}, not {task!r}")
    if ag.task.num_players != 1:
        raise ValueError(f"solve is for single-agent tasks; {task!r} is a {ag.task.num_players}-player game "
                         f"(use 'zeroforge play')")
    if not instance.is_file():
        raise FileNotFoundError(f"no instance file at {instance}")
    try:
        text = instance.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{instance}: not a UTF-8 text file") from None
    start = ag.task.parse(text)
    states, actions = ag.solve(start)
    final = states[-1]
    outcome = ag.task.outcome(final)
    print(json.dumps({
        "task": task,
        "outcome": outcome,
        "verified": outcome == "success",
        "solution_path": [ag.task.action_to_text(s, a) for s, a in zip(states, actions, strict=False)],
        "answer": ag.task.answer(final),
        "score": ag.task.score(final),
        "steps": len(actions),
        "simulations_per_move": ag.num_simulations,
    }))


@app.command()
def evaluate(
    agent: Annotated[Path, typer.Option("--agent", help="run or checkpoint directory")],
    episodes: Annotated[int, typer.Option("--episodes", help="held-out instances")] = 200,
    difficulty: Annotated[int | None, typer.Option("--difficulty", help="level (default: the top)")] = None,
    simulations: Annotated[int | None, typer.Option("--simulations", help="search budget per move")] = None,
) -> None:
    """Held-out solve rate, optimality gap and search budget of a single-agent agent, beside the same search
    with the untrained net and the raw policy (1 simulation); one JSON object."""
    from zeroforge.agent import load_agent, untrained_agent
    from zeroforge.arena.heldout import evaluate_held_out

    ag = load_agent(agent, num_simulations=simulations)
    if ag.task.num_players != 1:
        raise ValueError(f"evaluate is for single-agent tasks; {ag.task.name!r} has {ag.task.num_players} players "
                         f"(its anchors are in metrics.jsonl)")
    if episodes < 1:
        raise ValueError(f"--episodes must be >= 1, got {episodes}")
    mcts = ag.mcts.config
    sims = ag.num_simulations
    out = {
        "task": ag.task.name,
        "agent": str(agent),
        "trained": evaluate_held_out(ag.task, ag.evaluator, mcts, episodes, difficulty, sims).to_dict(),
        "untrained": evaluate_held_out(ag.task, untrained_agent(ag).evaluator, mcts, episodes, difficulty,
                                       sims).to_dict(),
        "raw_policy": evaluate_held_out(ag.task, ag.evaluator, mcts, episodes, difficulty, 1).to_dict(),
    }
    print(json.dumps(out))


@app.command()
def report(
    run_dir: Annotated[Path, typer.Option("--run-dir", help="run directory with metrics.jsonl")] = Path("runs/default"),
) -> None:
    """Redraw a run's learning curve (learning_curve.png) from its metrics.jsonl."""
    from zeroforge.report import plot_learning_curve
    from zeroforge.trainer import METRICS_FILE, PLOT_FILE

    metrics = run_dir / METRICS_FILE
    if not metrics.is_file():
        raise FileNotFoundError(f"no {METRICS_FILE} in {run_dir}")
    print(plot_learning_curve(metrics, run_dir / PLOT_FILE))


def main() -> None:
    """Entry point: bad input ends with one line on stderr and exit code 2, not a traceback."""
    from zeroforge.checkpoint import CheckpointError
    from zeroforge.config import ConfigError

    try:
        app(standalone_mode=False)
    except (ConfigError, CheckpointError, ValueError, FileNotFoundError, FileExistsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise


if __name__ == "__main__":
    main()
