"""Awaiting futures that other threads resolve, with one wake-up of the event loop per burst.

``asyncio.wrap_future`` wakes the event loop once per future (a write to its self-pipe, a
system call, a loop iteration). The committer resolves the futures of a whole group of
requests at once, so :class:`FutureWaiter` queues what was resolved and wakes the loop
once, and the loop then settles every waiting request in one pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

T = TypeVar("T")


class FutureWaiter:
    """``await waiter.wait(future)``: a ``concurrent.futures.Future`` on one event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._lock = threading.Lock()
        self._done: list[Callable[[], None]] = []
        self._woken = False

    async def wait(self, future: Future[T]) -> T:
        waiting: asyncio.Future[T] = self._loop.create_future()

        def settle() -> None:
            if waiting.cancelled():
                return
            error = future.exception()
            if error is not None:
                waiting.set_exception(error)
            else:
                waiting.set_result(future.result())

        future.add_done_callback(lambda _: self._resolved(settle))
        return await waiting

    def _resolved(self, settle: Callable[[], None]) -> None:
        with self._lock:
            self._done.append(settle)
            if self._woken:
                return
            self._woken = True
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            self._loop.call_soon_threadsafe(self._settle_all)

    def _settle_all(self) -> None:
        with self._lock:
            done, self._done, self._woken = self._done, [], False
        for settle in done:
            settle()
