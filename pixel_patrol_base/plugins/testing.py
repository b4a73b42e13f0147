"""Conformance checks for loader and processor plugins, for any package's own tests.

Plain functions that raise :class:`AssertionError` with a message naming the plugin and
what is wrong, so a plugin package calls them from ordinary pytest tests::

    from pixel_patrol_base.plugins.testing import check_installed_processor

    def test_my_processor_conforms() -> None:
        check_installed_processor("my-processor")

What a plugin must have is not listed here: it is read from the Protocols in
:mod:`pixel_patrol_base.plugins.contracts` at each call (their annotated attributes with
their types, their methods with their signatures, bases included), so a member added to
a Protocol is demanded at once. On top of the Protocol, the checks hold what its
docstrings promise (ids and versions are non-empty, extensions are lower-case without a
dot, a processor's columns name it as producer) and that an installed plugin agrees
with its entry point's metadata and the column catalog.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Iterable
from typing import Any

from pixel_patrol_base.errors import PluginLoadError, UnknownPluginError
from pixel_patrol_base.plugins import contracts, registry
from pixel_patrol_base.table import catalog

_COLLECTIONS = (tuple, list, set, frozenset)


def _fail(message: str) -> typing.NoReturn:
    raise AssertionError(message)


def _protocol_names(protocol: type) -> list[str]:
    get_members = getattr(typing, "get_protocol_members", None)  # Python 3.13+
    if get_members is not None:
        return sorted(get_members(protocol))
    names: set[str] = set()
    for base in protocol.__mro__:
        if base in (object, typing.Protocol, typing.Generic):
            continue
        if not getattr(base, "_is_protocol", False):
            continue
        names.update(vars(base).get("__annotations__", {}))
        names.update(n for n, v in vars(base).items() if inspect.isfunction(v))
    return sorted(n for n in names if not n.startswith("_"))


def protocol_members(protocol: type) -> tuple[dict[str, Any], dict[str, inspect.Signature]]:
    """The members a Protocol declares, its Protocol bases included.

    Args:
        protocol: A ``typing.Protocol`` class.

    Returns:
        ``(attributes, methods)``: each annotated attribute with its type hint (``Any``
        where the hint cannot be resolved), and each method with its signature, ``self``
        left out.
    """
    try:
        hints = typing.get_type_hints(protocol, localns={"Column": catalog.Column})
    except NameError:
        hints = {}
    attributes: dict[str, Any] = {}
    methods: dict[str, inspect.Signature] = {}
    for name in _protocol_names(protocol):
        member = inspect.getattr_static(protocol, name, None)
        if inspect.isfunction(member):
            signature = inspect.signature(member)
            methods[name] = signature.replace(parameters=list(signature.parameters.values())[1:])
        else:
            attributes[name] = hints.get(name, Any)
    return attributes, methods


def _conforms(value: Any, hint: Any) -> bool:
    """Whether ``value`` is of type ``hint`` (classes, unions and homogeneous collections)."""
    if hint is Any:
        return True
    origin = typing.get_origin(hint) or hint
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_conforms(value, a) for a in args)
    if not isinstance(origin, type):
        return True  # a hint no isinstance can judge (a TypeVar, a Literal...)
    if not isinstance(value, origin):
        return False
    if origin in _COLLECTIONS and args and (len(args) == 1 or args[1:] == (Ellipsis,)):
        items = typing.cast("Iterable[Any]", value)
        return all(_conforms(item, args[0]) for item in items)
    return True


def _same_parameters(got: inspect.Signature, want: inspect.Signature) -> bool:
    if list(got.parameters) != list(want.parameters):
        return False
    for name, expected in want.parameters.items():
        found = got.parameters[name]
        if found.kind != expected.kind:
            return False
        if expected.default is not inspect.Parameter.empty and found.default is found.empty:
            return False
    return True


def check_protocol(plugin: Any, protocol: type, label: str) -> None:
    """Check that ``plugin`` has every member of ``protocol``, typed and shaped as declared.

    Args:
        plugin: The object to check.
        protocol: The ``typing.Protocol`` it must satisfy.
        label: How messages name the plugin (e.g. ``"processor 'my-id'"``).

    Raises:
        AssertionError: naming the first member that is missing, of the wrong type, or
            whose parameters differ from the Protocol's (names, kinds, defaults).
    """
    attributes, methods = protocol_members(protocol)
    for name, hint in attributes.items():
        if not hasattr(plugin, name):
            _fail(f"{label} lacks the attribute {name!r} that {protocol.__name__} declares")
        if not _conforms(getattr(plugin, name), hint):
            _fail(
                f"{label}.{name} is {getattr(plugin, name)!r}; {protocol.__name__} declares {hint}"
            )
    for name, want in methods.items():
        member = getattr(plugin, name, None)
        if not callable(member):
            _fail(f"{label} lacks the method {name}{want} that {protocol.__name__} declares")
        got = inspect.signature(member)
        if not _same_parameters(got, want):
            _fail(f"{label}.{name}{got} differs from {protocol.__name__}.{name}{want}")


def _check_identity(plugin: Any, label: str) -> None:
    for name in ("id", "version"):
        value = getattr(plugin, name)
        if not value or value != value.strip():
            _fail(f"{label}: {name} {value!r} must be a non-empty string without spaces around")


def _check_columns(columns: Iterable[catalog.Column], producer: str | None, label: str) -> None:
    core = {c.name for c in catalog.CORE_COLUMNS}
    seen: set[str] = set()
    for column in columns:
        if not isinstance(column, catalog.Column):
            _fail(f"{label}: {column!r} is not a catalog.Column")
        if column.name in core:
            _fail(f"{label}: column {column.name!r} is a core column of every report")
        if column.name in seen:
            _fail(f"{label}: column {column.name!r} is declared twice")
        if producer is not None and column.producer != producer:
            _fail(f"{label}: column {column.name!r} names {column.producer!r} as producer")
        if not column.description.strip():
            _fail(f"{label}: column {column.name!r} has no description")
        seen.add(column.name)


def check_processor(processor: Any) -> None:
    """Check a processor object against :class:`~.contracts.Processor`.

    Raises:
        AssertionError: when a Protocol member is missing or differs, the id or version
            is empty, it declares no column, or a column is not its own (another
            producer, a core column's name, declared twice, no description).
    """
    label = f"processor {getattr(processor, 'id', processor)!r}"
    check_protocol(processor, contracts.Processor, label)
    _check_identity(processor, label)
    if not processor.columns:
        _fail(f"{label} declares no columns")
    _check_columns(processor.columns, processor.id, label)
    if processor.halo < 0:
        _fail(f"{label}: halo {processor.halo} must be 0 or more")


def check_loader(loader: Any) -> None:
    """Check a loader object against :class:`~.contracts.Loader` and the optional capabilities.

    A loader that has any method of :class:`~.contracts.WholeArrayReader` or
    :class:`~.contracts.ThumbnailArraySource` must satisfy that Protocol whole.

    Raises:
        AssertionError: when a Protocol member is missing or differs, the id or version
            is empty, or an extension is empty, upper-case, padded or starts with a dot.
    """
    label = f"loader {getattr(loader, 'id', loader)!r}"
    check_protocol(loader, contracts.Loader, label)
    for capability in (contracts.WholeArrayReader, contracts.ThumbnailArraySource):
        _, methods = protocol_members(capability)
        if any(hasattr(loader, name) for name in methods):
            check_protocol(loader, capability, label)
    _check_identity(loader, label)
    if not loader.extensions:
        _fail(f"{label} declares no extensions")
    for ext in loader.extensions:
        if not ext or ext != ext.strip().lower() or ext.startswith("."):
            _fail(f"{label}: extension {ext!r} must be lower-case, without a dot in front")


def _installed(get: Any, plugin_id: str) -> Any:
    try:
        return get(plugin_id)
    except (UnknownPluginError, PluginLoadError) as exc:
        _fail(str(exc))


def _check_catalog_lists(columns: Iterable[catalog.Column], label: str) -> None:
    for column in columns:
        if catalog.lookup(column.name) != column:
            _fail(f"{label}: the column catalog does not list its column {column.name!r}")


def check_installed_processor(processor_id: str) -> None:
    """Check the processor installed as ``processor_id``, from its entry point on.

    Its metadata loads, the processor object loads and agrees with it (id, version,
    columns), passes :func:`check_processor`, and the column catalog lists its columns.

    Raises:
        AssertionError: saying which of these fails.
    """
    metadata = _installed(registry.processor_metadata, processor_id)
    processor = _installed(registry.get_processor, processor_id)
    check_processor(processor)
    _check_catalog_lists(metadata.columns, f"processor {processor_id!r}")


def check_installed_loader(loader_id: str) -> None:
    """Check the loader installed as ``loader_id``, from its entry point on.

    Its metadata loads, the loader object loads and agrees with it (id, version, and
    at least the declared extensions), passes :func:`check_loader`, and the column
    catalog lists the columns it declares.

    Raises:
        AssertionError: saying which of these fails.
    """
    metadata = _installed(registry.loader_metadata, loader_id)
    loader = _installed(registry.get_loader, loader_id)
    check_loader(loader)
    _check_columns(metadata.columns, None, f"loader {loader_id!r}")
    _check_catalog_lists(metadata.columns, f"loader {loader_id!r}")
