"""Programs of the stack language as readable Python source, and a sandboxed runner for that source.

Export (pure text generation, nothing is executed here):

- :func:`to_python` a function program: ``def f(x):`` with straight-line code and named temporaries
  (``t1 = x * 3``) when the program has no jumps, else a ``pc`` loop over a runtime stack ``s``;
- :func:`class_to_python` a class program: ``class Stack:`` with ``__init__`` setting the fields
  ``self.f0 ...`` and one method per body (``def push(self, arg=None):``), each written as above;
- :func:`network_to_python` a sorting network: ``def sort(a):`` with one
  ``if a[i] > a[j]: a[i], a[j] = a[j], a[i]`` line per comparator.

The exported code uses Python lists for the language's lists and returns the top of the stack (``None``
when empty). On every run that the interpreter finishes ``ok`` it computes the same result; on runs the
interpreter rejects it may raise or return something else (e.g. the ``TAIL`` of an empty list is ``[]``
in Python, and Python integers do not overflow).

Sandbox: :func:`run_exported` runs source ONLY in a child process, never in this one. It returns an
:class:`ExportResult` and never raises on the child's misbehaviour (POSIX only: it needs :mod:`resource` and
process groups). What it contains, layer by layer (``tests/test_untrusted_code.py`` fuzzes it):

- a fresh interpreter ``sys.executable -I -S -B`` (no environment variables, user site, ``site`` or ``.pyc``
  writes) with an empty environment, in a fresh temporary working directory deleted afterwards; source and data
  come in on stdin (a file in that directory), results go out as JSON on stdout;
- resource limits set before it starts: ``RLIMIT_AS`` (``memory_mb``: huge allocations raise ``MemoryError``),
  ``RLIMIT_CPU`` (``ceil(timeout_s)`` s, then ``SIGKILL`` a second later even if the program ignores
  ``SIGXCPU``), ``RLIMIT_FSIZE`` 0 (no byte written to any file), ``RLIMIT_CORE`` 0, ``RLIMIT_NOFILE`` 64 and
  ``RLIMIT_NPROC`` 0 (no new process or thread - not enforced for root);
- inside the child, before the program is compiled, a deny-by-default audit hook (PEP 578): every audited
  event but ``compile`` / ``exec`` raises ``PermissionError("sandbox: <event> is not allowed")`` in the
  program - opening any file (to read or write), ``os.system`` / ``exec`` / ``spawn`` / ``fork`` /
  ``posix_spawn`` / ``kill``, removing, renaming or creating files and directories, ``chmod`` / ``chown`` /
  ``utime`` / links, ``chdir``, ``listdir``, sockets, importing any module that is not loaded yet (so no
  ``os``, ``socket``, ``subprocess``, ``ctypes``, ``importlib``, ``gc``, ``signal``, ``threading``),
  ``sys._getframe``, tracing, reading code objects or traceback frames, ``breakpoint``. Posix functions with
  an effect outside that raise no event (``mkfifo``, ``mknod``, ``chroot``, ``setpriority``, ``setsid``, the
  ``set*id`` family, ...) and ``_imp``'s module constructors (a fresh ``posix`` would have them back) are
  deleted first;
- in the parent: one wall-clock limit ``timeout_s`` for the whole run (start-up included), at most
  :data:`MAX_CHILD_OUTPUT` bytes read from the child's pipes (a flood of output is an ``error``, not memory
  here), and after every run, timeout or not, ``SIGKILL`` to the child's whole process group (it starts its own
  session), sent before the child is reaped so that its id cannot have been reused.

What it does NOT contain - it is not a security boundary, only defence in depth against buggy or mildly
hostile programs:

- no kernel isolation (namespaces, seccomp, chroot, another user): the child runs as the same user with the
  same file system and network. CPython's audit hooks are documented as not a sandbox: a determined program can
  still use an interpreter bug (memory corruption from pure Python is possible), introspection that raises no
  event (``object.__subclasses__``, ``sys.modules``) and any unaudited C function left over. Run as root,
  ``RLIMIT_NPROC`` does not apply and file permissions protect nothing, so then the audit hook is all that stands
  between such a program and the system;
- metadata reads that raise no event (``posix.stat``, ``posix.access``: whether a file exists);
- a process that left the process group (only through a bypass of the above) would survive the kill;
- the result is only as trustworthy as the program: it runs in the same interpreter as the harness and can
  forge its outputs (write JSON to file descriptor 1 and exit, patch ``json``). ``run_exported`` shows what an
  exported program computes; verdicts come from the interpreter (:mod:`zeroforge.tasks.code.interpreter`);
- the limits themselves are spent: up to ``memory_mb`` of memory, one core for ``timeout_s``, 16 MiB of pipe
  output per run; threads (``_thread.start_new_thread`` raises no event in 3.11) share the CPU limit.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from zeroforge.tasks.code.dsl import Instr, Program, Value

__all__ = [
    "CHILD_MARKER",
    "MAX_CHILD_OUTPUT",
    "ExportResult",
    "class_to_python",
    "network_to_python",
    "run_exported",
    "to_python",
]

_BINARY = {
    "ADD": "{a} + {b}",
    "SUB": "{a} - {b}",
    "MUL": "{a} * {b}",
    "DIV": "{a} // {b}",
    "MOD": "{a} % {b}",
    "MAX2": "max({a}, {b})",
    "MIN2": "min({a}, {b})",
    "LT": "int({a} < {b})",
    "EQ": "int({a} == {b})",
    "TAKE": "{a}[:{b}]",
    "APPEND": "{a} + [{b}]",
}
_UNARY = {
    "NEG": "-{a}",
    "INC": "{a} + 1",
    "DEC": "{a} - 1",
    "LEN": "len({a})",
    "SUM": "sum({a})",
    "MAXL": "max({a})",
    "MINL": "min({a})",
    "HEAD": "{a}[0]",
    "LAST": "{a}[-1]",
    "REVERSE": "{a}[::-1]",
    "SORT": "sorted({a})",
    "TAIL": "{a}[1:]",
    "MAP_INC": "[v + 1 for v in {a}]",
    "MAP_DEC": "[v - 1 for v in {a}]",
    "MAP_DOUBLE": "[2 * v for v in {a}]",
    "MAP_NEG": "[-v for v in {a}]",
    "MAP_SQUARE": "[v * v for v in {a}]",
    "FILTER_POS": "[v for v in {a} if v > 0]",
    "FILTER_NEG": "[v for v in {a} if v < 0]",
    "FILTER_EVEN": "[v for v in {a} if v % 2 == 0]",
    "FILTER_ODD": "[v for v in {a} if v % 2 == 1]",
}


def _literal(c: int) -> str:
    return f"({c})" if c < 0 else str(c)


class _StaticError(Exception):
    pass


def _straight_line(instrs: Sequence[Instr], stack: list[str]) -> list[str]:
    """Straight-line code with a temporary per computed value; ``stack`` holds the names / literals of the
    stack items (updated in place). A stack underflow known at export time becomes a ``raise``."""
    lines: list[str] = []
    count = 0

    def new(expr: str) -> str:
        nonlocal count
        count += 1
        name = f"t{count}"
        lines.append(f"{name} = {expr}")
        return name

    def pop(k: int, ins: Instr) -> str:
        if not stack:
            raise _StaticError(f"instruction {k} ({ins}): empty stack")
        return stack.pop()

    for k, ins in enumerate(instrs):
        op = ins.op
        try:
            if op == "PUSH":
                stack.append(_literal(ins.a))
            elif op == "NIL":
                stack.append("[]")
            elif op == "DUP":
                top = pop(k, ins)
                stack += [top, top]
            elif op == "SWAP":
                b, a = pop(k, ins), pop(k, ins)
                stack += [b, a]
            elif op == "DROP":
                pop(k, ins)
            elif op == "OVER":
                b, a = pop(k, ins), pop(k, ins)
                stack += [a, b, a]
            elif op in _BINARY:
                b, a = pop(k, ins), pop(k, ins)
                stack.append(new(_BINARY[op].format(a=a, b=b)))
            elif op in _UNARY:
                stack.append(new(_UNARY[op].format(a=pop(k, ins))))
            elif op in ("POP", "SHIFT"):
                a = pop(k, ins)
                item = new(f"{a}[-1]" if op == "POP" else f"{a}[0]")
                rest = new(f"{a}[:-1]" if op == "POP" else f"{a}[1:]")
                stack += [rest, item]
            elif op == "CSWAP":
                t = new(f"list({pop(k, ins)})")
                i, j = ins.a, ins.b
                lines.append(f"if {t}[{i}] > {t}[{j}]:")
                lines.append(f"    {t}[{i}], {t}[{j}] = {t}[{j}], {t}[{i}]")
                stack.append(t)
            elif op == "ARG":
                stack.append("arg")
            elif op == "LOAD":
                stack.append(new(f"self.f{ins.a}"))
            elif op == "STORE":
                lines.append(f"self.f{ins.a} = {pop(k, ins)}")
            else:  # pragma: no cover - jumps never reach the straight-line form
                raise _StaticError(f"instruction {k} ({ins}): not straight-line")
        except _StaticError as exc:
            lines.append(f"raise RuntimeError({str(exc)!r})")
            stack.clear()
            return lines
    return lines


def _stack_code(pc: int, ins: Instr) -> list[str]:
    """The body of one ``pc`` branch of the loop form (runtime stack ``s``)."""
    op = ins.op
    if op == "PUSH":
        return [f"s.append({_literal(ins.a)})"]
    if op == "NIL":
        return ["s.append([])"]
    if op == "DUP":
        return ["s.append(s[-1])"]
    if op == "SWAP":
        return ["s[-1], s[-2] = s[-2], s[-1]"]
    if op == "DROP":
        return ["s.pop()"]
    if op == "OVER":
        return ["s.append(s[-2])"]
    if op in _BINARY:
        return ["b = s.pop()", "a = s.pop()", f"s.append({_BINARY[op].format(a='a', b='b')})"]
    if op in _UNARY:
        return ["a = s.pop()", f"s.append({_UNARY[op].format(a='a')})"]
    if op == "POP":
        return ["a = s.pop()", "s.append(a[:-1])", "s.append(a[-1])"]
    if op == "SHIFT":
        return ["a = s.pop()", "s.append(a[1:])", "s.append(a[0])"]
    if op == "CSWAP":
        i, j = ins.a, ins.b
        return ["a = list(s.pop())", f"if a[{i}] > a[{j}]:", f"    a[{i}], a[{j}] = a[{j}], a[{i}]", "s.append(a)"]
    if op == "ARG":
        return ["s.append(arg)"]
    if op == "LOAD":
        return [f"s.append(self.f{ins.a})"]
    if op == "STORE":
        return [f"self.f{ins.a} = s.pop()"]
    if op == "JZ":
        return ["if s.pop() == 0:", f"    pc = {pc + 1 + ins.a}", "    continue"]
    if op == "JMP":
        if pc - ins.a < 0:
            return ["raise RuntimeError('jump before the start')"]
        return [f"pc = {pc - ins.a}", "continue"]
    raise ValueError(f"cannot export instruction {ins!r}")


def _loop_form(instrs: Sequence[Instr], start: list[str]) -> list[str]:
    lines = [f"s = [{', '.join(start)}]", "pc = 0", f"while pc < {len(instrs)}:"]
    for pc, ins in enumerate(instrs):
        lines.append(f"    {'if' if pc == 0 else 'elif'} pc == {pc}:  # {ins}")
        lines += [f"        {line}" for line in _stack_code(pc, ins)]
    lines.append("    pc += 1")
    lines.append("return s[-1] if s else None")
    return lines


def _body(program: Program, start: list[str]) -> list[str]:
    if program.has_jumps:
        return _loop_form(program.instrs, start)
    stack = list(start)
    lines = _straight_line(program.instrs, stack)
    if not lines or not lines[-1].startswith("raise "):
        lines.append(f"return {stack[-1] if stack else 'None'}")
    return lines


def _check_name(name: str) -> str:
    if not (isinstance(name, str) and name.isidentifier() and name.isascii()) or name in ("s", "pc", "a", "b"):
        raise ValueError(f"not a usable Python name: {name!r}")
    return name


def to_python(program: Program, name: str = "f", num_inputs: int = 1) -> str:
    """``program`` as a Python function ``name`` of ``num_inputs`` arguments (``x``, or ``x0, x1, ...``),
    pushed in order before the program runs; it returns the top of the stack."""
    _check_name(name)
    args = ["x"] if num_inputs == 1 else [f"x{k}" for k in range(num_inputs)]
    header = f"def {name}({', '.join(args)}):"
    doc = f'    """{program.text() or "(empty program)"}"""'
    return "\n".join([header, doc, *(f"    {line}" for line in _body(program, args))]) + "\n"


def class_to_python(class_name: str, methods: Sequence[tuple[str, Program, bool]], fields: Sequence[Value]) -> str:
    """A class ``class_name`` whose ``__init__`` sets ``self.f0, self.f1, ...`` to ``fields`` and whose
    methods are ``(name, body, takes_arg)``: a method runs its body on an empty stack (``ARG`` pushes
    ``arg``) and returns the top of the stack (``None`` if empty)."""
    _check_name(class_name)
    lines = [f"class {class_name}:", "    def __init__(self):"]
    lines += [f"        self.f{k} = {list(v) if isinstance(v, tuple) else v!r}" for k, v in enumerate(fields)]
    if not fields:
        lines.append("        pass")
    for mname, body, takes_arg in methods:
        _check_name(mname)
        lines.append("")
        lines.append(f"    def {mname}(self{', arg' if takes_arg else ', arg=None'}):")
        lines.append(f'        """{body.text() or "(empty body)"}"""')
        lines += [f"        {line}" for line in _body(body, [])]
    return "\n".join(lines) + "\n"


def network_to_python(pairs: Sequence[tuple[int, int]], name: str = "sort") -> str:
    """A sorting network (comparators ``(i, j)``, ``i < j``) as ``def sort(a)`` returning a sorted copy."""
    _check_name(name)
    lines = [f"def {name}(a):", "    a = list(a)"]
    lines += [f"    if a[{i}] > a[{j}]: a[{i}], a[{j}] = a[{j}], a[{i}]" for i, j in pairs]
    lines.append("    return a")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------- sandbox
@dataclass(frozen=True)
class ExportResult:
    """The result of a sandboxed run: ``status`` ``ok`` (the child ran every case; a case may still have
    raised, see ``errors``), ``timeout`` (wall clock or CPU limit) or ``error`` (the source did not load,
    the child crashed or answered garbage); ``outputs`` per case (``None`` where it raised), ``errors`` per
    case (``None`` or ``"ExceptionName: message"``), ``reason`` one line when not ``ok``."""

    status: str
    outputs: tuple[Any, ...] = ()
    errors: tuple[str | None, ...] = ()
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok" and all(e is None for e in self.errors)


#: marks the sandbox's child processes (tests look for leftovers by it)
CHILD_MARKER = "zeroforge-sandbox-child"

#: functions the child deletes before it runs the program: posix functions with an effect beyond the child that
#: raise no audit event (CPython 3.11; ``os`` re-exports them), and those of ``_imp`` that build a fresh module
#: (a new ``posix`` would have them back)
_UNAUDITED = {
    "posix": [
        "mkfifo", "mknod", "chroot", "chflags", "lchflags", "setpriority", "sched_setaffinity", "sched_setscheduler",
        "sched_setparam", "setsid", "setpgid", "setpgrp", "setuid", "setgid", "seteuid", "setegid", "setreuid",
        "setregid", "setresuid", "setresgid", "setgroups", "initgroups", "memfd_create", "pidfd_open", "eventfd",
        "unshare", "setns",
    ],
    "_imp": ["create_builtin", "exec_builtin", "create_dynamic", "exec_dynamic", "get_frozen_object", "init_frozen"],
}

_CHILD = r"""
# MARKER
import io, json, sys
def seal(unaudited):
    # Past this point every audit event but compile / exec is refused: open (read or write), os.* file and
    # process calls, socket, import of a module not yet loaded, frames, gc, code objects, ...
    unaudited["os"] = unaudited["posix"]
    for module_name, names in unaudited.items():
        module = sys.modules.get(module_name)
        for name in names:
            if module is not None and hasattr(module, name):
                delattr(module, name)
    def hook(event, args, allowed=frozenset(("compile", "exec")), refuse=PermissionError):
        if event not in allowed:
            raise refuse("sandbox: " + event + " is not allowed")
    sys.addaudithook(hook)
def main():
    data = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    out = sys.stdout
    sys.stdout = io.StringIO()
    sys.stderr = io.StringIO()
    seal(data["unaudited"])
    ns = {"__name__": "exported", "__builtins__": __builtins__}
    try:
        exec(compile(data["source"], "<exported>", "exec"), ns)
        target = ns[data["call"]]
    except BaseException as exc:
        out.write(json.dumps({"fatal": (type(exc).__name__ + ": " + str(exc))[:300]}))
        return
    outputs, errors = [], []
    for case in data["inputs"]:
        try:
            if isinstance(target, type):
                obj = target()
                result = [getattr(obj, call[0])(*call[1:]) for call in case]
            else:
                result = target(*case)
            json.dumps(result)
            outputs.append(result)
            errors.append(None)
        except Exception as exc:
            outputs.append(None)
            errors.append((type(exc).__name__ + ": " + str(exc))[:300])
    out.write(json.dumps({"outputs": outputs, "errors": errors}))
    out.flush()
main()
""".replace("MARKER", CHILD_MARKER)

#: the most bytes the parent reads from the child (stdout and stderr together) before it stops it
MAX_CHILD_OUTPUT = 16 * 1024 * 1024
#: open file descriptors the child may hold (the interpreter needs a few to start)
_MAX_FILES = 64


def _limiter(timeout_s: float, memory_mb: int) -> Callable[[], None]:
    def preexec() -> None:  # runs in the child between fork and exec
        import resource

        memory = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        cpu = max(1, math.ceil(timeout_s))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NOFILE, (_MAX_FILES, _MAX_FILES))
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))  # no forking (not enforced for root)

    return preexec


def _exited(pid: int, deadline: float) -> bool:
    """Wait until child ``pid`` has exited or ``deadline`` (``time.monotonic``) passes; ``True`` if it exited.
    The child is NOT reaped, so its pid (the id of its process group) cannot be reused before the group is
    killed."""
    while True:
        try:
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return True
        except ChildProcessError:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.002)


def _collect(proc: subprocess.Popen[bytes], deadline: float) -> tuple[bytes, bytes, str]:
    """The child's stdout and the tail of its stderr, read until both pipes close, ``deadline`` passes
    (``"timeout"``) or it wrote more than :data:`MAX_CHILD_OUTPUT` bytes in all (``"flood"``)."""
    assert proc.stdout is not None and proc.stderr is not None
    out, err = bytearray(), bytearray()
    total = 0
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        sel.register(proc.stderr, selectors.EVENT_READ)
        while sel.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                return bytes(out), bytes(err), "timeout"
            for key, _ in sel.select(left):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    sel.unregister(key.fileobj)
                    continue
                total += len(chunk)
                if total > MAX_CHILD_OUTPUT:
                    return bytes(out), bytes(err), "flood"
                if key.fileobj is proc.stdout:
                    out += chunk
                else:
                    err = (err + chunk)[-4096:]
    return bytes(out), bytes(err), ""


def _run_child(payload: bytes, timeout_s: float, memory_mb: int) -> tuple[bytes, bytes, str, int]:
    """Run the harness on ``payload`` in a fresh temporary directory: ``(stdout, stderr tail, "" | "timeout" |
    "flood", returncode)``. Whatever happens, the child's whole process group is killed before this returns."""
    deadline = time.monotonic() + timeout_s
    with tempfile.TemporaryDirectory(prefix="zeroforge-sandbox-") as cwd:
        request = os.path.join(cwd, "request.json")
        with open(request, "wb") as f:
            f.write(payload)
        with open(request, "rb") as stdin:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-S", "-B", "-c", _CHILD],
                stdin=stdin,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                preexec_fn=_limiter(timeout_s, memory_mb),
                env={},
                cwd=cwd,
                start_new_session=True,  # its own process group, killed as a whole below
            )
        try:
            out, err, why = _collect(proc, deadline)
            if not why and hasattr(os, "waitid"):
                why = "" if _exited(proc.pid, deadline) else "timeout"  # closed its pipes but kept running
            elif not why:  # no waitid (not Linux): reap first; a reused group id is then unlikely, not impossible
                try:
                    proc.wait(max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    why = "timeout"
        finally:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)  # the child and anything it started (unless it left the group)
            returncode = proc.wait()
            for pipe in (proc.stdout, proc.stderr):
                if pipe is not None:
                    pipe.close()
    return out, err, why, returncode


def run_exported(
    source: str, call: str, inputs: Sequence[Any], timeout_s: float = 2.0, memory_mb: int = 256
) -> ExportResult:
    """Run exported ``source`` in a sandboxed child: ``call`` names a function (each input is a list of
    positional arguments; the output is its return value) or a class (each input is a call sequence
    ``[[method, *args], ...]`` on a fresh object; the output is the list of return values). All cases
    share ``timeout_s`` seconds (wall clock and CPU) and ``memory_mb`` MiB of address space. An effect the
    sandbox refuses (opening a file, a process, a socket, an import) raises ``PermissionError: sandbox: ...``
    in the program: ``status`` ``error`` when that happens as the source loads, else that case's ``errors``
    entry (so ``ok`` is ``False``). What the sandbox contains and what it does not: the module docstring."""
    if not isinstance(call, str) or not call.isidentifier():
        return ExportResult("error", reason=f"not a Python name: {call!r}")
    try:
        request = {"source": source, "call": call, "inputs": list(inputs), "unaudited": _UNAUDITED}
        payload = json.dumps(request).encode("utf-8")
    except (TypeError, ValueError) as exc:
        return ExportResult("error", reason=f"inputs are not JSON data: {exc}")
    try:
        stdout, stderr, why, returncode = _run_child(payload, timeout_s, memory_mb)
    except (OSError, subprocess.SubprocessError) as exc:
        return ExportResult("error", reason=f"could not start the sandbox: {exc}")
    if why == "timeout":
        return ExportResult("timeout", reason=f"no answer within {timeout_s} s")
    if why == "flood":
        return ExportResult("error", reason=f"the child wrote more than {MAX_CHILD_OUTPUT} bytes")
    if returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        return ExportResult("timeout", reason=f"CPU limit ({returncode})")
    try:
        answer = json.loads(stdout.decode("utf-8", "replace"))
    except (ValueError, RecursionError):
        tail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        return ExportResult("error", reason=f"child exited with {returncode}: {tail[0][:200]}")
    if not isinstance(answer, dict):
        return ExportResult("error", reason="child answered garbage")
    if "fatal" in answer:
        return ExportResult("error", reason=str(answer["fatal"]))
    outputs, errors = answer.get("outputs"), answer.get("errors")
    if not isinstance(outputs, list) or not isinstance(errors, list) or len(outputs) != len(errors):
        return ExportResult("error", reason="child answered garbage")
    return ExportResult("ok", tuple(outputs), tuple(None if e is None else str(e) for e in errors))
