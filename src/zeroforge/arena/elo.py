"""Elo ratings from game records: Bradley–Terry maximum likelihood on the Elo scale.

The model: ``P(a beats b) = 1 / (1 + 10 ** ((r_b - r_a) / 400))``; a draw counts as half a win for each
side. `fit_elo` maximises the likelihood of all games at once (not the order-dependent incremental Elo
update), with the anchor player pinned to ``anchor_rating``. A weak prior of ``prior_games`` virtual
draws of every player against the anchor keeps ratings finite when someone won or lost every game and
ties every player to the anchor's pool. The solver is Newton's method with a backtracking line search on
the concave log-likelihood: deterministic, and converged to machine precision in a few steps.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["ELO_SCALE", "GameRecord", "expected_score", "fit_elo"]

ELO_SCALE = 400.0 / math.log(10.0)  # natural-log strength -> Elo points
_VALID_SCORES = (0.0, 0.5, 1.0)


@dataclass(frozen=True)
class GameRecord:
    """One finished game: ``score_a`` is 1 if ``player_a`` won, 0.5 for a draw, 0 if it lost."""

    player_a: str
    player_b: str
    score_a: float

    def __post_init__(self) -> None:
        if self.score_a not in _VALID_SCORES or isinstance(self.score_a, bool):
            raise ValueError(f"game score_a must be 0, 0.5 or 1, got {self.score_a!r}")
        if self.player_a == self.player_b:
            raise ValueError(f"a game needs two different players, got {self.player_a!r} twice")


def expected_score(ra: float, rb: float) -> float:
    """Expected score of a player rated ``ra`` against one rated ``rb`` (win 1, draw 0.5)."""
    return 1.0 / (1.0 + math.pow(10.0, (rb - ra) / 400.0))


def _log_likelihood(theta: np.ndarray, wins: np.ndarray, counts: np.ndarray) -> float:
    # sum_i W_i theta_i - sum_{i<j} n_ij log(exp(theta_i) + exp(theta_j))
    pair = np.logaddexp(theta[:, None], theta[None, :])
    return float(wins @ theta - 0.5 * np.sum(counts * pair))


def _connected(adjacency: np.ndarray) -> bool:
    """Every node reachable from node 0 along ``adjacency[i, j] > 0`` edges."""
    seen = {0}
    frontier = [0]
    while frontier:
        node = frontier.pop()
        for other in np.flatnonzero(adjacency[node] > 0):
            if int(other) not in seen:
                seen.add(int(other))
                frontier.append(int(other))
    return len(seen) == int(adjacency.shape[0])


def fit_elo(
    games: Sequence[GameRecord],
    anchor: str,
    anchor_rating: float = 0.0,
    prior_games: float = 1.0,
    *,
    tol: float = 1e-10,
    max_iter: int = 200,
) -> dict[str, float]:
    """Maximum-likelihood Elo rating of every player in ``games``, with ``anchor`` at ``anchor_rating``.

    Each player other than the anchor gets ``prior_games`` virtual draws against the anchor (a weak
    prior: finite ratings for perfect records). With ``prior_games=0`` the plain MLE is returned, which
    needs every player to have scored and conceded within the pool (else ValueError: infinite rating).
    Returns ``{player: rating}`` in sorted player order.
    """
    if not math.isfinite(prior_games) or prior_games < 0:
        raise ValueError(f"prior_games must be a finite number >= 0, got {prior_games!r}")
    if not math.isfinite(anchor_rating):
        raise ValueError(f"anchor_rating must be finite, got {anchor_rating!r}")
    players = sorted({g.player_a for g in games} | {g.player_b for g in games})
    if anchor not in players:
        raise ValueError(f"anchor {anchor!r} played no game (players: {players})")
    index = {name: i for i, name in enumerate(players)}
    k = len(players)
    counts = np.zeros((k, k))  # games between i and j (symmetric)
    scored = np.zeros((k, k))  # points i scored against j
    for game in games:
        if game.score_a not in _VALID_SCORES or game.player_a == game.player_b:
            raise ValueError(f"invalid game record {game!r}")
        a, b = index[game.player_a], index[game.player_b]
        counts[a, b] += 1.0
        counts[b, a] += 1.0
        scored[a, b] += game.score_a
        scored[b, a] += 1.0 - game.score_a
    anchor_i = index[anchor]
    if prior_games > 0:
        for i in range(k):
            if i != anchor_i:
                counts[i, anchor_i] += prior_games
                counts[anchor_i, i] += prior_games
                scored[i, anchor_i] += prior_games / 2
                scored[anchor_i, i] += prior_games / 2
    if k == 1:
        return {anchor: float(anchor_rating)}
    # finite MLE <=> the "scored at least something against" graph is strongly connected (Hunter 2004)
    if not (_connected(scored) and _connected(scored.T)):
        raise ValueError(
            "ratings are unbounded: some group of players won (or lost) every game against the rest; "
            "use prior_games > 0 or record more games"
        )
    wins = scored.sum(axis=1)
    free = np.array([i for i in range(k) if i != anchor_i])
    theta = np.zeros(k)
    objective = _log_likelihood(theta, wins, counts)
    for _ in range(max_iter):
        p = 1.0 / (1.0 + np.exp(theta[None, :] - theta[:, None]))  # p[i, j] = P(i beats j)
        gradient = wins - np.sum(counts * p, axis=1)
        curvature = counts * p * (1.0 - p)
        hessian = curvature - np.diag(curvature.sum(axis=1))  # negative definite on the free players
        g = gradient[free]
        if np.max(np.abs(g)) < tol:
            break
        step = np.linalg.solve(-hessian[np.ix_(free, free)], g)
        t = 1.0
        while True:  # backtracking: accept the first step that does not decrease the likelihood
            candidate = theta.copy()
            candidate[free] += t * step
            value = _log_likelihood(candidate, wins, counts)
            if value >= objective - 1e-12 * max(1.0, abs(objective)) or t < 1e-8:
                break
            t *= 0.5
        theta, objective = candidate, value
        if np.max(np.abs(t * step)) < tol:
            break
    return {name: float(anchor_rating + ELO_SCALE * theta[index[name]]) for name in players}
