"""Tests of the built-in loaders (a package, so its conftest does not shadow others)."""
