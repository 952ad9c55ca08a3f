"""The recursive reasoning nets (``TRMNet``, ``HRMNet``): their recursion structure against the papers (module calls
per forward, which steps carry a gradient), per-row halting in a batch, deep supervision (losses and optimiser
steps per minibatch), the weights' moving average, and learning a known answer on the toy structured task."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from structured_toy import PickMax
from zeroforge.data.buffer import EpisodeBuffer
from zeroforge.data.table import EpisodeTable
from zeroforge.nets import build_net
from zeroforge.nets.hrm import HRMNet
from zeroforge.nets.inputs import state_inputs
from zeroforge.nets.params import HRMConfig, NetConfig, TRMConfig
from zeroforge.nets.recursive import RecursiveNet
from zeroforge.nets.sequence import SequenceView
from zeroforge.nets.trm import TRMNet
from zeroforge.search.evaluator import NetworkEvaluator
from zeroforge.selfplay.demonstrations import demonstration_episodes
from zeroforge.tasks import make_task
from zeroforge.train import deep
from zeroforge.train.learner import Learner
from zeroforge.train.params import TrainConfig


def inputs(sizes: tuple[int, ...] = (4, 7, 3)) -> tuple[torch.Tensor, torch.Tensor]:
    """A padded batch of PickMax states with ``sizes`` items."""
    task = PickMax()
    rng = np.random.default_rng(0)
    states = [task.make(list(rng.integers(1, 50, n))) for n in sizes]
    tokens, pointers = state_inputs(states)
    return torch.from_numpy(tokens), torch.from_numpy(pointers)


def trm(**kw: object) -> TRMNet:
    torch.manual_seed(0)
    args: dict[str, object] = {"embed_dim": 16, "hidden": 32, "num_layers": 2, "cycles": 2, "latent_steps": 3,
                               "supervision_steps": 2}
    return TRMNet(**{**args, **kw})  # type: ignore[arg-type]


def hrm(**kw: object) -> HRMNet:
    torch.manual_seed(0)
    args: dict[str, object] = {"embed_dim": 16, "hidden": 32, "num_layers": 1, "cycles": 3, "low_steps": 2,
                               "supervision_steps": 2}
    return HRMNet(**{**args, **kw})  # type: ignore[arg-type]


def record_calls(layers: torch.nn.ModuleList) -> list[bool]:
    """Hooks on ``layers`` that append, per call, whether the layer's output carries a gradient."""
    calls: list[bool] = []
    for layer in layers:
        layer.register_forward_hook(lambda _m, _i, out: calls.append(bool(out.requires_grad)))
    return calls


def test_trm_runs_its_one_net_T_times_n_plus_1_per_segment_for_every_segment() -> None:
    net = trm().eval()
    calls = record_calls(net.layers)
    with torch.no_grad():
        net(*inputs())
    # never halts at initialisation (q_halt = -5): 2 segments x T=2 cycles x (n=3 latent + 1 answer) x 2 layers
    assert len(calls) == 2 * 2 * (3 + 1) * 2
    assert net.last_segments is not None and net.last_segments.tolist() == [2, 2, 2]


def test_trm_back_propagates_only_through_the_last_cycle() -> None:
    net = trm(supervision_steps=1).train()
    calls = record_calls(net.layers)
    logits, values = net(*inputs())
    # T=2 cycles of (3 + 1) updates through 2 layers: the first cycle (8 calls) without gradient, the last (8) with
    assert calls == [False] * 8 + [True] * 8
    (logits.sum() + values.sum()).backward()
    assert all(p.grad is not None for p in net.layers.parameters())
    assert net.type_embed.weight.grad is not None  # the input injection of the last cycle carries it


def test_hrm_runs_N_times_T_low_steps_and_N_high_steps_with_a_one_step_gradient() -> None:
    net = hrm(supervision_steps=1).train()
    low, high = record_calls(net.l_layers), record_calls(net.h_layers)
    logits, values = net(*inputs())
    assert low == [False] * (3 * 2 - 1) + [True]  # N=3 cycles x T=2 steps; only the last with gradient
    assert high == [False] * (3 - 1) + [True]
    (logits.sum() + values.sum()).backward()
    assert all(p.grad is not None for p in net.h_layers.parameters())
    assert all(p.grad is not None for p in net.l_layers.parameters())
    assert net.get_buffer("h_init").grad is None  # fixed initial states, as in the reference


def test_no_gradient_crosses_supervision_segments() -> None:
    net = trm().train()
    tokens, pointers = inputs()
    prepared = net.prepare(tokens)
    out = net.segment(prepared, pointers, net.initial_carry(prepared))
    assert not out.carry.y.requires_grad and not out.carry.z.requires_grad
    assert out.logits.requires_grad and out.q_halt.requires_grad


@pytest.mark.parametrize("make", [trm, hrm])
def test_each_row_halts_on_its_own_and_keeps_the_answer_of_its_last_segment(make: type[RecursiveNet]) -> None:
    """With a random halting head some rows stop after 1 segment and others think on: each row's output equals the
    output of a net with the same weights that never halts and runs exactly that row's segments; the batch call
    ends when every row has halted."""
    net = make(supervision_steps=4, adaptive_halting=True).eval()
    tokens, pointers = inputs((4, 7, 3, 5, 6, 2, 8, 4))
    with torch.no_grad():
        net.q_head.weight.normal_(std=10.0)
        net.q_head.bias.zero_()
        prepared = net.prepare(tokens)
        first = net.segment(prepared, pointers, net.initial_carry(prepared))
        margin = first.q_halt - first.q_continue if net.uses_continue else first.q_halt
        net.q_head.bias[0] -= margin.median()  # about half the rows halt after one segment
        logits, values = net(tokens, pointers)
    used = net.last_segments
    assert used is not None and len(set(used.tolist())) > 1, used  # rows differ in how long they think
    fixed = copy.deepcopy(net)
    with torch.no_grad():
        fixed.q_head.bias.fill_(-1e4)  # never halts before the cap
        fixed.q_head.weight.zero_()
    for k in set(used.tolist()):
        fixed.segments = k
        with torch.no_grad():
            ref_logits, ref_values = fixed(tokens, pointers)
        rows = used == k
        mask = torch.from_numpy(np.ones(pointers.shape[:2], bool))
        torch.testing.assert_close(logits[rows][mask[rows]], ref_logits[rows][mask[rows]], rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(values[rows], ref_values[rows], rtol=1e-4, atol=1e-5)


def test_the_batch_call_ends_when_all_rows_halted() -> None:
    net = trm(supervision_steps=5, adaptive_halting=True).eval()
    with torch.no_grad():
        net.q_head.bias.fill_(10.0)  # every row halts after its first segment
    calls = record_calls(net.layers)
    with torch.no_grad():
        net(*inputs())
    assert len(calls) == 1 * 2 * (3 + 1) * 2
    assert net.last_segments is not None and net.last_segments.tolist() == [1, 1, 1]
    assert net.last_halt_probability is not None and bool((net.last_halt_probability > 0.99).all())


@pytest.mark.parametrize("make", [trm, hrm])
def test_without_adaptive_halting_every_row_runs_all_segments(make: type[RecursiveNet]) -> None:
    """The reference code's evaluation (and the default): a halting head that says "stop" everywhere still runs
    every row through all ``segments``, and the output is that of the last segment."""
    net = make(supervision_steps=3).eval()
    with torch.no_grad():
        net.q_head.bias.copy_(torch.tensor([10.0, -10.0]))  # q_halt > 0 and q_halt > q_continue
        logits, _ = net(*inputs())
    assert net.last_segments is not None and net.last_segments.tolist() == [3, 3, 3]
    net.adaptive_halting = True
    with torch.no_grad():
        one_logits, _ = net(*inputs())
    assert net.last_segments is not None and net.last_segments.tolist() == [1, 1, 1]
    assert not torch.allclose(logits, one_logits)


def toy_buffer(sizes: range = range(3, 9), per_size: int = 60) -> EpisodeBuffer:
    episodes = [ep for n in sizes for ep in demonstration_episodes(PickMax(n), range(n * 1000, n * 1000 + per_size))]
    buf = EpisodeBuffer(10**8)
    buf.add(EpisodeTable.from_episodes(episodes, PickMax.vocab_size))
    return buf


@pytest.mark.parametrize("make", [trm, hrm])
def test_deep_supervision_takes_one_loss_and_one_optimiser_step_per_segment(
        make: type[RecursiveNet], monkeypatch: pytest.MonkeyPatch) -> None:
    net = make(supervision_steps=3, halt_exploration=0.0)
    with torch.no_grad():
        net.q_head.bias.copy_(torch.tensor([-20.0, 20.0]))  # no row halts early (q_halt < 0, q_halt < q_continue)
    learner = Learner(net, TrainConfig(batch_size=16, steps_per_iteration=2), seed=0)
    losses: list[int] = []
    real = deep.alphazero_loss

    def counted(*args: object, **kwargs: object) -> object:
        losses.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(deep, "alphazero_loss", counted)
    steps: list[int] = []
    original_step = learner.optimizer.step
    monkeypatch.setattr(learner.optimizer, "step", lambda *a, **k: (steps.append(1), original_step(*a, **k))[1])
    metrics = learner.train(toy_buffer(range(5, 6), 20))  # one length: one chunk per minibatch
    # 2 minibatches x 3 segments, one loss and one optimiser step each
    assert len(losses) == 6 and len(steps) == 6
    assert metrics.segments == 3.0 and metrics.loss_halt is not None and metrics.loss_halt > 0
    assert "supervision_segments" in metrics.as_metrics()


def test_rows_that_halt_leave_the_minibatch_and_all_halted_ends_it(monkeypatch: pytest.MonkeyPatch) -> None:
    net = trm(supervision_steps=4, halt_exploration=0.0)
    with torch.no_grad():
        net.q_head.bias.fill_(20.0)  # every row says "halt" after its first segment
    learner = Learner(net, TrainConfig(batch_size=16, steps_per_iteration=3, learning_rate=1e-6), seed=0)
    metrics = learner.train(toy_buffer(range(5, 6), 20))
    assert metrics.segments == 1.0


def test_exploration_sets_a_minimum_of_2_to_n_segments() -> None:
    g = torch.Generator().manual_seed(0)
    m = deep.exploration_minimum(10_000, 5, 0.1, g)
    explored = m[m > 0]
    assert 0.08 < len(explored) / 10_000 < 0.12
    assert int(explored.min()) == 2 and int(explored.max()) == 5


def test_answer_is_right_compares_the_top_legal_action_with_the_target() -> None:
    logits = torch.tensor([[3.0, 1.0, 9.0], [0.0, 2.0, 1.0], [0.0, 0.0, 0.0]])
    masks = torch.tensor([[True, True, False], [True, True, True], [True, True, True]])
    pis = torch.tensor([[1.0, 0.0, 0.0], [0.2, 0.3, 0.5], [0.0, 0.0, 0.0]])
    right = deep.answer_is_right(logits, torch.tensor([0.0, 0.0, -0.4]), masks, pis, torch.tensor([1.0, 1.0, -1.0]))
    # row 0: the illegal 9.0 is ignored, action 0 is the target's; row 1: 1 chosen, 2 wanted; row 2: value sign
    assert right.tolist() == [True, False, True]


def test_ema_moves_towards_the_trained_weights_with_a_warm_up_decay() -> None:
    net = trm(supervision_steps=1)
    learner = Learner(net, TrainConfig(batch_size=8, steps_per_iteration=1, ema_decay=0.999), seed=0)
    before = [p.detach().clone() for p in learner.candidate.parameters()]
    learner.train(toy_buffer(range(5, 6), 10))
    # one update at t=0: decay min(0.999, 1/10) = 0.1, so ema = 0.1 * before + 0.9 * trained
    for avg, old, w in zip(learner.candidate.parameters(), before, learner.net.parameters(), strict=True):
        torch.testing.assert_close(avg, 0.1 * old + 0.9 * w.detach())
    assert learner.candidate is not learner.net and learner.ema_updates == 1


def test_ema_is_saved_and_restored_with_the_learner(tmp_path: object) -> None:
    from zeroforge.checkpoint import load_checkpoint, save_checkpoint

    learner = Learner(trm(supervision_steps=1), TrainConfig(batch_size=8, steps_per_iteration=2, ema_decay=0.99), 0)
    learner.train(toy_buffer(range(5, 6), 10))
    tensors, state = learner.checkpoint()
    path = save_checkpoint(tmp_path, 0, tensors, state)  # type: ignore[arg-type]
    other = Learner(trm(supervision_steps=1), TrainConfig(batch_size=8, steps_per_iteration=2, ema_decay=0.99), 0)
    other.restore(load_checkpoint(path))
    assert other.ema_updates == 2
    for a, b in zip(other.candidate.parameters(), learner.candidate.parameters(), strict=True):
        torch.testing.assert_close(a, b)


def test_config_builds_both_nets_with_the_papers_knobs_and_rejects_pointer_only_flags() -> None:
    task = PickMax()
    net = build_net(NetConfig(kind="trm", trm=TRMConfig(cycles=2, latent_steps=4, supervision_steps=3)), task)
    assert isinstance(net, TRMNet) and (net.cycles, net.latent_steps, net.supervision_steps) == (2, 4, 3)
    h = build_net(NetConfig(kind="hrm", hrm=HRMConfig(cycles=3, low_steps=5, supervision_steps=2)), task)
    assert isinstance(h, HRMNet) and (h.cycles, h.low_steps, h.supervision_steps) == (3, 5, 2)
    with pytest.raises(ValueError, match=r"net\.recurrence is for the pointer net"):
        build_net(NetConfig(kind="trm", recurrence=3), task)
    with pytest.raises(ValueError, match="cycles must be an integer >= 1"):
        net.recurrence = 0


def test_a_flat_task_reaches_a_recursive_net_as_a_token_sequence() -> None:
    task = make_task("tictactoe")
    net = build_net(NetConfig(kind="trm", embed_dim=16, hidden=32, trm=TRMConfig(supervision_steps=2)), task)
    assert isinstance(net, SequenceView) and isinstance(net.inner, TRMNet)
    state = task.initial_state(0)
    priors, _ = NetworkEvaluator(net).evaluate_states(task, [state, state])
    assert priors.shape == (2, task.num_actions) and np.allclose(priors.sum(axis=1), 1.0)
    net.recurrence = 1
    assert net.inner.cycles == 1


@pytest.mark.parametrize("kind", ["trm", "hrm"])
def test_a_recursive_net_learns_to_point_at_the_largest_item_of_larger_sets(kind: str) -> None:
    """Trained by deep supervision on the solver's choices for 3..8 items, it points at the maximum of 12 items."""
    torch.manual_seed(1)
    cfg = NetConfig(kind=kind, embed_dim=32, hidden=64, num_layers=2 if kind == "trm" else 1,
                    trm=TRMConfig(cycles=2, latent_steps=2, supervision_steps=2),
                    hrm=HRMConfig(cycles=2, low_steps=2, supervision_steps=2))
    model = build_net(cfg, PickMax())
    learner = Learner(model, TrainConfig(batch_size=64, learning_rate=3e-3, steps_per_iteration=300), seed=0)
    learner.train(toy_buffer(range(3, 9), 100))
    model.eval()
    states = [PickMax(12).initial_state(10**6 + s) for s in range(100)]
    priors, _ = NetworkEvaluator(model).evaluate_states(PickMax(12), states)
    right = np.mean([np.argmax(p) == np.argmax(s.values) for p, s in zip(priors, states, strict=True)])
    assert right >= 0.7, right  # chance: 1 / 12


def test_create_trm_agent_gives_an_untrained_trm_agent_that_the_trainer_trains(tmp_path: object) -> None:
    from zeroforge import SelfPlayTrainer, create_hrm_agent, create_trm_agent

    cfg = {"task": {"name": "tictactoe"}, "net": {"embed_dim": 16}}
    agent = create_trm_agent(cfg, num_simulations=4)
    assert isinstance(agent.net, SequenceView) and isinstance(agent.net.inner, TRMNet)
    assert agent.config is not None and agent.config.net.kind == "trm"
    assert agent.select_action(agent.task.initial_state(0)) in range(9)
    assert isinstance(create_hrm_agent(cfg).net.inner, HRMNet)  # type: ignore[union-attr]
    trainer = SelfPlayTrainer(agent=agent, run_dir=f"{tmp_path}/run")
    for ours, theirs in zip(trainer.best_net.state_dict().values(), agent.net.state_dict().values(), strict=True):
        assert torch.equal(ours, theirs)
    trainer.close()
    with pytest.raises(ValueError, match="made for another task or net"):
        SelfPlayTrainer({"task": {"name": "tictactoe"}}, run_dir=f"{tmp_path}/other", agent=agent)


def test_zeroforge_train_with_net_kind_trm_trains_and_saves_a_trm(tmp_path: object) -> None:
    from zeroforge import cli, load_agent

    run = f"{tmp_path}/trm"
    cli.main(["train", "--run-dir", run, "--set", "net.kind=trm", "--set", "iterations=1",
              "--set", "selfplay.games_per_iteration=8", "--set", "train.steps_per_iteration=3",
              "--set", "train.batch_size=16", "--set", "mcts.num_simulations=4", "--set", "arena.games=2",
              "--set", "arena.anchors=[random]", "--set", "arena.anchor_games=2"])
    agent = load_agent(run)
    assert isinstance(agent.net, SequenceView) and isinstance(agent.net.inner, TRMNet)
    import json
    from pathlib import Path

    metrics = json.loads(Path(run, "metrics.jsonl").read_text().splitlines()[-1])
    assert metrics["supervision_segments"] >= 1 and metrics["loss_halt"] > 0


def test_the_size_free_mlp_reads_each_token_and_the_mean_and_ignores_padding() -> None:
    from zeroforge.nets.token_mlp import TokenMLPNet

    net = build_net(NetConfig(kind="mlp", embed_dim=16, hidden=32), PickMax())
    assert isinstance(net, TokenMLPNet)
    assert not any("qkv" in name for name, _ in net.named_parameters())  # no attention anywhere
    tokens, pointers = inputs((4, 7, 3))
    n = int((tokens[2, :, 0] != 0).sum())
    with torch.no_grad():
        logits, values = net(tokens, pointers)
        alone_logits, alone_values = net(tokens[2:3, :n], pointers[2:3])  # row 2 without its padding
        torch.testing.assert_close(logits[2], alone_logits[0])
        torch.testing.assert_close(values[2], alone_values[0])
        changed = tokens[2:3, :n].clone()
        changed[0, 2, 1] += 5  # another token's feature moves the mean: item 0's logit moves with it
        moved, _ = net(changed, pointers[2:3])
    assert not torch.allclose(moved[0, 0], alone_logits[0, 0])


def test_zeroforge_solve_with_a_trm_agent_reports_its_confidence(tmp_path: object,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """A sudoku TRM run (one tiny supervised iteration) solves a hand-written 4 x 4 instance file; the JSON carries
    the net's halting probability as its confidence."""
    import json
    from pathlib import Path

    from zeroforge import cli

    run = f"{tmp_path}/sudoku"
    cli.main(["train", "--config", str(Path(__file__).parents[1] / "configs" / "sudoku.yaml"), "--run-dir", run,
              "--set", "net.kind=trm", "--set", "net.match_bias=false", "--set", "net.recurrence=1",
              "--set", "net.embed_dim=16", "--set", "net.hidden=32", "--set", "iterations=0",
              "--set", "supervised.iterations=1", "--set", "supervised.episodes_per_iteration=8",
              "--set", "supervised.steps_per_iteration=2", "--set", "arena.heldout_episodes=2", "--quiet"])
    instance = Path(f"{tmp_path}/grid.txt")
    instance.write_text("1...\n..1.\n.1..\n...1\n")
    capsys.readouterr()
    cli.main(["solve", "--task", "sudoku", "--agent", run, "--instance", str(instance), "--simulations", "16",
              "--adaptive-halting"])
    out = json.loads(capsys.readouterr().out)
    assert 0.0 <= out["confidence"] <= 1.0
    if out["verified"]:  # 16 simulations of search usually finish a 4 x 4 grid with 12 blanks
        grid = [[int(c) for c in row] for row in out["answer"].split("\n")]
        assert all(sorted(r) == [1, 2, 3, 4] for r in grid) and grid[0][0] == 1
