"""Config loading: defaults <- YAML <- overrides, with one-line errors that name the key."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from zeroforge.config import (
    ArenaConfig,
    ConfigError,
    MCTSConfig,
    TrainConfig,
    ZeroforgeConfig,
    config_from_dict,
    config_to_dict,
    load_config,
    parse_override,
    save_config,
)

REPO = Path(__file__).resolve().parents[1]


def _error(**kwargs: object) -> str:
    with pytest.raises(ConfigError) as info:
        config_from_dict(ZeroforgeConfig, kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_defaults_round_trip_through_dict() -> None:
    cfg = ZeroforgeConfig()
    data = config_to_dict(cfg)
    assert data["arena"]["anchors"] == ["random", "rollout", "perfect"]  # tuples as lists
    assert config_from_dict(ZeroforgeConfig, data) == cfg


def test_non_default_round_trip_through_yaml(tmp_path: Path) -> None:
    cfg = load_config(
        None,
        [
            "mcts.num_simulations=8",
            "arena.anchors=[random]",
            "task.params={size: 4}",
            "train.learning_rate=2e-4",
        ],
    )
    path = save_config(cfg, tmp_path / "sub" / "cfg.yaml")
    assert load_config(path) == cfg
    assert config_from_dict(ZeroforgeConfig, config_to_dict(cfg)) == cfg


def _keys(data: dict[str, Any], prefix: str = "") -> set[str]:
    keys = set()
    for key, value in data.items():
        keys.add(prefix + key)
        if isinstance(value, dict) and key != "params":
            keys |= _keys(value, f"{prefix}{key}.")
    return keys


def test_default_yaml_loads_and_lists_every_knob() -> None:
    path = REPO / "configs" / "default.yaml"
    cfg = load_config(path)
    assert cfg.task.name == "tictactoe"
    listed = _keys(yaml.safe_load(path.read_text()))
    assert listed == _keys(config_to_dict(ZeroforgeConfig()))


def test_nested_build_and_coercion() -> None:
    cfg = config_from_dict(
        ZeroforgeConfig,
        {"mcts": {"c_puct": 2, "num_simulations": 3}, "arena": {"anchors": ["random", "perfect"]}},
    )
    assert isinstance(cfg.mcts, MCTSConfig) and cfg.mcts.c_puct == 2.0 and isinstance(cfg.mcts.c_puct, float)
    assert cfg.arena.anchors == ("random", "perfect")
    assert cfg.train == TrainConfig()


def test_unknown_key_suggests_closest() -> None:
    message = _error(mcts={"num_simulatons": 3})
    assert message == "unknown config key 'mcts.num_simulatons'; did you mean 'mcts.num_simulations'?"
    assert "did you mean 'mcts'" in _error(mctss={})
    assert "did you mean 'train.batch_size'" in _error(batch_size=3)  # right name, wrong section


def test_wrong_types() -> None:
    assert _error(train={"batch_size": "abc"}) == "config key 'train.batch_size' expects int, got str 'abc'"
    assert "expects int, got bool" in _error(train={"batch_size": True})  # bools are not ints
    assert "expects float" in _error(mcts={"c_puct": "high"})
    assert "expects bool" in _error(arena={"gating": 1})
    assert "'arena.anchors' expects a list of str" in _error(arena={"anchors": "random"})
    assert "'arena.anchors[1]' expects str" in _error(arena={"anchors": ["random", 3]})
    assert "'mcts' expects a mapping" in _error(mcts=3)


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        (["mcts.num_simulations=0"], "'mcts.num_simulations' must be >= 1"),
        (["mcts.dirichlet_epsilon=1.5"], "'mcts.dirichlet_epsilon' must be in [0, 1]"),
        (["mcts.c_puct=0"], "'mcts.c_puct' must be > 0"),
        (["mcts.discount=0"], "'mcts.discount' must be in (0, 1]"),
        (["mcts.temperature=-1"], "'mcts.temperature' must be >= 0"),
        (["net.kind=cnn"], "'net.kind' must be one of"),
        (["arena.anchors=[random, oracle]"], "'arena.anchors' must be a subset of"),
        (["arena.win_threshold=2"], "'arena.win_threshold' must be in [0, 1]"),
        (["train.learning_rate=0"], "'train.learning_rate' must be > 0"),
        (["train.batch_size=0"], "'train.batch_size' must be >= 1"),
        (["selfplay.games_per_iteration=0"], "'selfplay.games_per_iteration' must be >= 1"),
        (["selfplay.parallel_batch_size=0"], "'selfplay.parallel_batch_size' must be >= 1"),
        (["iterations=-1"], "'iterations' must be >= 0"),
        (["mcts.c_puct=.nan"], "'mcts.c_puct' must be > 0"),
    ],
)
def test_value_validation(overrides: list[str], needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(None, overrides)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_direct_construction_is_validated() -> None:
    with pytest.raises(ConfigError, match=re.escape("'arena.games' must be >= 1")):
        ArenaConfig(games=0, gating=True)
    assert ArenaConfig(games=0, gating=False).games == 0
    assert load_config(None, ["iterations=0"]).iterations == 0


def test_parse_override_values() -> None:
    assert parse_override("a.b=3") == ("a.b", 3)
    assert parse_override("a.b=0.5") == ("a.b", 0.5)
    assert parse_override("a.b=1e-3") == ("a.b", 0.001)
    assert parse_override("a.b=true") == ("a.b", True)
    assert parse_override("a.b=[random,perfect]") == ("a.b", ["random", "perfect"])
    assert parse_override("a.b=abc") == ("a.b", "abc")
    assert parse_override("a.b=x=y") == ("a.b", "x=y")
    with pytest.raises(ConfigError, match="key=value"):
        parse_override("mcts.num_simulations")
    with pytest.raises(ConfigError, match="invalid key"):
        parse_override("mcts..c_puct=1")


def test_load_yaml_then_overrides(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("seed: 7\nmcts:\n  num_simulations: 16\n  c_puct: 2.0\ntrain:\n  learning_rate: 1e-3\n")
    cfg = load_config(path, ["mcts.num_simulations=32", "task.params.size=5"])
    assert (cfg.seed, cfg.mcts.num_simulations, cfg.mcts.c_puct) == (7, 32, 2.0)
    assert cfg.train.learning_rate == 1e-3
    assert cfg.task.params == {"size": 5}  # free dict: its keys are not checked
    assert load_config(path).mcts.num_simulations == 16
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing\nmcts:\n")
    assert load_config(empty) == ZeroforgeConfig()


def test_bad_overrides_are_rejected_like_unknown_yaml_keys() -> None:
    with pytest.raises(ConfigError, match=r"did you mean 'mcts\.num_simulations'\?$"):
        load_config(None, ["mcts.num_simulatons=3"])
    with pytest.raises(ConfigError, match="expects int, got str 'abc'"):
        load_config(None, ["train.batch_size=abc"])


def test_override_below_a_value_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("mcts:\n  c_puct: 2.0\n")
    with pytest.raises(ConfigError, match=re.escape("'mcts.c_puct' is a value, not a section")):
        load_config(path, ["mcts.c_puct.x=1"])


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found") as info:
        load_config(tmp_path / "missing.yaml")
    assert "missing.yaml" in str(info.value)
    bad = tmp_path / "bad.yaml"
    bad.write_text("mcts:\n  c_puct: [1\n seed: 2\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml.*not valid YAML at line") as info:
        load_config(bad)
    assert "\n" not in str(info.value)
    listing = tmp_path / "list.yaml"
    listing.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match=r"list\.yaml.*must contain a mapping"):
        load_config(listing)
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("mcts:\n  cpuct: 1.0\n")
    with pytest.raises(ConfigError, match=re.escape("did you mean 'mcts.c_puct'")):
        load_config(unknown)


def test_config_error_is_value_error() -> None:
    assert issubclass(ConfigError, ValueError)


def test_in_process_only_self_play_options_are_refused_with_workers() -> None:
    from zeroforge.config import SelfPlayConfig

    with pytest.raises(ConfigError, match=r"selfplay\.eval_cache_size.*num_workers > 0"):
        SelfPlayConfig(num_workers=2, eval_cache_size=1000)
    with pytest.raises(ConfigError, match=r"selfplay\.inference_dtype.*num_workers > 0"):
        SelfPlayConfig(num_workers=2, inference_dtype="bfloat16")
    assert SelfPlayConfig(num_workers=0, eval_cache_size=1000, inference_dtype="bfloat16").num_workers == 0


@pytest.mark.parametrize("path", sorted((REPO / "configs").glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_config_loads_and_builds_its_task_and_net(path: Path) -> None:
    """The configs the README points users at are valid: every key exists, the task's parameters are accepted and
    the net kind fits the task (a structured task gets the pointer net with the flags the config sets)."""
    from zeroforge.nets import build_net
    from zeroforge.tasks import make_task

    cfg = load_config(path)
    task = make_task(cfg.task.name, **cfg.task.params)
    net = build_net(cfg.net, task)
    assert sum(p.numel() for p in net.parameters()) > 0
    if task.structured:
        assert getattr(net, "recurrence") == cfg.net.recurrence  # noqa: B009
        assert getattr(net, "distance_bias") == cfg.net.distance_bias  # noqa: B009
