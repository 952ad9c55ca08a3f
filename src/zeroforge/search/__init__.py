"""Tree search: batched PUCT / Gumbel MCTS over array-backed trees, and the evaluators it calls."""

from zeroforge.search.evaluator import (
    CachingEvaluator,
    Evaluator,
    NetworkEvaluator,
    RolloutEvaluator,
    TokenEvaluator,
    UniformEvaluator,
)
from zeroforge.search.mcts import MCTS, make_mcts, select_from_visits
from zeroforge.search.trace import MCTSTrace
from zeroforge.search.tree import Tree

__all__ = [
    "MCTS",
    "CachingEvaluator",
    "Evaluator",
    "MCTSTrace",
    "NetworkEvaluator",
    "RolloutEvaluator",
    "TokenEvaluator",
    "Tree",
    "UniformEvaluator",
    "make_mcts",
    "select_from_visits",
]
