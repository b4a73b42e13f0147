"""Plugin metadata: what a loader or processor declares without importing its code.

An entry point of the ``pixel_patrol.loaders`` or ``pixel_patrol.processors`` group names a
:class:`LoaderMetadata` or :class:`ProcessorMetadata` object, the way a bioio plugin names
its ``ReaderMetadata``: the plugin's id, version, extensions (loaders) and output columns,
kept in a small module that imports nothing heavy, and ``target``, where the plugin object
itself lives. :meth:`ProcessorMetadata.load` imports that object only when the plugin is
first asked for, so listing plugins or the column catalog never imports numpy, numba or
bioio.

What does not belong here: finding entry points and checking that a loaded plugin matches
its metadata (:mod:`.registry`), and the contracts themselves (:mod:`.contracts`).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pixel_patrol_base.plugins.contracts import Loader, Processor
    from pixel_patrol_base.table.catalog import Column


def load_target(target: str) -> Any:
    """The object ``target`` names, importing its module.

    Args:
        target: ``"package.module:attribute"``, as in an entry point's value (a dotted
            attribute path after the colon is followed too).

    Returns:
        The named object.
    """
    module_name, _, attribute = target.partition(":")
    found: Any = importlib.import_module(module_name.strip())
    for part in attribute.strip().split("."):
        found = getattr(found, part)
    return found


def _check_fields(kind: str, plugin_id: str, version: str, target: str) -> None:
    if not plugin_id or plugin_id != plugin_id.strip():
        raise ValueError(f"{kind} metadata: id {plugin_id!r} must be a non-empty word")
    if not version:
        raise ValueError(f"{kind} metadata {plugin_id!r}: version must not be empty")
    module_name, colon, attribute = target.partition(":")
    if not (module_name.strip() and colon and attribute.strip()):
        raise ValueError(
            f"{kind} metadata {plugin_id!r}: target {target!r} must read 'package.module:NAME'"
        )


@dataclass(frozen=True, kw_only=True)
class ProcessorMetadata:
    """What a processor declares before its module is imported.

    Attributes:
        id: The processor id (also the entry point's name and the ``producer`` of its
            columns).
        version: Version of its results; part of every shard id, so changing it
            reprocesses everything.
        columns: Its output columns, the single declaration the column catalog lists;
            the processor object's ``columns`` must be this same tuple.
        target: Where the processor object lives, ``"package.module:NAME"``.
    """

    id: str
    version: str
    columns: tuple[Column, ...]
    target: str

    def __post_init__(self) -> None:
        _check_fields("processor", self.id, self.version, self.target)
        object.__setattr__(self, "columns", tuple(self.columns))

    def load(self) -> Processor:
        """Import the processor's module and return the processor object."""
        processor: Processor = load_target(self.target)
        return processor

    @classmethod
    def of(cls, processor: Any, target: str) -> ProcessorMetadata:
        """Metadata read from a processor object (entry points that name the object itself).

        Raises:
            AttributeError: when ``processor`` lacks ``id``, ``version`` or ``columns``.
        """
        return cls(
            id=processor.id,
            version=processor.version,
            columns=tuple(processor.columns),
            target=target,
        )


@dataclass(frozen=True, kw_only=True)
class LoaderMetadata:
    """What a loader declares before its module is imported.

    Attributes:
        id: The loader id (also the entry point's name).
        version: Version of what it reads; part of every shard id.
        extensions: File extensions (lower-case, no dot, compound allowed) it always
            reads. The loader object's ``extensions`` hold at least these; it may add
            more that it finds at run time (``bioio`` adds those of installed third-party
            bioio plugins).
        target: Where the loader object lives, ``"package.module:NAME"``.
        columns: Columns the loader fills through ``ImageInfo.extra``.
    """

    id: str
    version: str
    extensions: frozenset[str]
    target: str
    columns: tuple[Column, ...] = ()

    def __post_init__(self) -> None:
        _check_fields("loader", self.id, self.version, self.target)
        object.__setattr__(self, "extensions", frozenset(self.extensions))
        object.__setattr__(self, "columns", tuple(self.columns))

    def load(self) -> Loader:
        """Import the loader's module and return the loader object."""
        loader: Loader = load_target(self.target)
        return loader

    @classmethod
    def of(cls, loader: Any, target: str) -> LoaderMetadata:
        """Metadata read from a loader object (entry points that name the object itself).

        Raises:
            AttributeError: when ``loader`` lacks ``id``, ``version`` or ``extensions``.
        """
        columns: Iterable[Column] = getattr(loader, "columns", ())
        return cls(
            id=loader.id,
            version=loader.version,
            extensions=frozenset(loader.extensions),
            target=target,
            columns=tuple(columns),
        )
