"""Single-agent multi-step reasoning tasks (planning, logic); importing registers them."""
