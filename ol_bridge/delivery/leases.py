"""Drain leases: one drain at a time per destination, across threads, processes and hosts.

A lease is the destination row's ``lease_until`` and ``lease_owner`` (host, process id,
thread id), taken by a compare-and-set, so it works the same on SQLite and PostgreSQL. A
lease left by a process of this host that no longer exists (killed mid-tick) is taken over
at once; another host's expires after its seconds.
"""

from __future__ import annotations

import os
import socket
import threading

from ol_bridge.delivery.connection import OutboxConnection
from ol_bridge.delivery.recovery import recovering


class DrainLeases(OutboxConnection):
    """The lease methods of :class:`~ol_bridge.delivery.store.Outbox`."""

    @recovering
    def lease(self, name: str, seconds: float) -> bool:
        """Claim a destination so that concurrent drains (two sensors, a sensor and the CLI,
        two code-server replicas) never send the same events.

        A compare-and-set on the destination's row: taken when free, expired, already ours,
        or left by a process of this host that no longer exists (killed mid-tick); a lease
        of another host's process expires after ``seconds``.
        """
        now = self._clock()
        me = _lease_owner()
        with self._transaction():
            row = self._run(
                "SELECT lease_until, lease_owner FROM {destinations} WHERE name = :name",
                name=name,
            ).first()
            if row is None:
                return False
            until, owner = tuple(row)
            if until > now and owner != me and not _dead_here(owner):
                return False
            taken = self._run(
                "UPDATE {destinations} SET lease_until = :until, lease_owner = :me "
                "WHERE name = :name AND lease_until = :old_until "
                "AND COALESCE(lease_owner, '') = :old_owner",
                until=now + seconds,
                me=me,
                name=name,
                old_until=until,
                old_owner=owner or "",
            ).rowcount
        return bool(taken)

    @recovering
    def release(self, name: str) -> None:
        with self._transaction():
            self._run(
                "UPDATE {destinations} SET lease_until = 0 "
                "WHERE name = :name AND lease_owner = :me",
                name=name,
                me=_lease_owner(),
            )


def _lease_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def _dead_here(owner: str | None) -> bool:
    """Whether ``owner`` is a process of this host that no longer exists."""
    host, _, rest = (owner or "").partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by another user
        return False
    return False
