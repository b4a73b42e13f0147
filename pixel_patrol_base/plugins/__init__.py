"""Plugins: the contracts a loader or processor meets, and where installed ones are found.

``contracts`` holds the ``typing.Protocol``s; ``registry`` finds plugins through entry
points, the way bioio finds its readers. Importing this package imports neither a loader
nor a processor.
"""

from pixel_patrol_base.plugins.registry import (
    check_loader,
    check_processors,
    get_loader,
    get_processor,
    loader_ids,
    processor_ids,
)

__all__ = [
    "check_loader",
    "check_processors",
    "get_loader",
    "get_processor",
    "loader_ids",
    "processor_ids",
]
