"""Run a coroutine at once, in the caller, until it finishes or has to wait (Python 3.12's eager
task start, for one ASGI ``send``): a socket write that does not block costs no task switch."""

from __future__ import annotations

from collections.abc import Awaitable, Generator
from typing import Any


class Rest:
    """The remainder of an awaitable that :func:`start` ran until it had to wait; await it from a task.

    It is resumed only once what it waits for is done, as a task would have resumed it. Cancelling
    the awaiting task closes it.
    """

    __slots__ = ("_blocker", "_steps")

    def __init__(self, steps: Generator[Any, Any, None], blocker: Any) -> None:
        self._steps = steps
        self._blocker = blocker

    def __await__(self) -> Generator[Any, Any, None]:
        try:
            # Hand the awaiting task the future the coroutine waits on, exactly as it yielded it.
            yield self._blocker
        except BaseException:
            self._steps.close()
            raise
        yield from self._steps


def start(coro: Awaitable[None]) -> Rest | None:
    """Run ``coro`` until it returns or first waits.

    Example: ``start(send(message))`` is ``None`` when uvicorn wrote the frame at once (the
    transport was writable), a :class:`Rest` to await when it had to wait for the transport.

    Raises:
        Exception: Whatever ``coro`` raised before it first waited.
    """
    steps = coro.__await__()
    try:
        blocker = next(steps)
    except StopIteration:
        return None
    return Rest(steps, blocker)
