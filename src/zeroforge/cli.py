"""``zeroforge`` command line: ``train`` (and ``play`` against a trained agent)."""

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

        trainer = SelfPlayTrainer(cfg, run_dir, resume=resume, on_progress=on_progress)
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
