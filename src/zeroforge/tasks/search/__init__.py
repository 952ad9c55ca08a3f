"""Single-agent search tasks (path finding, arithmetic search, ...); importing registers them."""
