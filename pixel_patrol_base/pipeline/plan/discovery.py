"""Discovery: list the files of a project (the first step of planning).

What belongs here: walking ``base_dir`` (or the added paths inside it) into a sorted list
of :class:`FileEntry`, with the extension filter, hidden names, exclusions, symlinks,
special files and folder formats handled, and every item left out counted by reason
(:data:`SKIP_REASONS`) with a warning. What does not: validating the added paths (the
caller does it), storing names that are not valid UTF-8 (:mod:`.names`), choosing a
loader, and grouping entries into shards (:mod:`.sharding`).

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

Nothing is dropped without a word: a file whose information cannot be read (``stat``
fails) is still an entry, with :attr:`FileEntry.error` set, so it becomes a row with
``load_error``; a name that is not valid UTF-8 is an entry whose raw bytes are kept
(:attr:`FileEntry.path_bytes_b64`); what cannot be an entry (a broken symlink, a device,
a FIFO or socket, a symlink leaving ``base_dir``, an unreadable folder, a loop) is
counted in :attr:`Discovery.skipped` and named in :attr:`Discovery.warnings`.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pixel_patrol_base.extensions import FOLDER_FORMATS, extension_suffixes, file_extension
from pixel_patrol_base.pipeline.plan.entries import SKIP_REASONS, Discovery, FileEntry
from pixel_patrol_base.pipeline.plan.names import encode_name, printable

__all__ = ["SKIP_REASONS", "Discovery", "FileEntry", "discover"]

log = logging.getLogger(__name__)


def _posix(rel: str) -> str:
    """Normalize a relative path to ``a/b`` form; ``"."`` for the base itself."""
    norm = os.path.normpath(rel.replace("\\", "/")).replace(os.sep, "/")
    return "." if norm in ("", ".") else norm


def _is_under(path: str, prefixes: Sequence[str]) -> bool:
    return any(path == p or path.startswith(p.rstrip("/") + "/") for p in prefixes)


def _kind(mode: int) -> str:
    """What a special (not regular, not folder) file is, in words."""
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


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
        *,
        follow_external: bool,
        on_found: Callable[[int], None] | None = None,
    ) -> None:
        self.base = base
        self.on_found = on_found
        self.roots = roots
        self.extensions = extensions
        self.exclude = exclude
        self.exclude_set = frozenset(exclude)
        self.follow_external = follow_external
        self.visited: set[tuple[int, int]] = set()
        self.ancestors: set[tuple[int, int]] = set()
        self.links: list[_Link] = []
        self.entries: dict[str, FileEntry] = {}
        self.skipped: dict[str, int] = {}
        self.reasons: dict[str, int] = {}
        self.warnings: list[str] = []

    def warn(self, message: str) -> None:
        """Record one warning (undecodable bytes in names shown as ``\\xNN``)."""
        message = printable(message)
        log.debug("%s", message)
        self.warnings.append(message)

    def skip(self, reason: str, message: str) -> None:
        """Leave an item out: count it under ``reason`` and warn with ``message``."""
        self.reasons[reason] = self.reasons.get(reason, 0) + 1
        self.warn(message)

    def wanted(self, extension: str) -> bool:
        """Whether the extension filter keeps ``extension`` (counted when it does not)."""
        if self.extensions is None:
            return True
        if any(s in self.extensions for s in extension_suffixes(extension)):
            return True
        key = printable(extension)
        self.skipped[key] = self.skipped.get(key, 0) + 1
        return False

    def add_entry(
        self,
        rel: str,
        imported: str,
        size: int,
        mtime: int,
        kind: str,
        ext: str,
        *,
        error: str | None = None,
    ) -> None:
        """List one entry under its stored name; the first one listed under a path wins.

        Two different names that show as the same text (a name with undecodable bytes
        and one spelling them out as ``\\xNN``) cannot both be rows: the valid one is
        kept, and the other is skipped with a warning.
        """
        path, raw = (rel, None) if rel.isascii() else encode_name(rel)
        if raw is not None:  # a name of undecodable bytes: so may be its extension
            imported, ext = printable(imported), printable(ext)
        entry = FileEntry(path, imported, size, mtime, kind, ext, raw, error)
        current = self.entries.setdefault(path, entry)
        if current is entry or current.path_bytes_b64 == raw:
            return
        keep, drop = sorted((current, entry), key=lambda e: (e.path_bytes_b64 or "",))
        self.entries[path] = keep
        self.skip(
            "name_clash",
            f"two files show as '{path}'; the one whose raw name is {drop.path_bytes_b64} "
            "(base64) is skipped",
        )

    def add_folder_format(self, abs_path: str, rel: str, imported: str, ext: str) -> None:
        """List a folder-format image as one entry with the size of everything inside."""
        if not self.wanted(ext):
            return
        try:
            top = Path(abs_path).stat()
        except OSError as exc:
            self.skip("unreadable", f"cannot read '{rel}': {exc.strerror}; skipped")
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
        self.add_entry(rel, imported, size, mtime, "directory", ext)

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
            self.skip("unreadable", f"cannot read folder '{rel}': {exc.strerror}; skipped")
            return False
        key = (st.st_dev, st.st_ino)
        if key in self.visited or (link and key in self.ancestors):
            self.skip(
                "repeated_folder",
                f"symlink '{rel}' points to a folder that is already listed "
                "(or to one of its ancestors); skipped to avoid a loop or duplicates",
            )
            return False
        self.visited.add(key)
        return True

    def walk_root(self, rel: str) -> None:
        """Walk one added path (``"."`` for ``base_dir``) as a root."""
        path = Path(self.base, rel)
        abs_path = str(path)
        if self.exclude and _is_under(os.path.realpath(abs_path), self.exclude):
            log.debug("added path %r is excluded", printable(rel))
            return
        ext = file_extension(path.name)
        if rel != "." and ext in FOLDER_FORMATS and path.is_dir():
            self.add_folder_format(abs_path, rel, rel, ext)
        elif rel != "." and path.is_file():
            self.add_file(rel, rel, ext, path.stat)
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
                where = prefix.rstrip("/") or "."
                self.skip("unreadable", f"cannot read folder '{where}': {exc.strerror}; skipped")
                continue
            if self.on_found is not None:
                self.on_found(len(self.entries))
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
                        self.skip("unreadable", f"cannot read '{rel}': {exc.strerror}; skipped")

    def visit(
        self, item: os.DirEntry[str], rel: str, imported: str, stack: list[tuple[str, str]]
    ) -> None:
        """List one folder entry: a file, a folder (pushed on ``stack``) or a symlink."""
        if item.is_symlink():
            self.visit_link(item, rel, imported)
        elif item.is_file(follow_symlinks=False):
            self.visit_file(item, rel, imported)
        elif item.is_dir(follow_symlinks=False):
            ext = file_extension(item.name)
            if ext in FOLDER_FORMATS:
                self.add_folder_format(item.path, rel, imported, ext)
                return
            st = item.stat(follow_symlinks=False)
            self.visited.add((st.st_dev, st.st_ino))
            stack.append((item.path, rel + "/"))
        else:
            kind = _kind(item.stat(follow_symlinks=False).st_mode)
            self.skip("special_file", f"'{rel}' is {kind}; skipped")

    def visit_link(self, item: os.DirEntry[str], rel: str, imported: str) -> None:
        """Follow one symlink, unless it is broken, leaves ``base_dir`` or is a device."""
        try:
            st = item.stat()
        except OSError as exc:
            self.skip("broken_link", f"broken symlink '{rel}' ({exc.strerror}); skipped")
            return
        real = os.path.realpath(item.path)
        if self.exclude and _is_under(real, self.exclude):
            return
        if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
            self.skip("special_file", f"symlink '{rel}' points to {_kind(st.st_mode)}; skipped")
        elif not self.follow_external and not _is_under(real, (self.base,)):
            self.skip(
                "external_link",
                f"symlink '{rel}' points outside base_dir, to '{real}'; skipped "
                "(follow_external_links follows it)",
            )
        elif stat.S_ISDIR(st.st_mode):
            self.links.append(_Link(item.path, rel, imported))
        else:
            self.visit_file(item, rel, imported)

    def visit_file(self, item: os.DirEntry[str], rel: str, imported: str) -> None:
        """List one file found in a folder (see :meth:`add_file`)."""
        self.add_file(rel, imported, file_extension(item.name), item.stat)

    def add_file(
        self, rel: str, imported: str, ext: str, read_stat: Callable[[], os.stat_result]
    ) -> None:
        """List one file, unless the extension filter drops it.

        A file whose information cannot be read is listed all the same, with the error.
        """
        if not self.wanted(ext):
            return
        try:
            st = read_stat()
        except OSError as exc:
            error = f"cannot read the file's information: {exc.strerror}"
            self.warn(
                f"cannot read the information of '{rel}' ({exc.strerror}); listed with load_error"
            )
            self.add_entry(rel, imported, 0, 0, "file", ext, error=error)
            return
        self.add_entry(rel, imported, st.st_size, st.st_mtime_ns, "file", ext)


def discover(
    base_dir: Path,
    paths: Sequence[str] = (),
    *,
    extensions: frozenset[str] | None = None,
    exclude: Sequence[Path] = (),
    follow_external_links: bool = False,
    on_found: Callable[[int], None] | None = None,
) -> Discovery:
    """List the files of a project.

    Hidden names (starting with ``.``) are skipped. Symlinks to files and folders inside
    ``base_dir`` are followed, except a folder symlink whose target is already listed (a
    loop, or a second way to the same folder). Symlinks leaving ``base_dir`` are followed
    only with ``follow_external_links``. These, broken symlinks, devices, FIFOs, sockets
    and unreadable folders are skipped with a warning and counted per reason. A file whose
    information cannot be read is listed with :attr:`FileEntry.error`, and a name that is
    not valid UTF-8 with its raw bytes (:attr:`FileEntry.path_bytes_b64`). A folder in
    :data:`~pixel_patrol_base.extensions.FOLDER_FORMATS` is one entry of type
    ``"directory"``. When added paths overlap, a file belongs to the deepest one that
    contains it.

    Args:
        base_dir: The project's base folder.
        paths: Added paths, relative to ``base_dir`` and already validated; empty means
            the whole of ``base_dir`` (imported path ``"."``).
        extensions: Extensions to keep (normalized, no dot); ``None`` keeps every file.
            A compound extension is kept when it or its tail is listed (``"tif"`` keeps
            ``x.ome.tif``).
        exclude: Absolute paths to leave out together with everything under them (the
            output file, the workdir).
        follow_external_links: Follow symlinks whose target lies outside ``base_dir``.
        on_found: Called with the number of entries listed so far, once per folder
            walked (for progress; keep it cheap).

    Returns:
        The entries sorted by path, the per-extension counts of files filtered out, the
        warnings (also logged at debug level; the caller reports them) and the per-reason
        counts of the items skipped.
    """
    base = os.path.realpath(base_dir)
    roots = {_posix(p) for p in paths} or {"."}
    excluded = sorted(
        {str(Path(p).absolute()) for p in exclude} | {os.path.realpath(p) for p in exclude}
    )
    walker = _Walker(
        base,
        roots - {"."},
        extensions,
        excluded,
        follow_external=follow_external_links,
        on_found=on_found,
    )
    ordered = sorted(roots, key=lambda r: (r.count("/"), r))
    for root in ordered:
        walker.mark_ancestors(root)
    for root in ordered:
        walker.walk_root(root)
    walker.walk_links()
    entries = sorted(walker.entries.values(), key=lambda e: e.path)
    skipped = dict(sorted(walker.skipped.items()))
    reasons = {key: walker.reasons[key] for key in SKIP_REASONS if walker.reasons.get(key)}
    log.info(
        "discovered %d entries under %s (%d skipped by extension, %d skipped: %s)",
        len(entries),
        printable(base),
        sum(skipped.values()),
        sum(reasons.values()),
        reasons or "none",
    )
    return Discovery(entries, skipped, walker.warnings, reasons)
