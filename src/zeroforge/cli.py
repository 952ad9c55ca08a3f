"""``zeroforge`` command line: ``train``, ``generate`` (episodes to Parquet, no training), ``play`` (a person
against the agent), ``solve`` (one instance), ``evaluate`` (held-out solve rates), ``report`` (the run's HTML report
and learning curves), ``bench`` (this machine's speed), ``doctor`` (check a run directory). Long steps show progress
bars with an ETA on stderr (``--quiet``: none); ``--json`` puts a result a script reads on stdout; ``-v`` says more.

Built on the standard library's ``argparse``: a fresh install once got a typer that no longer installed the
click our error handling imported, and every usage error crashed; the wording of usage errors is ours now.
Every usage error and every bad input ends with one line on stderr, ``error: ...``, and exit code 2.
Ctrl-C exits 130 and SIGTERM 143, after the trainer's ``with`` block has stopped its worker processes (the
newest checkpoint stays resumable).
"""

from __future__ import annotations

import argparse
import difflib
import inspect
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

__all__ = ["UsageError", "main"]

#: the largest instance file ``solve`` reads (every task's largest valid instance is a few kilobytes)
MAX_INSTANCE_BYTES = 4 * 1024 * 1024
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143  # 128 + SIGTERM


class UsageError(ValueError):
    """A command line that cannot be run, said in one line (exit code 2)."""


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that ``with`` blocks close what they opened (exit code 143)."""


class _StopRequest:
    """Ctrl-C and SIGTERM: the handler raises at once, and also remembers the signal, because an exception
    raised while Python runs a finaliser or a weakref callback (matplotlib's plotting triggers them) is printed
    and dropped. ``check()``, called at every progress tick (each episode, each training step), raises again
    what was dropped, so a stop never gets lost, only delayed to the next tick."""

    signum: int | None = None

    @classmethod
    def handler(cls, signum: int, frame: FrameType | None) -> None:
        cls.signum = signum
        raise KeyboardInterrupt if signum == signal.SIGINT else Terminated

    @classmethod
    def check(cls) -> None:
        if cls.signum is not None:
            cls.handler(cls.signum, None)


# --------------------------------------------------------------------------------------------------
# the commands


def train(args: argparse.Namespace) -> None:
    """Train an agent by self-play; one checkpoint, metrics line and plot per iteration."""
    from rich.progress import TaskID

    from zeroforge.config import load_config
    from zeroforge.trainer import SelfPlayTrainer

    config: Path | None = args.config
    run_dir: Path = args.run_dir
    if config is None and args.resume and (run_dir / "config.yaml").exists():
        config = run_dir / "config.yaml"
    extra = ["monitor.tensorboard=true"] if args.tensorboard else []
    extra += [f"selfplay.backend={args.backend}"] if args.backend else []
    extra += [f"selfplay.ray_address={args.address}"] if args.address else []
    cfg = load_config(config, [*args.overrides, *extra])
    if int(os.environ.get("RANK", "0")) > 0:  # torchrun's other ranks: rank 0 reports for the run
        args.quiet, args.json, args.verbose = True, False, False
    with _progress(args) as progress:
        bars: dict[str, TaskID] = {}

        def on_progress(stage: str, done: int, total: int) -> None:
            _StopRequest.check()
            if stage not in bars:
                bars[stage] = progress.add_task(stage, total=total)
            progress.update(bars[stage], completed=done, total=total)

        with SelfPlayTrainer(cfg, run_dir, resume=args.resume, on_progress=on_progress) as trainer:
            start = trainer.next_iteration
            it_bar = progress.add_task("iterations", total=cfg.total_iterations, completed=start)
            for i in range(start, cfg.total_iterations):
                if trainer.budget_spent():
                    if not (args.quiet or args.json):
                        progress.console.print(f"cpu_budget_minutes={cfg.cpu_budget_minutes} spent after "
                                               f"{i} iterations: the run ends here")
                    break
                for stage in list(bars):
                    progress.remove_task(bars.pop(stage))
                m = trainer.run_iteration(i)
                _StopRequest.check()  # one dropped while the iteration ended (its plot): stop before the next
                progress.update(it_bar, completed=i + 1)
                if args.json:
                    print(json.dumps(m), flush=True)
                elif args.verbose:
                    progress.console.print(_summary(m))
    if not (args.quiet or args.json):
        _console().print(f"done: {run_dir} (metrics.jsonl, learning_curve.png, checkpoints/); "
                         f"zeroforge report --run-dir {run_dir} writes its report.html")


def _summary(m: dict[str, object]) -> str:
    keys = ("iteration", "loss_policy", "loss_value", "accepted", "score_vs_random", "score_vs_rollout",
            "score_vs_perfect", "perfect_play_losses", "elo", "heldout_solve_rate", "episodes_per_second",
            "iteration_seconds")
    parts = []
    for k in keys:
        if k in m:
            v = m[k]
            parts.append(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}")
    return " ".join(parts)


def _progress(args: argparse.Namespace) -> Any:
    """Rich progress bars with elapsed time and ETA on stderr; off with ``--quiet`` or ``--json``."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    quiet = getattr(args, "quiet", False) or getattr(args, "json", False)
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("eta"), TimeRemainingColumn(), console=_console(), disable=quiet, transient=False)


def _result(args: argparse.Namespace, result: dict[str, Any]) -> None:
    """A command's result on stdout: one JSON object with ``--json``, else ``key: value`` lines."""
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        print(f"{key}: {value:.4g}" if isinstance(value, float) else f"{key}: {value}")


def play(args: argparse.Namespace) -> None:
    """Play a two-player game against the agent in the terminal (or, with --once, print its reply to a position).

    Type a move as its number or as the game writes it (tic-tac-toe 'x(1,2)' or '1,2', Connect Four 'col 3');
    'moves' lists the legal moves, 'quit' or end of input leaves. --moves starts from a position; --once prints
    the agent's move after it with its search's visit counts as one JSON object, for scripts."""
    from zeroforge.agent import load_agent
    from zeroforge.play import play_game, start_position

    moves: list[int] = []
    for tok in filter(None, (t.strip() for t in args.moves.split(","))):
        try:
            moves.append(int(tok))
        except ValueError:
            raise UsageError(f"--moves: {tok!r} is not an action number (e.g. --moves 4,0)") from None
    ag = load_agent(args.agent, num_simulations=args.simulations)
    if ag.task.num_players != 2:
        raise ValueError(f"play is for two-player games; {args.agent} plays {ag.task.name!r}, a single-agent task "
                         f"(use 'zeroforge solve')")
    if args.once:
        state = start_position(ag.task, moves)
        if state.terminal:
            raise ValueError("the game is already over after these moves")
        trace = ag.search([state])[0]
        print(state.to_text())
        print(json.dumps({"action": trace.selected_action, "root_value": trace.root_value,
                          "visit_counts": trace.visit_counts.tolist()}))
        return

    def read(prompt: str) -> str | None:
        try:
            return input(prompt)
        except EOFError:
            print()
            return None

    result = play_game(ag, 0 if args.human == "first" else 1, read, lambda text: print(text, flush=True), moves)
    if args.json:
        print(json.dumps({"verdict": result.verdict, "moves": list(result.moves)}))


def solve(args: argparse.Namespace) -> None:
    """Solve one instance and print a JSON object: outcome, solution_path, answer, verified."""
    from zeroforge.agent import family_agent, load_agent

    task: str = args.task
    instance: Path = args.instance
    loaded = load_agent(args.agent, num_simulations=args.simulations, recurrence=args.recurrence,
                        adaptive_halting=args.adaptive_halting)
    try:
        ag = family_agent(loaded, task)  # a mixed agent solves any of its families
    except ValueError as exc:
        raise ValueError(f"{args.agent}: {exc}") from None
    if ag.task.num_players != 1:
        raise ValueError(f"solve is for single-agent tasks; {task!r} is a {ag.task.num_players}-player game "
                         f"(use 'zeroforge play')")
    if not instance.is_file():
        raise FileNotFoundError(f"no instance file at {instance}")
    size = instance.stat().st_size
    if size > MAX_INSTANCE_BYTES:  # every task's largest valid instance is kilobytes: do not read gigabytes
        raise ValueError(f"{instance}: {size:,} bytes; an instance file holds at most {MAX_INSTANCE_BYTES:,}")
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
        **({} if (confidence := ag.confidence(states[0])) is None else {"confidence": round(confidence, 4)}),
    }))


def evaluate(args: argparse.Namespace) -> None:
    """Held-out solve rate, optimality gap and search budget of a single-agent agent, beside the same search
    with the untrained net and the raw policy (1 simulation); one JSON object."""
    from zeroforge.agent import load_agent, untrained_agent
    from zeroforge.arena.heldout import evaluate_held_out

    ag = load_agent(args.agent, num_simulations=args.simulations, recurrence=args.recurrence,
                    adaptive_halting=args.adaptive_halting)
    if ag.task.num_players != 1:
        raise ValueError(f"evaluate is for single-agent tasks; {ag.task.name!r} has {ag.task.num_players} players "
                         f"(its anchors are in metrics.jsonl)")
    mcts = ag.mcts.config
    sims = ag.num_simulations
    episodes, difficulty = args.episodes, args.difficulty
    out = {
        "task": ag.task.name,
        "agent": str(args.agent),
        "recurrence": getattr(ag.net, "recurrence", None),
        "trained": evaluate_held_out(ag.task, ag.evaluator, mcts, episodes, difficulty, sims).to_dict(),
        "untrained": evaluate_held_out(ag.task, untrained_agent(ag).evaluator, mcts, episodes, difficulty,
                                       sims).to_dict(),
        "raw_policy": evaluate_held_out(ag.task, ag.evaluator, mcts, episodes, difficulty, 1).to_dict(),
    }
    print(json.dumps(out))


def report(args: argparse.Namespace) -> None:
    """Write a run's HTML report (report.html: summary, episode viewer, learning curves) and redraw its PNGs.

    The page is self-contained (the PNGs, the episodes' data, CSS and JS are embedded): open it in any browser,
    offline. It prints the page's path; files it could not read become one 'warning:' line each."""
    import warnings

    from zeroforge.html_report import write_report

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        page = write_report(args.run_dir, args.out, max_episodes=args.max_episodes)
    for w in caught:
        print(f"warning: {_one_line(Warning(w.message))}", file=sys.stderr)
    print(page)


def generate(args: argparse.Namespace) -> None:
    """Play episodes with a trained agent (no training) and write them with their search traces to Parquet."""
    from dataclasses import replace

    import numpy as np

    from zeroforge.agent import load_agent
    from zeroforge.data.parquet import save_parquet
    from zeroforge.data.table import EpisodeTable
    from zeroforge.selfplay.generator import SelfPlayEpisodeGenerator

    out: Path = args.out
    if out.suffix != ".parquet":
        raise UsageError(f"--out {out}: the episode file's name must end in .parquet")
    if not out.parent.is_dir():
        raise FileNotFoundError(f"--out {out}: no directory {out.parent}")
    ag = load_agent(args.agent, num_simulations=args.simulations)
    task, cfg = ag.task, ag.config
    assert cfg is not None
    level = task.check_difficulty(args.difficulty) if args.difficulty is not None else None
    mcts = replace(ag.mcts.config, num_simulations=ag.num_simulations)
    generator = SelfPlayEpisodeGenerator(task, ag.evaluator, mcts, cfg.selfplay.parallel_batch_size,
                                         add_noise=not args.no_noise)
    seeds = range(args.seed, args.seed + args.episodes)
    with _progress(args) as bar:
        job = bar.add_task("episodes", total=len(seeds))

        def tick(_: object) -> None:
            _StopRequest.check()
            bar.advance(job)

        episodes = generator.generate(seeds, np.random.default_rng(args.seed), on_episode=tick,
                                      difficulties=None if level is None else [level] * len(seeds))
    save_parquet(EpisodeTable.from_episodes(episodes, task.vocab_size), out)
    outcomes = {k: sum(e.outcome == k for e in episodes) for k in sorted({e.outcome for e in episodes})}
    _result(args, {"out": str(out), "task": task.name, "episodes": len(episodes), "outcomes": outcomes,
                   "moves": sum(len(e.actions) for e in episodes), "simulations_per_move": ag.num_simulations})


def export(args: argparse.Namespace) -> None:
    """Export a run's verified episodes as an SFT or DPO dataset (JSONL, Parquet or a Hugging Face dataset).

    The episodes (RUN/episodes, saved with selfplay.save_episodes) are replayed from their seeds and re-verified
    with the task's verifier; only verified solutions become positives. OUT is a directory: the data files and a
    dataset card (README.md) with the counts and how the data was made. Prints OUT's files (or --json: the counts)."""
    from zeroforge.exports import count_run_episodes, export_run

    families = [f.strip() for f in ",".join(args.family).split(",") if f.strip()]
    levels: list[int] = []
    for tok in filter(None, (t.strip() for t in ",".join(args.difficulty).split(","))):
        if not tok.isdigit() or int(tok) < 1:
            raise UsageError(f"--difficulty: {tok!r} is not a level (an integer >= 1)")
        levels.append(int(tok))
    bar = _progress(args)
    job = bar.add_task("replaying episodes", total=count_run_episodes(args.run) or None)

    def tick(n: int) -> None:  # the bar starts with the first episode: a refused run prints only its error
        if n == 1:
            bar.start()
        bar.update(job, completed=n)

    try:
        summary = export_run(args.run, args.format, args.out, families, levels, dedup=not args.no_dedup,
                             margin=args.margin, command="zeroforge export " + " ".join(sys.argv[2:]),
                             on_episode=tick, dabstep=args.dabstep)
    finally:
        bar.stop()
    for w in summary.warnings:
        print(f"warning: {w}", file=sys.stderr)
    if args.json:
        print(json.dumps(summary.to_dict()))
        return
    print(f"{summary.verified} verified solutions of {summary.episodes} episodes: {summary.sft_records} SFT records, "
          f"{summary.dpo_pairs} DPO pairs")
    for path in summary.files:
        print(path)


def score_dabstep(args: argparse.Namespace) -> None:
    """Score answers to DABStep tasks with the benchmark's quasi-exact match; accuracy per level and overall.

    ANSWERS is a DABStep submission: JSONL, one {"task_id": ..., "agent_answer": ...} a line. The reference
    answers come from --tasks (DABStep's JSONL, Parquet or a datasets folder; default: the small fixture shipped
    with zeroforge, in DABStep's schema)."""
    from zeroforge.integrations.dabstep import FIXTURE, DABStepLoader, read_answers, score_answers

    loader = DABStepLoader(args.tasks or FIXTURE)
    if not args.answers.is_file():
        raise FileNotFoundError(f"no answers file at {args.answers}")
    result = score_answers(loader, read_answers(args.answers))
    if args.json:
        print(json.dumps(result))
        return
    print(f"tasks: {loader.path}{' (the bundled fixture)' if args.tasks is None else ''}")
    for level in ("easy", "hard"):
        acc = result[f"accuracy_{level}"]
        print(f"{level}: {'-' if acc is None else f'{acc:.3f}'} ({result[f'answered_{level}']} answered)")
    print(f"all: {result['accuracy']:.3f} ({result['answered']} answered)")


def bench(args: argparse.Namespace) -> None:
    """Measure this machine: self-play episodes, search simulations and net positions per second."""
    import time

    import numpy as np

    from zeroforge.agent import create_agent
    from zeroforge.config import load_config
    from zeroforge.selfplay.generator import SelfPlayEpisodeGenerator
    from zeroforge.threads import configure_threads

    cfg = load_config(args.config, args.overrides)
    threads = configure_threads(cfg.threads, cfg.torch_threads, cfg.mcts.search_threads)
    ag = create_agent(cfg)
    generator = SelfPlayEpisodeGenerator(ag.task, ag.evaluator, cfg.mcts, cfg.selfplay.parallel_batch_size)
    generator.generate(range(2), np.random.default_rng(0))  # warm-up: compiled search kernels, first net call
    positions0, net0 = ag.evaluator.positions, ag.evaluator.seconds
    start, episodes, moves, sims = time.perf_counter(), 0, 0, 0
    with _progress(args) as bar:
        job = bar.add_task("bench", total=args.seconds)
        while time.perf_counter() - start < args.seconds:
            batch = generator.generate(range(1000 + episodes, 1000 + episodes + cfg.selfplay.parallel_batch_size),
                                       np.random.default_rng(episodes))
            episodes += len(batch)
            moves += sum(len(e.actions) for e in batch)
            sims += sum(t.num_simulations for e in batch for t in e.mcts_traces)
            bar.update(job, completed=min(args.seconds, time.perf_counter() - start))
            _StopRequest.check()
    seconds = time.perf_counter() - start
    net_seconds = ag.evaluator.seconds - net0
    _result(args, {"task": ag.task.name, "net": type(ag.net).__name__, "seconds": round(seconds, 3),
                   "episodes": episodes,
                   "episodes_per_second": episodes / seconds, "moves_per_second": moves / seconds,
                   "simulations_per_second": sims / seconds,
                   "net_positions_per_second": (ag.evaluator.positions - positions0) / max(net_seconds, 1e-9),
                   "net_time_share": net_seconds / seconds, "threads": threads.threads,
                   "simulations_per_move": cfg.mcts.num_simulations})


def doctor(args: argparse.Namespace) -> None:
    """Check a run directory: config, checkpoints, metrics, episode files; exit 1 if it found errors."""
    from zeroforge.doctor import check_run

    report = check_run(args.run)
    for line in report.lines():
        print(line)
    if report.errors:
        raise SystemExit(1)


# --------------------------------------------------------------------------------------------------
# the parser


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one-line ``UsageError`` s, with the closest option suggested."""

    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments:"):
            words = message.split(":", 1)[1].split()
            options = [o for a in self._actions for o in a.option_strings]
            for word in words:
                close = difflib.get_close_matches(word.split("=", 1)[0], options, n=1, cutoff=0.6)
                if close:
                    message += f"; did you mean {close[0]}?"
                    break
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def _path(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path")
    return Path(text)


def _count(low: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {value}")
        return value

    parse.__name__ = f"int >= {low}"
    return parse


COMMANDS: dict[str, Callable[[argparse.Namespace], None]] = {
    "train": train, "generate": generate, "play": play, "solve": solve, "evaluate": evaluate, "report": report,
    "export": export, "score-dabstep": score_dabstep, "bench": bench, "doctor": doctor,
}

#: one example per command, shown by ``zeroforge COMMAND --help``
EXAMPLES: dict[str, str] = {
    "train": "zeroforge train --config configs/maze.yaml --run-dir runs/maze --set iterations=20 --tensorboard",
    "generate": "zeroforge generate --agent runs/default --episodes 256 --out episodes.parquet --json",
    "play": "zeroforge play --agent runs/default --human second",
    "solve": "zeroforge solve --task maze --agent runs/maze --instance my_maze.txt",
    "evaluate": "zeroforge evaluate --agent runs/maze --episodes 200 --simulations 64",
    "report": "zeroforge report --run-dir runs/default",
    "export": "zeroforge export runs/maze --format sft --out exports/maze --family maze --difficulty 3,4",
    "score-dabstep": "zeroforge score-dabstep answers.jsonl --tasks dabstep/dev.jsonl --json",
    "bench": "zeroforge bench --set mcts.num_simulations=32 --seconds 10 --json",
    "doctor": "zeroforge doctor runs/default",
}


#: more lines after a command's example in its --help
EPILOGS: dict[str, str] = {
    "play": "\n  zeroforge play --agent runs/default --moves 4,0 --once   # the agent's reply as JSON",
    "report": "   # then open runs/default/report.html\n"
              "  (runs/default/report.html#episode=0&step=2 opens the first episode listed at step 2)",
}


def _command_parser(name: str) -> _Parser:
    doc = inspect.cleandoc(COMMANDS[name].__doc__ or "")
    epilog = "example:\n  " + EXAMPLES[name] + EPILOGS.get(name, "")  # kept as written (line breaks)
    p = _Parser(prog=f"zeroforge {name}", description=doc, allow_abbrev=False, epilog=epilog,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    agent_help = "run or checkpoint directory"
    recurrence_help = ("passes of a recurrent pointer net, cycles of a TRM / HRM (default: the trained; more for "
                       "larger instances)")
    halting_help = "TRM / HRM: each position stops thinking when its halting head says so (default: all segments)"
    if name == "train":
        p.add_argument("--config", type=_path, help="YAML config file")
        p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                       help="override a config key, e.g. mcts.num_simulations=32 (repeatable)")
        p.add_argument("--run-dir", type=_path, default=Path("runs/default"),
                       help="where checkpoints and metrics go (default: runs/default)")
        p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint")
        p.add_argument("--tensorboard", action="store_true",
                       help="also write TensorBoard event files to RUN_DIR/tensorboard (monitor.tensorboard)")
        p.add_argument("--backend", choices=("local", "ray"),
                       help="self-play on this machine's processes or on Ray actors (selfplay.backend)")
        p.add_argument("--address", help="with --backend ray: auto or HOST:PORT of a running Ray cluster "
                                         "(selfplay.ray_address; default: start Ray here)")
        _output_flags(p, "each iteration's metrics as a JSON line on stdout (no progress bars)",
                      "a summary line per iteration")
    elif name == "play":
        p.add_argument("--agent", type=_path, default=Path("runs/default"), help=agent_help)
        p.add_argument("--moves", default="", help="comma-separated actions played so far (the start position)")
        p.add_argument("--human", choices=("first", "second"), default="first",
                       help="your seat: first (moves first) or second (default: first)")
        p.add_argument("--simulations", type=_count(1), help="the agent's search budget per move")
        p.add_argument("--once", action="store_true",
                       help="print the agent's move after --moves with its visit counts as JSON and exit")
        p.add_argument("--json", action="store_true", help="end with the result as one JSON object")
    elif name == "solve":
        p.add_argument("--task", required=True, help="task name (must be the agent's)")
        p.add_argument("--agent", type=_path, required=True, help=agent_help)
        p.add_argument("--instance", type=_path, required=True, help="instance file in the task's text format")
        p.add_argument("--simulations", type=_count(1), help="search budget per move")
        p.add_argument("--recurrence", type=_count(1), help=recurrence_help)
        p.add_argument("--adaptive-halting", action="store_true", default=None, help=halting_help)
    elif name == "evaluate":
        p.add_argument("--agent", type=_path, required=True, help=agent_help)
        p.add_argument("--episodes", type=_count(1), default=200, help="held-out instances (default: 200)")
        p.add_argument("--difficulty", type=_count(1), help="level (default: the top)")
        p.add_argument("--simulations", type=_count(1), help="search budget per move")
        p.add_argument("--recurrence", type=_count(1), help=recurrence_help)
        p.add_argument("--adaptive-halting", action="store_true", default=None, help=halting_help)
    elif name == "report":
        p.add_argument("--run-dir", type=_path, default=Path("runs/default"),
                       help="run directory with metrics.jsonl (default: runs/default)")
        p.add_argument("--out", type=_path, help="where the page goes, its PNGs beside it (default: RUN/report.html)")
        p.add_argument("--max-episodes", type=_count(0), default=40,
                       help="episodes the viewer lists, the newest iterations' first (default: 40)")
    elif name == "doctor":
        p.add_argument("run", type=_path, metavar="RUN", help="the run directory to check")
    elif name == "generate":
        p.add_argument("--agent", type=_path, required=True, help=agent_help)
        p.add_argument("--episodes", type=_count(1), default=64, help="episodes to play (default: 64)")
        p.add_argument("--out", type=_path, required=True, help="the Parquet file to write (name.parquet)")
        p.add_argument("--simulations", type=_count(1), help="search budget per move (default: the run's)")
        p.add_argument("--difficulty", type=_count(1), help="level of every episode (default: the task's draw)")
        p.add_argument("--seed", type=_count(0), default=0, help="first episode seed (default: 0)")
        p.add_argument("--no-noise", action="store_true", help="no Dirichlet root noise (evaluation-like play)")
        _output_flags(p, "the result as one JSON object")
    elif name == "export":
        from zeroforge.exports import FORMATS
        from zeroforge.exports.records import DEFAULT_MARGIN

        p.add_argument("run", type=_path, metavar="RUN", help="the run directory")
        p.add_argument("--format", choices=FORMATS, required=True,
                       help="sft / dpo: JSONL; parquet: both as Parquet; hf: both as Hugging Face datasets "
                            "(load_from_disk; the hf extra)")
        p.add_argument("--out", type=_path, required=True, help="the export directory (created)")
        p.add_argument("--family", action="append", default=[], help="only these families (comma-separated, "
                                                                       "repeatable; a mix's members)")
        p.add_argument("--difficulty", action="append", default=[], help="only these levels (e.g. 3,4)")
        p.add_argument("--no-dedup", action="store_true",
                       help="keep every solution of an instance (default: the shortest one)")
        p.add_argument("--dabstep", type=_path, metavar="TASKS",
                       help="also DABStep tasks with answers as prompt / answer records (a 'dabstep' part)")
        p.add_argument("--margin", type=float, default=DEFAULT_MARGIN,
                       help=f"DPO: Q gap that makes a searched sibling a rejection (default: {DEFAULT_MARGIN})")
        _output_flags(p, "the counts and files as one JSON object")
    elif name == "score-dabstep":
        p.add_argument("answers", type=_path, metavar="ANSWERS", help="JSONL: task_id and agent_answer per line")
        p.add_argument("--tasks", type=_path, help="DABStep tasks with answers (default: the bundled fixture)")
        p.add_argument("--json", action="store_true", help="the scores (per task too) as one JSON object")
    elif name == "bench":
        p.add_argument("--config", type=_path, help="YAML config file (default: the embedded default)")
        p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                       help="override a config key (repeatable)")
        p.add_argument("--seconds", type=_count(1), default=10, help="how long to measure (default: 10)")
        _output_flags(p, "the result as one JSON object")
    return p


def _output_flags(p: _Parser, json_help: str, verbose_help: str | None = None) -> None:
    """``--json``, ``--quiet`` (no progress bars) and, where there is more to say, ``-v``."""
    p.add_argument("--json", action="store_true", help=json_help)
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    if verbose_help is not None:
        p.add_argument("-v", "--verbose", action="store_true", help=verbose_help)


def _top_parser() -> _Parser:
    lines = [f"  {name:<13} {(fn.__doc__ or '').strip().splitlines()[0]}" for name, fn in COMMANDS.items()]
    p = _Parser(prog="zeroforge", description="zeroforge: AlphaZero-style self-play.", allow_abbrev=False,
                formatter_class=argparse.RawDescriptionHelpFormatter,
                epilog="commands:\n" + "\n".join(lines) + "\n\n'zeroforge COMMAND --help' lists its options.")
    p.add_argument("command", metavar="COMMAND", help="one of: " + ", ".join(COMMANDS))
    p.add_argument("args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return p


def parse_args(argv: Sequence[str]) -> tuple[Callable[[argparse.Namespace], None], argparse.Namespace]:
    """The command's function and its parsed options; ``UsageError`` for a command line that cannot run."""
    top = _top_parser()
    if not argv:
        top.print_help()
        raise SystemExit(0)
    if argv[0] in ("-h", "--help"):
        top.print_help()
        raise SystemExit(0)
    if argv[0] not in COMMANDS:
        close = difflib.get_close_matches(argv[0], list(COMMANDS), n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else f"; one of: {', '.join(COMMANDS)}"
        raise UsageError(f"zeroforge: unknown command {argv[0]!r}{hint}")
    return COMMANDS[argv[0]], _command_parser(argv[0]).parse_args(list(argv[1:]))


def _console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: bad input ends with one line on stderr and exit code 2, not a traceback. The stop handlers
    go in first, so that a Ctrl-C while torch is still being imported is a clean stop too."""
    argv = sys.argv[1:] if argv is None else list(argv)
    _StopRequest.signum = None
    previous = {s: signal.signal(s, _StopRequest.handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        from zeroforge.checkpoint import CheckpointError
        from zeroforge.config import ConfigError
        from zeroforge.selfplay.processes import WorkerError

        try:
            command, args = parse_args(argv)
            command(args)
        except (UsageError, ConfigError, CheckpointError, ValueError, OSError) as exc:
            _exit_if_stopped()
            print(f"error: {_one_line(exc)}", file=sys.stderr)
            sys.exit(EXIT_USAGE)
        except WorkerError as exc:  # not the input's fault: exit 1, one line (the worker's traceback is logged)
            _exit_if_stopped()
            print(f"error: {_one_line(exc)}", file=sys.stderr)
            sys.exit(1)
    except KeyboardInterrupt:
        _StopRequest.signum = signal.SIGINT
        _exit_if_stopped()
    except Terminated:
        _StopRequest.signum = signal.SIGTERM
        _exit_if_stopped()
    except Exception:
        _exit_if_stopped()  # a stop that library code turned into another exception
        raise
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _exit_if_stopped() -> None:
    """End as a stop (one line, exit 130 / 143) if Ctrl-C or SIGTERM was requested, whatever exception it became
    on its way up: raised inside library code it can come out wrapped (a class body being created while
    matplotlib is imported turns it into ``RuntimeError("Error calling __set_name__ ...")``)."""
    if _StopRequest.signum == signal.SIGINT:
        print("interrupted: the newest checkpoint is kept (continue with --resume)", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    if _StopRequest.signum == signal.SIGTERM:
        print("terminated: the newest checkpoint is kept (continue with --resume)", file=sys.stderr)
        sys.exit(EXIT_TERMINATED)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


if __name__ == "__main__":
    main()
