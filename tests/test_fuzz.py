"""Property-based fuzzing: random programs from the supported subset, differentiated in both modes.

Each example is a random module (`tests/fuzz/programs.py`: helpers and a main function `f` with
arithmetic, numpy and math calls, branches, loops, `break`/`continue`/early `return`, calls between
helpers) written to a file, imported, and run at random inputs. Reverse mode, forward mode and central
finite differences must agree on the gradient wrt every float argument, the reverse-mode
derivative must compute the function's value, and `hvp` (forward mode over the reverse-mode
derivative, with its recorded loops) must agree with finite differences of the gradient
(`tests/fuzz/harness.py`). Examples near a switching
point (a branch, `max`, `abs`, `where` or a loop's trip count that changes within 1e-4 of the inputs,
detected by finite differences with two step sizes disagreeing) and programs adjoint refuses with
`UnsupportedSyntax` say nothing and are skipped.

The test suite runs a short, derandomized run (50 programs, a few seconds). The long run is one
command (see docs/testing.md):

    ADJOINT_FUZZ_EXAMPLES=5000 python -m pytest tests/test_fuzz.py -q -p no:cacheprovider --hypothesis-show-statistics

`ADJOINT_FUZZ_SEED=<int>` draws a different (still reproducible) set of programs; without it the run
is derandomized, the same programs each time. A failure is shrunk by hypothesis to a small program,
printed with its inputs' seed; each bug it found is pinned down in tests/test_fuzz_regressions.py.
"""
import os
import pathlib

import pytest
from hypothesis import HealthCheck, assume, event, given, seed, settings
from hypothesis import strategies as st

from fuzz import harness
from fuzz.programs import programs

EXAMPLES = int(os.environ.get("ADJOINT_FUZZ_EXAMPLES", "50"))
SEED = os.environ.get("ADJOINT_FUZZ_SEED")


@pytest.fixture(scope="session")
def program_directory(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz_programs")


def _settings(test):
    test = settings(max_examples=EXAMPLES, deadline=None, derandomize=SEED is None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])(test)
    return seed(int(SEED))(test) if SEED is not None else test


@_settings
@given(program=programs(), input_seed=st.integers(0, 2 ** 32 - 1))
def test_random_programs(program, input_seed, program_directory):
    args = harness.inputs(program, input_seed)
    try:
        harness.check(program, args, program_directory)
    except harness.Skip as skipped:
        event(f"skipped: {skipped}")
        assume(False)
    event("checked")


def test_generated_programs_are_plain_python(program_directory):
    """The generator's output runs as ordinary Python (a generator bug is not adjoint's)."""
    @settings(max_examples=20, derandomize=True, deadline=None, database=None)
    @given(program=programs(), input_seed=st.integers(0, 2 ** 32 - 1))
    def run(program, input_seed):
        module = harness.load(program.source, pathlib.Path(program_directory))
        module.f(*harness.inputs(program, input_seed))
    run()
