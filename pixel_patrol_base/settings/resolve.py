"""Validate and normalise the processing settings of ``process_files`` and the CLI.

Every value a user passes is checked here, by its declaration's validator, before any
work starts, and the result is a :class:`ProcessingSettings` whose ``to_config`` gives
the config entries. Settings that only matter once pixels are read (slice size, task
budget, processors) are validated even when the loader is ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pixel_patrol_base.errors import SettingsError
from pixel_patrol_base.settings import declarations


@dataclass(frozen=True)
class ProcessingSettings:
    """Validated settings of one processing run, by API name."""

    values: Mapping[str, Any]

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    @property
    def profile(self) -> str:
        """The Snakemake profile: a bundled name or an absolute folder."""
        return str(self.values["profile"])

    @property
    def log_file(self) -> Path | None:
        """Where the run's log also goes, if anywhere."""
        value: Path | None = self.values["log_file"]
        return value

    @property
    def max_workers(self) -> int | None:
        """Parallel jobs on this machine (``None``: all CPUs)."""
        value: int | None = self.values["max_workers"]
        return value

    @property
    def scheduler(self) -> str | None:
        """The Dask scheduler address of the shard jobs, if any."""
        value: str | None = self.values["scheduler"]
        return value

    def to_config(self) -> dict[str, Any]:
        """The config entries of these settings, one per declared config key."""
        config: dict[str, Any] = {}
        for declared in declarations.config_settings():
            compute = declared.config_value
            value = self.values[declared.name] if compute is None else compute(self.values)
            config[str(declared.config_key)] = value
        return config


def resolve_settings(**given: Any) -> ProcessingSettings:
    """Check every setting and return them normalised; a missing one takes its default.

    Args:
        **given: Settings by their ``process_files`` keyword.

    Raises:
        SettingsError: for an unknown name or any invalid value (the message names it and
            what is expected).
        UnknownPluginError: for an unknown processor id.
    """
    declared = declarations.SETTINGS
    unknown = sorted(set(given) - {s.name for s in declared})
    if unknown:
        raise SettingsError(
            f"unknown setting(s) {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(s.name for s in declared)}"
        )
    values = {s.name: s.check(given.get(s.name, s.default), s.name) for s in declared}
    return ProcessingSettings(values)
