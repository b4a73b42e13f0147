"""Discovery: list the files of a project (the first step of planning).

What belongs here: walking ``base_dir`` (or the added paths inside it) into a sorted list
of :class:`FileEntry`, with the extension filter, hidden names, exclusions, symlinks and
folder formats handled. What does not: validating the added paths (the caller does it),
choosing a loader, and grouping entries into shards (:mod:`.sharding`).

Call graph::

    discover(base_dir, paths)
      ├─ _Walker.walk_root(root)       phase 1, per added path: real folders only;
      │                                folder symlinks are put aside
      └─ _Walker.walk_links()          phase 2: each put-aside folder symlink whose target
                                       was not walked yet, in path order

Walking real folders before following any folder symlink makes the outcome independent of
the order the file system lists names in: a symlink to a folder that is part of the tree
anyway (or to one of its ancestors, a loop) is skipped with a warning, and its files are
listed once, under their real path. The walk uses :func:`os.scandir` with an explicit
stack, so depth is unlimited and 100k files take about a second.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pixel_patrol_base.extensions import FOLDER_FORMATS, extension_suffixes, file_extension

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One listed file, or one folder-format image (``x.ome.zarr``)."""

    path: str
    """Path relative to ``base_dir``, with ``/`` separators."""
    imported_path: str
    """The added path it was found under (relative, ``/``); ``"."`` when none was added."""
    size_bytes: int
    """Size in bytes; for a folder format the sum of the sizes of the files inside."""
    mtime_ns: int
    """Modification time; for a folder format the latest one inside (folder included)."""
    type: str
    """``"file"`` or ``"directory"`` (a folder format)."""
    extension: str
    """:func:`~pixel_patrol_base.extensions.file_extension` of the name."""


@dataclass
class Discovery:
    """The outcome of :func:`discover`."""

    entries: list[FileEntry]
    """Entries sorted by path; each path once."""
    skipped_by_extension: dict[str, int] = field(default_factory=dict)
    """Files seen but filtered out by the extension filter, counted per extension."""
    warnings: list[str] = field(default_factory=list)
    """Broken symlinks, unreadable folders, symlinks skipped to avoid loops or repeats."""


def _posix(rel: str) -> str:
    """Normalize a relative path to ``a/b`` form; ``"."`` for the base itself."""
    norm = os.path.normpath(rel.replace("\\", "/")).replace(os.sep, "/")
    return "." if norm in ("", ".") else norm


def _is_under(path: str, prefixes: Sequence[str]) -> bool:
    return any(path == p or path.startswith(p.rstrip("/") + "/") for p in prefixes)


@dataclass
class _Link:
    """A folder symlink put aside until every real folder has been walked."""

    abs_path: str
    rel: str
    imported: str


class _Walker:
    """State shared by the walks of all added paths of one :func:`discover` call."""

    def __init__(
        self,
        base: str,
        roots: set[str],
        extensions: frozenset[str] | None,
        exclude: list[str],
    ) -> None:
        self.base = base
        self.roots = roots
        self.extensions = extensions
        self.exclude = exclude
        self.exclude_set = frozenset(exclude)
        self.visited: set[tuple[int, int]] = set()
        self.ancestors: set[tuple[int, int]] = set()
        self.links: list[_Link] = []
        self.entries: dict[str, FileEntry] = {}
        self.skipped: dict[str, int] = {}
        self.warnings: list[str] = []

    def warn(self, message: str) -> None:
        log.debug("%s", message)
        self.warnings.append(message)

    def wanted(self, extension: str) -> bool:
        """Whether the extension filter keeps ``extension`` (counted when it does not)."""
        if self.extensions is None:
            return True
        if any(s in self.extensions for s in extension_suffixes(extension)):
            return True
        self.skipped[extension] = self.skipped.get(extension, 0) + 1
        return False

    def add(self, rel: str, imported: str, st: os.stat_result, kind: str, ext: str) -> None:
        self.entries.setdefault(
            rel, FileEntry(rel, imported, st.st_size, st.st_mtime_ns, kind, ext)
        )

    def add_folder_format(self, abs_path: str, rel: str, imported: str, ext: str) -> None:
        """List a folder-format image as one entry with the size of everything inside."""
        if not self.wanted(ext):
            return
        try:
            top = Path(abs_path).stat()
        except OSError as exc:
            self.warn(f"cannot read '{rel}': {exc.strerror}; skipped")
            return
        size, mtime = 0, top.st_mtime_ns
        stack = [abs_path]
        while stack:
            folder = stack.pop()
            try:
                with os.scandir(folder) as it:
                    for item in it:
                        try:
                            if item.is_dir(follow_symlinks=False):
                                stack.append(item.path)
                                mtime = max(mtime, item.stat(follow_symlinks=False).st_mtime_ns)
                            elif item.is_file():
                                st = item.stat()
                                size += st.st_size
                                mtime = max(mtime, st.st_mtime_ns)
                        except OSError:
                            continue  # a broken link inside an image folder adds nothing
            except OSError as exc:
                self.warn(f"cannot read folder inside '{rel}': {exc.strerror}; size is partial")
        self.entries.setdefault(rel, FileEntry(rel, imported, size, mtime, "directory", ext))

    def mark_ancestors(self, rel: str) -> None:
        """Remember the folders above an added path: a symlink to one of them is a loop."""
        for parent in Path(self.base, rel).resolve().parents:
            try:
                st = parent.stat()
            except OSError:
                continue
            self.ancestors.add((st.st_dev, st.st_ino))

    def enter(self, abs_path: str, rel: str, *, link: bool = False) -> bool:
        """Mark a real folder visited; False (with a warning) when it already was.

        A folder symlink (``link``) is also refused when it points above an added path.
        """
        try:
            st = Path(abs_path).stat()
        except OSError as exc:
            self.warn(f"cannot read folder '{rel}': {exc.strerror}; skipped")
            return False
        key = (st.st_dev, st.st_ino)
        if key in self.visited or (link and key in self.ancestors):
            self.warn(
                f"symlink '{rel}' points to a folder that is already listed "
                "(or to one of its ancestors); skipped to avoid a loop or duplicates"
            )
            return False
        self.visited.add(key)
        return True

    def walk_root(self, rel: str) -> None:
        """Walk one added path (``"."`` for ``base_dir``) as a root."""
        path = Path(self.base, rel)
        abs_path = str(path)
        if self.exclude and _is_under(os.path.realpath(abs_path), self.exclude):
            log.debug("added path %r is excluded", rel)
            return
        ext = file_extension(path.name)
        if rel != "." and ext in FOLDER_FORMATS and path.is_dir():
            self.add_folder_format(abs_path, rel, rel, ext)
        elif rel != "." and path.is_file():
            if self.wanted(ext):
                self.add(rel, rel, path.stat(), "file", ext)
        elif self.enter(abs_path, rel):
            self.walk_tree(os.path.realpath(abs_path), "" if rel == "." else rel + "/", rel)

    def walk_links(self) -> None:
        """Follow the folder symlinks put aside, in path order, until none is left."""
        while self.links:
            pending = sorted(self.links, key=lambda link: link.rel)
            self.links = []
            for link in pending:
                real = os.path.realpath(link.abs_path)
                if self.exclude and _is_under(real, self.exclude):
                    continue
                ext = file_extension(link.rel)
                if ext in FOLDER_FORMATS:
                    self.add_folder_format(link.abs_path, link.rel, link.imported, ext)
                elif self.enter(link.abs_path, link.rel, link=True):
                    self.walk_tree(real, link.rel + "/", link.imported)

    def walk_tree(self, top: str, top_rel: str, imported: str) -> None:
        """Walk the real folder ``top``; ``top_rel`` is its path relative to base + ``/``."""
        stack = [(top, top_rel)]
        exclude_set = self.exclude_set
        roots = self.roots
        while stack:
            folder, prefix = stack.pop()
            try:
                it = os.scandir(folder)
            except OSError as exc:
                self.warn(f"cannot read folder '{prefix or '.'}': {exc.strerror}; skipped")
                continue
            with it:
                for item in it:
                    name = item.name
                    if name[0] == ".":
                        continue
                    rel = prefix + name
                    if (exclude_set and item.path in exclude_set) or (roots and rel in roots):
                        continue  # excluded, or walked as an added path of its own
                    try:
                        self.visit(item, rel, imported, stack)
                    except OSError as exc:
                        self.warn(f"cannot read '{rel}': {exc.strerror}; skipped")

    def visit(
        self, item: os.DirEntry[str], rel: str, imported: str, stack: list[tuple[str, str]]
    ) -> None:
        """List one folder entry: a file, a folder (pushed on ``stack``) or a symlink."""
        is_link = item.is_symlink()
        if item.is_file():
            self.visit_file(item, rel, imported, is_link=is_link)
        elif item.is_dir():
            if is_link:
                self.links.append(_Link(item.path, rel, imported))
                return
            ext = file_extension(item.name)
            if ext in FOLDER_FORMATS:
                self.add_folder_format(item.path, rel, imported, ext)
                return
            st = item.stat(follow_symlinks=False)
            self.visited.add((st.st_dev, st.st_ino))
            stack.append((item.path, rel + "/"))
        elif is_link:
            self.warn(f"broken symlink '{rel}'; skipped")
        else:
            log.debug("skipping special file %r", rel)

    def visit_file(self, item: os.DirEntry[str], rel: str, imported: str, *, is_link: bool) -> None:
        """List one file, unless the extension filter or an exclusion drops it."""
        ext = file_extension(item.name)
        if self.extensions is not None and not self.wanted(ext):
            return
        st = item.stat()
        if is_link and self.exclude and _is_under(os.path.realpath(item.path), self.exclude):
            return
        self.entries.setdefault(
            rel, FileEntry(rel, imported, st.st_size, st.st_mtime_ns, "file", ext)
        )


def discover(
    base_dir: Path,
    paths: Sequence[str] = (),
    *,
    extensions: frozenset[str] | None = None,
    exclude: Sequence[Path] = (),
) -> Discovery:
    """List the files of a project.

    Hidden names (starting with ``.``) are skipped. Symlinks to files and folders are
    followed, except a folder symlink whose target is already listed (a loop, or a second
    way to the same folder), which is skipped with a warning, as are broken symlinks and
    unreadable folders. A folder in :data:`~pixel_patrol_base.extensions.FOLDER_FORMATS`
    is one entry of type ``"directory"``. When added paths overlap, a file belongs to the
    deepest one that contains it.

    Args:
        base_dir: The project's base folder.
        paths: Added paths, relative to ``base_dir`` and already validated; empty means
            the whole of ``base_dir`` (imported path ``"."``).
        extensions: Extensions to keep (normalized, no dot); ``None`` keeps every file.
            A compound extension is kept when it or its tail is listed (``"tif"`` keeps
            ``x.ome.tif``).
        exclude: Absolute paths to leave out together with everything under them (the
            output file, the workdir).

    Returns:
        The entries sorted by path, the per-extension counts of files filtered out, and
        the warnings (also logged at debug level; the caller reports them).
    """
    base = os.path.realpath(base_dir)
    roots = {_posix(p) for p in paths} or {"."}
    excluded = sorted(
        {str(Path(p).absolute()) for p in exclude} | {os.path.realpath(p) for p in exclude}
    )
    walker = _Walker(base, roots - {"."}, extensions, excluded)
    ordered = sorted(roots, key=lambda r: (r.count("/"), r))
    for root in ordered:
        walker.mark_ancestors(root)
    for root in ordered:
        walker.walk_root(root)
    walker.walk_links()
    entries = sorted(walker.entries.values(), key=lambda e: e.path)
    skipped = dict(sorted(walker.skipped.items()))
    log.info(
        "discovered %d entries under %s (%d skipped by extension, %d warnings)",
        len(entries),
        base,
        sum(skipped.values()),
        len(walker.warnings),
    )
    return Discovery(entries, skipped, walker.warnings)
