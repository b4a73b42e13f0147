"""Turn one file into its image rows: header, pixel statistics and errors as rows.

Call graph::

    ImageRows.rows(path, file_row)
      ├─ loader.read_header(path)             one ImageInfo per image (scene/series)
      ├─ loader.read_array(path, info)        in memory, for an image within the budget
      │                                       (no Dask graph), when the loader can
      ├─ loader.open_array(path, info)        otherwise lazy (dask) pixels
      ├─ loader.open_thumbnail_array(...)     and a pyramid level, when the loader has one
      └─ engine.process_image(...)            obs_level rows of every processor

Whatever goes wrong with a file or one of its images becomes a row with ``load_error``
set; nothing here lets one bad image stop the shard.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pixel_patrol_base import plugins
from pixel_patrol_base.errors import ImageLoadError
from pixel_patrol_base.imaging.engine import budget_bytes, fits_budget, process_image
from pixel_patrol_base.loaders.common import header_row, one_line
from pixel_patrol_base.pipeline.run.config import RunConfig
from pixel_patrol_base.plugins.contracts import ImageInfo, ThumbnailArraySource, WholeArrayReader

log = logging.getLogger(__name__)


def _message(exc: BaseException) -> str:
    if isinstance(exc, ImageLoadError):
        return one_line(str(exc))
    return one_line(f"{type(exc).__name__}: {exc}")


class ImageRows:
    """Reads files with the configured loader and processors, one file at a time."""

    def __init__(self, config: RunConfig) -> None:
        self._loader = plugins.get_loader(str(config.loader))
        self._processors = [plugins.get_processor(p) for p in config.processors]
        self._slice_size = dict(config.slice_size)
        self._mb_per_task = config.mb_per_task
        self._budget = budget_bytes(self._mb_per_task)
        self._thumbnail_size = config.thumbnail_size
        # With a Dask cluster every read goes through it, small images included.
        self._in_memory = not config.scheduler
        self._lazy_ready = not self._in_memory
        self.last_image_count = 0
        self.cpu_s: dict[str, float] = {p.id: 0.0 for p in self._processors}
        """CPU seconds per processor id, summed over every image so far."""

    def rows(self, path: Path, file_row: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Every row of one file, level-0 row of its first image first.

        A file that cannot be read gives exactly one row, with ``load_error`` set.
        """
        self.last_image_count = 0
        try:
            infos = self._loader.read_header(path)
        except Exception as exc:
            log.warning("cannot read %s: %s", path, _message(exc))
            return [{**file_row, "load_error": _message(exc)}]
        if not infos:
            return [{**file_row, "load_error": "the file holds no image"}]
        rows: list[dict[str, Any]] = []
        for info in infos:
            rows.extend(self._image_rows(path, info, len(infos), file_row))
        return rows

    def _prepare_lazy(self) -> None:
        """Get ready for lazy (Dask) arrays: the first call sets Dask's local scheduler, so
        a job with only small images never imports Dask."""
        if not self._lazy_ready:
            import dask
            from dask.local import get_sync

            # One job is one core: a thread pool per block only adds overhead. The function
            # itself, not the name "synchronous": dask resolves any scheduler name by
            # importing distributed first, a second of start-up per job.
            dask.config.set(scheduler=get_sync)
            self._lazy_ready = True

    def _image_rows(
        self, path: Path, info: ImageInfo, n_images: int, file_row: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        base = {**file_row, "child_id": info.child_id}
        header = header_row(info, n_images)
        try:
            loader = self._loader
            eager = (
                self._in_memory
                and self._processors
                and fits_budget(info.shape, info.dtype, self._budget)
            )
            if eager and isinstance(loader, WholeArrayReader):
                array = loader.read_array(path, info)
            else:
                self._prepare_lazy()
                array = loader.open_array(path, info)
            overview = None
            # A header that counts one resolution level has no pyramid to look in.
            pyramid = info.extra.get("resolution_levels") != 1
            if pyramid and isinstance(loader, ThumbnailArraySource):
                self._prepare_lazy()
                overview = loader.open_thumbnail_array(path, info, self._thumbnail_size)
            result = process_image(
                array,
                info,
                self._processors,
                slice_size=self._slice_size,
                mb_per_task=self._mb_per_task,
                thumbnail_size=self._thumbnail_size,
                thumbnail_array=overview,
            )
        except Exception as exc:
            log.warning("cannot process %s [%s]: %s", path, info.child_id, _message(exc))
            return [{**base, **header, "load_error": _message(exc)}]
        self.last_image_count += 1
        for pid, seconds in result.cpu_s.items():
            self.cpu_s[pid] = self.cpu_s.get(pid, 0.0) + seconds
        level0, *higher = result.rows
        return [{**base, **header, **level0}, *({**base, **row} for row in higher)]
