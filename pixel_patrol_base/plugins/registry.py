"""Find loaders and processors through entry points, the way bioio finds its readers.

Listing ids reads only entry-point metadata; a plugin's module is imported when the
plugin is first asked for. Built-in plugins register in this package's own
``pyproject.toml`` exactly like third-party ones.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from pixel_patrol_base.errors import PluginLoadError, UnknownPluginError
from pixel_patrol_base.plugins.contracts import Loader, Processor

LOADER_GROUP = "pixel_patrol.loaders"
PROCESSOR_GROUP = "pixel_patrol.processors"


@cache
def _entry_points(group: str) -> dict[str, EntryPoint]:
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=group):
        found.setdefault(ep.name, ep)
    return found


def loader_ids() -> list[str]:
    """Ids of every installed loader, sorted."""
    return sorted(_entry_points(LOADER_GROUP))


def processor_ids() -> list[str]:
    """Ids of every installed processor, sorted."""
    return sorted(_entry_points(PROCESSOR_GROUP))


def _load(group: str, kind: str, plugin_id: str) -> Any:
    eps = _entry_points(group)
    if plugin_id not in eps:
        known = ", ".join(sorted(eps)) or "none installed"
        raise UnknownPluginError(f"unknown {kind} {plugin_id!r}; known {kind}s: {known}")
    entry_point = eps[plugin_id]
    try:
        return entry_point.load()
    except Exception as exc:
        raise PluginLoadError(
            f"the {kind} {plugin_id!r} is installed but cannot be imported "
            f"({entry_point.value}): {type(exc).__name__}: {exc}; reinstall the package "
            "that provides it"
        ) from exc


@cache
def get_loader(loader_id: str) -> Loader:
    """The loader registered as ``loader_id``.

    Raises:
        UnknownPluginError: when no loader has that id (the message lists the known ones).
    """
    loader: Loader = _load(LOADER_GROUP, "loader", loader_id)
    return loader


@cache
def get_processor(processor_id: str) -> Processor:
    """The processor registered as ``processor_id``.

    Raises:
        UnknownPluginError: when no processor has that id (the message lists the known ones).
    """
    processor: Processor = _load(PROCESSOR_GROUP, "processor", processor_id)
    return processor


def check_loader(loader_id: str | None) -> None:
    """Raise :class:`UnknownPluginError` unless ``loader_id`` is ``None`` or installed."""
    if loader_id is not None and loader_id not in _entry_points(LOADER_GROUP):
        known = ", ".join(["None (file information only)", *loader_ids()])
        raise UnknownPluginError(f"unknown loader {loader_id!r}; known loaders: {known}")


def check_processors(ids: set[str], option: str) -> None:
    """Raise :class:`UnknownPluginError` when any id in ``ids`` is not installed."""
    unknown = sorted(ids - set(processor_ids()))
    if unknown:
        known = ", ".join(processor_ids()) or "none installed"
        raise UnknownPluginError(
            f"{option}: unknown processor id(s) {', '.join(map(repr, unknown))}; "
            f"known processors: {known}"
        )
