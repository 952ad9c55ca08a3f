"""The AlphaZero loss (known values), the learner (it learns, deterministically, and resumes exactly)
and the policy-value nets' shapes."""

from __future__ import annotations

import copy
import json
import math
import types
from collections.abc import Iterator

import numpy as np
import pytest
import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from zeroforge.config import NetConfig, TrainConfig
from zeroforge.data import EpisodeBuffer, PolicyValueArrays
from zeroforge.nets import MLPNet, ResNet, TransformerNet, build_net
from zeroforge.tasks.base import State
from zeroforge.tasks.games.solver import NegamaxSolver
from zeroforge.tasks.registry import make_task
from zeroforge.train import Learner, alphazero_loss
from zeroforge.train.learner import optimizer_from_checkpoint, optimizer_to_checkpoint

TTT = make_task("tictactoe")


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    """Tiny nets: one intra-op thread is as fast, and many times faster when other processes share the CPUs."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# -- alphazero_loss --------------------------------------------------------------------------------


def test_policy_loss_uniform_over_two_legal_actions_is_ln2() -> None:
    logits = torch.zeros(1, 4)
    masks = torch.tensor([[True, True, False, False]])
    target = torch.tensor([[1.0, 0.0, 0.0, 0.0]])
    terms = alphazero_loss(logits, torch.zeros(1), masks, target, torch.zeros(1), [])
    assert terms.policy == pytest.approx(math.log(2), rel=1e-6)
    assert terms.value == 0.0 and terms.l2 == 0.0
    assert float(terms.total.detach()) == pytest.approx(math.log(2), rel=1e-6)


def test_illegal_logits_do_not_change_the_policy_loss() -> None:
    masks = torch.tensor([[True, True, False, False]])
    target = torch.tensor([[0.25, 0.75, 0.0, 0.0]])
    base = alphazero_loss(torch.tensor([[0.3, -0.2, 0.0, 0.0]]), torch.zeros(1), masks, target,
                          torch.zeros(1), []).policy
    wild = alphazero_loss(torch.tensor([[0.3, -0.2, 50.0, -7.0]]), torch.zeros(1), masks, target,
                          torch.zeros(1), []).policy
    assert wild == pytest.approx(base, rel=1e-6)
    # the known value: -(0.25 log p0 + 0.75 log p1) with p = softmax(0.3, -0.2)
    p = torch.softmax(torch.tensor([0.3, -0.2]), 0)
    assert base == pytest.approx(float(-(0.25 * p[0].log() + 0.75 * p[1].log())), rel=1e-6)
    # an illegal action's logit gets no gradient
    logits = torch.tensor([[0.3, -0.2, 50.0, -7.0]], requires_grad=True)
    alphazero_loss(logits, torch.zeros(1), masks, target, torch.zeros(1), []).total.backward()
    assert logits.grad is not None
    assert logits.grad[0, 2:].abs().max().item() == 0.0


def test_policy_loss_is_the_batch_mean() -> None:
    logits = torch.zeros(2, 3)
    masks = torch.tensor([[True, True, True], [True, False, False]])
    target = torch.tensor([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    terms = alphazero_loss(logits, torch.zeros(2), masks, target, torch.zeros(2), [])
    assert terms.policy == pytest.approx((math.log(3) + 0.0) / 2, rel=1e-6)


def test_value_loss_is_weighted_mse() -> None:
    logits = torch.zeros(3, 2)
    masks = torch.ones(3, 2, dtype=torch.bool)
    target = torch.full((3, 2), 0.5)
    values = torch.tensor([0.5, -0.5, 0.0])
    z = torch.tensor([1.0, 1.0, 0.0])
    terms = alphazero_loss(logits, values, masks, target, z, [], value_weight=2.0)
    expected_mse = (0.25 + 2.25 + 0.0) / 3
    assert terms.value == pytest.approx(expected_mse)
    assert float(terms.total.detach()) == pytest.approx(math.log(2) + 2.0 * expected_mse, rel=1e-6)


def test_l2_term_is_sum_of_squares_times_coef() -> None:
    params = [torch.nn.Parameter(torch.tensor([1.0, -2.0])), torch.nn.Parameter(torch.tensor([[3.0]]))]
    logits = torch.zeros(1, 2)
    masks = torch.ones(1, 2, dtype=torch.bool)
    target = torch.tensor([[0.5, 0.5]])
    terms = alphazero_loss(logits, torch.zeros(1), masks, target, torch.zeros(1), params, l2_coef=0.01)
    assert terms.l2 == pytest.approx(14.0)
    assert float(terms.total.detach()) == pytest.approx(math.log(2) + 0.14, rel=1e-6)
    terms.total.backward()
    assert params[0].grad is not None
    np.testing.assert_allclose(params[0].grad.numpy(), [0.02, -0.04], rtol=1e-6)  # d(c * p^2) = 2 c p
    # without a coefficient the parameters are ignored
    assert alphazero_loss(logits, torch.zeros(1), masks, target, torch.zeros(1), params).l2 == 0.0


# -- nets --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["mlp", "resnet", "transformer"])
def test_build_net_shapes_and_value_range(kind: str) -> None:
    torch.manual_seed(0)
    net = build_net(NetConfig(kind=kind, embed_dim=4, hidden=16, num_layers=2), TTT)
    assert isinstance(net, {"mlp": MLPNet, "resnet": ResNet, "transformer": TransformerNet}[kind])
    tokens = torch.randint(0, TTT.vocab_size, (5, TTT.seq_len))
    logits, values = net(tokens)
    assert logits.shape == (5, TTT.num_actions)
    assert values.shape == (5,)
    assert torch.all(values.abs() <= 1.0)
    # large weights saturate the tanh but never leave [-1, 1]
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(50.0)
    _, values = net(tokens)
    assert torch.all(values.abs() <= 1.0)


def test_build_net_sizes_follow_the_task_and_config() -> None:
    c4 = make_task("connect_four")
    net = build_net(NetConfig(kind="mlp", embed_dim=3, hidden=8, num_layers=1), c4)
    logits, values = net(torch.zeros(2, c4.seq_len, dtype=torch.int64))
    assert logits.shape == (2, c4.num_actions) and values.shape == (2,)
    assert net.embed.num_embeddings == c4.vocab_size and net.embed.embedding_dim == 3
    assert sum(isinstance(m, torch.nn.Linear) for m in net.trunk) == 1


def test_build_net_unknown_kind() -> None:
    with pytest.raises(ValueError, match="transformer"):
        NetConfig(kind="lstm")
    # build_net checks on its own too (a config object that skipped validation)
    cfg = types.SimpleNamespace(kind="lstm", embed_dim=4, hidden=8, num_layers=1)
    with pytest.raises(ValueError, match="unknown net kind"):
        build_net(cfg, TTT)  # type: ignore[arg-type]


# -- Learner ---------------------------------------------------------------------------------------


def _positions(n: int, seed: int) -> list[State]:
    rng = np.random.default_rng(seed)
    seen: dict[object, State] = {}
    while len(seen) < n:
        s = TTT.initial_state(0)
        for _ in range(int(rng.integers(0, 7))):
            nxt = TTT.step(s, int(rng.choice(np.flatnonzero(s.legal_action_mask))))
            if nxt.terminal:
                break
            s = nxt
        seen.setdefault(s.key(), s)
    return list(seen.values())


@pytest.fixture(scope="module")
def dataset() -> PolicyValueArrays:
    """64 distinct positions, one-hot policy on the lowest optimal move, value +1 / -1 by a fixed rule."""
    solver = NegamaxSolver(TTT)
    states = _positions(64, 0)
    pis = np.zeros((64, 9), np.float32)
    for i, s in enumerate(states):
        pis[i, solver.optimal_actions(s)[0]] = 1.0
    values = np.where(np.arange(64) % 2 == 0, 1.0, -1.0).astype(np.float32)
    return PolicyValueArrays(np.stack([s.observation for s in states]), np.stack([s.legal_action_mask for s in states]),
                             pis, values)


def _buffer(data: PolicyValueArrays) -> PolicyValueArrays:
    """The positions as the learner's source (``PolicyValueArrays`` is one, like the ``EpisodeBuffer``)."""
    return data


def _learner(seed: int = 0, net_seed: int = 0, **cfg: object) -> Learner:
    torch.manual_seed(net_seed)
    net = build_net(NetConfig(kind="mlp", embed_dim=8, hidden=64, num_layers=2), TTT)
    config = TrainConfig(**{"batch_size": 32, "learning_rate": 3e-3, "l2_coef": 1e-4, **cfg})  # type: ignore[arg-type]
    return Learner(net, config, seed=seed)


def _full_loss(learner: Learner, data: PolicyValueArrays) -> tuple[float, float]:
    learner.net.eval()
    with torch.no_grad():
        logits, values = learner.net(torch.from_numpy(data.observations))
        terms = alphazero_loss(logits, values, torch.from_numpy(data.masks), torch.from_numpy(data.policies),
                               torch.from_numpy(data.values), [])
    return terms.policy, terms.value


def _weights(learner: Learner) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in learner.net.state_dict().items()}


def test_learner_fits_a_small_dataset(dataset: PolicyValueArrays) -> None:
    learner = _learner()
    p0, v0 = _full_loss(learner, dataset)
    metrics = learner.train(_buffer(dataset), steps=300)
    p1, v1 = _full_loss(learner, dataset)
    assert metrics.steps == 300 and learner.steps_done == 300
    assert metrics.examples == 64
    assert p1 < 0.1 * p0, (p0, p1)
    assert v1 < 0.1 * v0, (v0, v1)
    assert metrics.loss_total == pytest.approx(metrics.loss_policy + metrics.loss_value + metrics.loss_l2,
                                               rel=1e-4)
    assert metrics.loss_l2 == pytest.approx(1e-4 * metrics.weight_norm_sq, rel=1e-6)


def test_learner_reports_l2_of_the_non_bias_weights(dataset: PolicyValueArrays) -> None:
    learner = _learner()
    expected = sum(float(p.detach().pow(2).sum()) for n, p in learner.net.named_parameters()
                   if not n.endswith("bias"))
    with_bias = sum(float(p.detach().pow(2).sum()) for p in learner.net.parameters())
    metrics = learner.train(_buffer(dataset), steps=1)  # l2 is measured before the single step
    assert metrics.weight_norm_sq == pytest.approx(expected, rel=1e-5)
    assert metrics.weight_norm_sq != pytest.approx(with_bias, rel=1e-5)


def test_learner_is_deterministic_for_a_seed(dataset: PolicyValueArrays) -> None:
    a, b, c = _learner(seed=3), _learner(seed=3), _learner(seed=4)
    for lr in (a, b, c):
        lr.train(_buffer(dataset), steps=20)
    wa, wb, wc = _weights(a), _weights(b), _weights(c)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert not all(torch.equal(wa[k], wc[k]) for k in wa)  # the minibatch stream depends on the seed


def test_learner_zero_steps_and_empty_buffer(dataset: PolicyValueArrays) -> None:
    learner = _learner()
    before = _weights(learner)
    metrics = learner.train(_buffer(dataset), steps=0)
    assert metrics.steps == 0 and metrics.loss_total == 0.0
    assert all(torch.equal(before[k], v) for k, v in _weights(learner).items())
    with pytest.raises(ValueError, match="empty"):
        learner.train(EpisodeBuffer(1 << 20), steps=1)


def test_optimizer_checkpoint_round_trip_resumes_identically(dataset: PolicyValueArrays) -> None:
    buf = _buffer(dataset)
    a = _learner(seed=1, weight_decay=0.01)
    a.train(buf, steps=10)
    # what a checkpoint stores: tensors through safetensors, the rest through JSON, and the weights
    tensors, meta = optimizer_to_checkpoint(a.optimizer)
    assert tensors, "AdamW has per-parameter state after 10 steps"
    tensors = st_load(st_save(tensors))
    meta = json.loads(json.dumps(meta))
    weights = copy.deepcopy(a.net.state_dict())
    gen_state = a.generator.get_state()

    b = _learner(seed=99, net_seed=5, weight_decay=0.01)  # different init and minibatch stream
    b.net.load_state_dict(weights)
    optimizer_from_checkpoint(b.optimizer, tensors, meta)
    b.generator.set_state(gen_state)

    a.train(buf, steps=5)
    b.train(buf, steps=5)
    wa, wb = _weights(a), _weights(b)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert b.optimizer.param_groups[0]["betas"] == a.optimizer.param_groups[0]["betas"]
    assert b.optimizer.param_groups[0]["weight_decay"] == 0.01


def test_fresh_optimizer_state_differs(dataset: PolicyValueArrays) -> None:
    """The control for the round trip: without the saved moments, the next steps differ."""
    buf = _buffer(dataset)
    a = _learner(seed=1)
    a.train(buf, steps=10)
    b = _learner(seed=1)
    b.net.load_state_dict(copy.deepcopy(a.net.state_dict()))
    b.generator.set_state(a.generator.get_state())
    a.train(buf, steps=5)
    b.train(buf, steps=5)
    wa, wb = _weights(a), _weights(b)
    assert not all(torch.equal(wa[k], wb[k]) for k in wa)


def test_optimizer_checkpoint_of_an_unused_optimizer_restores_hyperparameters() -> None:
    net = torch.nn.Linear(3, 2)
    opt = torch.optim.AdamW(net.parameters(), lr=0.01, betas=(0.8, 0.9), weight_decay=0.1)
    tensors, meta = optimizer_to_checkpoint(opt)
    assert tensors == {}
    meta = json.loads(json.dumps(meta))
    fresh = torch.optim.AdamW(torch.nn.Linear(3, 2).parameters(), lr=0.5)
    optimizer_from_checkpoint(fresh, tensors, meta)
    g = fresh.param_groups[0]
    assert (g["lr"], g["betas"], g["weight_decay"]) == (0.01, (0.8, 0.9), 0.1)
    assert fresh.state_dict()["state"] == {}


def test_learner_default_steps_come_from_the_config(dataset: PolicyValueArrays) -> None:
    learner = _learner(steps_per_iteration=7)
    assert learner.train(_buffer(dataset)).steps == 7
    assert learner.steps_done == 7
    learner.train(_buffer(dataset), steps=3)
    assert learner.steps_done == 10


def test_symmetry_augmentation_maps_positions_to_positions_with_their_optimal_moves() -> None:
    """Every augmented row is a real tic-tac-toe position (legal = empty cells) whose policy target is still
    exactly its set of optimal moves: the board and the actions were permuted alike."""
    from zeroforge.tasks.games.tictactoe import TicTacToeState

    solver = NegamaxSolver(TTT)
    states = _positions(32, 1)
    tokens = torch.from_numpy(np.stack([s.observation for s in states]))
    masks = torch.from_numpy(np.stack([s.legal_action_mask for s in states]))
    pis = torch.zeros(32, 9)
    for i, s in enumerate(states):
        pis[i, solver.optimal_actions(s)] = 1.0
    learner = Learner(torch.nn.Linear(1, 1), TrainConfig(), seed=0, symmetries=TTT.symmetries())
    changed = 0
    for _ in range(4):
        t2, m2, p2 = learner._augment(tokens, masks, pis)
        changed += int((t2 != tokens).any(dim=1).sum())
        assert torch.equal(m2, t2 == 0)
        for i, s in enumerate(states):
            me = s.current_player + 1
            board = bytes(0 if v == 0 else (me if v == 1 else 3 - me) for v in t2[i].tolist())
            image = TicTacToeState(s.current_player, m2[i].numpy(), False, s.rewards, t2[i].numpy(),
                                   s.step_count, board)
            assert np.flatnonzero(p2[i].numpy()).tolist() == solver.optimal_actions(image)
    assert changed > 0  # the symmetries were applied


def test_transformer_learns_a_pointer_task() -> None:
    """A relation between tokens, what attention is for: the policy must point at the one of 6 slots whose
    token equals the query token (position 0). 300 Adam steps on fresh random batches reach > 90 %."""
    torch.manual_seed(0)
    net = TransformerNet(vocab_size=16, seq_len=7, num_actions=6, embed_dim=16, hidden=32, num_layers=1)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)

    def batch(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        slots = torch.stack([torch.randperm(16)[:6] for _ in range(n)])  # 6 distinct tokens a row
        answer = torch.randint(0, 6, (n,))
        return torch.cat([slots[torch.arange(n), answer][:, None], slots], dim=1), answer

    for _ in range(300):
        tokens, answer = batch(64)
        loss = torch.nn.functional.cross_entropy(net(tokens)[0], answer)
        opt.zero_grad()
        loss.backward()
        opt.step()
    tokens, answer = batch(512)
    with torch.no_grad():
        accuracy = (net(tokens)[0].argmax(-1) == answer).float().mean().item()
    assert accuracy > 0.9, accuracy


def test_length_chunks_add_up_to_the_whole_minibatch_gradient() -> None:
    """A structured minibatch of mixed lengths (a mix: mazes of 9 x 9 squares next to short knapsacks) is trained
    in length chunks (``Learner.CHUNK_SPREAD``); the gradient the optimiser steps with is the whole minibatch's
    (one padded forward pass, ``alphazero_loss``), to float tolerance, and so are the reported losses."""
    from zeroforge.nets.inputs import length_buckets, state_inputs, token_lengths

    task = make_task("mix", families={"maze": {"size": 4}, "knapsack": {"num_items": 6}})
    states = [task.initial_state(seed, level) for seed in range(48) for level in (1, task.difficulty_levels)]
    tokens, pointers = state_inputs(states)
    masks = np.stack([s.legal_action_mask for s in states])
    policies = (masks / masks.sum(axis=1, keepdims=True)).astype(np.float32)
    policies[::5] = 0.0  # some rows without a policy target
    values = np.random.default_rng(0).uniform(-1, 1, len(states)).astype(np.float32)
    data = PolicyValueArrays(tokens, masks, policies, values, pointers)
    cfg = TrainConfig(batch_size=64, steps_per_iteration=1, l2_coef=1e-3, grad_clip=1e9, augment_symmetries=False)
    net = build_net(NetConfig(kind="pointer", embed_dim=16, hidden=32, num_layers=2), task)
    learner = Learner(copy.deepcopy(net), cfg, seed=3)
    seen: dict[str, torch.Tensor] = {}

    def record(*_: object, **__: object) -> None:
        seen.update({n: p.grad.clone() for n, p in learner.net.named_parameters() if p.grad is not None})

    learner.optimizer.step = record  # type: ignore[method-assign]
    got = learner.train(data)
    rows = torch.randint(len(states), (64,), generator=torch.Generator().manual_seed(3)).numpy()
    batch = data.take(rows)
    assert len(length_buckets(token_lengths(batch.observations), Learner.CHUNK_SPREAD, Learner.CHUNK_MIN_ROWS)) > 1
    net.train()
    logits, v = net(*(torch.from_numpy(x) for x in batch.inputs()))
    weights = [p for n, p in net.named_parameters() if not n.endswith("bias")]
    want = alphazero_loss(logits, v, torch.from_numpy(batch.masks), torch.from_numpy(batch.policies),
                          torch.from_numpy(batch.values), weights, cfg.value_loss_weight, cfg.l2_coef)
    want.total.backward()
    assert seen.keys() == {n for n, p in net.named_parameters() if p.grad is not None}
    for name, p in net.named_parameters():
        if p.grad is not None:
            torch.testing.assert_close(seen[name], p.grad, rtol=1e-4, atol=1e-6, msg=name)
    assert got.loss_policy == pytest.approx(want.policy, rel=1e-5)
    assert got.loss_value == pytest.approx(want.value, rel=1e-5)
    assert got.loss_total == pytest.approx(float(want.total.detach()), rel=1e-5)
