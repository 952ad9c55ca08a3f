"""Corrupt files in a run directory: each is detected and named in one line (or skipped with a warning where the
run can go on from an older checkpoint), never loaded silently wrong, never a traceback; ``zeroforge doctor``
reports each."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

import zeroforge
from zeroforge.checkpoint import CheckpointError, latest_checkpoint, list_checkpoints, load_checkpoint
from zeroforge.cli import main
from zeroforge.config import load_config
from zeroforge.data.parquet import load_parquet
from zeroforge.doctor import check_run
from zeroforge.trainer import SelfPlayTrainer

TINY = ["iterations=3", "selfplay.games_per_iteration=8", "selfplay.parallel_batch_size=8", "mcts.num_simulations=4",
        "train.steps_per_iteration=3", "train.batch_size=16", "arena.anchors=[random]", "arena.anchor_games=2",
        "arena.num_simulations=2", "agent_simulations=4"]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("pristine") / "run"
    SelfPlayTrainer(load_config(None, TINY), run).run()
    return run


@pytest.fixture
def run(pristine: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "run"
    shutil.copytree(pristine, copy)
    return copy


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def newest(run: Path) -> Path:
    return list_checkpoints(run)[-1]


# -- checkpoint files ----------------------------------------------------------------------------------------

def _truncate(file: Path) -> None:
    file.write_bytes(file.read_bytes()[: file.stat().st_size // 2])


def _flip(file: Path) -> None:
    data = bytearray(file.read_bytes())
    data[len(data) // 2] ^= 0x10
    file.write_bytes(bytes(data))


def _wrong_version(file: Path) -> None:
    manifest = json.loads(file.read_text())
    manifest["version"] = 99
    file.write_text(json.dumps(manifest))


CORRUPTIONS = [
    ("best.safetensors", _truncate, "size is"),
    ("best.safetensors", _flip, "sha256 does not match"),
    ("state.json", _flip, "sha256 does not match"),
    ("buffer.safetensors", Path.unlink, "listed in the manifest but missing"),
    ("manifest.json", _wrong_version, "unsupported version 99"),
    ("manifest.json", Path.unlink, "manifest is missing"),
    ("manifest.json", _truncate, "not valid JSON"),
]


@pytest.mark.parametrize(("name", "damage", "message"), CORRUPTIONS,
                         ids=[f"{n}-{d.__name__}" for n, d, _ in CORRUPTIONS])
def test_corrupt_checkpoint_is_named_and_resume_falls_back(run: Path, capsys: pytest.CaptureFixture[str],
                                                           name: str, damage: object, message: str) -> None:
    bad = newest(run)
    damage(bad / name)  # type: ignore[operator]
    with pytest.raises(CheckpointError, match=message) as info:
        load_checkpoint(bad)
    assert str(bad) in str(info.value) and "\n" not in str(info.value)
    code, _, err = cli(capsys, "play", "--agent", str(bad))  # that very checkpoint: refused in one line
    assert code == 2 and message in one_error_line(err)
    with pytest.warns(RuntimeWarning, match="skipping corrupt checkpoint"):
        assert latest_checkpoint(run) == list_checkpoints(run)[-2]
    report = check_run(run)
    assert any(f.level == "warn" and bad.name in f.where for f in report.findings) and report.resume_from == 2
    # resume goes on from the previous checkpoint and redoes the lost iteration
    with pytest.warns(RuntimeWarning):
        trainer = SelfPlayTrainer(load_config(None, TINY), run, resume=True)
    assert trainer.next_iteration == 2
    trainer.run()
    assert [json.loads(x)["iteration"] for x in (run / "metrics.jsonl").read_text().splitlines()] == [0, 1, 2]
    assert check_run(run).errors == []


def _rewrite_without(ckpt: Path, filename: str) -> None:
    """Drop ``filename`` from the checkpoint and its manifest: every checksum still verifies."""
    manifest = json.loads((ckpt / "manifest.json").read_text())
    del manifest["files"][filename]
    (ckpt / filename).unlink()
    (ckpt / "manifest.json").write_text(json.dumps(manifest))


def test_checkpoint_that_verifies_but_lacks_an_entry(run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = newest(run)
    _rewrite_without(bad, "best.safetensors")
    assert latest_checkpoint(run) == bad  # the checksums verify
    code, _, err = cli(capsys, "play", "--agent", str(run))
    line = one_error_line(err)
    assert code == 2 and "has no best.safetensors" in line and str(bad) in line
    code, _, err = cli(capsys, "train", "--run-dir", str(run), "--resume", "--quiet")
    assert code == 2 and "has no best.safetensors" in one_error_line(err)
    report = check_run(run)
    assert [f.where for f in report.errors] == [f"checkpoints/{bad.name}"]


def test_checkpoint_whose_weights_do_not_fit_the_net(run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A state.json whose config names another net size (checksums re-made): one line, not torch's 20."""
    from safetensors.torch import save_file

    bad = newest(run)
    weights = load_checkpoint(bad).entry("best")
    first = next(iter(weights))
    save_file({**weights, first: torch.zeros(3, 3)}, bad / "best.safetensors")
    manifest = json.loads((bad / "manifest.json").read_text())
    import hashlib

    data = (bad / "best.safetensors").read_bytes()
    manifest["files"]["best.safetensors"].update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
    (bad / "manifest.json").write_text(json.dumps(manifest))
    code, _, err = cli(capsys, "play", "--agent", str(bad))
    line = one_error_line(err)
    assert code == 2 and "do not fit the configured net" in line and "best.safetensors" in line


# -- metrics, episodes, config ----------------------------------------------------------------------------------

def test_torn_last_metrics_line_is_dropped_with_a_warning(run: Path) -> None:
    metrics = run / "metrics.jsonl"
    before = metrics.read_text().splitlines()
    with metrics.open("a") as f:
        f.write('{"iteration": 3, "loss_pol')
    report = check_run(run)
    assert any(f.where == "metrics.jsonl:4" and "half-written" in f.message for f in report.warnings)
    with pytest.warns(RuntimeWarning, match=r"metrics\.jsonl:4: dropping a half-written last line"):
        trainer = SelfPlayTrainer(load_config(None, [*TINY, "iterations=4"]), run, resume=True)
    assert metrics.read_text().splitlines() == before  # the lines of finished iterations are kept as they were
    trainer.run()
    lines = metrics.read_text().splitlines()
    assert lines[:3] == before and [json.loads(x)["iteration"] for x in lines] == [0, 1, 2, 3]


def test_a_lost_metrics_line_in_the_middle_is_reported(run: Path) -> None:
    metrics = run / "metrics.jsonl"
    lines = metrics.read_text().splitlines()
    metrics.write_text("\n".join([lines[0], "garbage{", lines[2]]) + "\n")
    assert any("corrupt line" in f.message for f in check_run(run).warnings)
    assert any("no line for iterations [1]" in f.message for f in check_run(run).warnings)
    with pytest.warns(RuntimeWarning, match=r"no readable line for iterations \[1\]"), \
            pytest.warns(RuntimeWarning, match=r"metrics\.jsonl:2: dropping a corrupt line"):
        SelfPlayTrainer(load_config(None, TINY), run, resume=True)


def test_truncated_episode_file(run: Path) -> None:
    file = run / "episodes" / "iter_000001.parquet"
    _truncate(file)
    with pytest.raises(ValueError, match=r"iter_000001\.parquet") as info:
        load_parquet(file, max_bytes=1 << 30)
    assert "\n" not in str(info.value)
    report = check_run(run)
    assert any(f.where == "episodes/iter_000001.parquet" and "unreadable" in f.message for f in report.warnings)
    assert report.errors == [] and report.resume_from == 3


@pytest.mark.parametrize("text", ["iterations: [unclosed\n", "- just\n- a list\n", "mcts:\n  num_simulatons: 3\n",
                                  "iterations: -4\n", "\x00\x01binary"])
def test_config_yaml_edited_to_nonsense(run: Path, capsys: pytest.CaptureFixture[str], text: str) -> None:
    (run / "config.yaml").write_text(text)
    code, _, err = cli(capsys, "train", "--run-dir", str(run), "--resume", "--quiet")
    line = one_error_line(err)
    assert code == 2 and "config" in line
    report = check_run(run)
    assert [f.where for f in report.errors] == ["config.yaml"]


def test_doctor_on_a_healthy_run_and_on_nothing(run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["doctor", str(run)])  # returns: exit status 0
    out, _ = capsys.readouterr()
    assert out.strip().splitlines()[-1] == "0 error(s), 0 warning(s); resume continues at iteration 3"
    code, _, err = cli(capsys, "doctor", str(run / "nowhere"))
    assert code == 2 and "no run directory" in one_error_line(err)
    shutil.rmtree(run / "checkpoints")
    code, out, _ = cli(capsys, "doctor", str(run))
    assert code == 1 and "no usable checkpoint" in out.strip().splitlines()[-1]


def test_kill_between_the_two_renames_of_a_checkpoint_replacement(run: Path) -> None:
    """Replacing an existing iter_N moves it aside, then renames the new one in. A process killed between the two
    renames leaves no iter_N at all: resume must go on from the newest complete one, and the next save must
    clean the leftover."""
    script = textwrap.dedent(f"""
        import os, sys
        import zeroforge.checkpoint as ck
        calls = []
        real = os.replace
        def dying_replace(a, b):
            calls.append((a, b))
            real(a, b)
            if len(calls) == 1:
                os._exit(9)  # killed right after moving the old directory aside
        ck.os.replace = dying_replace
        ckpt = ck.load_checkpoint({str(newest(run))!r})
        ck.save_checkpoint({str(run)!r}, ckpt.iteration, {{**ckpt.tensors, **ckpt.numpy}}, ckpt.state)
    """)
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert res.returncode == 9, res.stderr
    names = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert "iter_000002" not in names and any(n.startswith(".old-iter_000002") for n in names)
    assert any(n.startswith(".tmp-iter_000002") for n in names)
    assert latest_checkpoint(run) == list_checkpoints(run)[-1] and list_checkpoints(run)[-1].name == "iter_000001"
    assert any(".old-iter_000002" in f.where for f in check_run(run).warnings)
    trainer = SelfPlayTrainer(load_config(None, TINY), run, resume=True)
    assert trainer.next_iteration == 2
    trainer.run()
    names = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert names[-1] == "iter_000002" and not any(n.startswith(".old-") for n in names)
    zeroforge.load_agent(run)
