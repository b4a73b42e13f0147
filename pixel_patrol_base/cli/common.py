"""What every subcommand module shares: the program name and the exit statuses."""

from __future__ import annotations

import argparse
from collections.abc import Callable

PROG = "pixel-patrol"
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

Handler = Callable[[argparse.Namespace], int]
"""A subcommand's handler: the parsed arguments in, the exit status out."""
