"""Plugins: the contracts a loader or processor meets, its metadata, and where it is found.

``contracts`` holds the ``typing.Protocol``s; ``metadata`` the cheap declarations
(:class:`LoaderMetadata`, :class:`ProcessorMetadata`) that entry points name;
``registry`` finds plugins through entry points, the way bioio finds its readers;
``testing`` holds the conformance checks a plugin's own tests can call. Importing this
package imports neither a loader nor a processor.
"""

from pixel_patrol_base.plugins.metadata import LoaderMetadata, ProcessorMetadata
from pixel_patrol_base.plugins.registry import (
    check_loader,
    check_processors,
    get_loader,
    get_processor,
    installed_loaders,
    installed_processors,
    loader_ids,
    loader_metadata,
    processor_ids,
    processor_metadata,
    refresh,
)

__all__ = [
    "LoaderMetadata",
    "ProcessorMetadata",
    "check_loader",
    "check_processors",
    "get_loader",
    "get_processor",
    "installed_loaders",
    "installed_processors",
    "loader_ids",
    "loader_metadata",
    "processor_ids",
    "processor_metadata",
    "refresh",
]
