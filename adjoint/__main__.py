"""`python -m adjoint ...`: the command line (see adjoint/cli.py)."""
import sys

from .cli import main

sys.exit(main())
