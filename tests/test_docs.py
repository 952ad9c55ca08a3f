"""The documentation site's sources: the generated configuration reference covers every key, the API page every
public name, and the integration examples run as written. (``make docs`` builds the site with mkdocs --strict;
these tests do not run mkdocs.)"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import re
import subprocess
import sys
import typing
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

import zeroforge
from zeroforge.config import ZeroforgeConfig

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_config_reference", DOCS / "gen_config_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


GEN = _generator()


@pytest.fixture(scope="module")
def reference() -> str:
    return str(GEN.render())


def _flatten(data: dict[str, Any], prefix: str = "") -> list[str]:
    keys = []
    for name, value in data.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict) and value and name != "params":  # task.params is a key whose value is a mapping
            keys += _flatten(value, f"{key}.")
        else:
            keys.append(key)
    return keys


def _schema_keys(cls: type = ZeroforgeConfig, prefix: str = "") -> list[str]:
    keys = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            keys += _schema_keys(hint, f"{prefix}{f.name}.")
        else:
            keys.append(f"{prefix}{f.name}")
    return keys


def _row(text: str, key: str) -> list[str]:
    rows = [line for line in text.splitlines() if line.startswith(f"| `{key}` |")]
    assert len(rows) == 1, f"{key}: {len(rows)} rows"
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", rows[0])[1:-1]]


def test_reference_lists_every_key_of_default_yaml(reference: str) -> None:
    data = yaml.safe_load((REPO / "configs" / "default.yaml").read_text())
    keys = _flatten(data)
    assert len(keys) > 80 and "net.trm.cycles" in keys and "task.params" in keys
    missing = [k for k in keys if f"| `{k}` |" not in reference]
    assert not missing, missing


def test_reference_lists_every_field_of_the_schema_once(reference: str) -> None:
    keys = _schema_keys()
    assert "net.hrm.low_steps" in keys and "monitor.interval_s" in keys
    for key in keys:
        _row(reference, key)
    rows = [line for line in reference.splitlines() if line.startswith("| `")]
    assert len(rows) == len(keys)


def test_every_key_has_a_description_from_default_yaml(reference: str) -> None:
    """A key without a ``# comment`` in configs/default.yaml would have an empty description in the reference."""
    empty = [key for key in _schema_keys() if not _row(reference, key)[3]]
    assert not empty, f"give these keys a comment in configs/default.yaml: {empty}"


def test_known_rows(reference: str) -> None:
    assert _row(reference, "mcts.c_puct") == [
        "`mcts.c_puct`", "float", "`1.25`",
        "PUCT exploration constant: how much the priors count against the values found"]
    assert _row(reference, "arena.anchors")[1:3] == ["list of str", "`[random, rollout, perfect]`"]
    assert _row(reference, "train.replay_buffer_bytes")[2] == "`1073741824`"
    assert _row(reference, "net.trm.adaptive_halting")[2] == "`false`"
    kind = _row(reference, "net.kind")  # the comment's "|" separators are escaped, not new cells
    assert kind[2] == "`auto`" and "mlp \\| resnet" in kind[3]
    tb = _row(reference, "monitor.tensorboard")[3]  # outside code spans, <run_dir> is text, not an HTML tag
    assert "&lt;run_dir&gt;/tensorboard" in tb


def test_sections_carry_their_class_docstring(reference: str) -> None:
    titles = re.findall(r"^## (.+)$", reference, flags=re.M)
    assert titles == ["Top level", "`task`", "`curriculum`", "`supervised`", "`net`", "`net.trm`", "`net.hrm`",
                      "`mcts`", "`selfplay`", "`train`", "`arena`", "`monitor`"]
    mcts = reference.split("## `mcts`")[1].split("\n## ")[0]
    assert "Search settings (AlphaZero / Gumbel MuZero / KataGo names and defaults)." in mcts
    assert "`root_policy`: `puct`" in mcts  # ``double backticks`` become Markdown code spans


def test_yaml_comment_parser() -> None:
    comments = GEN.yaml_comments()
    assert comments["mcts.num_simulations"] == "PUCT simulations per self-play move"
    assert comments["net.trm"].startswith("Tiny Recursive Model")
    assert comments["curriculum.lower_at"] == "... and that lowers it"


def test_generator_writes_the_page(tmp_path: Path) -> None:
    out = tmp_path / "configuration.md"
    GEN.main([str(out)])
    assert out.read_text(encoding="utf-8") == GEN.render()


def test_api_page_documents_every_public_name() -> None:
    api = (DOCS / "api.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^::: zeroforge\.(\w+)$", api, flags=re.M))
    assert documented == set(zeroforge.__all__)


def test_nav_names_every_page() -> None:
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text())
    pages = {next(iter(item.values())) for item in config["nav"]}
    assert pages == {p.name for p in DOCS.glob("*.md")} | {"configuration.md"}


def _titled_blocks(page: Path) -> dict[str, str]:
    """The ```python title="NAME" blocks of a page, by file name."""
    text = page.read_text(encoding="utf-8")
    return dict(re.findall(r'^```python title="([\w.]+)"\n(.*?)^```$', text, flags=re.M | re.S))


@pytest.mark.slow
def test_integration_examples_run_as_written(tmp_path: Path) -> None:
    """The files of docs/integration.md, written out and run as a user would: a task of one's own, trained and
    loaded; a net kind of one's own, trained and loaded."""
    blocks = _titled_blocks(DOCS / "integration.md")
    assert set(blocks) == {"reach_target.py", "my_nets.py", "train_bag.py"}
    for name, code in blocks.items():
        (tmp_path / name).write_text(code, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(tmp_path)])}
    for script, expect in (("reach_target.py", "held-out solve rate:"), ("train_bag.py", "BagOfTokensNet")):
        run = subprocess.run([sys.executable, script], cwd=tmp_path, env=env, capture_output=True, text=True,
                             timeout=300)
        assert run.returncode == 0, run.stderr[-2000:]
        assert expect in run.stdout
    assert (tmp_path / "runs" / "reach_target" / "metrics.jsonl").exists()
