"""Untrusted input that is code (issue 11): exported programs stay bounded and contained in the sandbox of
``tasks.code.export.run_exported``, and nothing in ``src/`` unpickles (a run directory is data, never code).

The sandbox's guarantees and its limits are in the docstring of :mod:`zeroforge.tasks.code.export`. Here,
adversarial program bodies are composed from building blocks (endless loops, huge allocations, deep recursion,
file / network / process access, import tricks, signal handlers that ignore SIGXCPU / SIGTERM, floods of
output), alone and by a hypothesis fuzz, and every run must end within the sandbox's limit plus 5 s, leave no
file behind (a canary path outside the sandbox) and, where the sandbox is to refuse an effect, not come back
``ok`` - or, with every block wrapped in ``try``, not report that the block got through.
"""

from __future__ import annotations

import ast
import os
import resource
import time
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proc_table import processes
from zeroforge.tasks.code import export
from zeroforge.tasks.code.export import CHILD_MARKER, MAX_CHILD_OUTPUT, run_exported, to_python

SRC = Path(__file__).resolve().parents[1] / "src" / "zeroforge"
TIMEOUT = 0.5  # the sandbox's wall-clock (and CPU) limit for programs that may hang
SLACK = 5.0  # what a run may take beyond its limit as measured here (start-up, a loaded machine)
OUTSIDE = "/tmp/zeroforge-canary-outside"  # a relative path written after a chdir would land here

#: building blocks: Python statements (``{canary}`` is a path outside the sandbox) and what the sandbox does
#: with them: "denied" - the effect must not happen; "hangs" - ends by the time limit; "fails" - the run
#: cannot succeed but there is no outside effect to refuse; "bounded" - may succeed, must stay bounded
BLOCKS: dict[str, tuple[str, str]] = {
    # endless, huge, deep
    "loop": ("while True:\n    pass", "hangs"),
    "sleep": ("import time\ntime.sleep(60)", "hangs"),
    "ignore_signals": ("import _signal\n_signal.signal(_signal.SIGXCPU, _signal.SIG_IGN)\n"
                       "_signal.signal(_signal.SIGTERM, _signal.SIG_IGN)\nwhile True:\n    pass", "hangs"),
    "deep_recursion": ("import sys\nsys.setrecursionlimit(10 ** 7)\ndef r(n):\n    return r(n + 1) + 1\nr(0)",
                       "fails"),  # frames until the memory or the time limit
    "giant_list": ("x = [0] * (10 ** 10)", "fails"),
    "giant_bytes": ("x = bytes(2 * 1024 ** 3)", "fails"),
    "growing_memory": ("x = []\nwhile True:\n    x.append(bytearray(10 ** 6))", "fails"),
    # output
    "print_megabytes": ("for _ in range(20):\n    print('x' * 10 ** 6)", "bounded"),
    "stdout_flood": ("import sys\nwhile True:\n    sys.__stdout__.write('x' * 10 ** 6)", "fails"),
    "fd_flood": ("import posix\nwhile True:\n    posix.write(1, b'x' * 10 ** 6)", "fails"),
    "hard_exit": ("import posix\nposix._exit(0)", "fails"),
    # files
    "read_passwd": ("v = open('/etc/passwd').read()", "denied"),
    "write_canary": ("open({canary!r}, 'w').write('x')", "denied"),
    "posix_open": ("import posix\nposix.open({canary!r}, posix.O_CREAT | posix.O_WRONLY)", "denied"),
    "fileio_from_subclasses": ("todo, found = [object], None\nwhile todo:\n    c = todo.pop()\n"
                               "    todo += type.__subclasses__(c)\n"
                               "    found = c if c.__name__ == 'FileIO' else found\n"
                               "found({canary!r}, 'w')", "denied"),
    "chdir_then_write": (f"import posix\nposix.chdir('/tmp')\nopen({os.path.basename(OUTSIDE)!r}, 'w')", "denied"),
    "mkfifo": ("import posix\nposix.mkfifo({canary!r})", "denied"),
    "exec_string": ("exec(\"open({canary!r}, 'w')\")", "denied"),
    # network
    "socket": ("import socket\nsocket.create_connection(('127.0.0.1', 9), timeout=0.2)", "denied"),
    # processes
    "os_system": ("import os\nos.system('touch {canary}')", "denied"),
    "posix_system": ("import posix\nposix.system('touch {canary}')", "denied"),
    "sys_modules_posix": ("import sys\nsys.modules['posix'].system('touch {canary}')", "denied"),
    "subprocess": ("import subprocess\nsubprocess.run(['touch', {canary!r}])", "denied"),
    "fork": ("import posix, time\nif posix.fork() == 0:\n    time.sleep(60)", "denied"),
    "execv": ("import posix\nposix.execv('/bin/sh', ['sh', '-c', 'touch {canary}'])", "denied"),
    "kill_parent": ("import posix\nposix.kill(posix.getppid(), 0)", "denied"),  # signal 0: only asks
    "setsid": ("import posix\nposix.setsid()", "denied"),
    "thread": ("import _thread\n_thread.start_new_thread(print, ())", "bounded"),
    # import and introspection tricks
    "dunder_import": ("__import__('os').system('touch {canary}')", "denied"),
    "importlib": ("import importlib\nimportlib.import_module('subprocess')", "denied"),
    "builtins_import": ("import builtins\nbuiltins.__import__('socket')", "denied"),
    "ctypes": ("import ctypes\nctypes.CDLL(None).system(b'touch {canary}')", "denied"),
    "fresh_posix": ("import _imp, sys\np = _imp.create_builtin(sys.modules['posix'].__spec__)\np.mkfifo({canary!r})",
                    "denied"),
    "extra_audit_hook": ("import sys\nsys.addaudithook(lambda *a: None)\nopen({canary!r}, 'w')", "denied"),
    "frame_walk": ("import sys\ng = sys._getframe(1).f_globals", "denied"),
    "traceback_frames": ("try:\n    1 / 0\nexcept ZeroDivisionError as e:\n    g = e.__traceback__.tb_frame.f_globals",
                         "denied"),
    "swap_code": ("h = lambda: 1\nh.__code__ = (lambda: 2).__code__", "denied"),
    "gc_objects": ("import gc\ngc.get_objects()", "denied"),
}
DENIED = {name for name, (_, kind) in BLOCKS.items() if kind == "denied"}


def _indent(code: str, spaces: int) -> str:
    return "\n".join(" " * spaces + line for line in code.splitlines())


def _program(names: list[str], canary: str, wrapped: bool, top_level: bool) -> str:
    """Blocks one after the other, in ``f`` or at module level; ``wrapped``: each in ``try`` and, if it got
    through, its name appended to the list ``f`` returns."""
    parts = ["done = []"]
    for name in names:
        code = BLOCKS[name][0].format(canary=canary)
        if wrapped:
            code = f"try:\n{_indent(code, 4)}\n    done.append({name!r})\nexcept BaseException:\n    pass"
        parts.append(code)
    body = "\n".join(parts)
    if top_level:
        return f"{body}\ndef f():\n    return done\n"
    return f"def f():\n{_indent(body, 4)}\n    return done\n"


def _check_run(names: list[str], canary_dir: Path, wrapped: bool, top_level: bool,
               timeout_s: float = TIMEOUT) -> export.ExportResult:
    canary = canary_dir / "canary"
    source = _program(names, str(canary), wrapped, top_level)
    start = time.monotonic()
    res = run_exported(source, "f", [[]], timeout_s=timeout_s)
    took = time.monotonic() - start
    assert took < timeout_s + SLACK, (names, took)
    assert res.status in ("ok", "timeout", "error")
    assert not os.listdir(canary_dir), (names, os.listdir(canary_dir))
    assert not os.path.lexists(OUTSIDE), names
    if not wrapped and any(BLOCKS[n][1] != "bounded" for n in names):
        assert not res.ok, (names, res)
    if res.ok:
        got_through = set(res.outputs[0]) & DENIED
        assert not got_through, (names, got_through)
    return res


@pytest.fixture(scope="module")
def canary_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("canary")


@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_each_adversarial_block_is_contained(name: str, canary_dir: Path) -> None:
    kind = BLOCKS[name][1]
    timeout_s = TIMEOUT if kind in ("hangs", "fails") else 10.0  # the others end at once, even on a busy machine
    res = _check_run([name], canary_dir, wrapped=False, top_level=False, timeout_s=timeout_s)
    if kind == "hangs":
        assert res.status == "timeout", res
    if kind == "denied":
        assert not res.ok and res.status != "timeout", res  # refused on the spot, not by the clock
    if kind in ("hangs", "fails"):
        return
    wrapped = _check_run([name], canary_dir, wrapped=True, top_level=True, timeout_s=timeout_s)
    if kind == "denied":
        assert wrapped.ok and wrapped.outputs == ([],), wrapped  # the refusal is catchable; nothing got through


def test_a_flood_of_output_does_not_reach_the_callers_memory() -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    res = run_exported("import posix\ndef f():\n    while True:\n        posix.write(1, b'x' * 10 ** 6)\n", "f", [[]],
                       timeout_s=5.0)
    assert res.status == "error" and str(MAX_CHILD_OUTPUT) in res.reason
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024  # KiB on Linux
    assert grown_mb < 4 * MAX_CHILD_OUTPUT / 2**20, grown_mb


@settings(max_examples=60, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(names=st.lists(st.sampled_from(sorted(BLOCKS)), min_size=1, max_size=3), wrapped=st.booleans(),
       top_level=st.booleans())
def test_fuzz_composed_adversarial_programs(names: list[str], wrapped: bool, top_level: bool,
                                            canary_dir: Path) -> None:
    _check_run(names, canary_dir, wrapped, top_level)


def test_honest_programs_still_run_under_the_seal() -> None:
    from zeroforge.tasks.code.dsl import parse_program

    res = run_exported(to_python(parse_program("PUSH 3; MUL; PUSH 2; ADD")), "f", [[1], [5]])
    assert res.ok and res.outputs == (5, 17)
    cls = run_exported("class C:\n    def __init__(self):\n        self.f0 = []\n    def push(self, arg):\n"
                       "        self.f0 = self.f0 + [arg]\n    def size(self, arg=None):\n"
                       "        return len(self.f0)\n", "C", [[["push", 1], ["push", 2], ["size"]]])
    assert cls.ok and cls.outputs == ([None, None, 2],)


def _processes_with(token: str) -> list[tuple[int, str]]:
    """``(pid, state)`` of every process whose command line holds ``token`` (from ``/proc``)."""
    return [(p.pid, p.state) for p in processes() if token.encode() in p.cmdline]


_FORKING_CHILD = """
# {token} {marker}
import os, sys, time
try:
    pid = os.fork()
except OSError as exc:
    sys.stdout.write('{{"fatal": "no fork: %s"}}' % exc)
    sys.exit(0)
if pid == 0:
    os.close(1)
    os.close(2)
    time.sleep(60)
    os._exit(0)
sys.stdout.write('{{"outputs": [%d], "errors": [null]}}' % pid)
sys.stdout.flush()
{after}
"""


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc")
@pytest.mark.parametrize("after", ["os._exit(0)", "time.sleep(60)"], ids=["child-exits", "child-hangs"])
def test_the_whole_process_group_is_killed(monkeypatch: pytest.MonkeyPatch, after: str) -> None:
    """A child that forked (possible where RLIMIT_NPROC does not apply, e.g. as root, if the audit hook were
    bypassed) leaves nothing running: the sandbox kills the child's process group, whether the child exits
    (a grandchild left behind) or hangs. The harness is replaced by one that forks without the seal."""
    token = f"zeroforge-test-{uuid.uuid4().hex}"
    monkeypatch.setattr(export, "_CHILD", _FORKING_CHILD.format(token=token, marker=CHILD_MARKER, after=after))
    res = run_exported("", "f", [[]], timeout_s=1.0)
    if res.status == "error" and "no fork" in res.reason:
        pytest.skip("RLIMIT_NPROC forbids fork here: nothing can be left behind")
    assert res.status == ("ok" if after.startswith("os._exit") else "timeout"), res
    deadline = time.monotonic() + 2.0
    while (alive := [p for p in _processes_with(token) if p[1] != "Z"]) and time.monotonic() < deadline:
        time.sleep(0.05)  # SIGKILL is delivered asynchronously
    assert not alive, alive


# --------------------------------------------------------------------------------------------- no unpickling
_PICKLERS = ("pickle", "_pickle", "cPickle", "dill", "cloudpickle")
_UNSAFE_CALLS = {"marshal.load", "marshal.loads", "pandas.read_pickle", "joblib.load", "yaml.unsafe_load",
                 "yaml.unsafe_load_all", "yaml.full_load", "yaml.full_load_all"}
_SAFE_YAML_LOADERS = {"yaml.SafeLoader", "yaml.CSafeLoader", "yaml.BaseLoader", "yaml.CBaseLoader"}


def _aliases(tree: ast.Module) -> dict[str, str]:
    """Local name -> dotted name it stands for, from the module's imports (``import numpy as np``,
    ``from torch import load``)."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                names[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                names[a.asname or a.name] = f"{node.module}.{a.name}"
    return names


def _dotted(node: ast.expr, aliases: dict[str, str]) -> str | None:
    if isinstance(node, ast.Name):
        return aliases.get(node.id, node.id)
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value, aliases)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _is_true(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def unpickling_sites(source: str) -> list[tuple[int, str]]:
    """``(line, what)`` for every place in ``source`` that may unpickle (or build arbitrary objects from) data:
    ``pickle`` / ``dill`` / ``cloudpickle`` ``load(s)`` and ``Unpickler``, ``torch.load`` without
    ``weights_only=True``, ``numpy.load`` with ``allow_pickle`` not ``False``, ``pandas.read_pickle``,
    ``joblib.load``, ``marshal.load(s)``, ``shelve``, ``yaml.load`` without a safe loader, ``yaml.unsafe_load``
    / ``full_load``."""
    tree = ast.parse(source)
    aliases = _aliases(tree)
    safe_loader_classes = {
        node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef)
        and any(_dotted(b, aliases) in _SAFE_YAML_LOADERS for b in node.bases)
    }
    sites: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if any(m.split(".")[0] == "shelve" for m in mods):
                sites.append((node.lineno, "imports shelve"))
            continue
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func, aliases)
        if name is None:
            continue
        head, _, last = name.rpartition(".")
        if (head in _PICKLERS and last in ("load", "loads", "Unpickler")) or name in _UNSAFE_CALLS:
            sites.append((node.lineno, name))
        elif name == "torch.load" and not _is_true(_keyword(node, "weights_only")):
            sites.append((node.lineno, "torch.load without weights_only=True"))
        elif name == "numpy.load":
            flag = _keyword(node, "allow_pickle")
            if flag is not None and not (isinstance(flag, ast.Constant) and flag.value is False):
                sites.append((node.lineno, "numpy.load with allow_pickle"))
        elif name in ("yaml.load", "yaml.load_all"):
            loader = _keyword(node, "Loader") or (node.args[1] if len(node.args) > 1 else None)
            ok = loader is not None and (_dotted(loader, aliases) in _SAFE_YAML_LOADERS
                                         or (isinstance(loader, ast.Name) and loader.id in safe_loader_classes))
            if not ok:
                sites.append((node.lineno, f"{name} without a safe loader"))
    return sites


def test_nothing_in_src_unpickles() -> None:
    """No module of ``src/zeroforge`` unpickles or otherwise builds arbitrary objects from bytes it reads: a run
    directory (checkpoints in safetensors + JSON, episodes in Parquet, config in YAML through a ``SafeLoader``)
    is data. Not flagged, on purpose: ``Connection.recv`` of ``multiprocessing`` in ``selfplay/workers.py`` and
    ``selfplay/inference_server.py`` unpickles messages between zeroforge's own processes over pipes they
    created, not anything read from a run directory."""
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 20
    found = [f"{path.relative_to(SRC.parent)}:{line}: {what}" for path in files
             for line, what in unpickling_sites(path.read_text())]
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    ("source", "flagged"),
    [
        ("import pickle\npickle.loads(b)", True),
        ("import pickle as pk\npk.load(f)", True),
        ("from pickle import loads\nloads(b)", True),
        ("import _pickle\n_pickle.Unpickler(f)", True),
        ("import dill\ndill.loads(b)", True),
        ("import torch\ntorch.load(p)", True),
        ("import torch\ntorch.load(p, weights_only=False)", True),
        ("from torch import load\nload(p)", True),
        ("import torch\ntorch.load(p, weights_only=True)", False),
        ("import safetensors.torch\nsafetensors.torch.load(data)", False),
        ("import numpy as np\nnp.load(p, allow_pickle=True)", True),
        ("import numpy as np\nnp.load(p, allow_pickle=flag)", True),
        ("import numpy as np\nnp.load(p)", False),
        ("import pandas as pd\npd.read_pickle(p)", True),
        ("import pandas as pd\npd.read_parquet(p)", False),
        ("import marshal\nmarshal.loads(b)", True),
        ("import shelve", True),
        ("import yaml\nyaml.load(t)", True),
        ("import yaml\nyaml.load(t, Loader=yaml.Loader)", True),
        ("import yaml\nyaml.unsafe_load(t)", True),
        ("import yaml\nyaml.load(t, Loader=yaml.SafeLoader)", False),
        ("import yaml\nclass L(yaml.SafeLoader):\n    pass\nyaml.load(t, Loader=L)", False),
        ("import yaml\nyaml.safe_load(t)", False),
        ("msg = conn.recv()", False),
        ("import json\njson.loads(t)", False),
    ],
)
def test_the_unpickling_scan_sees_what_it_should(source: str, flagged: bool) -> None:
    assert bool(unpickling_sites(source)) == flagged, unpickling_sites(source)


def test_the_sandbox_child_is_a_fresh_isolated_interpreter() -> None:
    res = run_exported("import sys\ndef f():\n    return [sys.flags.isolated, sys.flags.no_site, "
                       "sys.flags.dont_write_bytecode]\n", "f", [[]], timeout_s=10.0)
    assert res.ok and res.outputs == ([1, 1, 1],), res
