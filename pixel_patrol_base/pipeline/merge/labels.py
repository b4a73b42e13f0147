"""Short labels for imported paths (the ``imported_path_short`` column).

What belongs here: turning the added paths of a project into short, unambiguous names
for tables and plots. What does not: reading or validating the paths themselves.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence


def _components(path: str) -> tuple[str, ...]:
    """The path's components; ``()`` for the base folder itself."""
    return tuple(p for p in path.replace("\\", "/").split("/") if p not in ("", "."))


def short_labels(imported_paths: Sequence[str], base_name: str) -> dict[str, str]:
    """Give each imported path the shortest label that tells it apart from the others.

    The label is the shortest trailing run of path components that no other given path
    ends with (``["exp1/control", "exp2/control", "exp1/treated"]`` gives
    ``"exp1/control"``, ``"exp2/control"`` and ``"treated"``). When no shorter run is
    unique, the whole path is the label (it is unique among the labels: any other path
    ending with it gets a longer label). The base folder itself (``"."``) is labelled
    ``base_name``, and no other label equals it: ``"a/control"`` next to a base folder
    named ``control`` stays ``"a/control"``, and ``"control"`` itself becomes
    ``"./control"`` (no other label starts with ``./``).

    Args:
        imported_paths: Imported paths relative to the base folder, ``/``-separated;
            repeats are allowed.
        base_name: The base folder's name, or ``"."`` when it must not be revealed.

    Returns:
        A label for each distinct imported path, keyed by the path as given.
    """
    parts_of = {path: _components(path) for path in dict.fromkeys(imported_paths)}
    counts: Counter[tuple[str, ...]] = Counter()
    for parts in set(parts_of.values()):
        counts.update(parts[-k:] for k in range(1, len(parts) + 1))
    has_base = () in parts_of.values()
    if has_base:
        counts[(base_name,)] += 1  # the base's label competes like a one-part path
    labels: dict[str, str] = {}
    for path, parts in parts_of.items():
        if not parts:
            labels[path] = base_name
            continue
        k = next((k for k in range(1, len(parts)) if counts[parts[-k:]] == 1), len(parts))
        label = "/".join(parts[-k:])
        labels[path] = f"./{label}" if has_base and label == base_name else label
    return labels
