"""Confero's test suite (a package, so tests/engine never shadows the real engine)."""
