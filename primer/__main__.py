"""`python -m primer ...` is the same as the `primer` command (no PATH needed)."""
import sys

from primer.cli import main

sys.exit(main())
