"""The built-in widget declarations: one JSON file per widget in this folder."""

from __future__ import annotations

from pathlib import Path

DIRECTORY: Path = Path(__file__).parent
"""Registered as the ``builtin`` entry point of the ``pixel_patrol.widgets`` group."""
