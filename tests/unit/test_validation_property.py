"""Property: whatever a user passes, validation either accepts it or raises a typed error.

Hypothesis draws the keyword arguments of ``process_files`` (each one valid, nearly
valid, or anything at all: ``None``, bytes, ``inf``, huge integers, lone surrogates,
lists where a mapping belongs) and the arguments of ``create_project`` and
``add_paths``. The validation layer is called directly, so no workflow runs:

- :func:`pixel_patrol_base.settings.resolve_settings` either raises an
  :class:`~pixel_patrol_base.errors.InvalidInputError` subclass, or returns settings
  whose config passes the workflow's JSON schema, survives YAML and JSON (``nan`` and
  ``inf`` refused) and reads back as a :class:`RunConfig` unchanged. A value that passes
  validation and breaks later (``mb_per_task=inf``) fails this test.
- ``create_project`` / ``add_paths`` either raise an ``InvalidInputError`` subclass or
  give a project of absolute paths inside its base directory.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from pixel_patrol_base import api, plugins
from pixel_patrol_base.errors import InvalidInputError
from pixel_patrol_base.pipeline.run.config import (
    RunConfig,
    build_config,
    config_fingerprint,
    config_yaml,
)
from pixel_patrol_base.settings import declarations, resolve_settings
from pixel_patrol_base.settings.schema import config_schema
from pixel_patrol_base.table.catalog import AXES

PROPERTY = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
EACH = settings(PROPERTY, max_examples=20)
"""Fewer draws per setting alone: there is one such test per setting."""

# ---------------------------------------------------------------------------- strategies

HOSTILE_TEXT = st.sampled_from(
    ["", " ", "\x00", "a\x00b", "\ud800", "a\udc80b", "~nobody_h5_xyz/x", "..", "/", "\n"]
)
TEXT = st.one_of(st.text(st.characters(exclude_categories=()), max_size=12), HOSTILE_TEXT)
ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    TEXT,
    st.binary(max_size=6),
    st.lists(st.one_of(TEXT, st.integers()), max_size=3),
    st.tuples(TEXT, st.integers()),
    st.dictionaries(TEXT, st.integers(), max_size=2),
    st.sets(TEXT, max_size=2),
    st.builds(Path, TEXT.filter(lambda t: "\x00" not in t)),
    st.just(object()),
    st.just(print),
)
NUMBERS = st.one_of(
    st.integers(),
    st.floats(),
    st.fractions(),
    st.integers(-5, 5).map(np.int64),
    st.floats(width=32).map(np.float32),
    st.sampled_from([math.inf, -math.inf, math.nan, 1e308, 10**400, True, "5", Fraction(1, 3)]),
)

HOSTILE_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    5,
    2**31,
    10**400,
    math.inf,
    -math.inf,
    math.nan,
    1e308,
    "",
    "all",
    "\x00",
    "\ud800",
    "\x85",  # NEL: PyYAML writes it unquoted with allow_unicode and reads a space back
    "Z=1",
    "tif,png",
    b"tif",
    [],
    {},
    [("Z", 1)],
    {"Z": math.inf},
    object(),
    print,
]
"""Values every setting is given, besides what Hypothesis draws."""


def _near(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``strategy`` (values near the valid ones) three times in four, else anything at all."""
    return st.integers(0, 3).flatmap(lambda k: strategy if k else ANYTHING)


def _callbacks() -> st.SearchStrategy[Any]:
    def two(done: int, total: int) -> None: ...

    def none() -> None: ...

    def star(*args: Any) -> None: ...

    def three(a: int, b: int, c: int) -> None: ...

    return st.sampled_from([None, two, none, star, three, print, len, 5, "cb"])


def _extensions() -> st.SearchStrategy[Any]:
    word = st.sampled_from(["tif", ".TIF", "ome.tif", "png", "all", "ALL", "nd2", "a..b", "."])
    joined = st.lists(word, min_size=1, max_size=3).flatmap(
        lambda ws: st.sampled_from([",", " ", ", ", ";", "/"]).map(lambda sep: sep.join(ws))
    )
    element = st.one_of(word, joined, TEXT, st.integers())
    return st.one_of(
        st.just("all"),
        joined,
        TEXT,
        st.lists(element, max_size=4),
        st.sets(word, max_size=3),
        st.dictionaries(word, st.integers(), max_size=2),
    )


def _processor_ids() -> st.SearchStrategy[Any]:
    known = sorted(plugins.processor_ids())
    word = st.sampled_from([*known, "bogus", "", "RASTER-BASIC"])
    return st.one_of(
        st.none(),
        st.sets(word, max_size=3),
        st.lists(st.one_of(word, st.integers(), st.lists(word, max_size=1)), max_size=3),
        st.just(",".join(known)),
    )


def _slice_sizes() -> st.SearchStrategy[Any]:
    axis = st.sampled_from([*AXES, *(a.lower() for a in AXES), " z ", "Q", "", "ZY"])
    size = st.one_of(st.integers(-3, 600), st.integers(), NUMBERS)
    key = st.one_of(axis, st.integers(), st.none())
    return st.one_of(
        st.none(),
        st.dictionaries(key, size, max_size=3),
        st.lists(st.tuples(axis, size), max_size=2),
        st.sampled_from(["Z=1", "Z=1,Y=512"]),
    )


def _paths(root: Path) -> st.SearchStrategy[Any]:
    """Paths in or near ``root``: absent, files, folders, and odd names."""
    names = st.sampled_from(["log.txt", "sub", "sub/x.log", "missing/dir/a.log", "f.txt", ""])
    inside = names.map(lambda n: str(root / n))
    return st.one_of(inside, inside.map(Path), st.just(str(root)), TEXT)


def _rules_files(root: Path) -> st.SearchStrategy[Any]:
    files = ["ok.yaml", "bad.yaml", "missing.yaml", "sub"]
    return st.one_of(
        st.none(),
        st.sampled_from(files).map(lambda n: str(root / n)),
        TEXT,
    )


def _profiles(root: Path) -> st.SearchStrategy[Any]:
    named = st.sampled_from(["local", "slurm", "LOCAL", "nope", "../profiles/local"])
    return st.one_of(named, st.just(str(root / "profile")), st.just(root / "sub"))


def _qc_columns() -> st.SearchStrategy[Any]:
    named = st.sampled_from(["imported_path_short", "top_folder", "parent", "size_bytes", "nope"])
    return st.one_of(st.none(), named)


@functools.cache
def _setting_strategies(root: Path) -> dict[str, st.SearchStrategy[Any]]:
    """One strategy per declared setting (a new setting must get one: see the test)."""
    integer = st.one_of(st.integers(-2, 5000), NUMBERS)
    flag = st.one_of(st.booleans(), st.sampled_from([0, 1, 2, np.bool_(True), "no"]))
    near = {
        "progress_callback": _callbacks(),
        "processors_included": _processor_ids(),
        "processors_excluded": _processor_ids(),
        "selected_file_extensions": _extensions(),
        "max_workers": integer,
        "mb_per_task": NUMBERS,
        "max_images_per_task": integer,
        "slice_size": _slice_sizes(),
        "rows_per_part": integer,
        "parquet_row_group_size": integer,
        "flavor": TEXT,
        "description": TEXT,
        "omit_base_dir": flag,
        "log_file": _paths(root),
        "profile": _profiles(root),
        "scheduler": st.one_of(
            st.none(),
            st.sampled_from(["tcp://host:8786", "tls://h:1", "localhost", "tcp://a\x00"]),
        ),
        "clean": flag,
        "thumbnail_size": st.one_of(st.integers(0, 9000), integer),
        "qc_group_by": _qc_columns(),
        "expectations": _rules_files(root),
        "follow_external_links": flag,
        "force": flag,
    }
    return {name: _near(strategy) for name, strategy in near.items()}


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder with a dataset folder, files, a profile and rules files (good and bad)."""
    base = tmp_path_factory.mktemp("property")
    (base / "sub").mkdir()
    (base / "data" / "a").mkdir(parents=True)
    (base / "f.txt").write_text("x")
    (base / "profile").mkdir()
    (base / "profile" / "config.yaml").write_text("cores: 1\n")
    (base / "ok.yaml").write_text("version: 1\nrules: []\n")
    (base / "bad.yaml").write_text("version: 7\nrules: {\n")
    before = sorted(base.rglob("*"))
    yield base
    assert sorted(base.rglob("*")) == before  # validation wrote nothing


def _project(root: Path) -> api.Project:
    return api.create_project("p", root / "data", output_path=root / "out" / "r.parquet")


# ---------------------------------------------------------------------------- properties


def test_every_setting_has_a_strategy(root: Path) -> None:
    """A newly declared setting must be drawn here too, or the property misses it."""
    names = {s.name for s in declarations.SETTINGS}
    assert names <= set(_setting_strategies(root))


def _accepts_or_refuses(call: Callable[[], Any]) -> Any:
    """``call()``'s result, or ``None`` when it raised an ``InvalidInputError``."""
    try:
        result = call()
    except InvalidInputError as exc:
        assert str(exc).strip(), "an error must say what is wrong"
        if currently_in_test_context():  # --hypothesis-show-statistics counts them
            event(f"refused: {type(exc).__name__}")
        return None
    if currently_in_test_context():
        event("accepted")
    return result


def _check_config(project: api.Project, resolved: Any) -> None:
    """An accepted setting gives a config the workflow and the report can use."""
    config = build_config(project, resolved)
    jsonschema.Draft202012Validator(config_schema()).validate(config)
    loaded = yaml.safe_load(config_yaml(config).encode("utf-8"))
    assert loaded == config
    run = RunConfig.from_mapping(loaded)
    assert run.to_mapping() == loaded
    json.dumps(run.to_mapping(), allow_nan=False).encode("utf-8")  # the footer's encoding
    assert config_fingerprint(run)


@PROPERTY
@given(data=st.data())
def test_settings_pass_or_raise_a_typed_error(root: Path, data: st.DataObject) -> None:
    strategies = _setting_strategies(root)
    declared = [s.name for s in declarations.SETTINGS]
    chosen = data.draw(st.lists(st.sampled_from(declared), unique=True, max_size=4))
    kwargs = {name: data.draw(strategies[name], label=name) for name in chosen}
    resolved = _accepts_or_refuses(lambda: resolve_settings(**kwargs))
    if resolved is not None:
        _check_config(_project(root), resolved)


@pytest.mark.parametrize("name", [s.name for s in declarations.SETTINGS])
def test_each_setting_alone_passes_or_raises_a_typed_error(root: Path, name: str) -> None:
    """The same property one setting at a time, so every setting gets its own draws."""
    strategy = _setting_strategies(root)[name]

    def check(value: Any) -> None:
        resolved = _accepts_or_refuses(lambda: resolve_settings(**{name: value}))
        if resolved is not None:
            _check_config(_project(root), resolved)

    for value in HOSTILE_VALUES:  # always tried, whatever Hypothesis draws
        check(value)
    EACH(given(value=strategy)(check))()


@functools.cache
def _project_arguments(root: Path) -> st.SearchStrategy[dict[str, Any]]:
    folders = st.sampled_from(["data", "data/a", "f.txt", "missing", "sub"]).map(
        lambda n: str(root / n)
    )
    loaders = st.one_of(st.none(), st.sampled_from(["bioio", "tifffile", "nope", ""]))
    outputs = st.one_of(
        st.none(), st.sampled_from(["out/r.parquet", "sub", "r.pq"]).map(lambda n: root / n)
    )
    return st.fixed_dictionaries(
        {
            "name": _near(st.one_of(st.sampled_from(["p", " x "]), TEXT)),
            "base_dir": _near(folders),
            "loader": _near(loaders),
            "output_path": _near(outputs),
        }
    )


@PROPERTY
@given(data=st.data())
def test_project_arguments_pass_or_raise_a_typed_error(root: Path, data: st.DataObject) -> None:
    arguments = data.draw(_project_arguments(root))
    project = _accepts_or_refuses(lambda: api.create_project(**arguments))
    if project is None:
        return
    assert project.base_dir.is_absolute() and project.base_dir.is_dir()
    assert project.output_path.is_absolute()
    paths = data.draw(
        _near(
            st.one_of(
                st.sampled_from(["a", ".", "missing", str(root / "data" / "a"), str(root)]),
                st.lists(st.sampled_from(["a", "."]), max_size=2),
            )
        )
    )
    if _accepts_or_refuses(lambda: api.add_paths(project, paths)) is not None:
        for rel in project.paths:
            assert (project.base_dir / rel).is_dir()
    _accepts_or_refuses(lambda: api.process_files(data.draw(ANYTHING)))


def test_the_property_can_fail(root: Path) -> None:
    """A value that validation lets through and the config cannot hold is caught."""
    resolved = resolve_settings()
    broken = type(resolved)({**resolved.values, "mb_per_task": math.inf})
    with pytest.raises(jsonschema.ValidationError):
        _check_config(_project(root), broken)
