"""Tree search: batched PUCT MCTS over array-backed trees, and the evaluators it calls."""

from zeroforge.search.compiled import CompiledMCTS, make_mcts
from zeroforge.search.evaluator import (
    CachingEvaluator,
    Evaluator,
    NetworkEvaluator,
    RolloutEvaluator,
    TokenEvaluator,
    UniformEvaluator,
)
from zeroforge.search.mcts import MCTS, select_from_visits
from zeroforge.search.trace import MCTSTrace
from zeroforge.search.tree import Tree

__all__ = [
    "MCTS",
    "CachingEvaluator",
    "CompiledMCTS",
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
