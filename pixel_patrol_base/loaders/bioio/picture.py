"""The direct route for pictures: bioio-imageio's answer for a single-frame image.

Belongs here: decoding a PNG, JPEG, BMP or GIF with the very imageio calls
bioio-imageio makes, and labelling it with that plugin's axes. A multi-frame file, a
video, or a shape bioio-imageio has no axes for gives ``None`` (bioio then reads the
file). Not here: the axis rule itself (:func:`.metadata.imageio_axes`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from pixel_patrol_base.loaders.bioio.metadata import imageio_axes
from pixel_patrol_base.loaders.bioio.scene import (
    IMAGEIO_PLUGIN,
    DirectFile,
    ReaderScene,
    is_standard,
    scene_id,
)

_VIDEO_EXTENSIONS = frozenset({"mov", "avi", "mpg", "mpeg", "mp4", "mkv", "wmv", "ogg"})
"""Extensions bioio-imageio reads frame by frame through ffmpeg: never answered here."""


def open_picture(path: Path) -> DirectFile | None:
    """``path`` decoded as bioio-imageio reads it, or ``None`` when bioio must read it."""
    return _ImageioFile.open(path)


class _ImageioFile(DirectFile):
    """A single-frame image as bioio-imageio reads it: decoded whole when opened."""

    plugin = IMAGEIO_PLUGIN

    def __init__(self, pixels: np.ndarray, axes: str) -> None:
        self._pixels = pixels
        shape = tuple(int(n) for n in pixels.shape)
        self.scenes = (ReaderScene(axes, shape, pixels.dtype, (None, None, None)),)
        self.ids = (scene_id(0),)

    @classmethod
    def open(cls, path: Path) -> _ImageioFile | None:
        import imageio

        extension = path.name.split(".")[-1]
        if extension in _VIDEO_EXTENSIONS:
            return None
        with path.open("rb") as handle:
            # imageio's legacy reader API, exactly as bioio-imageio calls it (untyped).
            reader: Any = imageio.get_reader(handle, format=extension, mode="?")
            with reader:
                if reader.get_length() != 1:
                    return None
                pixels = np.asarray(reader.get_data(0))
        axes = imageio_axes(pixels.shape)
        if axes is None or not is_standard(axes):
            return None
        return cls(pixels, axes)

    def read(self, index: int) -> np.ndarray:
        return self._pixels

    def close(self) -> None:
        self._pixels = np.empty(0, dtype=self._pixels.dtype)
