"""Code tasks: programs in a small, safe DSL built instruction by instruction and verified on test cases;
importing registers them."""
