"""Property-based fuzzing of adjoint: random programs (`programs.py`) and the check they must pass
(`harness.py`). The tests are `tests/test_fuzz.py`; see docs/testing.md."""
