"""Independent plain-Python reference implementation of the marts, for property tests."""
