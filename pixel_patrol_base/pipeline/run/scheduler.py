"""The external Dask cluster: check that its scheduler answers, and compute on it in a job.

What belongs here: everything that touches a ``distributed`` scheduler given by address
(``--scheduler`` or the active ``distributed.Client``). What does not: choosing the address
(:mod:`pixel_patrol_base.api`) and the array work itself (:mod:`pixel_patrol_base.imaging`).

Call graph::

    api.process_files
      └─ check_scheduler(address)            TCP connect, bounded by CONNECT_TIMEOUT_S
    jobs.shard (inside a shard job)
      └─ scheduler_client(address)           distributed.Client as the default scheduler

Both are bounded in time: an unreachable scheduler fails the run at its start with
:class:`SchedulerUnreachableError`, naming the address; nothing waits forever on it.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager

from pixel_patrol_base.errors import SchedulerUnreachableError

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5.0
"""Seconds to wait for a scheduler to accept a connection before giving up."""

_DEFAULT_PORT = 8786


def _host_port(address: str) -> tuple[str, int]:
    """Host and port of a ``scheme://host:port`` address (port 8786 when omitted)."""
    location = address.split("://", 1)[-1].rstrip("/")
    if location.startswith("["):  # [ipv6]:port
        host, _, rest = location[1:].partition("]")
        port = rest.lstrip(":")
    else:
        host, _, port = location.rpartition(":") if ":" in location else (location, "", "")
    if not port:
        return host, _DEFAULT_PORT
    try:
        return host, int(port)
    except ValueError as exc:
        raise SchedulerUnreachableError(
            f"Dask scheduler address {address!r} has no valid port; use e.g. tcp://host:8786"
        ) from exc


def check_scheduler(address: str, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Fail fast unless something accepts connections at the scheduler's address.

    Only network addresses (``tcp``, ``tls``, ``ws``, ``wss``) are checked; ``inproc``
    and ``ucx`` addresses are passed on as they are.

    Raises:
        SchedulerUnreachableError: when no connection is accepted within ``timeout_s``.
    """
    scheme = address.split("://", 1)[0] if "://" in address else "tcp"
    if scheme not in {"tcp", "tls", "ws", "wss"}:
        return
    host, port = _host_port(address)
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            pass
    except OSError as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise SchedulerUnreachableError(
            f"Dask scheduler {address!r} cannot be reached ({reason}); start it, "
            "or pass the address of a running one (--scheduler / scheduler=), or leave "
            "the scheduler out to compute in the shard jobs themselves"
        ) from exc
    log.info("Dask scheduler %s accepts connections", address)


@contextmanager
def scheduler_client(address: str, timeout_s: float = CONNECT_TIMEOUT_S) -> Iterator[None]:
    """Make a ``distributed.Client`` on ``address`` the default scheduler for the block.

    Every ``dask.compute`` inside the block runs on that cluster's workers.

    Raises:
        SchedulerUnreachableError: when the client cannot connect within ``timeout_s``.
    """
    check_scheduler(address, timeout_s)
    from distributed import Client

    try:
        client = Client(address, timeout=timeout_s, set_as_default=True)  # type: ignore[no-untyped-call]
    except OSError as exc:
        raise SchedulerUnreachableError(
            f"Dask scheduler {address!r} did not answer as a Dask scheduler ({exc}); "
            "check the address"
        ) from exc
    log.info("computing on the Dask cluster at %s", address)
    try:
        yield
    finally:
        client.close()  # type: ignore[no-untyped-call]
