"""Crash-safe checkpoints: atomic save, verified load, resume from the newest complete one.

Layout of one checkpoint (``run_dir/checkpoints/iter_000042/``)::

    model.safetensors      one file per entry of ``tensors`` (torch or numpy arrays, no pickle)
    optimizer.safetensors
    state.json             the JSON-able run state (iteration counters, RNG streams, metrics, config)
    manifest.json          format, version, iteration and, per file, its kind, byte size and sha256

A checkpoint is written into a hidden temporary sibling (``.tmp-iter_000042-<pid>``), every file and the
directory are fsynced, and only then is it renamed into place, so ``iter_*`` directories are complete or
absent. Loading re-hashes every file against the manifest and parses the very bytes it hashed; nothing
is ever unpickled. ``latest_checkpoint`` skips corrupt checkpoints with a warning, so a run resumes from
the newest one that verifies. RNG streams travel through ``state.json`` with the helpers at the bottom.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import warnings
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import safetensors.numpy
import safetensors.torch
import torch

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_VERSION",
    "Checkpoint",
    "CheckpointError",
    "checkpoint_dir",
    "latest_checkpoint",
    "list_checkpoints",
    "load_checkpoint",
    "numpy_rng_state",
    "prune_checkpoints",
    "restore_numpy_rng",
    "restore_torch_rng",
    "save_checkpoint",
    "torch_rng_state",
    "verify_checkpoint",
]

CHECKPOINT_FORMAT = "zeroforge-checkpoint"
CHECKPOINT_VERSION = 1
MANIFEST = "manifest.json"
STATE = "state.json"
_SUFFIX = ".safetensors"
_ITER_RE = re.compile(r"^iter_(\d+)$")
_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_KINDS = ("torch", "numpy", "json")


class CheckpointError(ValueError):
    """A checkpoint is missing, incomplete or corrupt; the one-line message names the file."""


@dataclass(frozen=True, eq=False)
class Checkpoint:
    """A verified checkpoint: torch entries in ``tensors``, numpy entries in ``numpy``, JSON ``state``."""

    path: Path
    iteration: int
    tensors: dict[str, dict[str, torch.Tensor]]
    numpy: dict[str, dict[str, np.ndarray]]
    state: dict[str, Any]

    def entry(self, name: str) -> dict[str, torch.Tensor]:
        """The torch entry ``name`` (``name.safetensors``); a checkpoint without it is a ``CheckpointError``."""
        if name not in self.tensors:
            raise CheckpointError(f"checkpoint {self.path}: has no {name}{_SUFFIX} (found: "
                                  f"{', '.join(sorted(self.tensors)) or 'none'}); not a zeroforge run checkpoint?")
        return self.tensors[name]

    def load_weights(self, net: torch.nn.Module, name: str) -> None:
        """``net.load_state_dict`` of the torch entry ``name``; weights of another shape or with other names are a
        one-line ``CheckpointError`` naming the file (torch's own message spans many lines)."""
        try:
            net.load_state_dict(self.entry(name))
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()
            detail = " ".join(first[1].split()) if len(first) > 1 else (first[0] if first else "mismatch")
            raise CheckpointError(f"{self.path / (name + _SUFFIX)}: the weights do not fit the configured net "
                                  f"({detail})") from None

    def arrays(self, name: str) -> dict[str, np.ndarray]:
        """The numpy entry ``name``; a checkpoint without it is a ``CheckpointError``."""
        if name not in self.numpy:
            raise CheckpointError(f"checkpoint {self.path}: has no numpy entry {name}{_SUFFIX}")
        return self.numpy[name]

    def field(self, key: str, kind: type | tuple[type, ...]) -> Any:
        """``state[key]``, which must be of type ``kind``; otherwise a ``CheckpointError`` naming state.json."""
        if key not in self.state:
            raise CheckpointError(f"{self.path / STATE}: has no {key!r} (not a zeroforge run checkpoint?)")
        value = self.state[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind in (int, (int,))):
            raise CheckpointError(f"{self.path / STATE}: {key!r} is a {type(value).__name__}, not what a run "
                                  f"checkpoint holds")
        return value


def checkpoint_dir(run_dir: str | Path, iteration: int) -> Path:
    """Where ``save_checkpoint(run_dir, iteration, ...)`` puts its directory."""
    return Path(run_dir) / "checkpoints" / f"iter_{iteration:06d}"


# --------------------------------------------------------------------------------------------------
# save


def _fsync_dir(path: Path) -> None:
    """Make a rename or a new file in ``path`` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_file(path: Path, data: bytes) -> dict[str, Any]:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _serialise_entry(name: str, entry: Mapping[str, Any]) -> tuple[str, bytes]:
    """``(kind, safetensors bytes)`` of one entry; all values must be torch tensors or all numpy arrays."""
    if not isinstance(entry, Mapping):
        raise TypeError(f"checkpoint entry {name!r} must map names to tensors, got {type(entry).__name__}")
    values = list(entry.values())
    if all(isinstance(v, torch.Tensor) for v in values):
        # clone: tied / shared-storage tensors (which safetensors refuses) become independent copies
        tensors = {str(k): v.detach().to("cpu").contiguous().clone() for k, v in entry.items()}
        try:
            return "torch", safetensors.torch.save(tensors)
        except Exception as exc:
            raise ValueError(f"checkpoint entry {name!r} cannot be saved as safetensors: {exc}") from exc
    if all(isinstance(v, np.ndarray) for v in values):
        # (not np.ascontiguousarray: it turns 0-d arrays into 1-d ones)
        arrays = {str(k): v if v.flags.c_contiguous else v.copy(order="C") for k, v in entry.items()}
        try:
            return "numpy", safetensors.numpy.save(arrays)
        except Exception as exc:
            raise ValueError(f"checkpoint entry {name!r} cannot be saved as safetensors: {exc}") from exc
    kinds = sorted({type(v).__name__ for v in values})
    raise TypeError(f"checkpoint entry {name!r} must hold only torch tensors or only numpy arrays: {kinds}")


def save_checkpoint(
    run_dir: str | Path,
    iteration: int,
    tensors: Mapping[str, Mapping[str, torch.Tensor | np.ndarray]],
    state: Mapping[str, Any],
) -> Path:
    """Atomically write checkpoint ``iteration`` under ``run_dir/checkpoints/`` and return its path.

    ``tensors`` maps an entry name (a file name stem such as ``model`` or ``optimizer``) to a flat
    ``{key: tensor}`` dict, all torch or all numpy; ``state`` must be JSON-serialisable. An existing
    directory for the same iteration (an earlier, interrupted run) is replaced.
    """
    if isinstance(iteration, bool) or not isinstance(iteration, int) or iteration < 0:
        raise ValueError(f"checkpoint iteration must be an int >= 0, got {iteration!r}")
    for name in tensors:
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise ValueError(f"checkpoint entry name {name!r} must match {_NAME_RE.pattern}")
    try:
        state_bytes = json.dumps(dict(state), indent=2, sort_keys=True).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"checkpoint state is not JSON-serialisable: {exc}") from exc
    blobs = {f"{name}{_SUFFIX}": _serialise_entry(name, entry) for name, entry in tensors.items()}

    final = checkpoint_dir(run_dir, iteration)
    parent = final.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = parent / f".tmp-{final.name}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        files: dict[str, dict[str, Any]] = {}
        for filename, (kind, data) in blobs.items():
            files[filename] = {"kind": kind, **_write_file(tmp / filename, data)}
        files[STATE] = {"kind": "json", **_write_file(tmp / STATE, state_bytes)}
        manifest = {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "iteration": iteration,
            "files": files,
        }
        _write_file(tmp / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8"))
        _fsync_dir(tmp)
        if final.exists():
            # os.replace cannot replace a non-empty directory: move the old one aside first, and only
            # delete it once the new one is in place (a crash in between leaves hidden dirs, never a
            # half-written iter_* one).
            old = parent / f".old-{final.name}-{os.getpid()}"
            if old.exists():
                shutil.rmtree(old)
            os.replace(final, old)
            os.replace(tmp, final)
            _fsync_dir(parent)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
        _fsync_dir(parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


# --------------------------------------------------------------------------------------------------
# verify / load


def _read_bytes(file: Path, when_missing: str) -> bytes:
    """The bytes of ``file``; a missing or unreadable file is a one-line ``CheckpointError``."""
    try:
        return file.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(f"{file}: {when_missing}") from None
    except OSError as exc:
        raise CheckpointError(f"{file}: cannot be read ({exc.strerror or exc})") from None


def _json_object(file: Path, raw: bytes) -> dict[str, Any]:
    """``raw`` parsed as a JSON object; anything else is a one-line ``CheckpointError`` naming ``file``."""
    try:
        loaded = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{file}: not valid JSON ({exc})") from None
    if not isinstance(loaded, dict):
        raise CheckpointError(f"{file}: expected a JSON object, got {type(loaded).__name__}")
    return loaded


def _read_manifest(path: Path) -> dict[str, Any]:
    file = path / MANIFEST
    if not path.is_dir():
        raise CheckpointError(f"checkpoint {path}: not a directory")
    manifest = _json_object(file, _read_bytes(file, "manifest is missing (incomplete checkpoint)"))
    if manifest.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{file}: format is {manifest.get('format')!r}, expected {CHECKPOINT_FORMAT!r}")
    version = manifest.get("version")
    if not isinstance(version, int) or not 1 <= version <= CHECKPOINT_VERSION:
        raise CheckpointError(f"{file}: unsupported version {version!r} (readable: 1..{CHECKPOINT_VERSION})")
    iteration = manifest.get("iteration")
    if isinstance(iteration, bool) or not isinstance(iteration, int) or iteration < 0:
        raise CheckpointError(f"{file}: iteration must be an int >= 0, got {iteration!r}")
    files = manifest.get("files")
    if not isinstance(files, dict) or STATE not in files:
        raise CheckpointError(f"{file}: 'files' must be an object that lists {STATE}")
    for name, meta in files.items():
        ok_name = isinstance(name, str) and _NAME_RE.match(name) is not None
        ok_meta = (
            isinstance(meta, dict)
            and meta.get("kind") in _KINDS
            and isinstance(meta.get("bytes"), int)
            and isinstance(meta.get("sha256"), str)
        )
        if not (ok_name and ok_meta):
            raise CheckpointError(f"{file}: bad entry for {name!r} (needs kind, bytes, sha256)")
    return manifest


def _read_verified(path: Path, name: str, meta: Mapping[str, Any]) -> bytes:
    file = path / name
    data = _read_bytes(file, "listed in the manifest but missing")
    if len(data) != meta["bytes"]:
        size, expected = len(data), meta["bytes"]
        raise CheckpointError(f"{file}: size is {size} bytes, manifest says {expected} (truncated?)")
    if hashlib.sha256(data).hexdigest() != meta["sha256"]:
        raise CheckpointError(f"{file}: sha256 does not match the manifest (corrupt)")
    return data


def verify_checkpoint(path: str | Path) -> int:
    """Check the manifest, and every file's size and sha256; return the iteration or raise CheckpointError."""
    path = Path(path)
    manifest = _read_manifest(path)
    for name, meta in manifest["files"].items():
        _read_verified(path, name, meta)
    iteration: int = manifest["iteration"]
    return iteration


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Load and verify a checkpoint directory; any problem raises a one-line `CheckpointError`."""
    path = Path(path)
    manifest = _read_manifest(path)
    torch_entries: dict[str, dict[str, torch.Tensor]] = {}
    numpy_entries: dict[str, dict[str, np.ndarray]] = {}
    state: dict[str, Any] = {}
    for name, meta in manifest["files"].items():
        data = _read_verified(path, name, meta)
        file = path / name
        kind = meta["kind"]
        if kind == "json":
            if name != STATE:
                raise CheckpointError(f"{file}: unexpected JSON file in the manifest")
            state = _json_object(file, data)
            continue
        if not name.endswith(_SUFFIX):
            raise CheckpointError(f"{file}: a {kind} entry must be a {_SUFFIX} file")
        entry = name[: -len(_SUFFIX)]
        try:
            if kind == "torch":
                torch_entries[entry] = safetensors.torch.load(data)
            else:
                numpy_entries[entry] = safetensors.numpy.load(data)
        except Exception as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise CheckpointError(f"{file}: not a valid safetensors file ({reason})") from None
    return Checkpoint(
        path=path,
        iteration=manifest["iteration"],
        tensors=torch_entries,
        numpy=numpy_entries,
        state=state,
    )


# --------------------------------------------------------------------------------------------------
# discovery / resume / pruning


def list_checkpoints(run_dir: str | Path) -> list[Path]:
    """Every ``iter_*`` directory under ``run_dir/checkpoints``, oldest first (not verified)."""
    root = Path(run_dir) / "checkpoints"
    if not root.is_dir():
        return []
    found: list[tuple[int, Path]] = []
    for child in root.iterdir():
        match = _ITER_RE.match(child.name)
        if match and child.is_dir():
            found.append((int(match.group(1)), child))
    return [path for _, path in sorted(found)]


def latest_checkpoint(run_dir: str | Path) -> Path | None:
    """The newest checkpoint that verifies (corrupt ones are skipped with a warning), or None."""
    for path in reversed(list_checkpoints(run_dir)):
        try:
            verify_checkpoint(path)
        except CheckpointError as exc:
            warnings.warn(f"skipping corrupt checkpoint {path}: {exc}", RuntimeWarning, stacklevel=2)
            continue
        return path
    return None


def prune_checkpoints(run_dir: str | Path, keep: int, protect: Collection[int] = ()) -> list[Path]:
    """Delete all but the newest ``keep`` checkpoints (and those whose iteration is in ``protect``).

    Returns the removed paths. Left-over hidden ``.old-*`` directories of interrupted replacements are
    removed too; ``.tmp-*`` ones are left alone (another process may be writing them).
    """
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
        raise ValueError(f"prune_checkpoints keep must be an int >= 1, got {keep!r}")
    paths = list_checkpoints(run_dir)
    removed: list[Path] = []
    for path in paths[:-keep]:
        match = _ITER_RE.match(path.name)
        if match and int(match.group(1)) in protect:
            continue
        shutil.rmtree(path)
        removed.append(path)
    root = Path(run_dir) / "checkpoints"
    if root.is_dir():
        for child in root.iterdir():
            if child.name.startswith(".old-iter_") and child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
    return removed


# --------------------------------------------------------------------------------------------------
# RNG streams through JSON

_NUMPY_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "Philox", "SFC64", "MT19937")


def _encode(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return {"__ndarray__": value.tolist(), "dtype": value.dtype.str}
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, np.integer):
        return int(value)
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "__ndarray__" in value:
            return np.asarray(value["__ndarray__"], dtype=np.dtype(value["dtype"]))
        return {k: _decode(v) for k, v in value.items()}
    return value


def numpy_rng_state(gen: np.random.Generator) -> dict[str, Any]:
    """The bit-generator state of ``gen`` as a JSON-able dict (arrays become tagged lists)."""
    encoded: dict[str, Any] = _encode(gen.bit_generator.state)
    return encoded


def restore_numpy_rng(state: Mapping[str, Any]) -> np.random.Generator:
    """A new Generator continuing exactly where the one passed to `numpy_rng_state` was."""
    name = state.get("bit_generator") if isinstance(state, Mapping) else None
    if name not in _NUMPY_BIT_GENERATORS:
        raise ValueError(f"unknown numpy bit generator {name!r} (expected one of {_NUMPY_BIT_GENERATORS})")
    bit_generator = getattr(np.random, name)()
    bit_generator.state = _decode(dict(state))
    return np.random.Generator(bit_generator)


def torch_rng_state() -> list[int]:
    """The default torch CPU generator state (``torch.get_rng_state()``) as a list of byte values."""
    values: list[int] = torch.get_rng_state().tolist()
    return values


def restore_torch_rng(state: list[int]) -> None:
    """Set the default torch CPU generator from `torch_rng_state`'s list."""
    if not isinstance(state, list | tuple) or not all(
        isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255 for v in state
    ):
        raise ValueError("torch RNG state must be a list of ints in [0, 255]")
    torch.set_rng_state(torch.tensor(list(state), dtype=torch.uint8))
