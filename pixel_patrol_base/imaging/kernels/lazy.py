"""Lazy numba compilation: a kernel is compiled at its first call, not at import.

Belongs here: :class:`Kernel`, the explicit lazy dispatcher every compiled loop of
:mod:`pixel_patrol_base.imaging.kernels` is wrapped in, the two ways of declaring one
(:func:`compiled`, :func:`summing`), and :func:`sums_at`, which reads the
:data:`~pixel_patrol_base.imaging.types.Sums` a kernel leaves in its output vector. Not
here: the loops themselves.

A :class:`Kernel` holds the plain Python function and its numba options. Its first call
imports numba and compiles the function, or loads the machine code from numba's on-disk
cache (``cache=True``: ``__pycache__`` next to the kernel's module, or
``NUMBA_CACHE_DIR``); later calls go straight to the numba dispatcher. Importing a
kernel module therefore costs nothing, and the processes that only need processor
metadata (the CLI, the plan and merge jobs) never import numba.

A kernel's body cannot call another :class:`Kernel` (numba compiles calls to its own
dispatchers only); code that several kernels share is written out in each of them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, Generic, ParamSpec, TypeVar

from pixel_patrol_base.imaging.types import FloatArray, Sums

P = ParamSpec("P")
R = TypeVar("R")

_OPTIONS: Mapping[str, Any] = {"cache": True, "nogil": True, "error_model": "numpy"}
"""Every kernel: cached on disk, without the GIL; division by zero gives ±inf or NaN as
in numpy."""


class Kernel(Generic[P, R]):
    """A function compiled by numba (``numba.njit(**options)``) at its first call.

    Args:
        function: The loop, written in the subset of Python that numba compiles; it must
            be defined at module level (numba's cache finds it by module and name).
        options: Options for ``numba.njit``.
    """

    def __init__(self, function: Callable[P, R], options: Mapping[str, Any]) -> None:
        self.function = function
        self.options = dict(options)
        self.__name__ = function.__name__
        self.__doc__ = function.__doc__
        self._dispatcher: Callable[P, R] | None = None
        self._lock = threading.Lock()

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run the compiled function (compiling it first on the first call)."""
        dispatcher = self._dispatcher
        if dispatcher is None:
            dispatcher = self.dispatcher()
        return dispatcher(*args, **kwargs)

    def dispatcher(self) -> Callable[P, R]:
        """The numba dispatcher, created (and numba imported) on the first request."""
        with self._lock:  # two threads' first calls compile once
            if self._dispatcher is None:
                import numba

                self._dispatcher = numba.njit(**self.options)(self.function)
            return self._dispatcher

    def __repr__(self) -> str:
        state = "compiled" if self._dispatcher is not None else "not compiled yet"
        return f"<Kernel {self.function.__module__}.{self.__name__} ({state})>"


def compiled(function: Callable[P, R]) -> Kernel[P, R]:
    """Declare ``function`` a kernel with strict float arithmetic (see :data:`_OPTIONS`)."""
    return Kernel(function, _OPTIONS)


def summing(function: Callable[P, R]) -> Kernel[P, R]:
    """:func:`compiled`, with float sums that may be reassociated so that their loops
    vectorise (NaN and ±inf keep their meaning)."""
    return Kernel(function, {**_OPTIONS, "fastmath": {"reassoc"}})


def sums_at(out: FloatArray, at: int) -> Sums:
    """The :data:`~pixel_patrol_base.imaging.types.Sums` at ``out[at : at + 3]``."""
    return int(out[at]), float(out[at + 1]), float(out[at + 2])
