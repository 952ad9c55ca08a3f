"""Checkpoints: bit-exact round trip, corruption detected and named, resume skips broken ones."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from zeroforge.checkpoint import (
    CheckpointError,
    checkpoint_dir,
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    numpy_rng_state,
    prune_checkpoints,
    restore_numpy_rng,
    restore_torch_rng,
    save_checkpoint,
    torch_rng_state,
    verify_checkpoint,
)


def _tensors(seed: int = 0) -> dict[str, dict[str, torch.Tensor | np.ndarray]]:
    g = torch.Generator().manual_seed(seed)
    weight = torch.randn(4, 6, generator=g)
    return {
        "model": {
            "layer.weight": weight.t(),  # non-contiguous
            "layer.bias": torch.randn(4, generator=g, dtype=torch.float64),
            "tied": weight,  # shares storage with layer.weight
            "half": torch.randn(3, generator=g).to(torch.bfloat16),
            "steps": torch.arange(5, dtype=torch.int64),
            "scalar": torch.tensor(3.5),
        },
        "buffer": {
            "obs": np.arange(12, dtype=np.int64).reshape(3, 4),
            "pi": np.linspace(0, 1, 9, dtype=np.float16).reshape(3, 3)[:, ::2],  # non-contiguous
            "mask": np.array([True, False, True]),
            "count": np.array(7, dtype=np.int64),  # 0-d stays 0-d
            "empty": np.zeros((0, 9), dtype=np.float32),
        },
    }


def _save(run: Path, iteration: int, seed: int = 0) -> Path:
    return save_checkpoint(run, iteration, _tensors(seed), {"iteration": iteration, "best": "iter_1"})


def test_round_trip_is_bit_exact(tmp_path: Path) -> None:
    original = _tensors()
    state = {"iteration": 3, "metrics": {"loss": 0.25, "nan": float("nan")}, "names": ["a", "b"]}
    path = save_checkpoint(tmp_path, 3, original, state)
    assert path == checkpoint_dir(tmp_path, 3) == tmp_path / "checkpoints" / "iter_000003"
    assert sorted(p.name for p in path.iterdir()) == [
        "buffer.safetensors",
        "manifest.json",
        "model.safetensors",
        "state.json",
    ]
    ckpt = load_checkpoint(path)
    assert ckpt.iteration == 3 and ckpt.path == path
    assert set(ckpt.tensors) == {"model"} and set(ckpt.numpy) == {"buffer"}
    for key, tensor in original["model"].items():
        loaded = ckpt.tensors["model"][key]
        assert isinstance(loaded, torch.Tensor) and isinstance(tensor, torch.Tensor)
        assert loaded.dtype == tensor.dtype and loaded.shape == tensor.shape
        assert torch.equal(loaded, tensor)
    for key, array in original["buffer"].items():
        restored = ckpt.numpy["buffer"][key]
        assert isinstance(restored, np.ndarray) and restored.dtype == array.dtype
        assert restored.shape == array.shape
        np.testing.assert_array_equal(restored, array)
    assert ckpt.state["names"] == ["a", "b"] and ckpt.state["metrics"]["loss"] == 0.25
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["iteration"] == 3 and manifest["version"] == 1
    assert manifest["files"]["model.safetensors"]["kind"] == "torch"
    assert manifest["files"]["buffer.safetensors"]["kind"] == "numpy"
    assert manifest["files"]["state.json"]["bytes"] == (path / "state.json").stat().st_size
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temp dir left


def test_corrupt_byte_is_detected_and_named(tmp_path: Path) -> None:
    path = _save(tmp_path, 1)
    file = path / "model.safetensors"
    data = bytearray(file.read_bytes())
    data[len(data) // 2] ^= 0x01
    file.write_bytes(bytes(data))
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert "model.safetensors" in message and "sha256" in message and "\n" not in message


def test_truncated_file(tmp_path: Path) -> None:
    path = _save(tmp_path, 1)
    file = path / "buffer.safetensors"
    file.write_bytes(file.read_bytes()[:-7])
    with pytest.raises(CheckpointError, match=r"buffer\.safetensors: size is \d+ bytes, manifest says"):
        load_checkpoint(path)


def test_missing_and_broken_manifest_and_files(tmp_path: Path) -> None:
    path = _save(tmp_path, 1)
    (path / "state.json").unlink()
    with pytest.raises(CheckpointError, match=r"state\.json: listed in the manifest but missing"):
        load_checkpoint(path)
    path = _save(tmp_path, 2)
    (path / "manifest.json").write_text('{"format": ')
    with pytest.raises(CheckpointError, match=r"manifest\.json: not valid JSON"):
        verify_checkpoint(path)
    (path / "manifest.json").unlink()
    with pytest.raises(CheckpointError, match=r"manifest\.json: manifest is missing"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="not a directory"):
        load_checkpoint(tmp_path / "nowhere")


def test_manifest_cannot_point_outside(tmp_path: Path) -> None:
    path = _save(tmp_path, 1)
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["files"]["../escape.safetensors"] = manifest["files"].pop("model.safetensors")
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match="bad entry"):
        load_checkpoint(path)


def test_latest_skips_temp_dirs_and_corrupt_newest(tmp_path: Path) -> None:
    assert latest_checkpoint(tmp_path) is None
    _save(tmp_path, 1)
    good = _save(tmp_path, 2)
    bad = _save(tmp_path, 3)
    (bad / "model.safetensors").write_bytes(b"garbage")
    leftover = tmp_path / "checkpoints" / ".tmp-iter_000004-12345"  # a crash mid-save
    leftover.mkdir()
    (leftover / "model.safetensors").write_bytes(b"partial")
    assert [p.name for p in list_checkpoints(tmp_path)] == ["iter_000001", "iter_000002", "iter_000003"]
    with pytest.warns(RuntimeWarning, match="iter_000003"):
        assert latest_checkpoint(tmp_path) == good
    assert load_checkpoint(good).state["iteration"] == 2


def test_save_replaces_an_existing_directory(tmp_path: Path) -> None:
    first = _save(tmp_path, 5, seed=1)
    (first / "stale.txt").write_text("from an earlier run")
    second = _save(tmp_path, 5, seed=2)
    assert first == second and not (second / "stale.txt").exists()
    loaded = load_checkpoint(second).tensors["model"]["layer.bias"]
    expected = _tensors(seed=2)["model"]["layer.bias"]
    assert isinstance(expected, torch.Tensor) and torch.equal(loaded, expected)
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["iter_000005"]


def test_bad_inputs_leave_nothing_behind(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="JSON"):
        save_checkpoint(tmp_path, 1, {}, {"x": object()})
    with pytest.raises(TypeError, match="only torch tensors or only numpy arrays"):
        save_checkpoint(tmp_path, 1, {"m": {"a": torch.zeros(1), "b": np.zeros(1)}}, {})
    with pytest.raises(ValueError, match="entry name"):
        save_checkpoint(tmp_path, 1, {"../x": {}}, {})
    assert list_checkpoints(tmp_path) == []
    assert not (tmp_path / "checkpoints").exists()  # inputs are checked before anything is written


def test_prune_keeps_newest_and_protected(tmp_path: Path) -> None:
    for i in range(1, 6):
        save_checkpoint(tmp_path, i, {}, {"i": i})
    removed = prune_checkpoints(tmp_path, keep=2, protect={1})
    assert [p.name for p in removed] == ["iter_000002", "iter_000003"]
    assert [p.name for p in list_checkpoints(tmp_path)] == ["iter_000001", "iter_000004", "iter_000005"]
    with pytest.raises(ValueError):
        prune_checkpoints(tmp_path, keep=0)


def test_numpy_rng_round_trip_through_json() -> None:
    for bit_generator in (np.random.PCG64, np.random.Philox, np.random.MT19937):
        gen = np.random.Generator(bit_generator(1234))
        gen.random(17)
        state = json.loads(json.dumps(numpy_rng_state(gen)))
        expected = gen.random(50)
        restored = restore_numpy_rng(state)
        np.testing.assert_array_equal(restored.random(50), expected)
        assert type(restored.bit_generator) is bit_generator


def test_torch_rng_round_trip_through_json() -> None:
    saved = torch.get_rng_state()
    try:
        torch.manual_seed(7)
        torch.rand(3)
        state = json.loads(json.dumps(torch_rng_state()))
        expected = torch.rand(20)
        torch.manual_seed(99)
        restore_torch_rng(state)
        assert torch.equal(torch.rand(20), expected)
        with pytest.raises(ValueError):
            restore_torch_rng([256])
    finally:
        torch.set_rng_state(saved)


def test_resume_through_checkpoint_reproduces_streams(tmp_path: Path) -> None:
    gen = np.random.default_rng(5)
    gen.integers(0, 100, 10)
    save_checkpoint(tmp_path, 1, {}, {"rng": numpy_rng_state(gen)})
    expected = gen.integers(0, 100, 10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        latest = latest_checkpoint(tmp_path)
    assert latest is not None
    resumed = restore_numpy_rng(load_checkpoint(latest).state["rng"])
    np.testing.assert_array_equal(resumed.integers(0, 100, 10), expected)
    assert os.listdir(tmp_path / "checkpoints") == ["iter_000001"]


def test_crash_mid_save_keeps_previous(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import zeroforge.checkpoint as module

    previous = _save(tmp_path, 4, seed=1)
    real_write = module._write_file
    calls = {"n": 0}

    def failing_write(path: Path, data: bytes) -> dict[str, object]:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        return real_write(path, data)

    monkeypatch.setattr(module, "_write_file", failing_write)
    with pytest.raises(OSError, match="disk full"):
        _save(tmp_path, 4, seed=2)
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["iter_000004"]
    assert latest_checkpoint(tmp_path) == previous
    bias = load_checkpoint(previous).tensors["model"]["layer.bias"]
    expected = _tensors(seed=1)["model"]["layer.bias"]
    assert isinstance(expected, torch.Tensor) and torch.equal(bias, expected)
