"""``zeroforge doctor RUN``: check a run directory and say what a resume would find.

It reads, never writes: ``config.yaml`` (valid against the schema), every checkpoint (manifest, each file's
size and sha256, then the newest good one loaded and its entries checked), ``metrics.jsonl`` (each line
parses, iterations unique and contiguous from 0, none missing before the checkpoint's next iteration), every
``episodes/iter_*.parquet`` (readable to the last row group), and leftovers of interrupted writes. Each
finding is one line, ``ok`` / ``warn`` / ``error``, naming the file; the verdict line says from which
iteration ``--resume`` continues. Errors are what loses or blocks work (no usable checkpoint, a config that
does not load); a corrupt older checkpoint or a torn last metrics line are warnings: the run goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["DoctorReport", "Finding", "check_run"]


@dataclass(frozen=True)
class Finding:
    """One line of the report: ``level`` is ``ok``, ``warn`` or ``error``; ``where`` is relative to the run."""

    level: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.level:<5} {self.where}: {self.message}"


@dataclass
class DoctorReport:
    """The findings in the order checked, and the iteration a resume would continue from (``None``: none)."""

    run_dir: Path
    findings: list[Finding] = field(default_factory=list)
    resume_from: int | None = None

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "warn"]

    def add(self, level: str, where: Path | str, message: str) -> None:
        rel = str(Path(where).relative_to(self.run_dir)) if isinstance(where, Path) and where.is_relative_to(
            self.run_dir) else str(where)
        self.findings.append(Finding(level, rel or ".", message))

    def lines(self) -> list[str]:
        verdict = (f"resume continues at iteration {self.resume_from}" if self.resume_from is not None
                   else "no usable checkpoint: a resume starts from scratch")
        return [*(str(f) for f in self.findings),
                f"{len(self.errors)} error(s), {len(self.warnings)} warning(s); {verdict}"]


def check_run(run_dir: str | Path) -> DoctorReport:
    """Check ``run_dir`` (see the module docstring). A path that is not a directory is a ``FileNotFoundError``."""
    run = Path(run_dir)
    if not run.is_dir():
        raise FileNotFoundError(f"no run directory at {run}")
    report = DoctorReport(run)
    _check_config(report)
    next_iteration = _check_checkpoints(report)
    _check_metrics(report, next_iteration)
    _check_episodes(report, next_iteration)
    return report


def _check_config(report: DoctorReport) -> None:
    from zeroforge.config import ConfigError, load_config

    file = report.run_dir / "config.yaml"
    if not file.exists():
        report.add("warn", file, "missing (resume then needs --config with the run's settings)")
        return
    try:
        load_config(file)
    except ConfigError as exc:
        report.add("error", file, f"{exc} (restore it from the checkpoint's state.json 'config', or fix it)")
        return
    report.add("ok", file, "valid")


def _check_checkpoints(report: DoctorReport) -> int:
    """Verify every checkpoint; load the newest good one. Returns its next iteration (0 without one)."""
    from zeroforge.checkpoint import CheckpointError, list_checkpoints, load_checkpoint, verify_checkpoint
    from zeroforge.runstate import checkpoint_config

    root = report.run_dir / "checkpoints"
    for left in sorted(root.glob(".tmp-iter_*")) + sorted(root.glob(".old-iter_*")) if root.is_dir() else []:
        report.add("warn", left, "left by an interrupted checkpoint save (harmless; the next save removes .old-*)")
    good: list[Path] = []
    for path in list_checkpoints(report.run_dir):
        try:
            verify_checkpoint(path)
        except CheckpointError as exc:
            report.add("warn", path, f"corrupt, skipped by resume: {exc}")
            continue
        good.append(path)
        report.add("ok", path, "checksums verify")
    if not good:
        report.add("error", root, "no checkpoint verifies: nothing to resume from")
        return 0
    newest = good[-1]
    try:
        ckpt = load_checkpoint(newest)
        for name in ("best", "candidate"):
            ckpt.entry(name)
        ckpt.arrays("buffer")
        checkpoint_config(ckpt)
        next_iteration = int(ckpt.field("next_iteration", int))
    except CheckpointError as exc:
        report.add("error", newest, f"verifies but cannot be restored: {exc}")
        return 0
    report.resume_from = next_iteration
    return next_iteration


def _check_metrics(report: DoctorReport, next_iteration: int) -> None:
    file = report.run_dir / "metrics.jsonl"
    if not file.exists():
        report.add("warn", file, "missing (the learning curve starts again at the resumed iteration)")
        return
    from zeroforge.runstate import scan_metrics

    seen: list[int] = []
    for line in scan_metrics(file):
        if line.record is None:
            report.add("warn", f"metrics.jsonl:{line.number}", f"{line.problem}; resume drops it")
        elif line.iteration is None:
            report.add("warn", f"metrics.jsonl:{line.number}", "not an object with an integer 'iteration'")
        else:
            seen.append(line.iteration)
    repeated = sorted({i for i in seen if seen.count(i) > 1})
    if repeated:
        report.add("warn", file, f"iterations repeated: {repeated[:10]}")
    missing = sorted(set(range(next_iteration)) - set(seen))
    if missing:
        report.add("warn", file, f"no line for iterations {missing[:10]} (before the checkpoint's {next_iteration})")
    ahead = sorted(i for i in set(seen) if i >= next_iteration)
    if ahead:
        report.add("warn", file, f"lines for iterations {ahead[:10]} after the checkpoint; resume redoes them")
    if not (repeated or missing):
        report.add("ok", file, f"{len(seen)} lines, iterations contiguous from 0")


def _check_episodes(report: DoctorReport, next_iteration: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = report.run_dir / "episodes"
    if not folder.is_dir():
        return
    good = 0
    for file in sorted(folder.glob("iter_*.parquet")):
        try:
            pf = pq.ParquetFile(file)
            rows = sum(pf.read_row_group(g).num_rows for g in range(pf.num_row_groups))
        except (OSError, ValueError, pa.ArrowException) as exc:
            report.add("warn", file, f"unreadable ({' '.join(str(exc).split())[:160]}); "
                                     f"its iteration's training data is in the checkpoint's buffer")
            continue
        if rows == 0:
            report.add("warn", file, "holds no episodes")
            continue
        if int(file.stem.split("_")[1]) >= next_iteration:
            report.add("warn", file, "from an iteration after the checkpoint; resume writes it again")
        good += 1
    for left in sorted(folder.glob(".iter_*.tmp")):
        report.add("warn", left, "left by an interrupted episode write (harmless)")
    report.add("ok", folder, f"{good} readable episode file(s)")
