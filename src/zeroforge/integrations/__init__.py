"""Bridges to other tools and benchmarks: DABStep (tasks, scorer)."""
