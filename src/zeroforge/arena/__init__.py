"""Evaluation: matches between agents, Elo ratings, anchors and gating."""
