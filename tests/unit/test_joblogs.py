"""The shard jobs' hand-over records are repeated in the runner's process."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest

from pixel_patrol_base.pipeline.run import joblogs

HAND_OVER = "2026-12-06 21:00:00,123 INFO pixel_patrol_base.loaders.bioio.fallback: "
OTHER = "2026-12-06 21:00:00,124 INFO pixel_patrol_base.pipeline.shard.job: 3 images read"


def _log(workdir: Path, shard: str, *lines: str, age_s: float = 0) -> Path:
    path = workdir / "logs" / "shards" / f"{shard}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines), "utf-8")
    if age_s:
        stamp = time.time() - age_s
        os.utime(path, (stamp, stamp))
    return path


def test_the_hand_overs_of_this_runs_jobs_are_relayed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    since = time.time_ns() - 1_000_000_000
    debug = HAND_OVER.replace("INFO", "DEBUG") + "x"
    said = HAND_OVER + "'a.lif' is read with liffile: it fails"
    _log(tmp_path, "0001", OTHER, said, "Traceback (most recent call last):", debug)
    _log(tmp_path, "0002", HAND_OVER + "'old.czi' is read with aicspylibczi", age_s=3600)
    with caplog.at_level(logging.INFO, logger=joblogs.HAND_OVER_LOGGER):
        assert joblogs.relay_hand_overs(tmp_path, since) == 1
    assert [r.getMessage() for r in caplog.records] == ["'a.lif' is read with liffile: it fails"]
    assert caplog.records[0].name == joblogs.HAND_OVER_LOGGER


def test_nothing_is_read_when_nobody_listens(tmp_path: Path) -> None:
    _log(tmp_path, "0001", HAND_OVER + "'a.lif' is read with liffile")
    logging.getLogger(joblogs.HAND_OVER_LOGGER).setLevel(logging.WARNING)
    try:
        assert joblogs.relay_hand_overs(tmp_path, 0) == 0
    finally:
        logging.getLogger(joblogs.HAND_OVER_LOGGER).setLevel(logging.NOTSET)


def test_many_hand_overs_are_capped_with_a_count(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(joblogs, "MAX_RELAYED", 2)
    _log(tmp_path, "0001", *(HAND_OVER + f"'{i}.lif' is read with liffile" for i in range(5)))
    with caplog.at_level(logging.INFO, logger=joblogs.HAND_OVER_LOGGER):
        assert joblogs.relay_hand_overs(tmp_path, 0) == 5
    said = [r.getMessage() for r in caplog.records]
    assert said[:2] == ["'0.lif' is read with liffile", "'1.lif' is read with liffile"]
    assert said[2].startswith("... and 3 more hand-overs; see the shard logs in ")
    assert len(said) == 3
