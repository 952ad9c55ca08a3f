"""Reading instances that users bring: the bounded, strict JSON reader every JSON task uses and
``short_repr`` for quoting instance values in one-line errors."""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["MAX_JSON_CHARS", "read_json_instance", "short_repr"]


#: the longest JSON instance text ``read_json_instance`` reads (characters); every task's largest valid instance
#: is a few kilobytes, so a longer text is refused before it is parsed (time and memory stay bounded)
MAX_JSON_CHARS = 1_000_000

#: characters a text instance never holds: C0 controls but tab / newline / carriage return, and DEL
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class _DuplicateKeyError(Exception):
    """A JSON object with a key given twice (raised from ``json.loads``'s ``object_pairs_hook``)."""

    def __init__(self, key: str) -> None:
        self.key = key


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKeyError(key)
        out[key] = value
    return out


def _where(text: str, index: int) -> str:
    """``"line L column C"`` of ``text[index]`` (both from 1)."""
    line = text.count("\n", 0, index) + 1
    column = index - text.rfind("\n", 0, index)
    return f"line {line} column {column}"


def read_json_instance(task_name: str, text: str, keys: tuple[str, ...],
                       optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """Parse a JSON instance that must be an object with all ``keys`` and perhaps some ``optional`` ones;
    any other input raises a one-line ``ValueError`` starting with ``task_name``: an empty text, one of more
    than :data:`MAX_JSON_CHARS` characters, a control character (NUL, escape, ...: a binary file), malformed
    or too deeply nested JSON, an integer of too many digits, a key given twice in one object (JSON would keep
    the last one silently), another type than an object, missing or unknown keys. The values are the caller's
    to check."""
    if not isinstance(text, str):
        raise ValueError(f"{task_name}: an instance must be a string, got {type(text).__name__}")
    if len(text) > MAX_JSON_CHARS:
        raise ValueError(f"{task_name}: instance has {len(text)} characters, at most {MAX_JSON_CHARS}")
    if not text.strip():
        raise ValueError(f"{task_name}: malformed JSON instance: the text is empty")
    bad = _CONTROL_CHARS.search(text)
    if bad:
        raise ValueError(f"{task_name}: malformed JSON instance: control character {bad.group()!r} at "
                         f"{_where(text, bad.start())} (a binary file?)")
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        msg = exc.msg.removesuffix(" at")  # "Invalid control character at": the position follows
        hint = " (write a newline or tab inside a JSON string as \\n or \\t)" if "control character" in msg else ""
        raise ValueError(f"{task_name}: malformed JSON instance: {msg} at line {exc.lineno} column "
                         f"{exc.colno}{hint}") from None
    except _DuplicateKeyError as exc:
        raise ValueError(f"{task_name}: instance has the key {exc.key[:40]!r} twice in one object") from None
    except RecursionError:
        raise ValueError(f"{task_name}: malformed JSON instance: nested too deeply") from None
    except ValueError:  # int(): more digits than sys.get_int_max_str_digits()
        raise ValueError(f"{task_name}: malformed JSON instance: an integer with too many digits") from None
    if not isinstance(data, dict):
        raise ValueError(f"{task_name}: instance must be a JSON object, got {type(data).__name__}")
    for key in keys:
        if key not in data:
            raise ValueError(f"{task_name}: instance is missing the key {key!r}")
    extra = sorted(set(data) - set(keys) - set(optional))
    if extra:
        shown = ", ".join(repr(k[:40]) for k in extra[:5]) + (", ..." if len(extra) > 5 else "")
        raise ValueError(f"{task_name}: instance has unknown keys [{shown}]")
    return data


def short_repr(x: Any, limit: int = 60) -> str:
    """``repr(x)`` cut to at most ``limit`` characters (ending in ``...`` when cut): error messages quote values
    read from an instance, which may be large (a JSON instance is at most :data:`MAX_JSON_CHARS` long)."""
    text = repr(x)
    return text if len(text) <= limit else text[: limit - 3] + "..."
