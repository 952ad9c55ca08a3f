"""Math tasks solved step by step with exact rewrite operations (arithmetic, equations, systems); importing
registers them."""
