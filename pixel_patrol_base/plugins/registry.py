"""Find loaders and processors through entry points, the way bioio finds its readers.

An entry point of ``pixel_patrol.loaders`` / ``pixel_patrol.processors`` names a
:class:`~.metadata.LoaderMetadata` / :class:`~.metadata.ProcessorMetadata` object in a
small module. Listing ids reads only the installed packages' entry-point tables; asking
for metadata (:func:`loader_metadata`, :func:`installed_processors`, ...) imports only
those small modules; a plugin's own module is imported when the plugin itself is first
asked for (:func:`get_loader`, :func:`get_processor`), and the object is checked against
its metadata then. Built-in plugins register in this package's own ``pyproject.toml``
exactly like third-party ones.

For backward compatibility an entry point may still name the plugin object itself; its
metadata is then read from the object, which imports the plugin's module.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from pixel_patrol_base.errors import PluginLoadError, UnknownPluginError
from pixel_patrol_base.plugins.contracts import Loader, Processor
from pixel_patrol_base.plugins.metadata import LoaderMetadata, ProcessorMetadata

logger = logging.getLogger(__name__)

LOADER_GROUP = "pixel_patrol.loaders"
PROCESSOR_GROUP = "pixel_patrol.processors"


@dataclass(frozen=True)
class _Kind:
    group: str
    noun: str
    metadata_type: type[LoaderMetadata] | type[ProcessorMetadata]
    from_plugin: Callable[[Any, str], LoaderMetadata | ProcessorMetadata]


_LOADER = _Kind(LOADER_GROUP, "loader", LoaderMetadata, LoaderMetadata.of)
_PROCESSOR = _Kind(PROCESSOR_GROUP, "processor", ProcessorMetadata, ProcessorMetadata.of)


@cache
def _entry_points(group: str) -> dict[str, EntryPoint]:
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=group):
        found.setdefault(ep.name, ep)
    return found


def loader_ids() -> list[str]:
    """Ids of every installed loader, sorted (nothing is imported)."""
    return sorted(_entry_points(LOADER_GROUP))


def processor_ids() -> list[str]:
    """Ids of every installed processor, sorted (nothing is imported)."""
    return sorted(_entry_points(PROCESSOR_GROUP))


def _cannot_load(kind: _Kind, plugin_id: str, target: str, exc: BaseException) -> PluginLoadError:
    return PluginLoadError(
        f"the {kind.noun} {plugin_id!r} is installed but cannot be imported ({target}): "
        f"{type(exc).__name__}: {exc}; reinstall the package that provides it"
    )


def _metadata(kind: _Kind, plugin_id: str) -> Any:
    eps = _entry_points(kind.group)
    if plugin_id not in eps:
        known = ", ".join(sorted(eps)) or "none installed"
        raise UnknownPluginError(f"unknown {kind.noun} {plugin_id!r}; known {kind.noun}s: {known}")
    entry_point = eps[plugin_id]
    try:
        found = entry_point.load()
        metadata = (
            found
            if isinstance(found, kind.metadata_type)
            else kind.from_plugin(found, f"{entry_point.module}:{entry_point.attr}")
        )
    except Exception as exc:
        raise _cannot_load(kind, plugin_id, entry_point.value, exc) from exc
    if metadata.id != plugin_id:
        raise PluginLoadError(
            f"the {kind.noun} entry point {plugin_id!r} ({entry_point.value}) declares the "
            f"id {metadata.id!r}; the entry point's name and the id must be equal"
        )
    return metadata


@cache
def loader_metadata(loader_id: str) -> LoaderMetadata:
    """The metadata of the loader registered as ``loader_id`` (its module is not imported).

    Raises:
        UnknownPluginError: when no loader has that id (the message lists the known ones).
        PluginLoadError: when the entry point cannot be loaded or declares another id.
    """
    metadata: LoaderMetadata = _metadata(_LOADER, loader_id)
    return metadata


@cache
def processor_metadata(processor_id: str) -> ProcessorMetadata:
    """The metadata of the processor registered as ``processor_id`` (no module imported).

    Raises:
        UnknownPluginError: when no processor has that id (the message lists the known ones).
        PluginLoadError: when the entry point cannot be loaded or declares another id.
    """
    metadata: ProcessorMetadata = _metadata(_PROCESSOR, processor_id)
    return metadata


def _installed(kind: _Kind, get: Callable[[str], Any]) -> tuple[Any, ...]:
    found = []
    for plugin_id in sorted(_entry_points(kind.group)):
        try:
            found.append(get(plugin_id))
        except PluginLoadError as exc:
            logger.warning("%s; its columns are left out of the catalog", exc)
    return tuple(found)


@cache
def installed_loaders() -> tuple[LoaderMetadata, ...]:
    """Metadata of every installed loader, by id; a broken one is left out with a warning."""
    loaders: tuple[LoaderMetadata, ...] = _installed(_LOADER, loader_metadata)
    return loaders


@cache
def installed_processors() -> tuple[ProcessorMetadata, ...]:
    """Metadata of every installed processor, by id; a broken one is left out, warned about."""
    processors: tuple[ProcessorMetadata, ...] = _installed(_PROCESSOR, processor_metadata)
    return processors


def _mismatch(kind: _Kind, plugin_id: str, what: str, declared: Any, found: Any) -> None:
    if declared != found:
        raise PluginLoadError(
            f"the {kind.noun} {plugin_id!r} declares {what} {declared!r} in its metadata but "
            f"its object has {found!r}; make the object take them from the metadata"
        )


def _plugin(kind: _Kind, metadata: LoaderMetadata | ProcessorMetadata) -> Any:
    try:
        plugin = metadata.load()
    except Exception as exc:
        raise _cannot_load(kind, metadata.id, metadata.target, exc) from exc
    _mismatch(kind, metadata.id, "the id", metadata.id, getattr(plugin, "id", None))
    _mismatch(kind, metadata.id, "version", metadata.version, getattr(plugin, "version", None))
    return plugin


@cache
def get_loader(loader_id: str) -> Loader:
    """The loader registered as ``loader_id``, its module imported.

    Raises:
        UnknownPluginError: when no loader has that id (the message lists the known ones).
        PluginLoadError: when it cannot be imported, or its object disagrees with its
            metadata (id, version, or fewer extensions than declared).
    """
    metadata = loader_metadata(loader_id)
    loader: Loader = _plugin(_LOADER, metadata)
    missing = sorted(metadata.extensions - frozenset(getattr(loader, "extensions", ())))
    if missing:
        raise PluginLoadError(
            f"the loader {loader_id!r} declares the extension(s) {', '.join(missing)} in its "
            "metadata but its object does not read them; make the object take its "
            "extensions from the metadata"
        )
    return loader


@cache
def get_processor(processor_id: str) -> Processor:
    """The processor registered as ``processor_id``, its module imported.

    Raises:
        UnknownPluginError: when no processor has that id (the message lists the known ones).
        PluginLoadError: when it cannot be imported, or its object disagrees with its
            metadata (id, version or columns).
    """
    metadata = processor_metadata(processor_id)
    processor: Processor = _plugin(_PROCESSOR, metadata)
    columns = tuple(getattr(processor, "columns", ()))
    _mismatch(_PROCESSOR, processor_id, "the columns", metadata.columns, columns)
    return processor


def refresh() -> None:
    """Forget what was found, so that packages installed since are seen (tests use it)."""
    for cached in (
        _entry_points,
        loader_metadata,
        processor_metadata,
        installed_loaders,
        installed_processors,
        get_loader,
        get_processor,
    ):
        cached.cache_clear()


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
