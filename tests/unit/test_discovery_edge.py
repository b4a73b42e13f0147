"""Discovery at the edges: names that are not UTF-8, devices, FIFOs, sockets, links that
leave ``base_dir``, and files whose information cannot be read, on a real file system."""

# Names that are not UTF-8 are written and read by their raw bytes, which pathlib cannot hold.
# ruff: noqa: PTH103, PTH107, PTH118, PTH120, PTH123

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from pipeline_helpers import unprivileged_prefix

from pixel_patrol_base.pipeline.plan.discovery import Discovery, FileEntry, discover
from pixel_patrol_base.pipeline.plan.names import encode_name, printable, raw_path
from pixel_patrol_base.pipeline.plan.planner import _entry_record
from pixel_patrol_base.pipeline.plan.sharding import shard_id


def _write_raw(folder: Path, name: bytes, content: bytes) -> bytes:
    """Write ``content`` to the file ``name`` (raw bytes) in ``folder``; its full raw path."""
    raw = os.path.join(os.fsencode(folder), name)
    os.makedirs(os.path.dirname(raw), exist_ok=True)
    with open(raw, "wb") as handle:
        handle.write(content)
    return raw


def _can_store_raw_names(folder: Path) -> bool:
    try:
        _write_raw(folder, b"probe\xff", b"")
    except (OSError, UnicodeError):
        return False
    os.remove(os.path.join(os.fsencode(folder), b"probe\xff"))
    return True


@pytest.fixture
def base(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    root.mkdir()
    (root / "plain.tif").write_bytes(b"plain")
    return root


@pytest.fixture
def raw_names(base: Path) -> Path:
    if not _can_store_raw_names(base):
        pytest.skip("this file system refuses names that are not UTF-8")
    return base


def _by_path(found: Discovery) -> dict[str, FileEntry]:
    return {e.path: e for e in found.entries}


def test_a_name_that_is_not_utf8_is_an_entry_that_keeps_its_raw_bytes(raw_names: Path) -> None:
    _write_raw(raw_names, b"bad\xff.tif", b"one")
    _write_raw(raw_names, b"caf\xe9/inner\xfe\xfd.tif", b"two")
    found = discover(raw_names)
    entries = _by_path(found)
    assert sorted(entries) == ["bad\\xff.tif", "caf\\xe9/inner\\xfe\\xfd.tif", "plain.tif"]
    assert entries["plain.tif"].path_bytes_b64 is None
    bad = entries["bad\\xff.tif"]
    assert base64.b64decode(bad.path_bytes_b64 or "") == b"bad\xff.tif"
    assert (bad.size_bytes, bad.extension, bad.error) == (3, "tif", None)
    inner = entries["caf\\xe9/inner\\xfe\\xfd.tif"]
    raw = base64.b64decode(inner.path_bytes_b64 or "")
    assert raw == b"caf\xe9/inner\xfe\xfd.tif"
    with open(os.path.join(os.fsencode(raw_names), raw), "rb") as handle:
        assert handle.read() == b"two"
    with Path(raw_path(raw_names, inner.path, inner.path_bytes_b64)).open("rb") as handle:
        assert handle.read() == b"two"
    assert found.skipped == {}
    # Every stored string is valid UTF-8, so the shard record can be written as JSON.
    json.dumps([_entry_record(e) for e in found.entries], ensure_ascii=False).encode("utf-8")


def test_the_raw_name_enters_the_shard_id(raw_names: Path) -> None:
    entry = _by_path(discover(raw_names))["plain.tif"]
    twin = replace(entry, path_bytes_b64=base64.b64encode(b"x").decode())
    assert shard_id([entry], "f") != shard_id([twin], "f")
    assert FileEntry(*_entry_record(entry)) == entry
    assert FileEntry(*_entry_record(twin)) == twin


def test_two_names_that_show_alike_keep_the_valid_one_and_say_so(raw_names: Path) -> None:
    _write_raw(raw_names, b"twin\xff.tif", b"raw")
    (raw_names / "twin\\xff.tif").write_bytes(b"spelt out")
    found = discover(raw_names)
    twin = _by_path(found)["twin\\xff.tif"]
    assert twin.path_bytes_b64 is None and twin.size_bytes == len(b"spelt out")
    assert found.skipped == {"name_clash": 1}
    expected = base64.b64encode(b"twin\xff.tif").decode()
    assert any(expected in w and "twin\\xff.tif" in w for w in found.warnings)


def test_printable_and_encode_name() -> None:
    bad = os.fsdecode(b"a\xffb")
    assert printable(bad) == "a\\xffb"
    assert printable("Ünïcødé\n画像") == "Ünïcødé\n画像"
    assert printable("lone \ud800") == "lone \\ud800"
    assert encode_name("ok/é.tif") == ("ok/é.tif", None)
    assert encode_name(bad) == ("a\\xffb", base64.b64encode(b"a\xffb").decode())


def test_devices_fifos_and_sockets_are_skipped_as_such_not_broken(base: Path) -> None:
    (base / "zero.tif").symlink_to("/dev/zero")
    os.mkfifo(base / "pipe.tif")
    short = Path(f"/tmp/pp-sock-{os.getpid()}")  # AF_UNIX paths are short
    short.mkdir()
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(str(short / "s"))
            (base / "sock.tif").symlink_to(short / "s")
            found = discover(base, follow_external_links=True)
    finally:
        shutil.rmtree(short)
    assert [e.path for e in found.entries] == ["plain.tif"]
    assert found.skipped == {"special_file": 3}
    assert not any("broken" in w for w in found.warnings)
    assert any("'zero.tif' points to a device" in w for w in found.warnings)
    assert any("'pipe.tif' is a FIFO" in w for w in found.warnings)
    assert any("'sock.tif' points to a socket" in w for w in found.warnings)


def test_links_leaving_base_dir_are_skipped_unless_followed(tmp_path: Path, base: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "far.tif").write_bytes(b"far")
    (base / "etc").symlink_to("/etc")
    (base / "far.tif").symlink_to(outside / "far.tif")
    (base / "far folder").symlink_to(outside)
    (base / "inside.tif").symlink_to(base / "plain.tif")
    (base / "broken.tif").symlink_to(tmp_path / "missing.tif")

    found = discover(base)
    assert [e.path for e in found.entries] == ["inside.tif", "plain.tif"]
    assert found.skipped == {"broken_link": 1, "external_link": 3}
    external = [w for w in found.warnings if "outside base_dir" in w]
    assert len(external) == 3 and all("follow_external_links" in w for w in external)
    assert any("'etc'" in w and "/etc" in w for w in external)
    assert any("broken symlink 'broken.tif'" in w for w in found.warnings)

    followed = discover(base, follow_external_links=True)
    paths = [e.path for e in followed.entries]
    assert {"far.tif", "far folder/far.tif", "inside.tif", "plain.tif"} <= set(paths)
    assert any(p.startswith("etc/") for p in paths)
    assert "external_link" not in followed.skipped


@pytest.fixture
def locked(base: Path) -> Iterator[Path]:
    """``base`` with a folder that cannot be listed and one whose files cannot be stat'ed."""
    (base / "closed").mkdir()
    (base / "closed" / "hidden.tif").write_bytes(b"h")
    (base / "listable").mkdir()
    (base / "listable" / "nostat.tif").write_bytes(b"n")
    (base / "closed").chmod(0)
    (base / "listable").chmod(0o444)  # names can be read, their information cannot
    try:
        yield base
    finally:
        (base / "closed").chmod(0o755)
        (base / "listable").chmod(0o755)


def test_unreadable_items_are_rows_or_counted_warnings(locked: Path) -> None:
    prefix = unprivileged_prefix()
    if prefix is None:
        pytest.skip("running as root without setpriv: file modes cannot be enforced")
    script = (
        "import json, sys; from pathlib import Path; "
        "from pixel_patrol_base.pipeline.plan.discovery import discover; "
        "f = discover(Path(sys.argv[1])); "
        "print(json.dumps({'entries': [[e.path, e.size_bytes, e.error] for e in f.entries], "
        "'skipped': f.skipped, 'warnings': f.warnings}))"
    )
    done = subprocess.run(
        [*prefix, sys.executable, "-c", script, str(locked)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    found = json.loads(done.stdout)
    entries = {path: (size, error) for path, size, error in found["entries"]}
    assert entries["plain.tif"] == (5, None)
    assert entries["listable/nostat.tif"] == (
        0,
        "cannot read the file's information: Permission denied",
    )
    assert "closed/hidden.tif" not in entries
    assert found["skipped"] == {"unreadable": 1}
    assert any("'closed'" in w and "Permission denied" in w for w in found["warnings"])
