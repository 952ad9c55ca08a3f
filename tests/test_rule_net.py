"""``RuleNet``: the relational net of the logic family reads its tokens, one logit per rule slot."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zeroforge.config import NetConfig
from zeroforge.nets import build_net
from zeroforge.tasks import make_task

LOGIC = make_task("logic", num_concepts=12, max_rules=8, max_depth=3, distractors=3)


def test_shapes_and_legal_slots() -> None:
    torch.manual_seed(0)
    net = build_net(NetConfig(kind="rules", embed_dim=16, hidden=32, num_layers=3), LOGIC)
    obs = torch.tensor(np.stack([LOGIC.initial_state(s).observation for s in range(5)]))
    logits, values = net(obs)
    assert logits.shape == (5, LOGIC.num_actions) and values.shape == (5,)
    assert torch.all(values.abs() <= 1)


def test_permuting_rule_slots_permutes_their_logits() -> None:
    """No position embedding over slots: the net scores a rule by what it says, not where it stands."""
    torch.manual_seed(0)
    net = build_net(NetConfig(kind="rules", embed_dim=16, hidden=32, num_layers=3), LOGIC).eval()
    obs = LOGIC.initial_state(4).observation
    rules = obs[: 4 * 8].reshape(8, 4)
    perm = np.random.default_rng(0).permutation(8)
    shuffled = obs.copy()
    shuffled[: 4 * 8] = rules[perm].reshape(-1)
    with torch.no_grad():
        a, va = net(torch.tensor(obs[None]))
        b, vb = net(torch.tensor(shuffled[None]))
    torch.testing.assert_close(b[0, :8], a[0, :8][perm], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(b[0, 8], a[0, 8], rtol=1e-4, atol=1e-5)  # "conclude: not provable"
    torch.testing.assert_close(vb, va, rtol=1e-4, atol=1e-5)


def test_other_tasks_get_a_clear_error() -> None:
    with pytest.raises(ValueError, match="net kind 'rules' reads the logic task's tokens"):
        build_net(NetConfig(kind="rules"), make_task("tictactoe"))
