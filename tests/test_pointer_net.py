"""The size-free path: ``PointerNet``, structured inputs through evaluators, the episode table, Parquet, targets and
the learner, on a toy structured task (``structured_toy.PickMax``: point at the largest item)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from structured_toy import MAX_ITEMS, PickMax
from zeroforge.data.buffer import EpisodeBuffer
from zeroforge.data.parquet import load_parquet, save_parquet
from zeroforge.data.table import EpisodeTable
from zeroforge.data.targets import targets
from zeroforge.nets import build_net
from zeroforge.nets.inputs import length_buckets, state_inputs
from zeroforge.nets.params import NetConfig
from zeroforge.nets.pointer import PointerNet, distance_features, feature_matches
from zeroforge.search.evaluator import CachingEvaluator, NetworkEvaluator
from zeroforge.search.params import MCTSConfig
from zeroforge.selfplay.demonstrations import demonstration_episodes
from zeroforge.selfplay.generator import SelfPlayEpisodeGenerator
from zeroforge.tasks import make_task
from zeroforge.tasks.structured import check_structured, token_rows
from zeroforge.train.learner import Learner
from zeroforge.train.params import TrainConfig


def net(seed: int = 0, match_bias: bool = False, distance_bias: bool = False) -> PointerNet:
    """A small pointer net; with ``match_bias`` / ``distance_bias`` their weights are random (they start at zero)."""
    torch.manual_seed(seed)
    model = PointerNet(embed_dim=32, hidden=64, num_layers=2, match_bias=match_bias,
                       distance_bias=distance_bias).eval()
    with torch.no_grad():
        for layer in model.layers:
            for weights in (layer.match, layer.distance):
                if weights is not None:
                    weights.normal_()
        if model.pair_distance is not None:
            model.pair_distance.weight.normal_()
    return model


def forward(model: PointerNet, states: list) -> tuple[np.ndarray, np.ndarray]:
    tokens, pointers = state_inputs(states)
    with torch.no_grad():
        logits, values = model(torch.from_numpy(tokens), torch.from_numpy(pointers))
    return logits.numpy(), values.numpy()


def test_toy_states_keep_the_contract() -> None:
    task = PickMax()
    for values in ([3, 1], [5, 9, 2, 7], list(range(MAX_ITEMS))):
        s = task.make(values)
        check_structured(task, s)
        check_structured(task, task.step(s, 0))


BIASES = [{}, {"match_bias": True}, {"distance_bias": True}]


@pytest.mark.parametrize("biases", BIASES)
def test_set_members_are_permutation_equivariant(biases: dict[str, bool]) -> None:
    """Items of a set have no positions: permuting them permutes the logits and keeps the value."""
    task, model = PickMax(), net(**biases)
    values = [17, 3, 88, 41, 56, 9]
    perm = [4, 0, 5, 2, 1, 3]
    logits, value = forward(model, [task.make(values)])
    logits_p, value_p = forward(model, [task.make([values[p] for p in perm])])
    np.testing.assert_allclose(logits_p[0, :6], logits[0, perm], atol=1e-5)
    np.testing.assert_allclose(value_p, value, atol=1e-5)


@pytest.mark.parametrize("biases", BIASES)
def test_padding_and_batch_company_change_nothing(biases: dict[str, bool]) -> None:
    task, model = PickMax(), net(**biases)
    small, large = task.make([5, 70, 12]), task.make(list(range(3, 60, 3)))
    alone, value_alone = forward(model, [small])
    together, value_together = forward(model, [small, large])
    np.testing.assert_allclose(together[0, :3], alone[0, :3], atol=1e-5)
    np.testing.assert_allclose(value_together[0], value_alone[0], atol=1e-5)


def test_feature_matches_link_a_chain_of_rules() -> None:
    """Rules ``p -> q`` as tokens ``(type, a=premise, b=conclusion)``: rule 0's conclusion is rule 1's premise (5),
    rule 1's conclusion is rule 2's premise (9); the (b_i, a_j) channel marks exactly those links (indices shifted by
    the summary token), and nothing involves the summary token."""
    tokens = torch.tensor([[[80, 2, 5, 0, 0], [80, 5, 9, 0, 0], [80, 9, 2, 0, 0]]])
    m = feature_matches(tokens)
    assert m.shape == (1, 4, 4, 4)
    links = {(int(i), int(j)) for i, j in torch.nonzero(m[0, 2])}
    assert links == {(1, 2), (2, 3), (3, 1)}  # 5 = 5, 9 = 9, and rule 2 concludes rule 0's premise 2
    assert torch.equal(m[0, 0], torch.eye(4) - torch.diag(torch.tensor([1.0, 0, 0, 0])))  # a_i == a_j: itself
    assert m[0, :, 0].sum() == 0 and m[0, :, :, 0].sum() == 0


def test_distance_features_of_a_right_triangle() -> None:
    """Tokens at feature coordinates (0, 0), (300, 0), (0, 400) of the 1024-value range: distances 300, 400 and 500
    over 1024 (the 3-4-5 triangle); ``exp(-d / s)`` is 1 on the diagonal; pairs with the summary token are 0."""
    tokens = torch.tensor([[[90, 0, 0, 0, 0], [90, 300, 0, 0, 0], [90, 0, 400, 0, 0]]])
    phi = distance_features(tokens)
    assert phi.shape == (1, 4, 4, 4)
    d = torch.tensor([[0, 300, 400], [300, 0, 500], [400, 500, 0]]) / 1024
    torch.testing.assert_close(phi[0, 1:, 1:, 0], d)
    torch.testing.assert_close(phi[0, 1:, 1:, 2], torch.exp(-d / 0.15))
    assert torch.equal(torch.diagonal(phi[0, 1:, 1:, 1]), torch.ones(3))
    assert phi[0, 0].abs().sum() == 0 and phi[0, :, 0].abs().sum() == 0


def test_pointer_logits_read_the_distance_of_the_pair_they_name() -> None:
    """The logit of pointer ``(kind, i, j)`` is ``w . relu(W_s h_i + W_d h_j + e_kind + W_g phi(d_ij))``, recomputed
    here by hand from the encoded tokens for pointers whose pairs are at three different distances; the distance
    term changes them (zeroing ``W_g`` gives other logits)."""
    tokens = torch.tensor([[[90, 500, 500, 0, 0], [91, 510, 500, 0, 0], [91, 900, 500, 0, 0], [91, 40, 60, 0, 0]]])
    pointers = torch.tensor([[[1000, 1, 2], [1000, 1, 3], [1001, 3, 4], [1000, 0, 0]]])
    model = net(distance_bias=True)
    with torch.no_grad():
        logits, _ = model(tokens, pointers)
        phi = distance_features(tokens)[0]
        h = model.encode(tokens)[0]
        assert model.pair_distance is not None
        for a, (kind, i, j) in enumerate(pointers[0].tolist()):
            z = torch.relu(model.src(h[i]) + model.dst(h[j]) + model.kind_embed.weight[kind]
                           + model.pair_distance(phi[i, j]))
            torch.testing.assert_close(logits[0, a], model.logit(z)[0])
        model.pair_distance.weight.zero_()
        assert not torch.allclose(model(tokens, pointers)[0], logits, atol=1e-4)


def test_grid_positions_are_relative() -> None:
    """Shifting every token of a grid by the same offset changes nothing: the net reads only differences."""
    model = net()
    for layer in model.layers:  # learned biases start at zero; give them values so positions matter
        torch.nn.init.normal_(layer.bias, std=1.0)
    grid = np.array([(240, 1, 0, r, c) for r in range(3) for c in range(4)], np.int64)
    shifted = grid + np.array([0, 0, 0, 7, 11])
    pointers = torch.tensor([[[1000, 1, 2], [1001, 5, 6]]])
    with torch.no_grad():
        a = model(torch.from_numpy(grid)[None], pointers)
        b = model(torch.from_numpy(shifted)[None], pointers)
        moved = model(torch.from_numpy(np.array([*grid[:-1], (240, 1, 0, 9, 9)]))[None], pointers)
    np.testing.assert_allclose(a[0].numpy(), b[0].numpy(), atol=1e-5)
    assert not np.allclose(a[0].numpy(), moved[0].numpy(), atol=1e-4)


def test_length_buckets_keep_padding_small() -> None:
    lengths = np.array([10, 120, 11, 100, 12, 10, 125])
    groups = length_buckets(lengths)
    assert sorted(np.concatenate(groups).tolist()) == list(range(len(lengths)))
    for g in groups:
        assert lengths[g].max() <= 1.25 * lengths[g].min()
    assert len(groups) == 2


def test_evaluators_on_mixed_sizes_equal_one_by_one() -> None:
    task, model = PickMax(), net(1)
    states = [task.make(list(range(n, 0, -1))) for n in (2, 9, 3, 24, 8)]
    ev = NetworkEvaluator(model)
    priors, values = ev.evaluate_states(task, states)
    for i, s in enumerate(states):
        p, v = NetworkEvaluator(model).evaluate_states(task, [s])
        np.testing.assert_allclose(priors[i], p[0], atol=1e-5)
        np.testing.assert_allclose(values[i], v[0], atol=1e-5)
        assert priors[i, len(s.values):].sum() == 0 and abs(priors[i].sum() - 1) < 1e-5
    cache = CachingEvaluator(NetworkEvaluator(model), 100)
    np.testing.assert_allclose(cache.evaluate_states(task, states + states[:2])[0][:5], priors, atol=1e-5)
    assert (cache.hits, cache.misses) == (2, 5)


def mixed_episodes() -> list:
    """Searched episodes of three instance sizes (one table holds them all)."""
    out = []
    for n in (3, 7, 12):
        task = PickMax(n)
        gen = SelfPlayEpisodeGenerator(task, NetworkEvaluator(net(2)), MCTSConfig(num_simulations=8))
        out += gen.generate(range(4), np.random.default_rng(n))
    return out


def test_structured_table_parquet_and_targets_round_trip(tmp_path: Path) -> None:
    eps = mixed_episodes()
    table = EpisodeTable.from_episodes(eps, PickMax.vocab_size)
    assert table.structured and table.token_fields == 5 and table.seq_len == 13
    assert table.observation_lengths.tolist() == [len(ep.states[0].observation) for ep in eps]
    for r, ep in enumerate(eps):
        np.testing.assert_array_equal(table.observation(r), ep.states[0].observation)
    got = targets(table)
    assert got.observations.shape == (len(eps), 13, 5) and got.pointers is not None
    np.testing.assert_array_equal(got.observations[0, :4], eps[0].states[0].observation)
    assert (got.observations[0, 4:] == 0).all()  # padding
    np.testing.assert_array_equal(got.pointers[4, :7], eps[4].states[0].action_pointers()[:7])
    assert (got.pointers[0, 3:] == 0).all()  # illegal actions point nowhere
    path = tmp_path / "episodes.parquet"
    save_parquet(table, path)
    back = load_parquet(path, 10**8).table()
    for name in table.array_names():
        np.testing.assert_array_equal(getattr(back, name), getattr(table, name), err_msg=name)
    again = targets(back)
    for name in ("observations", "masks", "policies", "values", "pointers"):
        np.testing.assert_array_equal(getattr(again, name), getattr(got, name), err_msg=name)
    buf = EpisodeBuffer(10**8)
    buf.CHUNK_EPISODES = 5
    buf.add(table)
    rows = np.array([11, 0, 5, 5, 9])
    part = buf.take(rows)
    np.testing.assert_array_equal(part.pointers, got.pointers[rows])
    np.testing.assert_array_equal(part.observations, got.observations[rows][:, :part.observations.shape[1]])
    restored = EpisodeBuffer(10**8)
    restored.load_state_arrays(buf.state_arrays())
    np.testing.assert_array_equal(restored.take(rows).observations, part.observations)


def test_a_flat_net_refuses_a_structured_task_and_a_structured_net_reads_a_flat_one() -> None:
    with pytest.raises(ValueError, match=r"use net\.kind 'pointer'"):
        build_net(NetConfig(kind="transformer"), PickMax())
    with pytest.raises(ValueError, match=r"net\.recurrence is for the structured nets"):
        build_net(NetConfig(kind="mlp", recurrence=2), make_task("tictactoe"))
    view = build_net(NetConfig(kind="pointer"), make_task("tictactoe"))
    tokens, pointers = view.structured_inputs(torch.tensor([[0, 1, 2, 0, 0, 0, 0, 0, 1]]))
    assert tokens[0, :, 1].tolist() == [0, 1, 2, 0, 0, 0, 0, 0, 1] and tokens[0, :, 4].tolist() == list(range(9))
    assert pointers[0, :, 0].tolist() == list(range(9)) and int(pointers[0, :, 1:].abs().sum()) == 0


def test_supervised_pointer_net_generalises_to_larger_sets() -> None:
    """Trained on the solver's choices for 3..8 items, the net points at the maximum of 16 and 24 items: one
    checkpoint, any size (a known answer: the argmax)."""
    train = [ep for n in range(3, 9) for ep in demonstration_episodes(PickMax(n), range(n * 1000, n * 1000 + 120))]
    buf = EpisodeBuffer(10**8)
    buf.add(EpisodeTable.from_episodes(train, PickMax.vocab_size))
    model = net(3).train()
    learner = Learner(model, TrainConfig(batch_size=64, learning_rate=3e-3, steps_per_iteration=800), seed=0)
    learner.train(buf)
    model.eval()
    for n in (5, 16, MAX_ITEMS):
        states = [PickMax(n).initial_state(10**6 + s) for s in range(100)]
        priors, _ = NetworkEvaluator(model).evaluate_states(PickMax(n), states)
        right = np.mean([np.argmax(p) == np.argmax(s.values) for p, s in zip(priors, states, strict=True)])
        assert right >= 0.75, (n, right)  # chance: 1 / n


def test_token_rows_are_read_only() -> None:
    tokens = token_rows([(240, 1, 2, 3, 4)])
    assert tokens.shape == (1, 5) and not tokens.flags.writeable


def test_progressive_recurrence_trains_on_partial_repeats_and_evaluates_in_full() -> None:
    """A progressive net evaluates exactly as the same weights without it (all repeats); in training, about half the
    passes run a random split of the repeats, the rest all of them, and every pass still carries a gradient."""
    task = PickMax()
    tokens, pointers = (torch.from_numpy(x) for x in state_inputs([task.make([4, 9, 1]), task.make([7, 2])]))
    torch.manual_seed(0)
    plain = PointerNet(embed_dim=16, hidden=32, num_layers=1, recurrence=4).eval()
    progressive = PointerNet(embed_dim=16, hidden=32, num_layers=1, recurrence=4, progressive=True).eval()
    progressive.load_state_dict(plain.state_dict())
    with torch.no_grad():
        for a, b in zip(plain(tokens, pointers), progressive(tokens, pointers), strict=True):
            assert torch.equal(a, b)
        full = plain(tokens, pointers)[0]
    progressive.train()
    torch.manual_seed(1)
    differs = 0
    for _ in range(40):
        logits, value = progressive(tokens, pointers)
        (logits.sum() + value.sum()).backward()
        assert progressive.summary.grad is not None and progressive.summary.grad.abs().sum() > 0
        progressive.zero_grad()
        differs += not torch.allclose(logits.detach(), full, atol=1e-6)
    assert 10 <= differs <= 35, differs  # a random split in about half the passes (some splits run all 4 repeats)


@pytest.mark.parametrize("flag", ["match_bias", "progressive", "distance_bias"])
def test_pointer_only_flags_are_refused_for_a_flat_net(flag: str) -> None:
    with pytest.raises(ValueError, match=f"net.{flag} is for the structured nets .*; net kind 'mlp' has none"):
        build_net(NetConfig(kind="mlp", **{flag: True}), make_task("tictactoe"))
