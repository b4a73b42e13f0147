"""Discovery on a real folder tree, and the extension helpers it relies on."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from pixel_patrol_base.errors import SettingsError
from pixel_patrol_base.extensions import file_extension, normalize_extension
from pixel_patrol_base.pipeline.plan.discovery import Discovery, FileEntry, discover


def _write(path: Path, content: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


@pytest.fixture
def base(tmp_path: Path) -> Path:
    """A nested tree with hidden names, symlinks (loop, file, broken), unicode, a zarr."""
    root = tmp_path / "data"
    _write(root / "a.txt", b"alpha")
    _write(root / "control" / "img 01.tif", b"\x00" * 10)
    _write(root / "control" / "deep" / "deeper" / "x.OME.TIF", b"\x01" * 20)
    _write(root / "treated" / "Ünïcødé 画像.png", b"\x02" * 30)
    _write(root / "treated" / "notes.md", b"# notes")
    _write(root / ".hidden_file.tif", b"secret")
    _write(root / ".hidden_dir" / "inside.tif", b"\x03")
    _write(root / "control" / ".DS_Store", b"\x04")
    _write(root / "plate" / "x.ome.zarr" / ".zattrs", b"{}")
    _write(root / "plate" / "x.ome.zarr" / "0" / "0.0", b"\x05" * 100)
    _write(root / "plate" / "x.ome.zarr" / "0" / "0.1", b"\x06" * 50)
    (root / "control" / "loop").symlink_to(root)
    (root / "linked notes.md").symlink_to(root / "treated" / "notes.md")
    (root / "broken.tif").symlink_to(root / "missing.tif")
    return root


def _paths(found: Discovery) -> list[str]:
    return [e.path for e in found.entries]


def test_walks_tree_skipping_hidden_loops_and_broken_links(base: Path) -> None:
    found = discover(base)
    assert _paths(found) == [
        "a.txt",
        "control/deep/deeper/x.OME.TIF",
        "control/img 01.tif",
        "linked notes.md",
        "plate/x.ome.zarr",
        "treated/notes.md",
        "treated/Ünïcødé 画像.png",
    ]
    assert all(e.imported_path == "." for e in found.entries)
    assert found.skipped_by_extension == {}
    assert any("loop" in w for w in found.warnings)
    assert any("broken.tif" in w for w in found.warnings)
    by_path = {e.path: e for e in found.entries}
    tif = by_path["control/deep/deeper/x.OME.TIF"]
    assert (tif.size_bytes, tif.type, tif.extension) == (20, "file", "ome.tif")
    assert tif.mtime_ns == (base / tif.path).stat().st_mtime_ns
    assert by_path["treated/Ünïcødé 画像.png"].size_bytes == 30
    assert by_path["linked notes.md"].size_bytes == len(b"# notes")


def test_folder_format_is_one_entry_with_summed_size(base: Path) -> None:
    zarr = {e.path: e for e in discover(base).entries}["plate/x.ome.zarr"]
    assert zarr.type == "directory"
    assert zarr.extension == "ome.zarr"
    assert zarr.size_bytes == 2 + 100 + 50  # hidden .zattrs counts inside the image
    inside = [p for p in (base / "plate" / "x.ome.zarr").rglob("*")]
    expected_mtime = max(p.stat().st_mtime_ns for p in [*inside, base / "plate" / "x.ome.zarr"])
    assert zarr.mtime_ns == expected_mtime


def test_extension_filter_counts_what_it_skips(base: Path) -> None:
    found = discover(base, extensions=frozenset({"tif", "zarr"}))
    assert _paths(found) == [
        "control/deep/deeper/x.OME.TIF",  # "tif" keeps the compound "ome.tif"
        "control/img 01.tif",
        "plate/x.ome.zarr",
    ]
    assert found.skipped_by_extension == {"md": 2, "png": 1, "txt": 1}


def test_overlapping_added_paths_use_the_deepest(base: Path) -> None:
    found = discover(base, ["control", "control/deep", "treated"])
    imported = {e.path: e.imported_path for e in found.entries}
    assert imported == {
        "control/deep/deeper/x.OME.TIF": "control/deep",
        "control/img 01.tif": "control",
        "treated/Ünïcødé 画像.png": "treated",
        "treated/notes.md": "treated",
    }
    assert len(found.entries) == len(set(_paths(found)))


def test_base_and_subfolder_added_together(base: Path) -> None:
    found = discover(base, [".", "treated"])
    imported = {e.path: e.imported_path for e in found.entries}
    assert imported["treated/notes.md"] == "treated"
    assert imported["a.txt"] == "."
    assert len(found.entries) == 7


def test_exclude_workdir_and_output(base: Path) -> None:
    workdir = base / "results" / ".pixel_patrol" / "out"
    _write(workdir / "chunks" / "c.parquet", b"x")
    visible_workdir = base / "work"
    _write(visible_workdir / "shards" / "s.json", b"{}")
    output = _write(base / "results" / "out.parquet", b"PAR1")
    _write(base / "results" / "keep.tif", b"k")
    found = discover(base, exclude=[visible_workdir, output, workdir])
    paths = _paths(found)
    assert "results/keep.tif" in paths
    assert not any(p.startswith("work/") or p.endswith(".parquet") for p in paths)


def test_symlinked_folder_outside_is_followed_once(tmp_path: Path, base: Path) -> None:
    outside = tmp_path / "elsewhere"
    _write(outside / "far.tif", b"far")
    (base / "link one").symlink_to(outside)
    (base / "link two").symlink_to(outside)
    (base / "again").symlink_to(base / "treated")  # a second way into the tree
    found = discover(base, follow_external_links=True)
    paths = _paths(found)
    assert "link one/far.tif" in paths
    assert "link two/far.tif" not in paths
    assert not any(p.startswith("again/") for p in paths)
    assert sum("already listed" in w for w in found.warnings) >= 3  # two, plus the loop


def test_unreadable_folder_warns_and_continues(base: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = base / "locked"
    _write(locked / "secret.tif", b"s")
    locked.chmod(0)
    if os.access(locked, os.R_OK):  # root reads everything: refuse at the OS boundary
        real_scandir = os.scandir

        def scandir(path: str) -> Any:
            if Path(path) == locked:
                raise PermissionError(13, "Permission denied", path)
            return real_scandir(path)

        monkeypatch.setattr(os, "scandir", scandir)
    try:
        found = discover(base)
    finally:
        locked.chmod(0o755)
    assert "a.txt" in _paths(found)
    assert "locked/secret.tif" not in _paths(found)
    assert any("locked" in w and "Permission denied" in w for w in found.warnings)


def test_deep_tree_has_no_recursion_limit(tmp_path: Path) -> None:
    folder = tmp_path
    for _ in range(300):
        folder = folder / "d"
    folder.mkdir(parents=True)
    (folder / "leaf.tif").write_bytes(b"1")
    found = discover(tmp_path)
    assert [e.path for e in found.entries] == ["/".join(["d"] * 300 + ["leaf.tif"])]


def test_entries_rebuild_from_records(base: Path) -> None:
    entry = discover(base).entries[0]
    record: list[Any] = [
        entry.path,
        entry.imported_path,
        entry.size_bytes,
        entry.mtime_ns,
        entry.type,
        entry.extension,
    ]
    assert FileEntry(*record) == entry


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.OME.TIF", "ome.tif"),
        ("a.tif", "tif"),
        ("scan.nii.gz", "nii.gz"),
        ("archive.tar.gz", "tar.gz"),
        ("x.ome.zarr", "ome.zarr"),
        ("ome.tif", "tif"),  # no stem before the compound
        (".bashrc", ""),
        ("README", ""),
        ("trailing.", ""),
        ("dir.d/file", ""),
        ("a.b.gz", "gz"),
    ],
)
def test_file_extension(name: str, expected: str) -> None:
    assert file_extension(name) == expected


@pytest.mark.parametrize(("given", "expected"), [(".TIF", "tif"), (" Ome.Tiff ", "ome.tiff")])
def test_normalize_extension(given: str, expected: str) -> None:
    assert normalize_extension(given) == expected


@pytest.mark.parametrize("bad", ["", "   ", ".", "a/b", "t if", "ome..tif"])
def test_normalize_extension_rejects(bad: str) -> None:
    with pytest.raises(SettingsError, match="extension"):
        normalize_extension(bad)
