"""Short labels of imported paths: shortest unique trailing components."""

from __future__ import annotations

import pytest

from pixel_patrol_base.pipeline.merge.labels import short_labels


@pytest.mark.parametrize(
    ("paths", "base_name", "expected"),
    [
        (
            ["exp1/control", "exp2/control", "exp1/treated"],
            "project",
            {
                "exp1/control": "exp1/control",
                "exp2/control": "exp2/control",
                "exp1/treated": "treated",
            },
        ),
        (["."], "my data", {".": "my data"}),
        (["."], ".", {".": "."}),
        (["a/b/c", "x/y/z"], "p", {"a/b/c": "c", "x/y/z": "z"}),
        # the same last two components: three are needed
        (["a/x/y", "b/x/y"], "p", {"a/x/y": "a/x/y", "b/x/y": "b/x/y"}),
        # one path is the tail of another: it keeps its whole (short) path
        (["a/b", "b", "x/a/b"], "p", {"a/b": "a/b", "b": "b", "x/a/b": "x/a/b"}),
        # a path labelled like the base folder would be ambiguous
        ([".", "a/control"], "control", {".": "control", "a/control": "a/control"}),
        ([".", "control"], "control", {".": "control", "control": "./control"}),
        (["control"], "control", {"control": "control"}),  # no base entry to confuse it with
        # different spellings of one path share the label of that path
        (["a/b/", "./a/b", "c"], "p", {"a/b/": "b", "./a/b": "b", "c": "c"}),
        (["a", "a", "b"], "p", {"a": "a", "b": "b"}),
        (["日本/画像 1", "x/画像 1"], "p", {"日本/画像 1": "日本/画像 1", "x/画像 1": "x/画像 1"}),
        ([], "p", {}),
    ],
)
def test_short_labels(paths: list[str], base_name: str, expected: dict[str, str]) -> None:
    assert short_labels(paths, base_name) == expected


def test_labels_are_unambiguous_for_many_overlapping_paths() -> None:
    paths = [".", "control", "a/control", "b/a/control", "c/control", "control/control"]
    labels = short_labels(paths, "control")
    assert len(set(labels.values())) == len(paths)
    for path, label in labels.items():
        if path != ".":
            assert path.endswith(label.removeprefix("./"))
