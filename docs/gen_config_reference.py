"""Write ``docs/configuration.md``, the configuration reference, from the config schema itself.

Run by ``make docs`` before ``mkdocs build``: ``python docs/gen_config_reference.py [OUTPUT]``. It walks the
``ZeroforgeConfig`` dataclass tree (``zeroforge.config`` and the components' ``params`` modules) and writes one
table per section (the top level, ``task``, ``curriculum``, ..., ``net.trm``, ``net.hrm``, ...): each key dotted,
its type and default as the schema says, and its description, the ``# ...`` comment after the key in
``configs/default.yaml``; above each table the section's class docstring. So the reference cannot drift from the
code: a new key shows up on the next build, and ``tests/test_docs.py`` fails while it has no comment in
``configs/default.yaml``.

The output is git-ignored: it is made from files that are in git, at every ``make docs``.
"""

from __future__ import annotations

import dataclasses
import html
import inspect
import re
import sys
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_YAML = REPO / "configs" / "default.yaml"
OUTPUT = REPO / "docs" / "configuration.md"

if str(REPO / "src") not in sys.path:  # run from a checkout without installing it
    sys.path.insert(0, str(REPO / "src"))

from zeroforge import config as config_module  # noqa: E402
from zeroforge.config import ZeroforgeConfig  # noqa: E402

__all__ = ["Row", "Section", "main", "render", "sections", "yaml_comments"]

_KEY_LINE = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z_][A-Za-z0-9_]*):(?P<rest>.*)$")


def _comment(rest: str) -> str:
    """The ``# ...`` comment in what follows a key's colon (a ``#`` inside quotes is the value's), or ``""``."""
    quote = ""
    for i, ch in enumerate(rest):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or rest[i - 1].isspace()):
            return rest[i + 1 :].strip()
    return ""


def yaml_comments(path: Path = DEFAULT_YAML) -> dict[str, str]:
    """Every key of the YAML file, dotted (``net.trm.cycles``), with the comment on its line (``""`` if none);
    a section's own line (``trm:  # ...``) gives the comment of the section's key."""
    comments: dict[str, str] = {}
    stack: list[tuple[int, str]] = []  # (indent, key) of the enclosing sections
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _KEY_LINE.match(line)
        if match is None:
            continue
        indent = len(match["indent"])
        while stack and stack[-1][0] >= indent:
            stack.pop()
        dotted = ".".join([*(key for _, key in stack), match["key"]])
        comments[dotted] = _comment(match["rest"])
        stack.append((indent, match["key"]))
    return comments


@dataclass(frozen=True)
class Row:
    """One key of the reference: dotted key, type, default (as YAML writes it) and description."""

    key: str
    type: str
    default: str
    description: str


@dataclass(frozen=True)
class Section:
    """One table: the section's dotted name (``""``: the top level), its config class and its keys."""

    name: str
    cls: type
    rows: tuple[Row, ...]


def _type_text(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin is tuple:
        return f"list of {_type_text(typing.get_args(hint)[0])}"
    if origin is dict or hint is dict:
        return "mapping"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_text(a) for a in typing.get_args(hint))
    if hint is type(None):
        return "null"
    return getattr(hint, "__name__", str(hint))


def _yaml_value(value: Any) -> str:
    """A default as one would write it in the YAML file."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_yaml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_yaml_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    raise TypeError(f"config field {f.name!r} has no default")  # every key of the schema has one


def _is_section(hint: Any) -> bool:
    return isinstance(hint, type) and dataclasses.is_dataclass(hint)


def sections(root: type = ZeroforgeConfig, comments: dict[str, str] | None = None) -> list[Section]:
    """The tables of the reference, depth first in the schema's field order: a section's own keys, then its
    subsections (``net``, then ``net.trm`` and ``net.hrm``)."""
    comments = yaml_comments() if comments is None else comments
    out: list[Section] = []

    def walk(cls: type, path: str) -> None:
        hints = typing.get_type_hints(cls)
        rows: list[Row] = []
        nested: list[tuple[type, str]] = []
        for f in dataclasses.fields(cls):
            if not f.init:
                continue
            key = f"{path}.{f.name}" if path else f.name
            hint = hints[f.name]
            if _is_section(hint):
                nested.append((hint, key))
                continue
            rows.append(Row(key, _type_text(hint), _yaml_value(_default(f)), comments.get(key, "")))
        out.append(Section(path, cls, tuple(rows)))
        for sub, key in nested:
            walk(sub, key)

    walk(root, "")
    return out


# -- Markdown ------------------------------------------------------------------------------------------------

_CODE_SPAN = re.compile(r"(``.+?``|`[^`]+`)")


def _prose(text: str, in_table: bool = False) -> str:
    """reST-ish docstring or comment text as Markdown: ``x`` becomes `x`; outside code spans ``<``, ``>`` and
    ``&`` are escaped (``<run_dir>`` is not an HTML tag) and so, in a table, is ``|``."""
    parts = _CODE_SPAN.split(text)
    for i, part in enumerate(parts):
        if i % 2:  # a code span
            body = part[2:-2] if part.startswith("``") else part[1:-1]
            parts[i] = f"`{body}`"
        else:
            part = html.escape(part, quote=False)
            parts[i] = part.replace("|", "\\|") if in_table else part
    return "".join(parts)


def _docstring(obj: object) -> str:
    doc = inspect.getdoc(obj) or ""
    return "\n\n".join(" ".join(p.split()) for p in doc.split("\n\n") if p.strip())


def render(root: type = ZeroforgeConfig, comments: dict[str, str] | None = None) -> str:
    """The whole page as Markdown."""
    comments = yaml_comments() if comments is None else comments
    lines = [
        "# Configuration reference",
        "",
        "<!-- Generated by docs/gen_config_reference.py from the config schema (src/zeroforge/config.py and the",
        "     params modules) and the comments of configs/default.yaml: edit those, not this file. -->",
        "",
        _prose(_docstring(config_module).split("\n\n")[0]),
        "",
        "Set a key in a YAML file (`--config`, sections as nested mappings, as in `configs/default.yaml`) or on "
        "the command line with `--set section.key=value` (repeatable; the value is read as YAML: `3`, `0.5`, "
        "`true`, `[random, perfect]`). A misspelt key is refused with the closest valid name. The defaults "
        "below are the schema's; `configs/default.yaml` lists every key with exactly these values.",
        "",
    ]
    for section in sections(root, comments):
        title = f"`{section.name}`" if section.name else "Top level"
        lines += [f"## {title}", ""]
        if section.name and comments.get(section.name):
            lines += [f"*{_prose(comments[section.name])}*", ""]
        doc = _docstring(section.cls)
        if doc:
            lines += [_prose(doc), ""]
        lines += ["| key | type | default | description |", "|---|---|---|---|"]
        for row in section.rows:
            default = row.default.replace("|", "\\|")
            lines.append(f"| `{row.key}` | {_prose(row.type, True)} | `{default}` | {_prose(row.description, True)} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else OUTPUT
    out.write_text(render(), encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
