"""The processing settings: declared once, validated once.

``declarations`` lists every setting (:data:`~.declarations.SETTINGS`) with its type,
default, validator, CLI option and config key; ``checks`` holds the validators and
``paths`` the check of any path a user gives; ``text`` turns command-line text into
values; ``resolve`` validates what a user passed into :class:`ProcessingSettings`;
``schema`` generates the workflow's config schema.
"""

from collections.abc import Callable

from pixel_patrol_base.settings.declarations import (
    DEFAULT_MAX_IMAGES_PER_TASK,
    DEFAULT_MB_PER_TASK,
    DEFAULT_PROFILE,
    DEFAULT_ROW_GROUP_SIZE,
    DEFAULT_ROWS_PER_PART,
    DEFAULT_SLICE_SIZE,
    DEFAULT_THUMBNAIL_SIZE,
    Setting,
)
from pixel_patrol_base.settings.resolve import ProcessingSettings, resolve_settings

ProgressCallback = Callable[[int, int], None]
"""``progress_callback(done, total)``; ``total`` is -1 until the plan knows it."""

__all__ = [
    "DEFAULT_MAX_IMAGES_PER_TASK",
    "DEFAULT_MB_PER_TASK",
    "DEFAULT_PROFILE",
    "DEFAULT_ROWS_PER_PART",
    "DEFAULT_ROW_GROUP_SIZE",
    "DEFAULT_SLICE_SIZE",
    "DEFAULT_THUMBNAIL_SIZE",
    "ProcessingSettings",
    "ProgressCallback",
    "Setting",
    "resolve_settings",
]
