"""What every subcommand module shares: the program name and the exit statuses."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any

PROG = "pixel-patrol"
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

Handler = Callable[[argparse.Namespace], int]
"""A subcommand's handler: the parsed arguments in, the exit status out."""


def finite_or_none(value: Any) -> Any:
    """``None`` for NaN and infinities (JSON has no such numbers), else ``value``."""
    return None if isinstance(value, float) and not math.isfinite(value) else value
